"""Posters and call lists through `palbot run` and the local Bot API server.

Ewa adds Pani Irena (no Telegram, a phone number) in the chat and gives her a place,
downloads the poster, whose QR code a new resident follows through onboarding to the
activity; then the bot tells Ewa to phone Irena with the first reminder, on time, and
sends the call list as a CSV file. Reminder offsets are seconds here.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy.engine import Engine

from storage.db import transaction
from storage.models import Programme
from tests.e2e.botapi import BotProcess, FakeBotApi, bot_env
from tests.support.animator import seat_animator
from tests.support.pdf import page_qr_codes, page_texts
from tests.support.signup import make_activity

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio]
EWA, OLENA = 900, 9101
FIRST_OFFSET = 25


async def test_a_poster_to_print_and_a_call_list_with_the_reminder(
    api: FakeBotApi, db_file: str, store: Engine, tmp_path: Path
) -> None:
    env = bot_env(
        api,
        PALBOT_DATABASE_URL=db_file,
        PALBOT_LOG_LEVEL="INFO",
        PALBOT_QUIET_HOURS="off",
        PALBOT_REMINDER_OFFSETS=f"{FIRST_OFFSET}s,5s",
        PALBOT_SIGNUP_CONTACT="22 123 45 67",
    )
    async with BotProcess(env, tmp_path, ["run"]) as bot:
        await bot.wait_ready(api, timeout=30)
        _, programme_id = seat_animator(store, telegram_id=EWA)
        start = datetime.now(UTC) + timedelta(seconds=FIRST_OFFSET + 20)
        with transaction(store) as session:
            programme = session.get(Programme, programme_id)
            assert programme is not None
            activity = make_activity(
                session, programme=programme, starts_at=start, places=8, title="Warsztaty ceramiki"
            )
            activity_id = activity.id
        ewa = api.user(EWA)

        # Pani Irena has no Telegram: Ewa adds her with a phone number and gives her a place.
        await ewa.ask("/animator", "Panel animatora")
        await ewa.tap("Osoby bez Telegramu", "Osoby bez Telegramu")
        await ewa.tap("Dodaj osobę bez Telegramu", "Wpisz imię")
        await ewa.ask("Pani Irena", "Numer telefonu")
        await ewa.ask("600 123 456", "Pani Irena")
        await ewa.tap("Tak, ma", "Telefon: 600 123 456")
        await ewa.tap("Zapisz na wydarzenie", "Na które wydarzenie zapisać?")
        await ewa.tap("Warsztaty ceramiki", "📌 Warsztaty ceramiki")

        # The poster: downloaded, its QR code read back from the PDF.
        await ewa.ask("/animator", "Panel animatora")
        await ewa.tap("Moje wydarzenia", "Twoje wydarzenia")
        await ewa.tap("Warsztaty ceramiki", "Zajęte miejsca: 1 z 8")
        link_screen = await ewa.tap("Link i plakat", "Link do zapisów")
        link = f"https://t.me/pal_test_bot?start=act_{activity_id}"
        assert link in link_screen.body
        ewa.press("Plakat (PDF)")
        poster = await ewa.expect_document(".pdf", timeout=15)
        pdf = ewa.file_bytes(poster)
        assert page_qr_codes(pdf) == [[link]]
        text = " ".join(page_texts(pdf)[0].split())
        assert "Warsztaty ceramiki" in text and "Wolne miejsca: 7 z 8" in text
        assert "Zapisz się telefonicznie: 22 123 45 67" in text

        # Olena, new to the bot, scans it: after the first steps she sees the activity.
        payload = parse_qs(urlparse(page_qr_codes(pdf)[0][0]).query)["start"][0]
        olena = api.user(OLENA)
        await olena.ask(f"/start {payload}", "Wybierz język")
        await olena.tap("Polski", "Informacja o danych osobowych")
        await olena.tap("Dalej", "Jak mają Cię widzieć animatorzy")
        await olena.ask("Olena", "Dziękujemy, Olena!")
        await olena.expect_new("📌 Warsztaty ceramiki", timeout=10)
        await olena.tap("Zapisz się", "Masz miejsce na: Warsztaty ceramiki")

        # With the first reminder, Ewa is told whom to phone; Olena has Telegram.
        ewa.skip()
        call = await ewa.expect_new("Zadzwoń do tych osób", timeout=FIRST_OFFSET + 15)
        due = (start - timedelta(seconds=FIRST_OFFSET)).timestamp()
        assert due - 0.2 <= call.sent_at <= due + 3.0, call.sent_at - due
        assert "1 osoba bez Telegramu ma miejsce" in call.body
        assert "1. Pani Irena — 600 123 456" in call.body
        assert "Olena" not in call.body
        await olena.expect_new("Przypomnienie", timeout=10)
        assert not any("Zadzwoń" in m.body for m in olena.messages)

        ewa.press("Lista do telefonów (CSV)", message=call)
        document = await ewa.expect_document(".csv", timeout=10)
        rows = list(
            csv.reader(io.StringIO(ewa.file_bytes(document).decode("utf-8-sig")), delimiter=";")
        )
        assert [r[:3] for r in rows[1:]] == [["1", "Pani Irena", "600 123 456"]]
        await ewa.expect_nothing("Zadzwoń do tych osób", within=1.0)
        assert await bot.terminate() == 0, bot.log_tail()
    log = bot.log_text()
    assert "Traceback" not in log, bot.log_tail()
    # Names and numbers never reach the log.
    assert "Irena" not in log and "600 123 456" not in log
