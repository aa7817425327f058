"""A programme run from /admin through `palbot run` and the local Bot API server: the
administrator renames it, sets reminder times, sends a YAML questionnaire with an error and
then a fixed one, opens the final survey wave and copies the edition for next year."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage.models import Activity, AuditEntry, Programme
from tests.e2e.botapi import BotProcess, FakeBotApi, TgUser, bot_env
from tests.support.signup import make_activity, make_programme
from tests.support.surveys import default_data

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio]
ANNA = 6201
WARSAW = ZoneInfo("Europe/Warsaw")


@pytest.fixture
async def bot(
    api: FakeBotApi, db_file: str, store: Engine, tmp_path: Path
) -> AsyncIterator[BotProcess]:
    env = bot_env(
        api,
        PALBOT_DATABASE_URL=db_file,
        PALBOT_LOG_LEVEL="DEBUG",
        PALBOT_QUIET_HOURS="off",
        PALBOT_ADMIN_IDS=str(ANNA),
        PALBOT_SURVEYS_DIR=str(tmp_path / "surveys"),
    )
    async with BotProcess(env, tmp_path, ["run"]) as proc:
        await proc.wait_ready(api, timeout=30)
        yield proc
        assert await proc.terminate() == 0, proc.log_tail()
    assert "Traceback" not in proc.log_text(), proc.log_tail()


async def _onboard(user: TgUser, name: str) -> None:
    await user.ask("/start", "Wybierz język")
    await user.tap("Polski", "Informacja o danych osobowych")
    await user.tap("Dalej", "Jak mają Cię widzieć animatorzy")
    await user.ask(name, f"Dziękujemy, {name}!")


def _yaml(data: dict[str, object]) -> bytes:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode()


async def test_a_programme_is_run_from_admin(
    api: FakeBotApi, store: Engine, tmp_path: Path, bot: BotProcess
) -> None:
    # A Tuesday club at 17:00 next week.
    today = datetime.now(WARSAW).date()
    tuesday = today + timedelta(days=(1 - today.weekday()) % 7 or 7)
    starts = datetime(tuesday.year, tuesday.month, tuesday.day, 17, 0, tzinfo=WARSAW)
    with Session(store) as session:
        programme = make_programme(session, name="PAL Barwinek 2026")
        make_activity(
            session, programme=programme, title="Klub seniora", starts_at=starts.astimezone(UTC)
        )
        programme_id = programme.id
        session.commit()
    anna = api.user(ANNA)
    await _onboard(anna, "Anna")

    await anna.ask("/admin", "Administracja. Wybierz program")
    await anna.tap("PAL Barwinek 2026", "Zespół programu")
    await anna.tap("Program: daty, ustawienia, ankiety", "⚙️ Program „PAL Barwinek 2026”")
    await anna.tap("Nazwa", "Wpisz nową nazwę")
    await anna.ask(
        "PAL Barwinek jesień", "Zmienić nazwę programu „PAL Barwinek 2026” na: PAL Barwinek jesień?"
    )
    await anna.tap("Tak, zmień", "⚙️ Program „PAL Barwinek jesień”")

    await anna.tap("Czas przypomnień", "Przypomnienia teraz")
    await anna.ask("24 godziny", "Wpisz czasy jak „24h, 2h”")
    await anna.ask("2h, 24h", "na: 24h, 2h?")
    await anna.tap("Tak, zmień", "Przypomnienia przed wydarzeniem: 24h, 2h")

    await anna.tap("Kwestionariusz i ankiety", "📋 Ankiety programu „PAL Barwinek jesień”")
    await anna.tap("Wyślę własny kwestionariusz", "Wyślij kwestionariusz dla programu")
    broken = default_data()
    broken["id"] = "pal_barwinek"
    del broken["items"][0]["text"]["pl"]
    anna.send_document(_yaml(broken), "ankieta.yaml")
    errors = await anna.expect("W pliku jest 1 błąd:")
    assert "• wiersz " in errors.body and "items[0].text" in errors.body
    fixed = default_data()
    fixed["id"] = "pal_barwinek"
    anna.send_document(_yaml(fixed), "ankieta.yaml")
    await anna.expect("Plik jest poprawny: „pal_barwinek”")
    await anna.tap("Tak, użyj", "Gotowe: program „PAL Barwinek jesień” używa teraz")

    await anna.tap("Kwestionariusz i ankiety", "📋 Ankiety programu")
    await anna.tap("Otwórz ankietę końcową", "Otworzyć ankietę końcową programu")
    await anna.tap("Tak, otwórz", "Ankieta końcowa jest teraz otwarta.")

    await anna.tap("Kwestionariusz i ankiety", "📋 Ankiety programu")
    await anna.tap("↩️ Program", "⚙️ Program „PAL Barwinek jesień”")
    await anna.tap("Kopiuj jako nową edycję", "Nowa edycja programu „PAL Barwinek jesień”")
    next_year = tuesday + timedelta(weeks=52)
    question = await anna.ask(f"{next_year:%d.%m.%Y}", "Utworzyć edycję")
    assert "Zostanie skopiowane 1 wydarzenie, przesunięte o tygodnie: 52" in question.body
    await anna.tap("Tak, utwórz", f"⚙️ Program „PAL Barwinek jesień {next_year.year}”")

    with Session(store) as session:
        source = session.get(Programme, programme_id)
        assert source is not None
        assert source.name == "PAL Barwinek jesień"
        assert source.reminder_offsets == "24h,2h"
        assert source.survey_path and Path(source.survey_path).is_relative_to(tmp_path)
        assert source.final_survey_opened_at is not None
        edition = session.exec(select(Programme).where(col(Programme.id) != programme_id)).one()
        copied = session.exec(select(Activity).where(Activity.programme_id == edition.id)).one()
        actions = [e.action for e in session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))]
    assert edition.reminder_offsets == "24h,2h" and edition.survey_path == source.survey_path
    local = copied.starts_at.astimezone(WARSAW)
    assert (local.date(), local.hour, local.minute) == (next_year, 17, 0)
    assert actions == [
        "programme.renamed",
        "programme.setting_set",
        "survey.questionnaire_chosen",
        "survey.final_opened",
        "programme.copied",
    ]
    log = bot.log_text()
    for secret in ("PAL Barwinek", "Klub seniora", "Anna", "ankieta.yaml"):
        assert secret not in log, secret
