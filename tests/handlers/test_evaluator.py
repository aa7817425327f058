"""/evaluator: Ewa, assigned to one programme, gets its workbook and charts; Krystyna, a
resident, gets a refusal; forged buttons for another programme change nothing."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.context import PalApplication
from bot.settings import Settings, load_settings
from storage.db import transaction
from storage.models import Person, Role
from storage.people.roles import grant
from tests.conftest import TEST_TOKEN
from tests.support.chat import ChatUser
from tests.support.evaluation import Story
from tests.support.recording import RecordingRequest

EWA, KRYSTYNA, ADAM = 4001, 4002, 4003


@pytest.fixture
def settings(db_url: str) -> Settings:
    """Adam is an administrator of this deployment."""
    return load_settings(_env_file=None, token=TEST_TOKEN, database_url=db_url, admin_ids=str(ADAM))


@pytest.fixture
def story(engine: Engine) -> tuple[int, int]:
    """The story programme (Ewa's) and another one (not hers)."""
    with transaction(engine) as session:
        s = Story(session)
        assert s.programme.id is not None and s.other.id is not None
        grant(session, role=Role.EVALUATOR, telegram_id=EWA, programme_id=s.programme.id)
        return s.programme.id, s.other.id


def _documents(rec: RecordingRequest, chat_id: int) -> list[tuple[str, bytes]]:
    return [
        (m.file_name or "", m.document or b"")
        for m in rec.chats.get(chat_id, [])
        if m.document is not None
    ]


async def test_ewa_receives_the_workbook_and_charts_of_her_programme(
    chat_user: Callable[..., ChatUser],
    rec: RecordingRequest,
    story: tuple[int, int],
    engine: Engine,
) -> None:
    mine, other = story
    ewa = chat_user(EWA, language_code="pl")
    await ewa.send("/evaluator")
    assert ewa.last.text.startswith("Panel ewaluacji.")
    buttons = dict(ewa.last.buttons())
    assert buttons["PAL Osiedle Słoneczne"] == f"ev:p:{mine}"
    assert "PAL Stare Miasto" not in buttons
    await ewa.press("PAL Osiedle Słoneczne")
    assert ewa.last.text == "PAL Osiedle Słoneczne: jaki okres ma obejmować raport?"
    assert [label for label, _ in ewa.last.buttons()] == [
        "Wszystkie lata",
        "2025",
        "2026",
        "↩️ Menu",
    ]
    await ewa.press("2026")
    documents = _documents(rec, EWA)
    names = [name for name, _ in documents]
    assert names == [
        "raport-PAL-Osiedle-Słoneczne-2026.xlsx",
        "raport-PAL-Osiedle-Słoneczne-2026-prepost.png",
        "raport-PAL-Osiedle-Słoneczne-2026-participation_by_month.png",
    ]
    caption = next(m.text for m in ewa.messages if m.file_name and m.file_name.endswith("xlsx"))
    assert caption.startswith("Raport: PAL Osiedle Słoneczne (2026). Liczby poniżej 5 osób")
    book = load_workbook(io.BytesIO(documents[0][1]))
    assert book.sheetnames == [
        "Wskaźniki",
        "Przed i po",
        "Stwierdzenia",
        "Konsultacje",
        "Definicje",
    ]
    assert [c.value for c in book["Wskaźniki"][3]] == ["Rodzaj wydarzeń", "Wskaźnik", "2026"]
    status = [m.text for m in ewa.messages if m.text.startswith("Przygotowuję raport")]
    assert status == [] and any(m.text == "Raport jest gotowy." for m in ewa.messages)
    with transaction(engine) as session:
        names_and_ids = [(p.display_name, p.telegram_id) for p in session.exec(select(Person))]
    cells = " ".join(
        str(c.value) for ws in book for row in ws.iter_rows() for c in row if c.value is not None
    )
    for name, telegram_id in names_and_ids:
        assert name and name not in cells
        assert telegram_id is None or str(telegram_id) not in cells
    assert "PAL Stare Miasto" not in cells and other != mine


async def test_all_years_report_has_a_column_per_year(
    chat_user: Callable[..., ChatUser], rec: RecordingRequest, story: tuple[int, int]
) -> None:
    ewa = chat_user(EWA, language_code="en")
    await ewa.send("/evaluator")
    await ewa.press("PAL Osiedle Słoneczne")
    await ewa.press("All years")
    name, content = _documents(rec, EWA)[0]
    assert name == "raport-PAL-Osiedle-Słoneczne-all.xlsx"
    book = load_workbook(io.BytesIO(content))
    assert [c.value for c in book["Indicators"][3]] == [
        "Activity category",
        "Indicator",
        "2025",
        "2026",
        "All years",
    ]


async def test_a_resident_is_refused_everywhere(
    chat_user: Callable[..., ChatUser], rec: RecordingRequest, story: tuple[int, int]
) -> None:
    mine, _ = story
    krystyna = chat_user(KRYSTYNA, language_code="pl")
    await krystyna.send("/evaluator")
    assert krystyna.last_answer() == "To jest tylko dla zespołu programu."
    await krystyna.press_data(f"ev:y:{mine}:0")
    assert krystyna.alerts()[-1] == "To jest tylko dla zespołu programu."
    await krystyna.send("📊 Panel ewaluacji")
    assert krystyna.last_answer() == "To jest tylko dla zespołu programu."
    assert _documents(rec, KRYSTYNA) == []


async def test_forged_buttons_for_another_programme_are_refused(
    chat_user: Callable[..., ChatUser], rec: RecordingRequest, story: tuple[int, int]
) -> None:
    mine, other = story
    ewa = chat_user(EWA, language_code="en")
    await ewa.send("/evaluator")
    await ewa.press_data(f"ev:p:{other}")
    refusal = "You are not assigned to this programme, so its report is not available to you."
    assert ewa.alerts()[-1] == refusal
    await ewa.press_data(f"ev:y:{other}:0")
    assert ewa.alerts()[-1] == refusal
    await ewa.press_data("ev:y:999999:2025")
    assert ewa.alerts()[-1] == refusal
    await ewa.press_data(f"ev:y:{mine}:1999")
    assert ewa.alerts()[-1] == "This button is no longer active. Open the menu again."
    assert _documents(rec, EWA) == []


async def test_an_admin_sees_every_programme_and_the_menu_button_works(
    app: PalApplication, chat_user: Callable[..., ChatUser], story: tuple[int, int]
) -> None:
    adam = chat_user(ADAM, language_code="uk")
    await adam.send("📊 Панель оцінювання")
    assert adam.last.text.startswith("Панель оцінювання.")
    labels = [label for label, _ in adam.last.buttons()]
    assert labels == ["PAL Osiedle Słoneczne", "PAL Stare Miasto", "↩️ Меню"]


async def test_no_programmes_at_all(chat_user: Callable[..., ChatUser]) -> None:
    adam = chat_user(ADAM, language_code="en")
    await adam.send("/evaluator")
    assert (
        adam.last.text == "No programme is assigned to you yet. Ask an administrator to assign one."
    )
