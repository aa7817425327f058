"""Retention: who is erased when a programme's retention period passes, and only they."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.cli import main
from schedules.clock import FrozenClock
from schedules.retention import run_retention
from storage.db import transaction
from storage.executor import Database
from storage.models import AuditEntry, Person, Programme, Registration, RoleGrant
from storage.privacy.retention import (
    add_months,
    due_for_erasure,
    expired_programmes,
    programme_end,
    purge_batch,
)
from tests.support.privacy import person_row
from tests.support.signup import make_activity, make_person, make_programme


def test_add_months_keeps_the_day_where_it_can() -> None:
    start = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
    assert add_months(start, 1) == datetime(2026, 2, 28, 12, 0, tzinfo=UTC)
    assert add_months(start, 13) == datetime(2027, 2, 28, 12, 0, tzinfo=UTC)
    assert add_months(datetime(2027, 12, 15, tzinfo=UTC), 1) == datetime(2028, 1, 15, tzinfo=UTC)
    assert add_months(datetime(2027, 11, 30, tzinfo=UTC), 3) == datetime(2028, 2, 29, tzinfo=UTC)


def _programme(
    session: Session, *, ended: datetime | None, months: int | None, own_end: bool = False
) -> Programme:
    programme = make_programme(session)
    programme.retention_months = months
    if ended is not None:
        if own_end:
            programme.ends_at = ended
        else:
            make_activity(session, programme=programme, starts_at=ended - timedelta(hours=2))
    session.add(programme)
    session.flush()
    return programme


def test_programme_end_is_its_own_or_its_last_activitys(engine: Engine, clock: FrozenClock) -> None:
    with transaction(engine) as session:
        ended = clock.now() - timedelta(days=400)
        by_activity = _programme(session, ended=ended, months=12)
        own = _programme(session, ended=ended - timedelta(days=5), months=12, own_end=True)
        empty = _programme(session, ended=None, months=12)
        assert programme_end(session, by_activity) == ended
        assert programme_end(session, own) == ended - timedelta(days=5)
        assert programme_end(session, empty) is None


def test_only_residents_of_expired_programmes_are_due(engine: Engine, clock: FrozenClock) -> None:
    now = clock.now()
    with transaction(engine) as session:
        old = _programme(session, ended=now - timedelta(days=400), months=12)
        recent = _programme(session, ended=now - timedelta(days=200), months=12)
        forever = _programme(session, ended=now - timedelta(days=4000), months=None)
        running = make_programme(session)
        gone = make_person(session, telegram_id=8001, name="Teodora", programme=old)
        both = make_person(session, telegram_id=8002, name="Zenon", programme=old)
        later = make_activity(session, programme=running, starts_at=now + timedelta(days=9))
        assert both.id and later.id
        session.add(Registration(activity_id=later.id, person_id=both.id, status="confirmed"))
        fresh = make_person(session, telegram_id=8003, name="Halina", programme=recent)
        kept = make_person(session, telegram_id=8004, name="Leokadia", programme=forever)
        animator = make_person(session, telegram_id=8005, name="Animator Piotr", programme=old)
        session.add(RoleGrant(telegram_id=8005, role="animator"))
        admin = make_person(session, telegram_id=8006, name="Admin", programme=old)
        session.flush()
        assert [p.programme_id for p in expired_programmes(session, now=now)] == [old.id]
        due = due_for_erasure(session, now=now, protected_telegram_ids={8006})
        assert [d.person_id for d in due] == [gone.id]
        ids = {
            "gone": gone.id,
            "both": both.id,
            "fresh": fresh.id,
            "kept": kept.id,
            "animator": animator.id,
            "admin": admin.id,
        }
    with transaction(engine) as session:
        reports = purge_batch(session, now=now, protected_telegram_ids={8006})
        assert reports is not None and [r.person_id for r in reports] == [ids["gone"]]
    with transaction(engine) as session:
        erased = {p.id for p in session.exec(select(Person).where(Person.erased_at.is_not(None)))}  # type: ignore[union-attr]
        assert erased == {ids["gone"]}
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "person.erase")).one()
        assert (audit.actor_id, audit.details["reason"]) == (None, "retention")
        assert purge_batch(session, now=now, protected_telegram_ids={8006}) == []


async def test_daily_run_erases_in_batches(engine: Engine, clock: FrozenClock) -> None:
    now = clock.now()
    with transaction(engine) as session:
        old = _programme(session, ended=now - timedelta(days=800), months=24)
        for n in range(7):
            make_person(session, telegram_id=9000 + n, name=f"Osoba {n}", programme=old)
    database = Database(engine)
    try:
        assert await run_retention(database, now=now, batch=3) == 7
        assert await run_retention(database, now=now, batch=3) == 0
    finally:
        database._pool.shutdown(wait=True)
    with transaction(engine) as session:
        assert all(p.erased_at for p in session.exec(select(Person)))


def test_purge_waits_for_another_process_on_postgresql(
    postgres_engine: Engine, clock: FrozenClock
) -> None:
    now = clock.now()
    with transaction(postgres_engine) as session:
        old = _programme(session, ended=now - timedelta(days=400), months=12)
        person = make_person(session, telegram_id=9100, name="Stanisława", programme=old)
        person_id = person.id
    assert person_id is not None
    with transaction(postgres_engine) as first:
        reports = purge_batch(first, now=now)
        assert reports is not None and len(reports) == 1
        with transaction(postgres_engine) as second:
            # The first transaction still holds the purge lock: the second stands aside.
            assert purge_batch(second, now=now) is None
    with transaction(postgres_engine) as session:
        assert person_row(session, person_id).erased_at is not None


def test_purge_command_shows_then_erases(
    engine: Engine,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    now = datetime.now(UTC)
    with transaction(engine) as session:
        old = _programme(session, ended=now - timedelta(days=500), months=12)
        make_programme(session)
        person = make_person(
            session, telegram_id=9200, name="Bronisława Kaczmarczyk", programme=old
        )
        person_id = person.id
    monkeypatch.setenv("PALBOT_DATABASE_URL", db_url)
    assert main(["purge", "--dry-run"]) == 0
    shown = capsys.readouterr().out
    assert f"Would erase 1 people (person ids): {person_id}" in shown
    assert "Bronisława" not in shown and "9200" not in shown
    with transaction(engine) as session:
        assert person_row(session, person_id or 0).erased_at is None
    assert main(["purge"]) == 0
    assert f"Erased 1 people (person ids): {person_id}" in capsys.readouterr().out
    with transaction(engine) as session:
        assert person_row(session, person_id or 0).display_name is None


def test_person_data_and_erase_commands(
    engine: Engine,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: object,
) -> None:

    with transaction(engine) as session:
        programme = make_programme(session)
        person = make_person(session, name="Genowefa z Lipowej", programme=programme, language="uk")
        person_id = person.id
    monkeypatch.setenv("PALBOT_DATABASE_URL", db_url)
    out = Path(str(tmp_path)) / "dane.html"
    assert main(["person-data", "--person", str(person_id), "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "Genowefa z Lipowej" in page and "Ваші дані в чаті PAL" in page
    assert main(["erase-person", "--person", str(person_id)]) == 0
    assert "Nothing done" in capsys.readouterr().out
    assert main(["erase-person", "--person", str(person_id), "--yes"]) == 0
    assert f"person {person_id}: erased" in capsys.readouterr().out
    assert main(["erase-person", "--person", "424242", "--yes"]) == 1


def test_set_retention_command(
    engine: Engine,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with transaction(engine) as session:
        programme = make_programme(session, name="PAL Stare Miasto 2026")
        programme.ends_at = datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
        session.add(programme)
    monkeypatch.setenv("PALBOT_DATABASE_URL", db_url)
    assert main(["set-retention", "--programme", "PAL Stare Miasto 2026"]) == 0
    assert "no automatic erasure" in capsys.readouterr().out
    assert (
        main(
            [
                "set-retention",
                "--programme",
                "PAL Stare Miasto 2026",
                "--months",
                "24",
                "--answers",
                "delete",
            ]
        )
        == 0
    )
    shown = capsys.readouterr().out
    assert "24 months after the end, on 2028-12-31; survey answers deleted" in shown
    with transaction(engine) as session:
        stored = session.exec(
            select(Programme).where(Programme.name == "PAL Stare Miasto 2026")
        ).one()
        assert (stored.retention_months, stored.keep_answers_on_erasure) == (24, False)
    assert main(["set-retention", "--programme", "PAL Stare Miasto 2026", "--months", "0"]) == 2
    assert main(["set-retention", "--programme", "Nope", "--months", "off"]) == 1
