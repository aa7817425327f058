"""Ewa runs her activity from the chat: card, changes, calling off, attendance, check-in,
participants and people without Telegram. Residents cannot do any of it."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from schedules.clock import FrozenClock
from storage.db import read_only, transaction
from storage.models import (
    Activity,
    AuditEntry,
    PendingSend,
    Person,
    Registration,
    RegistrationStatus,
    Role,
)
from storage.people.roles import grant
from tests.support.animator import Scene, grant_where_they_live, make_scene
from tests.support.chat import ChatUser

EWA = 900


async def _ewa(engine: Engine, chat_user: Callable[..., ChatUser]) -> ChatUser:
    with transaction(engine) as session:
        grant_where_they_live(session, role=Role.ANIMATOR, telegram_id=EWA)
    ewa = chat_user(EWA)
    # Buttons are pressed on a message the bot sent, as in a real chat.
    await ewa.send("/animator")
    return ewa


@pytest.fixture
def scene(engine: Engine, clock: FrozenClock) -> Scene:
    """Ewa's workshop tomorrow at 10:00: 3 places, 5 people (2 on the reserve list)."""
    return make_scene(engine, clock.now(), places=3, people=5)


@pytest.fixture
async def ewa(engine: Engine, chat_user: Callable[..., ChatUser], scene: Scene) -> ChatUser:
    return await _ewa(engine, chat_user)


def _activity(engine: Engine, activity_id: int) -> Activity:
    with read_only(engine) as session:
        found = session.get(Activity, activity_id)
        assert found is not None
        return found


def _audit(engine: Engine, action: str) -> list[AuditEntry]:
    with read_only(engine) as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)))


async def test_menu_list_and_card(ewa: ChatUser, scene: Scene) -> None:
    await ewa.send("/animator")
    assert "Panel animatora" in ewa.last.text
    await ewa.press("Moje wydarzenia")
    assert any("3/3" in label for label, _ in ewa.last.buttons())
    await ewa.press("Warsztaty")
    card = ewa.last.text
    assert "Zajęte miejsca: 3 z 3" in card
    assert "2 osoby na liście rezerwowej" in card


async def test_main_menu_button_opens_the_animator_menu(ewa: ChatUser) -> None:
    await ewa.send("🧑‍🏫 Panel animatora")
    assert "Panel animatora. Co chcesz zrobić?" in ewa.last.text


async def test_change_the_venue_tells_everyone(ewa: ChatUser, scene: Scene, engine: Engine) -> None:
    await ewa.press_data(f"an:a:{scene.activity_id}")
    await ewa.press("Zmień")
    await ewa.press("Miejsce wydarzenia")
    assert "Obecna odpowiedź: Klub Sąsiedzki" in ewa.last.text
    await ewa.send("Biblioteka, ul. Polna 2")
    assert "Zapisano." in ewa.last.text
    assert "Powiadomimy o zmianie 5 zapisanych osób." in ewa.last.text
    assert _activity(engine, scene.activity_id).venue == "Biblioteka, ul. Polna 2"
    with read_only(engine) as session:
        notices = session.exec(select(PendingSend).where(PendingSend.kind == "change")).all()
    assert len(notices) == 5
    assert _audit(engine, "activity.changed")[0].details == {"fields": ["venue"]}


async def test_lowering_places_below_those_taken_is_refused_with_numbers(
    ewa: ChatUser, scene: Scene, engine: Engine
) -> None:
    await ewa.press_data(f"ane:f:{scene.activity_id}:p")
    await ewa.send("2")
    assert "3 miejsca są już zajęte" in ewa.last.text and "wpisano 2" in ewa.last.text
    assert _activity(engine, scene.activity_id).places == 3
    await ewa.send("4")
    assert "Wolne miejsca zaproponowano 1 osobie z listy rezerwowej." in ewa.last.text
    with read_only(engine) as session:
        taken = session.exec(
            select(Registration).where(Registration.status == RegistrationStatus.CONFIRMED)
        ).all()
    # The new place is offered to the first in line, who holds it until answering.
    assert len(taken) == 3


async def test_a_bad_date_in_a_change_gets_a_hint(
    ewa: ChatUser, scene: Scene, engine: Engine
) -> None:
    before = _activity(engine, scene.activity_id).starts_at
    await ewa.press_data(f"ane:f:{scene.activity_id}:d")
    await ewa.send("1.1.2026")
    assert "już minął" in ewa.last.text
    await ewa.send("w środę")
    assert "Zapisano." in ewa.last.text
    assert _activity(engine, scene.activity_id).starts_at == before + timedelta(days=1)
    await ewa.press_data(f"ane:f:{scene.activity_id}:t")
    await ewa.press("Anuluj")
    assert "Niczego nie zmieniono." in ewa.last.text


