"""Computing the indicators of `evaluation.indicators` for one programme: the years it
ran, a few GROUP BY queries (years × categories, years, categories, everything; months
for the chart), and the table of raw values the disclosure rule then works on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Label, and_, func, select
from sqlmodel import Session, col

from evaluation.disclosure import SuppressionGrid
from evaluation.indicators import (
    ALL,
    INDICATOR_BY_KEY,
    INDICATORS,
    MONTHLY,
    Indicator,
    Kind,
    Source,
    initials,
)
from evaluation.source import Periods, local_year, months_of, years_between
from storage.models import Activity, Person, Registration, SurveyResponse

CellKey = tuple[str, str | None, str | None]


@dataclass
class IndicatorTable:
    """Raw indicator values (before disclosure control) for one programme."""

    years: tuple[str, ...]
    categories: tuple[str, ...]
    # (indicator key, category or ALL, year or ALL) → value; percentages are not stored.
    values: dict[CellKey, int] = field(default_factory=dict)
    months: tuple[str, ...] = ()
    monthly: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """Whether the programme has no activities and no surveys in the period."""
        return not self.years

    @property
    def show_all_years(self) -> bool:
        """Whether an "All years" column adds anything (more than one year)."""
        return len(self.years) > 1

    def value(self, key: str, category: str | None, year: str | None) -> int:
        """One raw value; missing combinations are zero."""
        return self.values.get((key, category, year), 0)

    def register(self, grid: SuppressionGrid) -> None:
        """Put every count and every sum relation into the disclosure grid."""
        categories: list[str | None] = [*self.categories, ALL]
        columns: list[str | None] = [*self.years, ALL]
        for indicator in INDICATORS:
            if indicator.kind is Kind.PERCENT:
                continue
            rows = categories if indicator.per_category else [ALL]
            people = indicator.kind is Kind.PEOPLE
            for category in rows:
                for year in columns:
                    key = ("ind", indicator.key, category, year)
                    grid.add(key, self.value(indicator.key, category, year), people=people)
            if not indicator.additive:
                continue
            for category in rows:
                grid.relate(
                    ("ind", indicator.key, category, ALL),
                    [("ind", indicator.key, category, y) for y in self.years],
                )
            if indicator.per_category:
                for year in columns:
                    grid.relate(
                        ("ind", indicator.key, ALL, year),
                        [("ind", indicator.key, c, year) for c in self.categories],
                    )
        for monthly in MONTHLY:
            people = INDICATOR_BY_KEY[monthly].kind is Kind.PEOPLE
            for month in self.months:
                grid.add(
                    ("month", monthly, month), self.monthly.get((monthly, month), 0), people=people
                )
            for year in self.years:
                grid.relate(
                    ("ind", monthly, ALL, year),
                    [("month", monthly, m) for m in self.months if m.startswith(year)],
                )


def programme_years(
    session: Session, programme_id: int, zone: ZoneInfo, year: int | None = None
) -> Periods | None:
    """The years the programme ran (first to last, gaps included), or just `year`."""
    if year is not None:
        return years_between(year, year, zone)
    first_last = session.exec(  # type: ignore[call-overload]
        select(func.min(col(Activity.starts_at)), func.max(col(Activity.starts_at))).where(
            col(Activity.programme_id) == programme_id
        )
    ).one()
    surveys = session.exec(  # type: ignore[call-overload]
        select(
            func.min(col(SurveyResponse.submitted_at)), func.max(col(SurveyResponse.submitted_at))
        ).where(col(SurveyResponse.programme_id) == programme_id)
    ).one()
    moments = [m for m in (*first_last, *surveys) if m is not None]
    if not moments:
        return None
    years = [local_year(_aware(m), zone) for m in moments]
    return years_between(min(years), max(years), zone)


def _aware(moment: datetime | str) -> datetime:
    # MIN/MAX lose the column type on SQLite and come back as naive UTC text.
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def compute_indicators(
    session: Session,
    *,
    programme_id: int,
    now: datetime,
    zone: ZoneInfo,
    year: int | None = None,
) -> IndicatorTable:
    """Every indicator for one programme: per category and year, and their totals."""
    periods = programme_years(session, programme_id, zone, year)
    if periods is None:
        return IndicatorTable((), ())
    table = IndicatorTable(periods.labels, ())
    categories: set[str] = set()
    for source in (Source.ACTIVITIES, Source.REGISTRATIONS):
        for rows in _grouped(session, source, programme_id, now, periods):
            for (category, year_label), values in rows:
                if category is not None:
                    categories.add(category)
                for key, value in values.items():
                    table.values[(key, category, year_label)] = int(value or 0)
    for year_label, values in _surveys(session, programme_id, now, periods):
        for key, value in values.items():
            table.values[(key, ALL, year_label)] = int(value or 0)
    table.categories = tuple(sorted(categories, key=str.casefold))
    months = months_of(periods.labels, zone)
    table.months = months.labels
    table.monthly = _monthly(session, programme_id, now, periods, months)
    return table


def _measures(source: Source) -> list[Indicator]:
    return [i for i in INDICATORS if i.source is source]


def _base(source: Source, programme_id: int, periods: Periods) -> Any:
    start, end = periods.starts[0], periods.end
    in_range = and_(
        col(Activity.programme_id) == programme_id,
        col(Activity.starts_at) >= start,
        col(Activity.starts_at) < end,
    )
    if source is Source.ACTIVITIES:
        return lambda cols: select(*cols).select_from(Activity).where(in_range)
    return lambda cols: (
        select(*cols)
        .select_from(Registration)
        .join(Activity, col(Activity.id) == Registration.activity_id)
        .join(Person, col(Person.id) == Registration.person_id)
        .where(in_range)
    )


def _grouped(
    session: Session, source: Source, programme_id: int, now: datetime, periods: Periods
) -> list[list[tuple[tuple[str | None, str | None], dict[str, Any]]]]:
    """One query per grouping: (year, category), (year), (category), (everything)."""
    measures = _measures(source)
    year_col = periods.bucket(col(Activity.starts_at)).label("year")
    category_col: Label[str] = col(Activity.category).label("category")
    aggregates = [m.sql(now).label(m.key) for m in measures if m.sql is not None]
    base = _base(source, programme_id, periods)
    results = []
    for group in ((year_col, category_col), (year_col,), (category_col,), ()):
        group_cols = list(group)
        stmt = base([*group_cols, *aggregates])
        if group_cols:
            stmt = stmt.group_by(*group_cols)
        rows = []
        for row in session.exec(stmt).mappings():
            year_label = row["year"] if year_col in group_cols else ALL
            category = row["category"] if category_col in group_cols else ALL
            rows.append(((category, year_label), {m.key: row[m.key] for m in measures}))
        results.append(rows)
    return results


def _surveys(
    session: Session, programme_id: int, now: datetime, periods: Periods
) -> list[tuple[str | None, dict[str, Any]]]:
    """Survey counts per year of submission, and over all years."""
    measures = _measures(Source.SURVEYS)
    year_col = periods.bucket(col(SurveyResponse.submitted_at)).label("year")
    aggregates = [m.sql(now).label(m.key) for m in measures if m.sql is not None]
    results: list[tuple[str | None, dict[str, Any]]] = []
    for group in ((year_col,), ()):
        stmt = (
            select(*group, *aggregates)
            .select_from(SurveyResponse)
            .outerjoin(initials, initials.c.code == col(SurveyResponse.participant_code_id))
            .where(
                col(SurveyResponse.programme_id) == programme_id,
                col(SurveyResponse.submitted_at) >= periods.starts[0],
                col(SurveyResponse.submitted_at) < periods.end,
            )
        )
        if group:
            stmt = stmt.group_by(*group)
        for row in session.exec(stmt).mappings():  # type: ignore[call-overload]
            label = row["year"] if group else ALL
            results.append((label, {m.key: row[m.key] for m in measures}))
    return results


def _monthly(
    session: Session, programme_id: int, now: datetime, periods: Periods, months: Periods
) -> dict[tuple[str, str], int]:
    """Activities held and attendances per month (for the participation chart)."""
    month_col = months.bucket(col(Activity.starts_at)).label("month")
    out: dict[tuple[str, str], int] = {}
    for source in (Source.ACTIVITIES, Source.REGISTRATIONS):
        wanted = [i for i in _measures(source) if i.key in MONTHLY and i.sql is not None]
        if not wanted:
            continue
        aggregates = [i.sql(now).label(i.key) for i in wanted if i.sql is not None]
        stmt = _base(source, programme_id, periods)([month_col, *aggregates]).group_by(month_col)
        for row in session.exec(stmt).mappings():
            for indicator in wanted:
                out[(indicator.key, row["month"])] = int(row[indicator.key] or 0)
    return out


def indicator_rows(table: IndicatorTable) -> list[tuple[Indicator, str | None]]:
    """The table's rows in order: each category's block, then all activities, then surveys."""
    rows: list[tuple[Indicator, str | None]] = []
    per_category = [i for i in INDICATORS if i.per_category]
    for category in table.categories:
        rows.extend((indicator, category) for indicator in per_category)
    rows.extend((indicator, ALL) for indicator in per_category)
    rows.extend((i, ALL) for i in INDICATORS if not i.per_category)
    return rows


def columns(table: IndicatorTable) -> Sequence[str | None]:
    """The year columns, plus "All years" when there is more than one year."""
    return (*table.years, ALL) if table.show_all_years else table.years
