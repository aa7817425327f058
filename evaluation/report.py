"""One evaluation report: indicators, the pre/post comparison, definitions — as tables
already passed through the disclosure rule, ready for the workbook, CSV and charts.

`build_report` is the only entry point; it reads through the session it is given and
never writes. Every count of people goes through ONE suppression grid, so a number shown
on two sheets (or in a chart) is hidden the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlmodel import Session

from evaluation.consultations_sheet import (
    consultation_years,
    consultations_sheet,
    register_consultations,
)
from evaluation.disclosure import Disclosed, DisclosureRules, Shown, SuppressionGrid
from evaluation.indicator_table import (
    IndicatorTable,
    columns,
    compute_indicators,
    indicator_rows,
)
from evaluation.indicators import ALL, INDICATOR_BY_KEY, Kind
from evaluation.options import ReportOptions
from evaluation.prepost import PrePost, compare
from evaluation.rowlevel import codebook_sheet, responses_sheet
from evaluation.sheets import (
    definitions_sheet,
    items_sheet,
    legend,
    prepost_sheet,
    register_prepost,
)
from evaluation.source import years_between
from evaluation.stats import mean_interval
from evaluation.tables import Cell, Sheet, Style, count, number, text
from storage.models import Programme
from translations import Translator, translator

Progress = Callable[[str], None]


@dataclass
class MonthlyPoint:
    """One month of the participation chart, after disclosure control."""

    month: str
    activities: int
    attendances: Shown


@dataclass
class SubscalePoint:
    """One subscale of the before/after chart (only those with statistics)."""

    label: str
    before_mean: float
    before_low: float
    before_high: float
    after_mean: float
    after_low: float
    after_high: float
    n_pairs: int


@dataclass
class Report:
    """A finished report: sheets plus the data the charts draw, all disclosure-safe."""

    programme_name: str
    language: str
    year: int | None
    made_at: datetime
    sheets: list[Sheet]
    monthly: list[MonthlyPoint]
    subscales: list[SubscalePoint]
    # Short sentences for the chat or the terminal (no data, few pairs…).
    summary: list[str]
    t: Translator
    rules: DisclosureRules


def build_report(
    session: Session,
    *,
    programme: Programme,
    now: datetime,
    options: ReportOptions,
    progress: Progress | None = None,
) -> Report:
    """Compute everything for one programme (and year) and lay it out as sheets."""
    assert programme.id is not None
    step = progress or (lambda _name: None)
    zone = ZoneInfo(options.timezone)
    t = translator(options.language, options.timezone)
    table = compute_indicators(
        session, programme_id=programme.id, now=now, zone=zone, year=options.year
    )
    step("indicators")
    year_bounds = _year_bounds(options.year, zone)
    prepost = compare(
        session,
        programme=programme,
        rules=options.rules,
        year_bounds=year_bounds,
        surveys_dir=options.surveys_dir,
        zero_method=options.zero_method,
    )
    step("prepost")
    consultations = consultation_years(
        session, programme_id=programme.id, zone=zone, year=options.year
    )
    grid = SuppressionGrid(options.rules)
    table.register(grid)
    register_prepost(grid, prepost)
    register_consultations(grid, consultations)
    disclosed = grid.solve()
    step("disclosure")
    summary = _summary(t, table, prepost, options)
    sheets = [
        indicators_sheet(t, programme.name, table, disclosed, now, options),
        prepost_sheet(t, programme.name, table, prepost, disclosed, options),
        items_sheet(t, prepost, disclosed, options),
        consultations_sheet(t, programme.name, consultations, disclosed, options),
        definitions_sheet(t, options.rules, options.zero_method),
    ]
    if options.row_level:
        sheets.append(responses_sheet(session, t, programme, prepost, year_bounds))
        sheets.append(codebook_sheet(t, prepost))
        step("row-level")
    return Report(
        programme_name=programme.name,
        language=t.language,
        year=options.year,
        made_at=now,
        sheets=sheets,
        monthly=_monthly(table, disclosed),
        subscales=_subscale_points(prepost, t.language),
        summary=summary,
        t=t,
        rules=options.rules,
    )


def _year_bounds(year: int | None, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
    if year is None:
        return None
    periods = years_between(year, year, zone)
    return periods.starts[0], periods.end


def made_on(t: Translator, moment: datetime) -> str:
    """`23 listopada 2026` — the date a report was made, in the evaluator's language."""
    return format_date(t.local(moment), "d MMMM y", locale=t.locale)


