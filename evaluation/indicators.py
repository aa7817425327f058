"""Participation indicators by year, per activity category and in total.

Each indicator is defined ONCE, below, in the `INDICATORS` registry: its label, the
definition printed on the report's "definitions" sheet, and the SQL aggregate that
computes it. The aggregates run as a few GROUP BY queries (years × categories, years,
categories, everything — see evaluation.indicator_table), never as Python loops over rows.

Periods: an activity (and every sign-up for it) belongs to the local calendar year in
which it starts; a survey to the year it was submitted. "Held" means not called off and
ended by the time of the report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, case, distinct, func, or_, select
from sqlmodel import col

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
    return and_(
        col(Activity.status) != ActivityStatus.CANCELLED.value, col(Activity.ends_at) <= now
    )


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
initials = (
    select(col(SurveyResponse.participant_code_id).label("code"))
    .where(col(SurveyResponse.phase) == "initial", col(SurveyResponse.submitted_at).is_not(None))
    .subquery("initial")
)


def _phase(name: str) -> ColumnElement[bool]:
    return col(SurveyResponse.phase) == name


INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "activities_held",
        N_("Activities held"),
        N_(
            "Activities not called off whose end time had passed when the report was made, "
            "counted in the year they started."
        ),
        Kind.COUNT,
        Source.ACTIVITIES,
        additive=True,
        sql=lambda now: _count_if(_held(now)),
    ),
    Indicator(
        "activities_cancelled",
        N_("Activities called off"),
        N_("Activities called off by the organisers, counted in the year they were to start."),
        Kind.COUNT,
        Source.ACTIVITIES,
        additive=True,
        sql=lambda now: _count_if(col(Activity.status) == ActivityStatus.CANCELLED.value),
    ),
    Indicator(
        "series_held",
        N_("Weekly activities held"),
        N_(
            "Weekly activities (one title, every week) with at least one date held in the "
            "period, each counted once; each of their dates also counts under “Activities "
            "held”."
        ),
        Kind.COUNT,
        Source.ACTIVITIES,
        sql=lambda now: func.count(distinct(case((_held(now), col(Activity.series_id))))),
    ),
    Indicator(
        "places_offered",
        N_("Places offered"),
        N_("The number of places in the activities held, added up."),
        Kind.COUNT,
        Source.ACTIVITIES,
        additive=True,
        sql=lambda now: func.coalesce(
            func.sum(case((_held(now), col(Activity.places)), else_=0)), 0
        ),
    ),
    Indicator(
        "signups",
        N_("Sign-ups"),
        N_(
            "Every sign-up for the activities of the period — for a place or for the reserve "
            "list, including sign-ups cancelled later and those for activities called off. "
            "One person signed up for three activities makes three sign-ups."
        ),
        Kind.PEOPLE,
        Source.REGISTRATIONS,
        additive=True,
        sql=lambda now: func.count(col(Registration.id)),
    ),
    Indicator(
        "people_signed_up",
        N_("People signed up"),
        N_("Different people with at least one sign-up in the period, each counted once."),
        Kind.PEOPLE,
        Source.REGISTRATIONS,
        sql=lambda now: func.count(distinct(col(Registration.person_id))),
    ),
    Indicator(
        "participants",
        N_("Participants (each person once)"),
        N_(
            "Different people whose attendance was marked at least once at an activity held "
            "in the period, each counted once however often they came."
        ),
        Kind.PEOPLE,
        Source.REGISTRATIONS,
        sql=lambda now: _people_if(and_(_held(now), col(Registration.attended).is_(True))),
    ),
    Indicator(
        "attendances",
        N_("Attendances"),
        N_("Attendance marks at activities held: one person at one activity counts once."),
        Kind.PEOPLE,
        Source.REGISTRATIONS,
        additive=True,
        sql=lambda now: _count_if(and_(_held(now), col(Registration.attended).is_(True))),
    ),
    Indicator(
        "no_shows",
        N_("No-shows"),
        N_(
            "Places held at activities that took place where the person's attendance was not "
            "marked."
        ),
        Kind.PEOPLE,
        Source.REGISTRATIONS,
        additive=True,
        sql=lambda now: _count_if(
            and_(
                _held(now),
                col(Registration.status) == RegistrationStatus.CONFIRMED.value,
                col(Registration.attended).is_(False),
            )
        ),
    ),
    Indicator(
        "attendance_rate",
        N_("Attendance rate (%)"),
        N_("Attendances ÷ (attendances + no-shows) × 100."),
        Kind.PERCENT,
        Source.DERIVED,
        ratio=("attendances", ("attendances", "no_shows")),
    ),
    Indicator(
        "reserve_signups",
        N_("Reserve-list sign-ups"),
        N_("Sign-ups made when no place was free, so the person joined the reserve list."),
        Kind.PEOPLE,
        Source.REGISTRATIONS,
        additive=True,
        sql=lambda now: _count_if(col(Registration.joined_reserve).is_(True)),
    ),
    Indicator(
        "reserve_promoted",
        N_("Reserve list: got a place"),
        N_("Reserve-list sign-ups that later received a place someone else gave up."),
        Kind.PEOPLE,
        Source.REGISTRATIONS,
        additive=True,
        sql=lambda now: _count_if(
            and_(
                col(Registration.joined_reserve).is_(True),
                col(Registration.promoted_at).is_not(None),
            )
        ),
    ),
    Indicator(
        "proxy_participants",
        N_("People signed up by an animator"),
        N_(
            "Different people with at least one sign-up an animator made on their behalf, "
            "including people without Telegram whose record an animator keeps."
        ),
        Kind.PEOPLE,
        Source.REGISTRATIONS,
        sql=lambda now: _people_if(_by_proxy()),
    ),
    Indicator(
        "initial_surveys",
        N_("Initial surveys"),
        N_(
            "Initial surveys submitted in the period (surveys started but not submitted are "
            "not counted)."
        ),
        Kind.PEOPLE,
        Source.SURVEYS,
        additive=True,
        sql=lambda now: _count_if(_phase("initial")),
    ),
    Indicator(
        "final_surveys",
        N_("Final surveys"),
        N_(
            "Final surveys submitted in the period (surveys started but not submitted are "
            "not counted)."
        ),
        Kind.PEOPLE,
        Source.SURVEYS,
        additive=True,
        sql=lambda now: _count_if(_phase("final")),
    ),
    Indicator(
        "matched_pairs",
        N_("Matched pairs"),
        N_(
            "People who submitted both the initial and the final survey, counted in the year "
            "of the final survey. Only these pairs enter the before/after comparison."
        ),
        Kind.PEOPLE,
        Source.SURVEYS,
        additive=True,
        sql=lambda now: _count_if(and_(_phase("final"), initials.c.code.is_not(None))),
    ),
    Indicator(
        "initial_rate",
        N_("Initial survey response rate (%)"),
        N_(
            "Initial surveys ÷ people signed up × 100, both in the same period. For a "
            "programme running over several years, read the “All years” column."
        ),
        Kind.PERCENT,
        Source.DERIVED,
        ratio=("initial_surveys", ("people_signed_up",)),
    ),
    Indicator(
        "final_rate",
        N_("Final survey response rate (%)"),
        N_(
            "Final surveys ÷ people signed up × 100, both in the same period. For a programme "
            "running over several years, read the “All years” column."
        ),
        Kind.PERCENT,
        Source.DERIVED,
        ratio=("final_surveys", ("people_signed_up",)),
    ),
    Indicator(
        "pairs_rate",
        N_("Initial surveys followed by a final one (%)"),
        N_("Matched pairs ÷ initial surveys × 100."),
        Kind.PERCENT,
        Source.DERIVED,
        ratio=("matched_pairs", ("initial_surveys",)),
    ),
)
INDICATOR_BY_KEY = {indicator.key: indicator for indicator in INDICATORS}
MONTHLY = ("activities_held", "attendances")