async def test_call_off_asks_first_then_tells_everyone(
    ewa: ChatUser, scene: Scene, engine: Engine
) -> None:
    await ewa.press_data(f"an:a:{scene.activity_id}")
    await ewa.press("Odwołaj")
    assert "Powiadomimy 5 zapisanych osób." in ewa.last.text
    await ewa.press("Tak, odwołaj")
    assert "Odwołano. Powiadomimy 5 osób." in ewa.last.text
    assert _activity(engine, scene.activity_id).status == "cancelled"
    await ewa.press_data(f"an:xy:{scene.activity_id}")
    assert ewa.last_answer() == "To wydarzenie jest już odwołane."


async def test_another_animators_activity_is_refused(
    engine: Engine, clock: FrozenClock, chat_user: Callable[..., ChatUser], scene: Scene
) -> None:
    other = make_scene(engine, clock.now(), first_telegram_id=6000, animator_telegram_id=901)
    ewa = await _ewa(engine, chat_user)
    for data in (
        f"an:a:{other.activity_id}",
        f"ane:f:{other.activity_id}:t",
        f"an:xy:{other.activity_id}",
        f"ana:{other.activity_id}",
        f"anp:csv:{other.activity_id}",
        f"ana:code:{other.activity_id}",
    ):
        await ewa.press_data(data)
        assert "nie jest dla Ciebie dostępne" in ewa.last_answer(), data
    assert _activity(engine, other.activity_id).status == "published"


# ---------------------------------------------------------------- attendance


async def test_two_animators_tick_the_same_list(
    engine: Engine, clock: FrozenClock, chat_user: Callable[..., ChatUser], scene: Scene
) -> None:
    ewa = await _ewa(engine, chat_user)
    with transaction(engine) as session:
        admin = session.get(Person, scene.reserve[1])
        assert admin is not None
        admin_telegram = admin.telegram_id
    clock.advance(timedelta(hours=24, minutes=-30))  # half an hour before the start
    marek = chat_user(int(admin_telegram or 0))
    await marek.send("/animator")
    with transaction(engine) as session:
        grant(session, role=Role.ADMIN, telegram_id=int(admin_telegram or 0))
    await ewa.press_data(f"ana:{scene.activity_id}")
    await marek.press_data(f"ana:{scene.activity_id}")
    ewa_list, marek_list = ewa.last, marek.last
    assert "Obecni: 0 z 3." in ewa_list.text
    # Each taps a different person on the list they both see (nobody marked yet).
    await ewa.press("Jan", message=ewa_list)
    await marek.press("Krystyna", message=marek_list)
    assert "Obecni: 2 z 3." in marek.last.text
    # Ewa's stale list still offers "mark Krystyna present": pressing it keeps her present.
    await ewa.press("Krystyna", message=ewa_list)
    assert "Obecni: 2 z 3." in ewa.last.text
    with read_only(engine) as session:
        present = session.exec(select(Registration).where(Registration.attended == True)).all()  # noqa: E712
    assert len(present) == 2
    assert len(_audit(engine, "attendance.set")) == 2


async def test_attendance_before_it_opens_is_explained(ewa: ChatUser, scene: Scene) -> None:
    await ewa.press_data(f"ana:{scene.activity_id}")
    assert "Obecność możesz zaznaczać od" in ewa.last.text
    await ewa.press("Krystyna")
    assert "Obecność możesz zaznaczać od" in ewa.last_answer()


async def test_self_check_in_with_the_code_and_the_qr_link(
    engine: Engine, clock: FrozenClock, chat_user: Callable[..., ChatUser], scene: Scene
) -> None:
    ewa = await _ewa(engine, chat_user)
    clock.advance(timedelta(hours=23, minutes=45))
    await ewa.press_data(f"ana:code:{scene.activity_id}")
    qr = ewa.last
    assert qr.photo is not None and qr.photo.startswith(b"\x89PNG")
    code = _activity(engine, scene.activity_id).checkin_code
    assert code is not None and f"/checkin {code}" in qr.text
    krystyna, jan, olena = (chat_user(5000 + i) for i in range(3))
    await krystyna.send(f"/checkin {code}")
    assert "Obecność potwierdzona" in krystyna.last_answer()
    await jan.send(f"/start ci_{scene.activity_id}_{code}")
    assert "Obecność potwierdzona" in jan.last_answer()
    await jan.send(f"/start ci_{scene.activity_id}_{code}")
    assert "już potwierdzona" in jan.last_answer()
    zofia = chat_user(5003)  # on the reserve list
    await zofia.send(f"/checkin {code}")
    assert "Nie masz miejsca" in zofia.last_answer()
    wrong = "0000" if code != "0000" else "1111"
    await olena.send(f"/checkin {wrong}")
    assert "Możesz spróbować jeszcze 4 razy." in olena.last_answer()
    await olena.send("/checkin")
    assert "/checkin 4821" in olena.last_answer()
    await ewa.press_data(f"ana:{scene.activity_id}")
    assert "Obecni: 2 z 3." in ewa.last.text


