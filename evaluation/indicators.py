"""Participation indicators by year, per activity category and in total.

Each indicator is defined ONCE, below, in the `INDICATORS` registry: its label, the
definition printed on the report's "definitions" sheet, and the SQL aggregate that
computes it. The aggregates run as a few GROUP BY queries (years × categories, years,
categories, everything), never as Python loops over rows.

Periods: an activity (and every sign-up for it) belongs to the local calendar year in
which it starts; a survey to the year it was submitted. "Held" means not called off and
ended by the time of the report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Label, and_, case, distinct, func, or_, select
from sqlmodel import Session, col

from evaluation.disclosure import SuppressionGrid
from evaluation.source import Periods, local_year, months_of, years_between
from evaluation.texts import N_
from storage.models import Activity, ActivityStatus, Person, Registration, SurveyResponse
from storage.models.activities import RegistrationStatus

ALL = None  # the "all categories" row and the "all years" column


class Kind(StrEnum):
    """What an indicator counts, which decides whether the disclosure rule applies."""

    PEOPLE = "people"
    COUNT = "count"
    PERCENT = "percent"


class Source(StrEnum):
    """The table an indicator is aggregated over."""

    ACTIVITIES = "activities"
    REGISTRATIONS = "registrations"
    SURVEYS = "surveys"
    DERIVED = "derived"


Aggregate = Callable[[datetime], ColumnElement[Any]]


@dataclass(frozen=True)
class Indicator:
    """One row of the indicators table: label, definition and how it is computed."""

    key: str
    label: str
    definition: str
    kind: Kind
    source: Source
    # Whether the all-categories / all-years cells are sums of the parts (then the
    # disclosure rule protects hidden parts against subtraction from the total).
    additive: bool = False
    sql: Aggregate | None = None
    # For percentages: (numerator key, denominator keys whose values are added).
    ratio: tuple[str, tuple[str, ...]] | None = None

    @property
    def per_category(self) -> bool:
        """Whether the indicator has a value per activity category."""
        if self.source is Source.DERIVED:
            return INDICATOR_BY_KEY[self.ratio[0]].per_category if self.ratio else False
        return self.source is not Source.SURVEYS


def _held(now: datetime) -> ColumnElement[bool]:
    return and_(col(Activity.status) != ActivityStatus.CANCELLED.value,
                col(Activity.ends_at) <= now)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    # COUNT ignores NULLs: the portable form of COUNT(*) FILTER (WHERE …).
    return func.count(case((condition, 1)))


def _people_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.count(distinct(case((condition, col(Registration.person_id)))))


def _by_proxy() -> ColumnElement[bool]:
    return or_(
        col(Registration.proxy_by_id).is_not(None),
        and_(col(Person.telegram_id).is_(None), col(Person.created_by_id).is_not(None)),
    )


# Participant codes with a submitted initial survey. A code belongs to one programme, so
# the join needs no programme condition; a plain equality join lets every database hash
# it (an ON clause with extra filters made PostgreSQL loop over 16,000 × 8,000 rows).
_initials = (
    select(col(SurveyResponse.participant_code_id).label("code"))
    .where(col(SurveyResponse.phase) == "initial",
           col(SurveyResponse.submitted_at).is_not(None))
    .subquery("initial")
)


def _phase(name: str) -> ColumnElement[bool]:
    return col(SurveyResponse.phase) == name


INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "activities_held", N_("Activities held"),
        N_("Activities not called off whose end time had passed when the report was made, "
           "counted in the year they started."),
        Kind.COUNT, Source.ACTIVITIES, additive=True,
        sql=lambda now: _count_if(_held(now)),
    ),
    Indicator(
        "activities_cancelled", N_("Activities called off"),
        N_("Activities called off by the organisers, counted in the year they were to start."),
        Kind.COUNT, Source.ACTIVITIES, additive=True,
        sql=lambda now: _count_if(col(Activity.status) == ActivityStatus.CANCELLED.value),
    ),
    Indicator(
        "places_offered", N_("Places offered"),
        N_("The number of places in the activities held, added up."),
        Kind.COUNT, Source.ACTIVITIES, additive=True,
        sql=lambda now: func.coalesce(
            func.sum(case((_held(now), col(Activity.places)), else_=0)), 0),
    ),
    Indicator(
        "signups", N_("Sign-ups"),
        N_("Every sign-up for the activities of the period — for a place or for the reserve "
           "list, including sign-ups cancelled later and those for activities called off. "
           "One person signed up for three activities makes three sign-ups."),
        Kind.PEOPLE, Source.REGISTRATIONS, additive=True,
        sql=lambda now: func.count(col(Registration.id)),
    ),
    Indicator(
        "people_signed_up", N_("People signed up"),
        N_("Different people with at least one sign-up in the period, each counted once."),
        Kind.PEOPLE, Source.REGISTRATIONS,
        sql=lambda now: func.count(distinct(col(Registration.person_id))),
    ),
    Indicator(
        "participants", N_("Participants (each person once)"),
        N_("Different people whose attendance was marked at least once at an activity held "
           "in the period, each counted once however often they came."),
        Kind.PEOPLE, Source.REGISTRATIONS,
        sql=lambda now: _people_if(and_(_held(now), col(Registration.attended).is_(True))),
    ),
    Indicator(
        "attendances", N_("Attendances"),
        N_("Attendance marks at activities held: one person at one activity counts once."),
        Kind.PEOPLE, Source.REGISTRATIONS, additive=True,
        sql=lambda now: _count_if(and_(_held(now), col(Registration.attended).is_(True))),
    ),
    Indicator(
        "no_shows", N_("No-shows"),
        N_("Places held at activities that took place where the person's attendance was not "
           "marked."),
        Kind.PEOPLE, Source.REGISTRATIONS, additive=True,
        sql=lambda now: _count_if(and_(
            _held(now),
            col(Registration.status) == RegistrationStatus.CONFIRMED.value,
            col(Registration.attended).is_(False),
        )),
    ),
    Indicator(
        "attendance_rate", N_("Attendance rate (%)"),
        N_("Attendances ÷ (attendances + no-shows) × 100."),
        Kind.PERCENT, Source.DERIVED, ratio=("attendances", ("attendances", "no_shows")),
    ),
    Indicator(
        "reserve_signups", N_("Reserve-list sign-ups"),
        N_("Sign-ups made when no place was free, so the person joined the reserve list."),
        Kind.PEOPLE, Source.REGISTRATIONS, additive=True,
        sql=lambda now: _count_if(col(Registration.joined_reserve).is_(True)),
    ),
    Indicator(
        "reserve_promoted", N_("Reserve list: got a place"),
        N_("Reserve-list sign-ups that later received a place someone else gave up."),
        Kind.PEOPLE, Source.REGISTRATIONS, additive=True,
        sql=lambda now: _count_if(and_(
            col(Registration.joined_reserve).is_(True),
            col(Registration.promoted_at).is_not(None),
        )),
    ),
    Indicator(
        "proxy_participants", N_("People signed up by an animator"),
        N_("Different people with at least one sign-up an animator made on their behalf, "
           "including people without Telegram whose record an animator keeps."),
        Kind.PEOPLE, Source.REGISTRATIONS,
        sql=lambda now: _people_if(_by_proxy()),
    ),
    Indicator(
        "initial_surveys", N_("Initial surveys"),
        N_("Initial surveys submitted in the period (surveys started but not submitted are "
           "not counted)."),
        Kind.PEOPLE, Source.SURVEYS, additive=True,
        sql=lambda now: _count_if(_phase("initial")),
    ),
    Indicator(
        "final_surveys", N_("Final surveys"),
        N_("Final surveys submitted in the period (surveys started but not submitted are "
           "not counted)."),
        Kind.PEOPLE, Source.SURVEYS, additive=True,
        sql=lambda now: _count_if(_phase("final")),
    ),
    Indicator(
        "matched_pairs", N_("Matched pairs"),
        N_("People who submitted both the initial and the final survey, counted in the year "
           "of the final survey. Only these pairs enter the before/after comparison."),
        Kind.PEOPLE, Source.SURVEYS, additive=True,
        sql=lambda now: _count_if(and_(_phase("final"), _initials.c.code.is_not(None))),
    ),
    Indicator(
        "initial_rate", N_("Initial survey response rate (%)"),
        N_("Initial surveys ÷ people signed up × 100, both in the same period. For a "
           "programme running over several years, read the “All years” column."),
        Kind.PERCENT, Source.DERIVED, ratio=("initial_surveys", ("people_signed_up",)),
    ),
    Indicator(
        "final_rate", N_("Final survey response rate (%)"),
        N_("Final surveys ÷ people signed up × 100, both in the same period. For a programme "
           "running over several years, read the “All years” column."),
        Kind.PERCENT, Source.DERIVED, ratio=("final_surveys", ("people_signed_up",)),
    ),
    Indicator(
        "pairs_rate", N_("Initial surveys followed by a final one (%)"),
        N_("Matched pairs ÷ initial surveys × 100."),
        Kind.PERCENT, Source.DERIVED, ratio=("matched_pairs", ("initial_surveys",)),
    ),
)
INDICATOR_BY_KEY = {indicator.key: indicator for indicator in INDICATORS}
MONTHLY = ("activities_held", "attendances")

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
                grid.relate(("ind", indicator.key, category, ALL),
                            [("ind", indicator.key, category, y) for y in self.years])
            if indicator.per_category:
                for year in columns:
                    grid.relate(("ind", indicator.key, ALL, year),
                                [("ind", indicator.key, c, year) for c in self.categories])
        for monthly in MONTHLY:
            people = INDICATOR_BY_KEY[monthly].kind is Kind.PEOPLE
            for month in self.months:
                grid.add(("month", monthly, month), self.monthly.get((monthly, month), 0),
                         people=people)
            for year in self.years:
                grid.relate(("ind", monthly, ALL, year),
                            [("month", monthly, m) for m in self.months if m.startswith(year)])


def programme_years(
    session: Session, programme_id: int, zone: ZoneInfo, year: int | None = None
) -> Periods | None:
    """The years the programme ran (first to last, gaps included), or just `year`."""
    if year is not None:
        return years_between(year, year, zone)
    first_last = session.exec(  # type: ignore[call-overload]
        select(func.min(col(Activity.starts_at)), func.max(col(Activity.starts_at))).where(
            col(Activity.programme_id) == programme_id)
    ).one()
    surveys = session.exec(  # type: ignore[call-overload]
        select(func.min(col(SurveyResponse.submitted_at)),
               func.max(col(SurveyResponse.submitted_at)))
        .where(col(SurveyResponse.programme_id) == programme_id)
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
    session: Session, *, programme_id: int, now: datetime, zone: ZoneInfo,
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
    for (year_label, values) in _surveys(session, programme_id, now, periods):
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
    in_range = and_(col(Activity.programme_id) == programme_id,
                    col(Activity.starts_at) >= start, col(Activity.starts_at) < end)
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
            .outerjoin(_initials, _initials.c.code == col(SurveyResponse.participant_code_id))
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


__all__ = [
    "ALL",
    "INDICATORS",
    "Indicator",
    "IndicatorTable",
    "Kind",
    "compute_indicators",
]