def indicators_sheet(
    t: Translator,
    name: str,
    table: IndicatorTable,
    disclosed: Disclosed,
    now: datetime,
    options: ReportOptions,
) -> Sheet:
    """Indicators per category and year, like the tables of a municipal report."""
    sheet = Sheet("indicators", t._("Indicators"))
    sheet.add(
        text(t._("Participation indicators: {programme}").format(programme=name), Style.TITLE)
    )
    sheet.add(text(t._("Made on {date}.").format(date=made_on(t, now)), Style.SUBTITLE))
    if table.empty:
        message = (
            t._("This programme has no activities and no surveys in {year}.").format(
                year=options.year
            )
            if options.year
            else t._("This programme has no activities and no surveys yet.")
        )
        sheet.add(text(message, Style.NOTE))
        return sheet
    cols = columns(table)
    sheet.add(
        text(t._("Activity category"), Style.HEADER),
        text(t._("Indicator"), Style.HEADER),
        *(text(year if year else t._("All years"), Style.HEADER) for year in cols),
    )
    sheet.frozen_rows, sheet.frozen_columns = 3, 2
    sheet.widths = {0: 28, 1: 44, **{2 + i: 12 for i in range(len(cols))}}
    if len(table.years) == 1 and not options.year:
        sheet.rows.insert(2, [text(t._("The programme has run in one year so far."), Style.NOTE)])
        sheet.frozen_rows += 1
    previous: str | bool | None = False
    for indicator, category in indicator_rows(table):
        if indicator.per_category:
            block = category if category is not None else t._("All activities")
        else:
            block = t._("Surveys (whole programme)")
        first = block != previous
        previous = block
        cells: list[Cell] = [
            text(block if first else None, Style.SECTION if first else Style.TEXT),
            text(t._(indicator.label)),
        ]
        for year in cols:
            cells.append(_indicator_cell(indicator.key, category, year, disclosed))
        sheet.add(*cells)
    sheet.blank()
    _monthly_table(t, sheet, table, disclosed)
    sheet.blank()
    for line in legend(t, options.rules):
        sheet.add(text(line, Style.NOTE))
    return sheet


def _indicator_cell(key: str, category: str | None, year: str | None, disclosed: Disclosed) -> Cell:
    indicator = INDICATOR_BY_KEY[key]
    if indicator.kind is Kind.PERCENT and indicator.ratio is not None:
        numerator, denominators = indicator.ratio
        return number(
            disclosed.percentage(
                ("ind", numerator, category, year),
                [("ind", d, category, year) for d in denominators],
            ),
            Style.PERCENT,
        )
    return count(disclosed[("ind", key, category, year)])


def _monthly_table(
    t: Translator, sheet: Sheet, table: IndicatorTable, disclosed: Disclosed
) -> None:
    sheet.add(text(t._("Participation by month"), Style.SECTION))
    sheet.add(
        text(t._("Month"), Style.HEADER),
        text(t._("Activities held"), Style.HEADER),
        text(t._("Attendances"), Style.HEADER),
    )
    for point in _monthly(table, disclosed):
        sheet.add(text(point.month), count(point.activities), count(point.attendances))


def _monthly(table: IndicatorTable, disclosed: Disclosed) -> list[MonthlyPoint]:
    points = []
    for month in table.months:
        activities = disclosed[("month", "activities_held", month)]
        assert isinstance(activities, int)  # activities are never hidden
        points.append(MonthlyPoint(month, activities, disclosed[("month", "attendances", month)]))
    return points


def _subscale_points(prepost: PrePost, language: str) -> list[SubscalePoint]:
    points = []
    for comparison in prepost.subscales:
        if comparison.before is None or comparison.after is None:
            continue
        before, after = mean_interval(comparison.before), mean_interval(comparison.after)
        points.append(
            SubscalePoint(
                comparison.label(language),
                before.estimate,
                before.low,
                before.high,
                after.estimate,
                after.low,
                after.high,
                comparison.n_pairs,
            )
        )
    return points


def _summary(
    t: Translator, table: IndicatorTable, prepost: PrePost, options: ReportOptions
) -> list[str]:
    lines = []
    if table.empty:
        lines.append(
            t._("This programme has no activities and no surveys in {year}.").format(
                year=options.year
            )
            if options.year
            else t._("This programme has no activities and no surveys yet.")
        )
    if prepost.questionnaire is None:
        lines.append(t._("The questionnaire cannot be read: no before/after comparison."))
    elif prepost.pairs == 0:
        lines.append(
            t._("No matched pairs yet: nobody has submitted both the initial and the final survey.")
        )
    elif not options.rules.allows_statistics(prepost.pairs):
        lines.append(
            t._("Fewer than {n} matched pairs: the comparison shows counts only.").format(
                n=options.rules.min_n_for_statistics
            )
        )
    return lines


__all__ = ["ALL", "Report", "ReportOptions", "build_report"]
