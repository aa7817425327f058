"""Reminders through `palbot run` and the local Bot API server, with offsets of seconds.

On time, with both buttons; across a SIGKILL; with two processes on one PostgreSQL
database; and change notices from the command line.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage.activities.seats import sign_up
from storage.db import make_engine, transaction
from storage.migrate import upgrade_to_latest
from storage.models import (
    PendingSend,
    Person,
    Programme,
    Registration,
    RegistrationStatus,
    SendKind,
    SendState,
)
from tests.e2e.botapi import BotProcess, FakeBotApi, TgUser, bot_env
from tests.e2e.botapi.process import REPO_ROOT
from tests.support.signup import make_people, seed_programme

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio]
OFFSETS = {"PALBOT_REMINDER_OFFSETS": "10s,5s", "PALBOT_QUIET_HOURS": "off"}


def _env(api: FakeBotApi, database_url: str, **extra: str) -> dict[str, str]:
    return bot_env(
        api, PALBOT_DATABASE_URL=database_url, PALBOT_LOG_LEVEL="INFO", **OFFSETS, **extra
    )


async def _sign_up(user: TgUser, activity_id: int, button: str, expected: str) -> None:
    await user.ask(f"/start act_{activity_id}", "Warsztaty rękodzieła")
    await user.tap(button, expected)


def _clean_exit(proc: BotProcess) -> None:
    assert "Traceback" not in proc.log_text(), proc.log_tail()


async def test_a_reminder_arrives_on_time_and_both_buttons_work(
    api: FakeBotApi, db_file: str, store: Engine, tmp_path: Path
) -> None:
    async with BotProcess(_env(api, db_file), tmp_path, ["run"]) as bot:
        await bot.wait_ready(api, timeout=30)
        start = datetime.now(UTC) + timedelta(seconds=16)
        programme, (activity,) = seed_programme(
            store, datetime.now(UTC), places=1, first_in=start - datetime.now(UTC)
        )
        make_people(store, 2, programme_id=programme, first_telegram_id=3100)
        jan, krystyna = api.user(3100), api.user(3101)
        await _sign_up(jan, activity, "Zapisz się", "Masz miejsce na")
        await _sign_up(krystyna, activity, "Dopisz mnie do listy rezerwowej", "(miejsce 1)")
        jan.skip()

        first = await jan.expect_new("Przypomnienie", timeout=15)
        due = (start - timedelta(seconds=10)).timestamp()
        assert due - 0.2 <= first.sent_at <= due + 2.0, first.sent_at - due
        assert "📅 Kiedy:" in first.body and "📍 Gdzie: Klub Sąsiedzki" in first.body
        assert [b.text for b in first.buttons] == ["✅ Będę", "❌ Nie dam rady przyjść"]
        jan.press("Będę", message=first)
        thanked = await jan.expect_edit("Potwierdzone: będziesz", message=first)
        assert thanked.buttons == []

        second = await jan.expect_new("Przypomnienie", timeout=10)
        due = (start - timedelta(seconds=5)).timestamp()
        assert due - 0.2 <= second.sent_at <= due + 2.0, second.sent_at - due
        jan.press("Nie dam rady", message=second)
        await jan.expect_edit("Twoje miejsce dostaje pierwsza osoba z listy rezerwowej")
        # Seconds before the start: the place goes to whoever on the reserve list taps
        # first (storage.activities.offers), and Krystyna does.
        told = await krystyna.expect_new("Zwolniło się miejsce w ostatniej chwili", timeout=8)
        assert "Warsztaty rękodzieła" in told.body
        krystyna.press("Biorę to miejsce", message=told)
        await krystyna.expect_edit("Miejsce jest Twoje", message=told)
        assert await bot.terminate() == 0, bot.log_tail()
    _clean_exit(bot)
    with Session(store) as session:
        rows = {
            p.telegram_id: r
            for r, p in session.exec(
                select(Registration, Person).join(
                    Person, col(Person.id) == col(Registration.person_id)
                )
            )
        }
    assert rows[3100].status == RegistrationStatus.CANCELLED
    assert rows[3100].confirmed_coming_at is not None
    assert rows[3101].status == RegistrationStatus.CONFIRMED


async def test_sigkill_before_a_reminder_then_restart_sends_it_exactly_once(
    api: FakeBotApi, db_file: str, store: Engine, tmp_path: Path
) -> None:
    env = _env(api, db_file)
    async with BotProcess(env, tmp_path, ["run"], log_path=tmp_path / "first.log") as bot:
        await bot.wait_ready(api, timeout=30)
        # One reminder 15 s before: room for a slow restart before the activity begins.
        start = datetime.now(UTC) + timedelta(seconds=25)
        programme, (activity,) = seed_programme(
            store, datetime.now(UTC), places=5, first_in=start - datetime.now(UTC)
        )
        with transaction(store) as session:
            row = session.get(Programme, programme)
            assert row is not None
            row.reminder_offsets = "15s"
        make_people(store, 1, programme_id=programme, first_telegram_id=3200)
        olena = api.user(3200)
        await _sign_up(olena, activity, "Zapisz się", "Masz miejsce na")
        bot.kill()  # SIGKILL: no shutdown, no goodbye
    olena.skip()
    due = start - timedelta(seconds=15)
    assert datetime.now(UTC) < due, "signing up took longer than the test allows"
    await asyncio.sleep((due - datetime.now(UTC)).total_seconds() + 0.5)
    assert [m for m in olena.messages if "Przypomnienie" in m.body] == []
    async with BotProcess(env, tmp_path, ["run"], log_path=tmp_path / "second.log") as bot:
        await bot.wait_ready(api, timeout=30)
        late = await olena.expect_new("Przypomnienie", timeout=10)
        assert due.timestamp() < late.sent_at < start.timestamp()
        await olena.expect_nothing("Przypomnienie", within=1.5)
        assert await bot.terminate() == 0, bot.log_tail()
    _clean_exit(bot)
    assert sum("Przypomnienie" in m.body for m in olena.messages) == 1
    with Session(store) as session:
        states = session.exec(
            select(PendingSend.state).where(PendingSend.kind == SendKind.REMINDER.value)
        ).all()
    assert states == [SendState.SENT]


@pytest.mark.postgres
async def test_two_processes_on_one_postgresql_database_send_each_reminder_once(
    api: FakeBotApi, postgres_url: str, tmp_path: Path
) -> None:
    engine = make_engine(postgres_url)
    upgrade_to_latest(engine)
    polling = BotProcess(
        _env(api, postgres_url), tmp_path, ["run"], log_path=tmp_path / "polling.log"
    )
    quiet = BotProcess(
        _env(api, postgres_url), tmp_path, ["run", "--no-polling"], log_path=tmp_path / "sender.log"
    )
    residents = 40
    async with polling, quiet:
        await polling.wait_ready(api, timeout=30)
        await api.wait_until(
            lambda: "outbox dispatcher started" in quiet.log_text(),
            30,
            description="the second process started its dispatcher",
        )
        start = datetime.now(UTC) + timedelta(seconds=17)
        programme, (activity,) = seed_programme(
            engine, datetime.now(UTC), places=residents, first_in=start - datetime.now(UTC)
        )
        people = make_people(engine, residents, programme_id=programme, first_telegram_id=3300)
        with transaction(engine) as session:
            row = session.get(Programme, programme)
            assert row is not None
            row.reminder_offsets = "10s,5s"
            for person_id in people:
                sign_up(session, person_id=person_id, activity_id=activity, now=datetime.now(UTC))
        users = [api.user(3300 + i) for i in range(residents)]

        def everyone_reminded_twice() -> bool:
            return all(sum("Przypomnienie" in m.body for m in u.messages) >= 2 for u in users)

        await api.wait_until(everyone_reminded_twice, 25, description="every reminder sent")
        await asyncio.sleep(1.0)  # would a duplicate still arrive?
        for proc in (polling, quiet):
            assert await proc.terminate() == 0, proc.log_tail()
    for proc in (polling, quiet):
        _clean_exit(proc)
    counts = [sum("Przypomnienie" in m.body for m in u.messages) for u in users]
    assert counts == [2] * residents
    with Session(engine) as session:
        workers = session.exec(
            select(PendingSend.claimed_by).where(
                PendingSend.kind == SendKind.REMINDER.value,
                PendingSend.state == SendState.SENT.value,
            )
        ).all()
    engine.dispose()
    assert len(workers) == 2 * residents
    assert len(set(workers)) == 2, "both processes should have sent some"


async def test_a_change_from_the_command_line_reaches_everyone_signed_up(
    api: FakeBotApi, db_file: str, store: Engine, tmp_path: Path
) -> None:
    async with BotProcess(_env(api, db_file), tmp_path, ["run"]) as bot:
        await bot.wait_ready(api, timeout=30)
        programme, (activity,) = seed_programme(store, datetime.now(UTC), places=1)
        make_people(store, 3, programme_id=programme, first_telegram_id=3400)
        with transaction(store) as session:  # Olena chose Ukrainian
            person = session.exec(select(Person).where(Person.telegram_id == 3401)).one()
            person.language = "uk"
            session.add(person)
        jan, olena, marek = api.user(3400), api.user(3401, language_code="uk"), api.user(3402)
        await _sign_up(jan, activity, "Zapisz się", "Masz miejsce na")
        await _sign_up(olena, activity, "Додати мене до резервного списку", "(місце 1)")
        await _sign_up(marek, activity, "Dopisz mnie do listy rezerwowej", "(miejsce 2)")
        marek.block()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PALBOT_")}
        env.update(PALBOT_DATABASE_URL=db_file, PYTHONPATH=str(REPO_ROOT))
        cli = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "change-activity",
            str(activity),
            "--venue",
            "Dom Kultury, ul. Lipowa 1",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(cli.communicate(), 30)
        assert cli.returncode == 0, err.decode()
        assert out.decode().endswith("3 people will be told\n")
        notice = await jan.expect_new("Nowy adres", timeout=10)
        assert "📍 Gdzie: Dom Kultury, ul. Lipowa 1" in notice.body
        assert "(wcześniej: Klub Sąsiedzki, ul. Słoneczna 5)" in notice.body
        other = await olena.expect_new("Нова адреса", timeout=10)
        assert "Ви в резервному списку (місце 1)" in other.body

        def marek_marked() -> bool:
            with Session(store) as session:
                person = session.exec(select(Person).where(Person.telegram_id == 3402)).one()
                return person.unreachable_at is not None

        await api.wait_until(marek_marked, 10, description="Marek marked unreachable")
        assert await bot.terminate() == 0, bot.log_tail()
    _clean_exit(bot)
