"""The bot's log never holds names, Telegram ids, message texts or survey answers — even at
DEBUG.

One `palbot run` at log level DEBUG goes through onboarding, a sign-up, a survey with a
free-text answer, an announcement, stray chat, /mydata and /forgetme; then its whole
output is searched for every name and text the people typed, and for their Telegram ids
(a logged id would tie a person to an activity after /forgetme erased them).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import Engine

from storage.db import make_engine, transaction
from storage.migrate import upgrade_to_latest
from storage.models import Programme, Role
from storage.people.roles import grant
from tests.e2e.botapi import BotProcess, FakeBotApi, bot_env
from tests.support.privacy import QUESTIONNAIRE
from tests.support.signup import make_activity, make_person, make_programme

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio]

RESIDENT = "Bożydar Wąchocki"
ANIMATOR = "Animatorka Genowefa"
SURVEY_TEXT = "Sąsiadka Halina Przybyszewska pomaga mi z zakupami"
ANNOUNCEMENT = "Piknik u Pani Leokadii Zawistowskiej w sobotę o 15"
CHATTER = "Dzień dobry, tu Bożydar z parteru, mieszkanie 7"
# Telegram ids distinctive enough that no timestamp, port or counter matches them.
RESIDENT_ID = 730461295
ANIMATOR_ID = 618027453


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'palbot.sqlite3'}"


@pytest.fixture
def store(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    upgrade_to_latest(engine)
    yield engine
    engine.dispose()


def _seed(store: Engine, survey: Path) -> int:
    with transaction(store) as session:
        programme = make_programme(session, name="PAL Osiedle Zielone")
        programme.survey_path = str(survey)
        session.add(programme)
        activity = make_activity(
            session, programme=programme, starts_at=datetime.now(UTC) + timedelta(days=3)
        )
        make_person(session, telegram_id=ANIMATOR_ID, name=ANIMATOR, programme=programme)
        grant(session, role=Role.ANIMATOR, telegram_id=ANIMATOR_ID, programme_id=programme.id)
        assert activity.id is not None
        return activity.id


async def test_logs_hold_no_names_texts_or_answers(
    api: FakeBotApi, store: Engine, db_url: str, tmp_path: Path
) -> None:
    survey = tmp_path / "survey.yaml"
    survey.write_text(yaml.safe_dump(QUESTIONNAIRE, allow_unicode=True), encoding="utf-8")
    activity = _seed(store, survey)
    env = bot_env(
        api, PALBOT_DATABASE_URL=db_url, PALBOT_LOG_LEVEL="DEBUG", PALBOT_QUIET_HOURS="off"
    )
    bot = BotProcess(env, tmp_path, ["run"], log_path=tmp_path / "bot.log").start()
    try:
        await bot.wait_ready(api, timeout=30)
        me = api.user(RESIDENT_ID)
        await me.ask("/start", "Wybierz język")
        await me.tap("Polski", "Informacja o danych osobowych")
        await me.tap("Dalej", "Jak mają Cię widzieć animatorzy")
        await me.ask(RESIDENT, f"Dziękujemy, {RESIDENT}!")
        await me.ask(f"/start act_{activity}", "Warsztaty rękodzieła")
        await me.tap("Zapisz się", "Masz miejsce na")

        await me.ask("/survey", "Ankieta testowa")
        await me.tap("Dalej", "1/3")
        await me.tap("4 — ", "2/3")
        await me.tap("2 — ", "3/3")
        await me.ask(SURVEY_TEXT, "Sprawdź odpowiedzi")
        await me.tap("Wyślij", "Dziękujemy")

        ewa = api.user(ANIMATOR_ID)
        await ewa.ask("/animator", "Panel animatora")
        await ewa.tap("📣", "Nowe ogłoszenie")
        await ewa.ask(ANNOUNCEMENT, "Kto ma dostać ogłoszenie")
        preview = await ewa.tap(
            "Wszyscy w programie", lambda m: any(b.callback_data == "anb:send" for b in m.buttons)
        )
        ewa.press_data(preview, "anb:send")
        await me.expect_new(ANNOUNCEMENT, timeout=20)

        await me.ask(CHATTER, "przycisk")
        me.send("/mydata")
        await me.expect_document(".json", timeout=20)
        await me.ask("/forgetme", "Usunąć Twoje dane?")
        await me.tap("Tak, usuń moje dane", "Twoje dane zostały usunięte")
        assert await bot.terminate() == 0, bot.log_tail()
    finally:
        bot.kill()
    log = bot.log_text()
    assert "DEBUG" in log, "the run must have logged at DEBUG to prove the point"
    for needle in (
        RESIDENT,
        "Bożydar",
        "Wąchocki",
        ANIMATOR,
        "Genowefa",
        SURVEY_TEXT,
        "Przybyszewska",
        ANNOUNCEMENT,
        "Zawistowskiej",
        CHATTER,
        "parteru",
    ):
        assert needle not in log, f"{needle!r} is in the bot's log"
    for telegram_id in (RESIDENT_ID, ANIMATOR_ID):
        lines = [line for line in log.splitlines() if str(telegram_id) in line]
        assert not lines, f"Telegram id {telegram_id} is in the bot's log: {lines[:3]}"
    ours = "\n".join(line for line in log.splitlines() if "httpcore" not in line)
    assert "Traceback" not in ours, ours[ours.find("Traceback") - 300 :][:4000]
    with transaction(store) as session:
        assert session.get(Programme, 1) is not None
