"""Spreadsheets sent in the chat: Ewa (animator) sends an XLSX with a bad row, fixes it,
imports it, and the same file again adds nothing; bad files and residents are refused."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from storage.activities.sheets import read_activity_sheet
from storage.db import read_only, transaction
from storage.models import Activity, AuditEntry, Dialog, Role
from storage.people.roles import grant
from tests.support.chat import ChatUser
from tests.support.documents import FileRecordingRequest, send_document
from tests.support.recording import RecordingRequest
from tests.support.signup import make_person, make_programme
from tests.support.workbooks import xlsx

EWA, KRYSTYNA = 8001, 8002
HEADER = ["title", "category", "starts_at", "ends_at", "venue", "places"]


@pytest.fixture
def rec() -> RecordingRequest:
    """The offline Bot API, with files people send."""
    return FileRecordingRequest()


@pytest.fixture
def programmes(engine: Engine) -> tuple[int, int]:
    """Ewa animates PAL Barwinek; PAL Stare Miasto is not hers. Krystyna is a resident."""
    with transaction(engine) as session:
        mine = make_programme(session, name="PAL Barwinek")
        other = make_programme(session, name="PAL Stare Miasto")
        make_person(session, telegram_id=EWA, name="Ewa", programme=mine)
        make_person(session, telegram_id=KRYSTYNA, name="Krystyna", programme=mine)
        assert mine.id is not None and other.id is not None
        grant(session, role=Role.ANIMATOR, telegram_id=EWA, programme_id=mine.id)
        return mine.id, other.id


def _xlsx(rows: list[list[object]]) -> bytes:
    return xlsx(HEADER, rows)


GOOD = [
    [
        "Klub seniora",
        "Spotkania",
        datetime(2026, 12, 1, 17),
        datetime(2026, 12, 1, 19),
        "Świetlica",
        15,
    ],
    [
        "Komputer bez tajemnic",
        "Warsztaty",
        datetime(2026, 12, 3, 10),
        datetime(2026, 12, 3, 12),
        "Biblioteka",
        8,
    ],
]
BAD = [*GOOD, ["Spacer", "Ruch", "jutro", datetime(2026, 12, 4, 12), "Park", 20]]


def _activities(engine: Engine) -> list[tuple[int, str]]:
    with read_only(engine) as session:
        return sorted((a.programme_id, a.title) for a in session.exec(select(Activity)))


def _dialogs(engine: Engine) -> list[str]:
    with read_only(engine) as session:
        return [d.kind for d in session.exec(select(Dialog))]


async def test_bad_row_then_fixed_file_then_the_same_file_again(
    chat_user: Callable[..., ChatUser], engine: Engine, programmes: tuple[int, int]
) -> None:
    mine, _ = programmes
    ewa = chat_user(EWA)
    await send_document(ewa, _xlsx(BAD), "zajecia.xlsx")
    text = ewa.last.text
    assert text.startswith("📄 zajecia.xlsx: 2 wiersze są poprawne.\n1 wiersz do poprawienia:")
    assert "Wiersz 4: starts_at: „jutro” to nie data i godzina" in text
    assert text.endswith("Nic nie zostało zaimportowane. Popraw te wiersze i wyślij plik ponownie.")
    assert [label for label, _ in ewa.last.buttons()] == ["⬇️ Wzór (XLSX)", "⬇️ Wzór (CSV)"]
    assert _activities(engine) == [] and _dialogs(engine) == []

    await send_document(ewa, _xlsx(GOOD), "zajecia.xlsx")
    preview = ewa.last.text
    assert preview.startswith("📄 zajecia.xlsx: 2 wydarzenia, wszystkie wiersze są poprawne.")
    assert "Program: PAL Barwinek" in preview
    assert "• wtorek, 1 grudnia, 17:00 — Klub seniora (Świetlica), 15 miejsc" in preview
    assert _activities(engine) == [] and _dialogs(engine) == ["sheet_import"]
    await ewa.press("Importuj")
    assert ewa.last.text == "Zaimportowano do programu „PAL Barwinek”: 2 nowe wydarzenia."
    assert _activities(engine) == [(mine, "Klub seniora"), (mine, "Komputer bez tajemnic")]
    assert _dialogs(engine) == []

    await send_document(ewa, _xlsx(GOOD), "zajecia (1).xlsx")
    assert "2 z nich już są w programie — nie zostaną dodane drugi raz." in ewa.last.text
    await ewa.press("Importuj")
    assert ewa.last.text.startswith("Zaimportowano do programu „PAL Barwinek”: 0 nowych wydarzeń.")
    assert len(_activities(engine)) == 2
    with read_only(engine) as session:
        audit = session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()
    assert [(a.action, a.details["added"]) for a in audit] == [
        ("activities.imported", 2),
        ("activities.imported", 0),
    ]


async def test_csv_from_excel_cancel_and_stale_buttons(
    chat_user: Callable[..., ChatUser], engine: Engine, programmes: tuple[int, int]
) -> None:
    ewa = chat_user(EWA)
    csv_text = (
        "\ufefftitle;category;starts_at;ends_at;venue;places\r\n"
        "Klub;Spotkania;01.12.2026 17:00;01.12.2026 19:00;Świetlica;15\r\n"
    )
    await send_document(ewa, csv_text.encode(), "zajecia.csv")
    assert "1 wydarzenie, wszystkie wiersze są poprawne." in ewa.last.text
    import_button = dict(ewa.last.buttons())["✅ Importuj"]
    await ewa.press("Anuluj")
    assert ewa.last.text == "Anulowano. Nic nie zostało zaimportowane."
    await ewa.press_data(import_button)
    assert ewa.alerts()[-1] == "Ten plik już nie czeka na import. Wyślij go ponownie."
    await ewa.press_data("ss:ok:deadbeef")
    assert ewa.alerts()[-1] == "Ten plik już nie czeka na import. Wyślij go ponownie."
    assert _activities(engine) == []


async def test_several_programmes_are_chosen_on_a_screen(
    chat_user: Callable[..., ChatUser], engine: Engine, programmes: tuple[int, int]
) -> None:
    _, other = programmes
    with transaction(engine) as session:
        programme = make_programme(session, name="PAL Zielone")
        assert programme.id is not None
        third = programme.id
        grant(session, role=Role.ANIMATOR, telegram_id=EWA, programme_id=third)
    ewa = chat_user(EWA)
    await send_document(ewa, _xlsx(GOOD), "zajecia.xlsx")
    assert ewa.last.text.endswith("Do którego programu je dodać?")
    labels = [label for label, _ in ewa.last.buttons()]
    assert labels == ["PAL Barwinek", "PAL Zielone", "✖️ Anuluj"]
    nonce = dict(ewa.last.buttons())["PAL Zielone"].split(":")[2]
    await ewa.press_data(f"ss:p:{nonce}:{other}")  # forged: not her programme
    assert ewa.alerts()[-1] == "Nie możesz dodawać wydarzeń do tego programu."
    await ewa.press("PAL Zielone")
    assert "Program: PAL Zielone" in ewa.last.text
    await ewa.press("Importuj")
    assert {p for p, _ in _activities(engine)} == {third}


async def test_bad_files_are_refused_and_change_nothing(
    chat_user: Callable[..., ChatUser],
    rec: RecordingRequest,
    engine: Engine,
    programmes: tuple[int, int],
) -> None:
    assert isinstance(rec, FileRecordingRequest)
    ewa = chat_user(EWA)
    await send_document(ewa, b"x" * 100, "ogromny.xlsx", declared_size=10_000_000)
    assert ewa.last.text == "Ten plik jest za duży (limit to 2 MB). Nic nie zostało zaimportowane."
    assert rec.downloads == 0  # refused by its declared size, never downloaded
    await send_document(ewa, b"%PDF-1.4", "umowa.pdf")
    assert ewa.last.text.startswith("To nie jest arkusz.")
    await send_document(ewa, b"\xd0\xcf\x11\xe0", "stary.xls")
    assert ewa.last.text.startswith("Czytam tylko pliki XLSX i CSV.")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * 30_000_000)
    await send_document(ewa, bomb.getvalue(), "bomba.xlsx")
    assert ewa.last.text.startswith("Ten skoroszyt po rozpakowaniu zawiera o wiele więcej")
    await send_document(ewa, b"PK\x03\x04broken", "zepsuty.xlsx")
    assert ewa.last.text.startswith("Nie da się odczytać tego skoroszytu")
    await send_document(ewa, _xlsx([[*GOOD[0][:5], "=2*5"]]), "formula.xlsx")
    assert "Wiersz 2: places zawiera formułę: wpisz samą wartość" in ewa.last.text
    assert _activities(engine) == [] and _dialogs(engine) == []


async def test_a_resident_sending_a_spreadsheet_is_refused(
    chat_user: Callable[..., ChatUser],
    rec: RecordingRequest,
    engine: Engine,
    programmes: tuple[int, int],
) -> None:
    assert isinstance(rec, FileRecordingRequest)
    krystyna = chat_user(KRYSTYNA)
    await send_document(krystyna, _xlsx(GOOD), "zajecia.xlsx")
    assert krystyna.last_answer() == "To jest tylko dla zespołu programu."
    await krystyna.send("/import")
    assert krystyna.last_answer() == "To jest tylko dla zespołu programu."
    for forged in ("ss:ok:deadbeef", "ss:no:deadbeef", "ss:tx", f"ss:p:deadbeef:{programmes[0]}"):
        await krystyna.press_data(forged)
        assert krystyna.alerts()[-1] == "To jest tylko dla zespołu programu.", forged
    assert rec.downloads == 0 and _activities(engine) == [] and _dialogs(engine) == []


async def test_templates_come_from_the_import_screen(
    chat_user: Callable[..., ChatUser], engine: Engine, programmes: tuple[int, int]
) -> None:
    ewa = chat_user(EWA)
    await ewa.send("/import")
    assert "title, category, starts_at, ends_at, venue, places" in ewa.last.text
    await ewa.press("Wzór (XLSX)")
    await ewa.press("Wzór (CSV)", message=ewa.messages[-2])
    documents = [(m.file_name, m.document) for m in ewa.messages if m.document is not None]
    assert [name for name, _ in documents] == [
        "activities-template.xlsx",
        "activities-template.csv",
    ]
    for name, data in documents:
        assert name is not None and data is not None
        sheet = read_activity_sheet(data, file_name=name, zone=ZoneInfo("Europe/Warsaw"))
        assert sheet.errors == [] and len(sheet.rows) == 2


async def test_an_administrator_without_programmes_is_told_to_create_one(
    chat_user: Callable[..., ChatUser], engine: Engine
) -> None:
    with transaction(engine) as session:
        make_person(session, telegram_id=EWA, name="Ewa")
        grant(session, role=Role.ADMIN, telegram_id=EWA)
    ewa = chat_user(EWA)
    await send_document(ewa, _xlsx(GOOD), "zajecia.xlsx")
    assert ewa.last.text == (
        "Nie ma jeszcze programu, do którego możesz dodać wydarzenia. "
        "Administrator może go utworzyć w /admin."
    )
    assert _activities(engine) == [] and _dialogs(engine) == []
