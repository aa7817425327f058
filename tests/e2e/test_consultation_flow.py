"""A consultation through `palbot run` and the local Bot API server: Ewa asks 30 residents
(Polish, Ukrainian, English) one question, enters one paper answer, closes it; everyone
who answered gets the results; the evaluator workbook shows a suppressed small option."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from storage.db import transaction
from storage.models import ConsultationResponse, Role
from storage.people.roles import grant
from storage.people.without_telegram import create_proxy_participant
from tests.e2e.botapi import BotProcess, FakeBotApi, bot_env
from tests.support.animator import seat_animator, seat_resident

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio]
EWA = 900
PROGRAMME = "PAL Osiedle Konsultacje"
LANGUAGES = ("pl", "uk", "en")
THANKS = {"pl": "Dziękujemy!", "uk": "Дякуємо!", "en": "Thank you!"}
RESULTS = {
    "pl": "Wyniki konsultacji",
    "uk": "Результати консультації",
    "en": "Results of the consultation",
}


@pytest.fixture
async def bot(
    api: FakeBotApi, db_file: str, store: Engine, tmp_path: Path
) -> AsyncIterator[BotProcess]:
    # Quiet hours off: the test must not depend on the time of day it runs at.
    env = bot_env(
        api, PALBOT_DATABASE_URL=db_file, PALBOT_LOG_LEVEL="WARNING", PALBOT_QUIET_HOURS="off"
    )
    async with BotProcess(env, tmp_path, ["run"]) as proc:
        await proc.wait_ready(api, timeout=30)
        yield proc
        assert await proc.terminate() == 0, proc.log_tail()
    assert "Traceback" not in proc.log_text(), proc.log_tail()


def _seed(store: Engine) -> tuple[int, list[tuple[int, str]]]:
    _, programme_id = seat_animator(store, telegram_id=EWA, programme_name=PROGRAMME)
    residents = []
    for i in range(30):
        language = LANGUAGES[i % 3]
        seat_resident(
            store,
            telegram_id=6000 + i,
            programme_id=programme_id,
            name=f"Osoba {i}",
            language=language,
        )
        residents.append((6000 + i, language))
    with transaction(store) as session:
        grant(session, role=Role.EVALUATOR, telegram_id=EWA, programme_id=programme_id)
        create_proxy_participant(
            session, display_name="Pani Halina", created_by_id=1, programme_id=programme_id
        )
    return programme_id, residents


async def test_thirty_residents_and_one_paper_form(
    api: FakeBotApi, bot: BotProcess, store: Engine
) -> None:
    _, residents = _seed(store)
    ewa = api.user(EWA)
    await ewa.ask("/animator", "Panel animatora")
    await ewa.tap("Konsultacje", "Nie ma jeszcze konsultacji")
    await ewa.tap("Nowe konsultacje", "O co chcesz zapytać?")
    await ewa.tap("Jedno pytanie", "Napisz pytanie 1")
    await ewa.ask("Kiedy mają być spotkania?", "jedną odpowiedź, czy kilka")
    await ewa.tap("Jedna odpowiedź", "Napisz odpowiedzi do wyboru")
    await ewa.ask("Rano\nPo południu\nWieczorem", "Od kiedy można odpowiadać?")
    await ewa.tap("Dziś", "Do kiedy można odpowiadać?")
    await ewa.tap("Za 7 dni", "Kogo pytamy?")
    await ewa.tap("Wszyscy w programie", "Czy mieszkańcy mają zobaczyć wyniki")
    preview = await ewa.tap("Tak, wyślij im wyniki", "Sprawdź konsultacje:")
    assert "Po starcie trafi do 30 osób w czacie." in preview.body
    # Each user reads the chat from now on.
    users = [(api.user(tid, language_code=language), language) for tid, language in residents]
    await ewa.tap("Opublikuj", "Konsultacje są otwarte")

    # 20 choose the morning, 8 the afternoon, 2 the evening (a count to be hidden).
    for n, (user, language) in enumerate(users):
        question = await user.expect_new("Kiedy mają być spotkania?", timeout=30)
        option = "Rano" if n < 20 else ("Po południu" if n < 28 else "Wieczorem")
        user.press(option, message=question)
        await user.expect_edit(THANKS[language], message=question)

    # Pani Halina answered on paper; Ewa enters it.
    await ewa.ask("/animator", "Panel animatora")
    await ewa.tap("Konsultacje", "Konsultacje (tytuł")
    await ewa.tap("Kiedy mają być", "Odpowiedziało 30 osób.")
    await ewa.tap("Wpisz odpowiedź z papieru", "Czyje odpowiedzi")
    await ewa.tap("Pani Halina", "Odpowiedzi z papieru")
    await ewa.tap("Po południu", "Dziękujemy!")
    card = await ewa.tap("Wstecz", "Odpowiedziało 31 osób.")
    assert "• Rano: 20" in card.body and "• Po południu: 9" in card.body
    assert "W tym 1 na papierze." in card.body
    with Session(store) as session:
        rows = session.exec(select(ConsultationResponse)).all()
    assert len(rows) == 31 and sum(r.channel == "paper" for r in rows) == 1

    await ewa.tap("Zakończ teraz", "Zakończyć konsultacje teraz?")
    await ewa.tap("Tak, zakończ", "Stan: zakończone")
    for user, language in users[:3]:
        result = await user.expect_new(RESULTS[language], timeout=30)
        assert "• Rano: 20" in result.body and "• Wieczorem: <5" in result.body

    # The evaluator's workbook: a Consultations sheet with the small option hidden.
    await ewa.ask("/evaluator", "Panel ewaluacji")
    await ewa.tap(PROGRAMME, "jaki okres")
    ewa.press("Wszystkie lata")
    workbook = await ewa.expect_document(".xlsx", timeout=60)
    book = load_workbook(io.BytesIO(ewa.file_bytes(workbook)))
    assert "Konsultacje" in book.sheetnames
    rows_shown = [[c.value for c in row] for row in book["Konsultacje"].iter_rows()]
    by_label = {row[0]: row[1:] for row in rows_shown if row and row[0]}
    assert by_label["Rano"][0] == 20
    assert by_label["Wieczorem"][0] == "<5"
    assert by_label["Osoby, które odpowiedziały"][0] == 31
    years = [row for row in rows_shown if row[0] and str(row[0]).isdigit()]
    assert years and years[0][1:4] == [1, 31, "<5"]
