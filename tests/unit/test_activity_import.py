"""CSV import: all rows or none, line-numbered problems, BOM, `;`, idempotent re-import."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from schedules.clock import FrozenClock
from storage.activities.import_problems import ImportRejected, ProblemKind
from storage.activities.import_writing import import_activities
from storage.activities.importing import parse_activities_csv
from storage.db import transaction
from storage.models import Activity, ActivitySeries, Programme

WARSAW = ZoneInfo("Europe/Warsaw")
GOOD = (
    "title,category,starts_at,ends_at,venue,places,registration_deadline,description\n"
    "Warsztaty rękodzieła,warsztaty,2026-12-01 17:00,2026-12-01 19:00,"
    '"Klub Sąsiedzki, ul. Słoneczna 5",12,2026-11-30 12:00,Kartki świąteczne\n'
    "Spacer z kijkami,sport,2026-12-05T10:00:00+01:00,2026-12-05T12:00:00+01:00,Park Miejski,"
    "20,,\n"
)


def test_good_file_parses_local_and_iso_times() -> None:
    rows = parse_activities_csv(GOOD.encode(), zone=WARSAW)
    assert [r.line for r in rows] == [2, 3]
    assert rows[0].starts_at == datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
    assert rows[0].registration_deadline == datetime(2026, 11, 30, 11, 0, tzinfo=UTC)
    assert rows[0].venue == "Klub Sąsiedzki, ul. Słoneczna 5"
    assert rows[1].starts_at == datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    assert rows[1].registration_deadline is None and rows[1].places == 20


def test_polish_excel_bom_and_semicolons() -> None:
    text = (
        "Title;Category;Starts_at;Ends_at;Venue;Places\r\n"
        "Piknik rodzinny;integracja;01.06.2026 12:00;01.06.2026 16:00;Skwer, ul. Lipowa;80\r\n"
    )
    rows = parse_activities_csv(b"\xef\xbb\xbf" + text.encode("utf-8"), zone=WARSAW)
    assert len(rows) == 1
    assert rows[0].title == "Piknik rodzinny" and rows[0].venue == "Skwer, ul. Lipowa"
    assert rows[0].starts_at == datetime(2026, 6, 1, 10, 0, tzinfo=UTC)  # CEST


def test_every_bad_row_is_reported_with_its_line() -> None:
    text = (
        "title,category,starts_at,ends_at,venue,places\n"
        "Dobre,warsztaty,2026-12-01 17:00,2026-12-01 19:00,Klub,10\n"
        ",warsztaty,2026-12-01 17:00,2026-12-01 19:00,Klub,10\n"
        "Zła data,warsztaty,jutro,2026-12-01 19:00,Klub,10\n"
        "Odwrotnie,warsztaty,2026-12-01 19:00,2026-12-01 17:00,Klub,10\n"
        "Miejsca,warsztaty,2026-12-01 17:00,2026-12-01 19:00,Klub,dużo\n"
        "\n"
        "Dobre,warsztaty,2026-12-01 17:00,2026-12-01 19:00,Klub,10\n"
    )
    with pytest.raises(ImportRejected) as caught:
        parse_activities_csv(text, zone=WARSAW)
    lines = {e.line: e.reason for e in caught.value.errors}
    assert sorted(lines) == [3, 4, 5, 6, 8]
    assert "title is empty" in lines[3]
    assert "starts_at" in lines[4] and "jutro" in lines[4]
    assert "ends_at must be after starts_at" in lines[5]
    assert "places" in lines[6]
    assert "same activity as line 2" in lines[8]


def test_missing_columns_and_bad_encoding() -> None:
    with pytest.raises(ImportRejected) as caught:
        parse_activities_csv("title,venue\nA,B\n", zone=WARSAW)
    assert "category" in str(caught.value.errors[0])
    with pytest.raises(ImportRejected) as caught:
        parse_activities_csv("title;café".encode("cp1250") + b"\x9c", zone=WARSAW)
    assert "UTF-8" in caught.value.errors[0].reason
    with pytest.raises(ImportRejected):
        parse_activities_csv(b"", zone=WARSAW)


def test_import_creates_programme_and_is_idempotent(engine: Engine, clock: FrozenClock) -> None:
    rows = parse_activities_csv(GOOD, zone=WARSAW)
    with transaction(engine) as session:
        first = import_activities(
            session, programme_name="PAL Barwinek", rows=rows, now=clock.now(), zone=WARSAW
        )
    assert first.programme_created and first.added == 2 and first.already_present == 0
    with transaction(engine) as session:
        again = import_activities(
            session, programme_name="PAL Barwinek", rows=rows, now=clock.now(), zone=WARSAW
        )
    assert not again.programme_created and again.added == 0 and again.already_present == 2
    with Session(engine) as session:
        assert len(session.exec(select(Activity)).all()) == 2
        programme = session.exec(select(Programme)).one()
        assert programme.signup_open_until == datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def test_new_rows_in_a_grown_file_are_added(engine: Engine, clock: FrozenClock) -> None:
    with transaction(engine) as session:
        import_activities(
            session,
            programme_name="PAL",
            now=clock.now(),
            zone=WARSAW,
            rows=parse_activities_csv(GOOD, zone=WARSAW)[:1],
        )
    with transaction(engine) as session:
        result = import_activities(
            session,
            programme_name="PAL",
            now=clock.now(),
            zone=WARSAW,
            rows=parse_activities_csv(GOOD, zone=WARSAW),
        )
    assert (result.added, result.already_present) == (1, 1)


SERIES = (
    "title;category;starts_at;ends_at;venue;places;registration_deadline;repeat_until;skip_dates\n"
    "Klub seniora;spotkania;12.01.2027 17:00;12.01.2027 19:00;Świetlica;12;"
    "12.01.2027 15:00;30.03.2027;09.02.2027, 2027-02-16\n"
    "Komputer;warsztaty;2027-01-14 10:00;2027-01-14 12:00;Biblioteka;8;;;\n"
)


def test_a_row_with_repeat_until_is_a_weekly_series_without_its_skipped_dates() -> None:
    series, single = parse_activities_csv(SERIES, zone=WARSAW)
    assert series.repeat_until == date(2027, 3, 30)
    assert series.skip_dates == (date(2027, 2, 9), date(2027, 2, 16))
    assert series.dates == 12 - 2 and single.dates == 1 and single.repeat_until is None


def test_a_bad_series_is_a_bad_row_with_its_reason() -> None:
    text = (
        "title,category,starts_at,ends_at,venue,places,repeat_until,skip_dates\n"
        "A,k,2027-01-12 17:00,2027-01-12 19:00,V,5,2027-01-15,\n"
        "B,k,2027-01-12 17:00,2027-01-12 19:00,V,5,2027-03-30,2027-01-13\n"
        "C,k,2027-01-12 17:00,2027-01-12 19:00,V,5,wiosną,\n"
        "D,k,2027-01-12 17:00,2027-01-12 19:00,V,5,2029-01-12,\n"
    )
    with pytest.raises(ImportRejected) as caught:
        parse_activities_csv(text, zone=WARSAW)
    kinds = {e.line: e.problems[0].kind for e in caught.value.errors}
    assert kinds == {
        2: ProblemKind.SERIES_TOO_SHORT,
        3: ProblemKind.SKIP_NOT_A_DATE,
        4: ProblemKind.BAD_DATE,
        5: ProblemKind.SERIES_TOO_LONG,
    }
    assert "2027-01-13 is not a date of this series" in str(caught.value.errors[1])


def test_importing_a_series_twice_adds_its_dates_once(engine: Engine, clock: FrozenClock) -> None:
    rows = parse_activities_csv(SERIES, zone=WARSAW)
    for expected in ((2, 0), (0, 2)):
        with transaction(engine) as session:
            result = import_activities(
                session, programme_name="PAL", rows=rows, now=clock.now(), zone=WARSAW
            )
        assert (result.added, result.already_present) == expected
    with Session(engine) as session:
        dated = session.exec(
            select(Activity)
            .where(col(Activity.series_id).is_not(None))
            .order_by(col(Activity.starts_at))
        ).all()
        assert len(dated) == 10 and len(session.exec(select(ActivitySeries)).all()) == 1
        assert dated[0].registration_deadline == datetime(2027, 1, 12, 14, 0, tzinfo=UTC)
        assert all(a.registration_deadline == a.starts_at - timedelta(hours=2) for a in dated)
        programme = session.exec(select(Programme)).one()
        assert programme.signup_open_until == dated[-1].starts_at
