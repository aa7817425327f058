"""Every indicator cell of a programme whose history is known (tests/support/evaluation.py:
`Story`), on SQLite and PostgreSQL, and the edge cases: no data, one year, one year asked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine

from evaluation.indicator_table import IndicatorTable, compute_indicators
from evaluation.indicators import ALL, INDICATORS, Kind
from evaluation.source import report_session
from storage.db import transaction
from storage.models import ActivityStatus
from tests.conftest import TEST_NOW
from tests.support.evaluation import Story, aware, make_activity, make_person, make_programme, sign
from tests.support.series import make_series

WARSAW = ZoneInfo("Europe/Warsaw")
W, S = "Warsztaty", "Spotkania sąsiedzkie"

# indicator → category (None = all activities) → (2025, 2026, all years), worked out by hand
# from Story: read the two side by side.
EXPECTED: dict[str, dict[str | None, tuple[int, int, int]]] = {
    # A1 (W, 2025) and A2 (S, 2025) held; A3 (W, 2025) called off; B1 (W, 2026) held;
    # B2 (S) is still running at 09:00 on 23 Nov 2026 and B3 (S) is in December.
    "activities_held": {W: (1, 1, 2), S: (1, 0, 1), ALL: (2, 1, 3)},
    "activities_cancelled": {W: (1, 0, 1), S: (0, 0, 0), ALL: (1, 0, 1)},
    # The story has no weekly series (see test_a_weekly_series_counts_per_date_and_once).
    "series_held": {W: (0, 0, 0), S: (0, 0, 0), ALL: (0, 0, 0)},
    "places_offered": {W: (10, 5, 15), S: (20, 0, 20), ALL: (30, 5, 35)},
    # A1: 8 places + 2 reserve + 1 cancelled, A3: 1 cancelled; A2: 7; B1: 5 + 1 reserve;
    # B2: 2, B3: 1.
    "signups": {W: (12, 6, 18), S: (7, 3, 10), ALL: (19, 9, 28)},
    "people_signed_up": {W: (11, 6, 11), S: (7, 3, 8), ALL: (13, 7, 14)},
    # A1: p1–p6 and promoted p9 came; A2: p1–p5, q1, p12; B1: p1–p4.
    "participants": {W: (7, 4, 7), S: (7, 0, 7), ALL: (9, 4, 9)},
    "attendances": {W: (7, 4, 11), S: (7, 0, 7), ALL: (14, 4, 18)},
    # A1: p7, p8; B1: p5. B2 has not ended, so its places are not no-shows yet.
    "no_shows": {W: (2, 1, 3), S: (0, 0, 0), ALL: (2, 1, 3)},
    "reserve_signups": {W: (2, 1, 3), S: (0, 0, 0), ALL: (2, 1, 3)},
    "reserve_promoted": {W: (1, 0, 1), S: (0, 0, 0), ALL: (1, 0, 1)},
    # q1 and p12 (signed up by Ania) in 2025, q2 (paper record) in 2026.
    "proxy_participants": {W: (0, 0, 0), S: (2, 1, 3), ALL: (2, 1, 3)},
    # Initial: ten paired + p10 in 2025, p12 in 2026 (p11 never submitted). Final: ten
    # paired + p11 in 2026 (p12 never submitted). Pairs: the ten, counted in 2026.
    "initial_surveys": {ALL: (11, 1, 12)},
    "final_surveys": {ALL: (0, 11, 11)},
    "matched_pairs": {ALL: (0, 10, 10)},
}


@pytest.fixture(params=["sqlite", "postgres"])
def any_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """The same story on both databases the product supports."""
    name = "engine" if request.param == "sqlite" else "postgres_engine"
    yield request.getfixturevalue(name)


def _table(engine: Engine, programme_id: int, year: int | None = None) -> IndicatorTable:
    with report_session(engine) as session:
        return compute_indicators(
            session, programme_id=programme_id, now=TEST_NOW, zone=WARSAW, year=year
        )


def _story(engine: Engine) -> int:
    with transaction(engine) as session:
        story = Story(session)
        assert story.programme.id is not None
        return story.programme.id


def test_every_indicator_cell_of_the_story(any_engine: Engine) -> None:
    table = _table(any_engine, _story(any_engine))
    assert table.years == ("2025", "2026")
    assert table.categories == (S, W)  # alphabetical, case-insensitive
    expected = {
        (key, category, year): values[index]
        for key, per_category in EXPECTED.items()
        for category, values in per_category.items()
        for index, year in enumerate(("2025", "2026", ALL))
    }
    assert table.values == expected
    counted = {i.key for i in INDICATORS if i.kind is not Kind.PERCENT}
    assert counted == set(EXPECTED), "every counted indicator has expected values"


def test_months_add_up_to_the_years(any_engine: Engine) -> None:
    table = _table(any_engine, _story(any_engine))
    assert len(table.months) == 24
    nonzero = {k: v for k, v in table.monthly.items() if v}
    assert nonzero == {
        ("activities_held", "2025-03"): 1,
        ("attendances", "2025-03"): 7,
        ("activities_held", "2025-06"): 1,
        ("attendances", "2025-06"): 7,
        ("activities_held", "2026-02"): 1,
        ("attendances", "2026-02"): 4,
    }


def test_one_year_asked_gives_that_year_only(engine: Engine) -> None:
    table = _table(engine, _story(engine), year=2025)
    assert table.years == ("2025",)
    assert not table.show_all_years
    assert table.value("signups", W, "2025") == 12
    assert table.value("signups", W, ALL) == 12  # the total of the one year shown
    assert table.value("initial_surveys", ALL, ALL) == 11
    assert table.value("final_surveys", ALL, ALL) == 0


def test_a_programme_without_anything_has_no_years(engine: Engine) -> None:
    with transaction(engine) as session:
        programme = make_programme(session, "PAL Pusty")
        pid = programme.id
    assert pid is not None
    table = _table(engine, pid)
    assert table.empty and table.values == {}


def test_local_new_year_decides_the_year(engine: Engine) -> None:
    # 31 Dec 2025 23:30 UTC is already 1 Jan 2026 in Warsaw.
    with transaction(engine) as session:
        programme = make_programme(session, "PAL Sylwester")
        person = make_person(session, "Sylwia")
        activity = make_activity(
            session, programme, category="Bal", starts_at=datetime(2025, 12, 31, 23, 30, tzinfo=UTC)
        )
        sign(session, activity, person, attended=True)
        pid = programme.id
    assert pid is not None
    table = _table(engine, pid)
    assert table.years == ("2026",)
    assert table.value("attendances", "Bal", "2026") == 1


def test_years_without_activity_still_get_a_column(engine: Engine) -> None:
    with transaction(engine) as session:
        programme = make_programme(session, "PAL Przerwa")
        make_activity(session, programme, category="Spacer", starts_at=aware(2023, 5, 1))
        make_activity(session, programme, category="Spacer", starts_at=aware(2025, 5, 1))
        pid = programme.id
    assert pid is not None
    table = _table(engine, pid)
    assert table.years == ("2023", "2024", "2025")
    assert table.value("activities_held", "Spacer", "2024") == 0


def test_a_weekly_series_counts_per_date_and_once(engine: Engine) -> None:
    # Three Tuesdays in October 2025; the second is called off. Ola comes to both held
    # dates, Piotr to the first only.
    with transaction(engine) as session:
        programme = make_programme(session, "PAL Co tydzień")
        assert programme.id is not None
        _, dates = make_series(
            session,
            programme_id=programme.id,
            first_day=date(2025, 10, 7),
            last_day=date(2025, 10, 21),
            category="Spotkania",
            now=datetime(2025, 9, 1, tzinfo=UTC),
        )
        dates[1].status = ActivityStatus.CANCELLED
        ola, piotr = make_person(session, "Ola"), make_person(session, "Piotr")
        sign(session, dates[0], ola, attended=True)
        sign(session, dates[2], ola, attended=True)
        sign(session, dates[0], piotr, attended=True)
        pid = programme.id
    table = _table(engine, pid)
    assert table.value("activities_held", "Spotkania", "2025") == 2
    assert table.value("activities_cancelled", "Spotkania", "2025") == 1
    assert table.value("series_held", "Spotkania", "2025") == 1
    assert table.value("attendances", "Spotkania", "2025") == 3
    assert table.value("participants", "Spotkania", "2025") == 2
