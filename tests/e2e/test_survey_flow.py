"""Surveys through `palbot run` and the local Bot API server: a resident answers the
initial survey across a SIGKILL; the final survey is opened from the command line, its
invitation answered, and the export has the matched pair with the right scores."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from storage.db import transaction
from storage.models import Person, Programme, SurveyAnswer, SurveyResponse
from storage.surveys.questionnaire_files import load_questionnaire
from storage.surveys.questionnaires import SurveyPhase, default_questionnaire_path, items_for_phase
from tests.e2e.botapi import BotProcess, FakeBotApi, TgUser, bot_env
from tests.e2e.botapi.process import REPO_ROOT
from tests.support.signup import make_person, make_programme
from tests.support.surveys import answered_survey, register

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio]
PROGRAMME = "PAL Osiedle Słoneczne"
INITIAL_ITEMS = [
    i.id
    for i in items_for_phase(load_questionnaire(default_questionnaire_path()), SurveyPhase.INITIAL)
]


@pytest.fixture
def env(api: FakeBotApi, db_file: str) -> dict[str, str]:
    # Quiet hours off: invitations are not urgent and would otherwise wait for the morning.
    return bot_env(
        api, PALBOT_DATABASE_URL=db_file, PALBOT_LOG_LEVEL="WARNING", PALBOT_QUIET_HOURS="off"
    )


def seed_resident(store: Engine, telegram_id: int, language: str = "pl") -> None:
    with transaction(store) as session:
        programme = make_programme(session, name=PROGRAMME)
        person = make_person(
            session,
            telegram_id=telegram_id,
            name="Krystyna",
            language=language,
            programme=programme,
        )
        register(
            session,
            person=person,
            programme=programme,
            starts_at=datetime.now(UTC) - timedelta(days=1),
            attended=True,
        )


def palbot(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a `palbot` subcommand as an administrator would, next to the running bot."""
    full = {**os.environ, **env, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


async def answer(user: TgUser, label: str, upto: str) -> None:
    """Press an answer and wait until the form shows the next question or the summary."""
    await user.tap(label, upto)


def progress(store: Engine) -> tuple[int, int]:
    with Session(store) as session:
        response = session.exec(select(SurveyResponse)).one()
        return response.position, len(session.exec(select(SurveyAnswer)).all())


async def test_initial_survey_survives_sigkill_and_resumes_at_the_same_question(
    api: FakeBotApi, env: dict[str, str], store: Engine, tmp_path: Path
) -> None:
    seed_resident(store, 3001)
    krystyna = api.user(3001)
    first = BotProcess(env, tmp_path, ["run"], log_path=tmp_path / "bot1.log").start()
    try:
        await first.wait_ready(api, timeout=30)
        intro = await krystyna.ask("/survey", "Samoocena: Ty i Twoja okolica")
        assert "Udział i ankiety są dobrowolne" in intro.body
        await krystyna.tap("Dalej", "· 1/12")
        for n in range(2, 7):
            await answer(krystyna, "2 — ", f"· {n}/12")
        form = api.messages(3001)[-1]
    finally:
        first.kill()  # SIGKILL in the middle of the survey
    assert progress(store) == (5, 5)

    second = BotProcess(env, tmp_path, ["run"], log_path=tmp_path / "bot2.log").start()
    try:
        await second.wait_ready(api, timeout=30)
        krystyna.send("/survey")
        resumed = await krystyna.expect_new("· 6/12")
        assert "Witaj ponownie" in resumed.body
        # The copy shown before the crash is stale now: its buttons are gone.
        assert api.message(3001, form.message_id).buttons == []
        for n in range(7, 13):
            await answer(krystyna, "2 — ", f"· {n}/12")
        await answer(krystyna, "2 — ", "Sprawdź odpowiedzi:")
        await krystyna.tap("Wyślij", "Dziękujemy! Odpowiedzi zostały wysłane.")
        assert await second.terminate() == 0, second.log_tail()
    finally:
        second.kill()
    assert "Traceback" not in second.log_text(), second.log_tail()
    with Session(store) as session:
        response = session.exec(select(SurveyResponse)).one()
        assert response.submitted_at is not None and response.position == 12
        values = {a.item_id: a.value for a in session.exec(select(SurveyAnswer))}
    assert len(values) == 12 and set(values.values()) == {"2"}


async def test_final_survey_opened_from_the_command_line_answered_and_exported(
    api: FakeBotApi, env: dict[str, str], store: Engine, tmp_path: Path
) -> None:
    seed_resident(store, 3101, language="uk")
    with transaction(store) as session:
        olena = session.exec(select(Person).where(Person.telegram_id == 3101)).one()
        programme = session.get(Programme, olena.programme_id)
        assert programme is not None
        answered_survey(
            session,
            person=olena,
            programme=programme,
            phase=SurveyPhase.INITIAL,
            values=dict.fromkeys(INITIAL_ITEMS, "2"),
            now=datetime.now(UTC) - timedelta(days=90),
        )
    user = api.user(3101, language_code="uk")
    bot = BotProcess(env, tmp_path, ["run"], log_path=tmp_path / "bot.log").start()
    try:
        await bot.wait_ready(api, timeout=30)
        opened = palbot(env, tmp_path, "open-final-survey", "--programme", PROGRAMME)
        assert opened.returncode == 0, opened.stderr
        assert "invited: 1" in opened.stdout
        invitation = await user.expect_new("Підсумкова анкета вже відкрита", timeout=15)
        assert "📝 Заповнити анкету" in invitation.button_texts
        await user.tap("Заповнити анкету", "· 1/15")
        for n in range(2, 13):
            await answer(user, "4 — ", f"· {n}/15")
        await answer(user, "4 — ", "· 13/15")
        await answer(user, "5 — Набагато краще", "· 14/15")
        await answer(user, "5 — Набагато краще", "· 15/15")
        await user.tap("Пропустити", "Перевірте відповіді:")
        await user.tap("Надіслати", "Дякуємо за участь у програмі.")
        assert await bot.terminate() == 0, bot.log_tail()
    finally:
        bot.kill()
    assert "Traceback" not in bot.log_text(), bot.log_tail()

    out = tmp_path / "responses.csv"
    exported = palbot(
        env, tmp_path, "export-responses", "--programme", PROGRAMME, "--out", str(out)
    )
    assert exported.returncode == 0, exported.stderr
    assert "(1 participants with both surveys)" in exported.stdout
    raw = out.read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(raw.splitlines()))
    assert [r["phase"] for r in rows] == ["initial", "final"]
    assert rows[0]["participant_code"] == rows[1]["participant_code"]
    # Each subscale: two plain items and one reverse item. Initial 2, 2, 6-2=4 → 2.667;
    # final 4, 4, 6-4=2 → 3.333.
    for subscale in ("self_esteem", "motivation", "contacts", "belonging"):
        assert rows[0][f"score:{subscale}"] == "2.667"
        assert rows[1][f"score:{subscale}"] == "3.333"
    assert (rows[1]["item:ch_self"], rows[1]["item:ch_neighbourhood"]) == ("5", "")
    assert "Krystyna" not in raw and "3101" not in raw


async def test_broken_questionnaire_stops_start_up_with_its_problems(
    api: FakeBotApi, env: dict[str, str], store: Engine, tmp_path: Path
) -> None:
    broken = tmp_path / "ours.yaml"
    broken.write_text(
        "id: ours\nversion: 1\ntitle: {en: Ours}\nintro: {pl: x}\nitems: []\n", encoding="utf-8"
    )
    with transaction(store) as session:
        make_programme(session, name=PROGRAMME).survey_path = str(broken)
    bot = BotProcess(env, tmp_path, ["run"], log_path=tmp_path / "bot.log").start()
    assert await bot.wait_exit(20) == 2
    log = bot.log_text()
    assert "not starting: a questionnaire file has problems" in log
    assert f"{broken}:3: title.pl: missing" in log
    assert "items: needs at least 1" in log
