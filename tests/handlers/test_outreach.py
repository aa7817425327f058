"""Ewa prints posters and phones the people without Telegram, all from the chat.

Through the real Application offline: the sign-up link on the activity card, the poster
PDF (its QR code decoded), the programme's poster, the call list and its CSV file, and
phone numbers typed on a person's card. Residents and another programme's animator are
refused; bad input gets a short answer and changes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from schedules.clock import FrozenClock
from storage.db import transaction
from storage.models import Person, Role
from storage.people.acting_for import proxy_sign_up
from storage.people.roles import grant
from storage.people.without_telegram import create_proxy_participant
from tests.support.animator import Scene, make_scene, seat_animator
from tests.support.chat import ChatUser
from tests.support.pdf import page_qr_codes, page_texts

EWA, ADAM, JAN = 900, 901, 5000
REFUSED = "To wydarzenie nie jest dla Ciebie dostępne. Otwórz ponownie panel animatora."


@dataclass(frozen=True)
class Paper:
    zofia: int
    henryka: int
    marek: int


@pytest.fixture
def scene(engine: Engine, clock: FrozenClock) -> Scene:
    """Ewa's workshop tomorrow: Jan and Krystyna (Telegram) hold 2 of 4 places."""
    return make_scene(engine, clock.now(), places=4, people=2)


@pytest.fixture
def paper(engine: Engine, clock: FrozenClock, scene: Scene) -> Paper:
    """Zofia (with a phone) and Henryka get the last places; Marek is on the reserve list."""
    ids = []
    with transaction(engine) as session:
        for name, phone in (
            ("Pani Zofia", "600 100 200"),
            ("Pani Henryka", None),
            ("Pan Marek", "+48 601 000 111"),
        ):
            person = create_proxy_participant(
                session,
                display_name=name,
                created_by_id=scene.animator_id,
                programme_id=scene.programme_id,
                phone=phone,
            )
            assert person.id is not None
            ids.append(person.id)
    for person_id in ids:
        with transaction(engine) as session:
            proxy_sign_up(
                session,
                actor=scene.actor,
                person_id=person_id,
                activity_id=scene.activity_id,
                now=clock.now(),
            )
    return Paper(*ids)


@pytest.fixture
async def ewa(engine: Engine, chat_user: Callable[..., ChatUser], scene: Scene) -> ChatUser:
    with transaction(engine) as session:
        grant(session, role=Role.ANIMATOR, telegram_id=EWA, programme_id=scene.programme_id)
    ewa = chat_user(EWA)
    await ewa.send("/animator")
    return ewa


def _link(scene: Scene) -> str:
    return f"https://t.me/pal_test_bot?start=act_{scene.activity_id}"


def _phone(engine: Engine, person_id: int) -> str | None:
    with Session(engine) as session:
        person = session.get(Person, person_id)
        assert person is not None
        return person.phone


async def test_the_card_gives_the_sign_up_link_and_the_poster(
    ewa: ChatUser, scene: Scene, paper: Paper
) -> None:
    await ewa.press("Moje wydarzenia")
    await ewa.press("Warsztaty")
    await ewa.press("Link i plakat")
    assert _link(scene) in ewa.last.text
    assert "najpierw wybiera język i program" in ewa.last.text
    await ewa.press("Plakat (PDF)")
    sent = ewa.last
    assert sent.document is not None and sent.file_name is not None
    assert sent.file_name.startswith(f"poster-{scene.activity_id}-")
    assert sent.file_name.endswith(".pdf")
    assert "Wydrukuj go na kartce A4" in sent.text
    assert page_qr_codes(sent.document) == [[_link(scene)]]
    text = " ".join(page_texts(sent.document)[0].split())
    assert "Warsztaty rękodzieła" in text
    assert "Wtorek, 24 listopada" in text and "Godzina: 10:00–12:00" in text
    assert "Gdzie: Klub Sąsiedzki, ul. Słoneczna 5" in text
    assert "Brak wolnych miejsc: zapisz się na listę rezerwową." in text
    assert "Nie masz Telegramu?" in text


async def test_the_poster_is_in_the_programmes_language_whatever_the_animator_uses(
    engine: Engine, ewa: ChatUser, scene: Scene
) -> None:
    with transaction(engine) as session:
        person = session.get(Person, scene.animator_id)
        assert person is not None
        person.language = "en"
        session.add(person)
    await ewa.press_data(f"ano:pdf:{scene.activity_id}")
    assert ewa.last.text.startswith("Poster: Warsztaty rękodzieła. Print it on A4")
    assert ewa.last.document is not None
    text = " ".join(page_texts(ewa.last.document)[0].split())
    assert "Wolne miejsca: 2 z 4" in text


async def test_the_programme_poster_lists_upcoming_activities_with_their_codes(
    ewa: ChatUser, scene: Scene
) -> None:
    await ewa.press("Plakat z wydarzeniami")
    sent = ewa.last
    assert sent.document is not None and sent.file_name == "poster-activities.pdf"
    assert "Plakat: 1 nadchodzące wydarzenie." in sent.text
    assert page_qr_codes(sent.document) == [[_link(scene)]]
    assert "Zajęcia i spotkania" in page_texts(sent.document)[0]