# ---------------------------------------------------------------- participants


async def test_participants_and_csv(ewa: ChatUser, scene: Scene) -> None:
    await ewa.press_data(f"anp:{scene.activity_id}")
    text = ewa.last.text
    assert "Miejsca:\n1. Jan\n2. Krystyna\n3. Olena" in text
    assert "Lista rezerwowa:\n1. Zofia\n2. Marek" in text
    await ewa.press("Plik CSV")
    document = ewa.last.document
    assert document is not None and ewa.last.file_name is not None
    assert ewa.last.file_name.endswith(".csv")
    rows = list(csv.reader(io.StringIO(document.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:4] == ["Lp.", "Imię", "Status", "Miejsce na liście rezerwowej"]
    assert [r[1] for r in rows[1:]] == ["Jan", "Krystyna", "Olena", "Zofia", "Marek"]
    assert [r[3] for r in rows[1:]] == ["", "", "", "1", "2"]


async def test_residents_never_see_names(
    engine: Engine, chat_user: Callable[..., ChatUser], scene: Scene
) -> None:
    jan = chat_user(5001)
    await jan.send("/animator")
    for data in (
        f"anp:{scene.activity_id}",
        f"anp:csv:{scene.activity_id}",
        f"ana:{scene.activity_id}",
        f"ana:t:{scene.activity_id}:1:1:0",
        "anx:list",
        f"an:xy:{scene.activity_id}",
        "anb:send",
    ):
        await jan.press_data(data)
        assert jan.last_answer() == "To jest tylko dla zespołu programu."
    assert all(m.document is None for m in jan.messages)
    assert _activity(engine, scene.activity_id).status == "published"


# ---------------------------------------------------------------- people without Telegram


async def test_a_person_without_telegram_is_added_signed_up_and_marked(
    ewa: ChatUser, scene: Scene, engine: Engine, clock: FrozenClock
) -> None:
    await ewa.send("/animator")
    await ewa.press("Osoby bez Telegramu")
    await ewa.press("Dodaj osobę bez Telegramu")
    await ewa.send("https://example.com")
    assert "link" in ewa.last_answer().lower()
    await ewa.send("Pani Irena")
    await ewa.send("telefon?")
    assert "numer telefonu" in ewa.last_answer()
    await ewa.send("600 123 456")
    await ewa.press("Tak, ma")
    card = ewa.last.text
    assert "Pani Irena" in card and "Telefon: 600 123 456" in card

    await ewa.press("Zapisz na wydarzenie")
    await ewa.press("Warsztaty")
    assert "liście rezerwowej (miejsce 3)" in ewa.alerts()[-1]
    assert "⏳ Lista rezerwowa, miejsce 3" in ewa.last.text
    with read_only(engine) as session:
        irena = session.exec(select(Person).where(Person.display_name == "Pani Irena")).one()
        registration = session.exec(
            select(Registration).where(Registration.person_id == irena.id)
        ).one()
    assert irena.telegram_id is None and irena.created_by_id is not None
    assert registration.proxy_by_id == irena.created_by_id
    assert registration.status == RegistrationStatus.RESERVE
    actions = {e.action for e in _audit(engine, "proxy.created")} | {
        e.action for e in _audit(engine, "registration.sign_up")
    }
    assert actions == {"proxy.created", "registration.sign_up"}
    # A place frees up, Irena moves up, and on the day Ewa marks her present.
    await ewa.press_data(f"ane:f:{scene.activity_id}:p")
    await ewa.send("6")
    clock.advance(timedelta(hours=24, minutes=10))
    await ewa.press_data(f"anx:p:{irena.id}")
    await ewa.press("Obecność: Warsztaty")
    assert ewa.alerts()[-1] == "Zaznaczono obecność."
    assert ewa.last.text.endswith("✅ obecność")
    [mark] = [e for e in _audit(engine, "attendance.set") if e.details.get("proxy")]
    assert mark.details["person_id"] == irena.id
    # Her paper survey is entered through /paper's form, from her card.
    await ewa.press("Ankieta papierowa")
    assert "Pani Irena" in ewa.last.text
    assert any(data.startswith("pp:go:") for _, data in ewa.last.buttons())