async def test_the_call_list_in_the_chat_and_as_a_csv_file(
    ewa: ChatUser, scene: Scene, paper: Paper
) -> None:
    await ewa.press_data(f"an:a:{scene.activity_id}")
    await ewa.press("Do kogo zadzwonić")
    text = ewa.last.text
    assert "2 osoby bez Telegramu mają miejsca" in text
    assert "1. Pani Henryka — brak numeru telefonu\n2. Pani Zofia — 600 100 200" in text
    assert "Marek" not in text and "Jan" not in text
    assert "Brakujący numer dodasz na karcie osoby" in text
    await ewa.press("Plik CSV")
    sent = ewa.last
    assert sent.document is not None and sent.file_name is not None
    assert sent.file_name.startswith(f"call-list-{scene.activity_id}-")
    rows = list(csv.reader(io.StringIO(sent.document.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Lp.", "Imię", "Numer telefonu", "Wydarzenie", "Początek"]
    assert [r[:3] for r in rows[1:]] == [
        ["1", "Pani Henryka", ""],
        ["2", "Pani Zofia", "600 100 200"],
    ]
    assert rows[1][3:] == ["Warsztaty rękodzieła", "2026-11-24 10:00"]


async def test_an_activity_without_paper_participants_says_so(ewa: ChatUser, scene: Scene) -> None:
    await ewa.press_data(f"ano:call:{scene.activity_id}")
    assert "Żadna osoba bez Telegramu nie ma miejsca" in ewa.last.text
    await ewa.press_data(f"ano:csv:{scene.activity_id}")
    assert "Żadna osoba bez Telegramu" in ewa.alerts()[-1]
    assert all(m.document is None for m in ewa.messages)


async def test_a_resident_and_another_programmes_animator_are_refused(
    engine: Engine, chat_user: Callable[..., ChatUser], ewa: ChatUser, scene: Scene, paper: Paper
) -> None:
    presses = [
        f"ano:{scene.activity_id}",
        f"ano:pdf:{scene.activity_id}",
        f"ano:call:{scene.activity_id}",
        f"ano:csv:{scene.activity_id}",
        "ano:prog",
        f"ano:ph:{paper.zofia}",
        f"ano:phx:{paper.zofia}",
    ]
    jan = chat_user(JAN)
    for data in presses:
        await jan.press_data(data)
        assert jan.last_answer() == "To jest tylko dla zespołu programu."
    assert all(m.document is None for m in jan.messages)

    seat_animator(engine, telegram_id=ADAM, name="Adam", programme_name="PAL Stare Miasto")
    adam = chat_user(ADAM)
    for data in presses[:4]:
        await adam.press_data(data)
        assert adam.last_answer() == REFUSED
    for data in (f"ano:ph:{paper.zofia}", f"ano:phx:{paper.zofia}", f"ano:phc:{paper.zofia}"):
        await adam.press_data(data)
        assert adam.last_answer() == "Tej osoby nie ma na Twojej liście."
    # His own programme's poster holds none of Ewa's activities.
    await adam.press_data("ano:prog")
    assert adam.last.document is not None and page_qr_codes(adam.last.document) == [
        ["https://t.me/pal_test_bot"]
    ]
    assert "600 100 200" not in " ".join(m.text for m in adam.messages)
    assert _phone(engine, paper.zofia) == "600 100 200"
    # Forged ids are refused the same way as someone else's.
    await ewa.press_data(f"ano:pdf:{scene.activity_id + 999}")
    assert ewa.last_answer() == REFUSED


async def test_ewa_types_changes_and_removes_a_phone_number(
    engine: Engine, ewa: ChatUser, paper: Paper
) -> None:
    await ewa.press_data(f"anx:p:{paper.henryka}")
    await ewa.press("Numer telefonu")
    assert "Wpisz numer telefonu: Pani Henryka" in ewa.last.text
    for bad in ("jutro zadzwonię", "12", "😀😀😀", "6" * 10_000, "600 100 200 " * 1000):
        await ewa.send(bad)
        assert ewa.last_answer().startswith("To nie wygląda na numer telefonu.")
    assert _phone(engine, paper.henryka) is None
    await ewa.send(" +48  512 345 678 ")
    assert "Telefon: +48 512 345 678" in ewa.last.text
    assert _phone(engine, paper.henryka) == "+48 512 345 678"
    # The dialog is over: the next text is not taken as a number.
    await ewa.send("600 999 999")
    assert _phone(engine, paper.henryka) == "+48 512 345 678"

    await ewa.press_data(f"anx:p:{paper.henryka}")
    await ewa.press("Numer telefonu")
    assert "Teraz: +48 512 345 678" in ewa.last.text
    await ewa.press("Usuń numer")
    assert ewa.alerts()[-1] == "Numer telefonu usunięty."
    assert "Telefon:" not in ewa.last.text
    assert _phone(engine, paper.henryka) is None


async def test_cancel_leaves_the_number_and_stops_waiting(
    engine: Engine, ewa: ChatUser, paper: Paper
) -> None:
    await ewa.press_data(f"anx:p:{paper.zofia}")
    await ewa.press("Numer telefonu")
    await ewa.press("Anuluj")
    assert "Telefon: 600 100 200" in ewa.last.text
    await ewa.send("700 700 700")
    assert _phone(engine, paper.zofia) == "600 100 200"
