"""Browsing activities, details, signing up, the reserve list and calendar files."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from icalendar import Calendar
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from schedules.clock import FrozenClock
from storage.db import transaction
from storage.models import Activity, ActivityStatus, Registration, RegistrationStatus
from tests.support.chat import ChatUser
from tests.support.recording import SentMessage
from tests.support.signup import onboard, seed_programme


def _details(user: ChatUser) -> SentMessage:
    """The newest activity-details screen (other features may write after it)."""
    return next(m for m in reversed(user.messages) if m.text.startswith("📌"))


async def test_list_is_paginated_by_eight_soonest_first(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    seed_programme(engine, clock.now(), activities=10)
    jan = chat_user(701)
    await onboard(jan, "Jan")
    await jan.send("/activities")
    first = jan.last
    assert "Zajęcia i spotkania: PAL Osiedle Barwinek" in first.text
    assert "Strona 1 z 2" in first.text
    labels = [b[0] for b in first.buttons()]
    activity_labels = [label for label in labels if label.startswith("Warsztaty")]
    assert [label.split(" · ")[0] for label in activity_labels] == [
        f"Warsztaty {i}" for i in range(1, 9)
    ]
    assert activity_labels[0] == "Warsztaty 1 · 25.11, 10:00 · 10 wolnych miejsc"
    assert "Następne ▶" in labels and "◀ Poprzednie" not in labels
    await jan.press("Następne ▶")
    page_two = jan.last
    assert page_two.message_id == first.message_id  # edited in place
    assert "Strona 2 z 2" in page_two.text
    assert [b[0].split(" · ")[0] for b in page_two.buttons()][:2] == ["Warsztaty 9", "Warsztaty 10"]
    await jan.press("◀ Poprzednie")
    assert "Strona 1 z 2" in jan.last.text


async def test_menu_button_opens_the_list(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    seed_programme(engine, clock.now())
    jan = chat_user(702)
    await onboard(jan, "Jan")
    await jan.send("📅 Zajęcia i spotkania")
    assert "Warsztaty rękodzieła" in jan.last.buttons()[0][0]


async def test_details_show_everything_with_polish_plurals(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    _, (activity,) = seed_programme(engine, clock.now(), places=3)
    jan = chat_user(703)
    await onboard(jan, "Jan")
    await jan.send("/activities")
    await jan.press("Warsztaty rękodzieła")
    text = jan.last.text
    assert "📌 Warsztaty rękodzieła" in text
    assert "Rodzaj: warsztaty" in text
    assert "Kiedy: środa, 25 listopada, 10:00–12:00" in text
    assert "Gdzie: Klub Sąsiedzki, ul. Słoneczna 5" in text
    assert "Robimy kartki świąteczne" in text
    assert "🪑 3 wolne miejsca" in text
    assert next(b[0] for b in jan.last.buttons()) == "Zapisz się"
    for places, expected in (
        (1, "1 wolne miejsce"),
        (2, "2 wolne miejsca"),
        (5, "5 wolnych miejsc"),
        (22, "22 wolne miejsca"),
        (12, "12 wolnych miejsc"),
    ):
        with transaction(engine) as session:
            row = session.get(Activity, activity)
            assert row is not None
            row.places = places
            session.add(row)
        await jan.press_data(f"act:{activity}")
        assert expected in jan.last.text


async def test_sign_up_then_reserve_list(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    seed_programme(engine, clock.now(), places=1)
    olena, jan, krystyna = chat_user(704), chat_user(705), chat_user(706)
    for user, name in ((olena, "Olena"), (jan, "Jan"), (krystyna, "Krystyna")):
        await onboard(user, name)
    await olena.send("/activities")
    await olena.press("Warsztaty rękodzieła")
    await olena.press("Zapisz się")
    assert olena.alerts()[-1] == "✅ Masz miejsce na: Warsztaty rękodzieła"
    assert "✅ Masz miejsce na: Warsztaty rękodzieła" in _details(olena).text
    assert [b[0] for b in _details(olena).buttons()][:2] == [
        "📅 Dodaj do kalendarza",
        "Rezygnuję z miejsca",
    ]

    await jan.send("/activities")
    assert "lista rezerwowa" in jan.last.buttons()[0][0]
    await jan.press("Warsztaty rękodzieła")
    assert "Brak wolnych miejsc." in jan.last.text
    await jan.press("Dopisz mnie do listy rezerwowej")
    assert "⏳ Jesteś na liście rezerwowej (miejsce 1)." in _details(jan).text
    assert "📅 Dodaj do kalendarza" not in [b[0] for b in _details(jan).buttons()]

    await krystyna.send("/activities")
    await krystyna.press("Warsztaty rękodzieła")
    assert "Na liście rezerwowej jest 1 osoba." in krystyna.last.text
    await krystyna.press("Dopisz mnie do listy rezerwowej")
    assert "(miejsce 2)" in _details(krystyna).text


async def test_double_press_signs_up_once(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    _, (activity,) = seed_programme(engine, clock.now())
    jan = chat_user(707)
    await onboard(jan, "Jan")
    await jan.send("/activities")
    await jan.press("Warsztaty rękodzieła")
    details = jan.last
    await jan.press("Zapisz się", message=details)
    # The old message still shows "Zapisz się" on a slow phone: pressed again.
    await jan.press_data(f"su:{activity}", message=details)
    assert jan.alerts()[-1] == "✅ Masz miejsce na: Warsztaty rękodzieła"
    with Session(engine) as session:
        assert len(session.exec(select(Registration)).all()) == 1


async def test_closed_activities_explain_why(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    _, (activity,) = seed_programme(engine, clock.now())
    jan = chat_user(708)
    await onboard(jan, "Jan")
    await jan.press_data(f"act:{activity}")
    details = jan.last
    with transaction(engine) as session:
        row = session.get(Activity, activity)
        assert row is not None
        row.registration_deadline = clock.now() - timedelta(hours=1)
        session.add(row)
    await jan.press_data(f"su:{activity}", message=details)  # a stale "Zapisz się"
    assert jan.alerts()[-1] == "Zapisy trwały do: poniedziałek, 23 listopada, 09:00."
    assert "Zapisz się" not in [b[0] for b in _details(jan).buttons()]
    with transaction(engine) as session:
        row = session.get(Activity, activity)
        assert row is not None
        row.status = ActivityStatus.CANCELLED
        session.add(row)
    await jan.press_data(f"su:{activity}")
    assert jan.alerts()[-1] == "❌ To wydarzenie zostało odwołane."
    clock.set(datetime(2026, 11, 25, 9, 30, tzinfo=UTC))
    with transaction(engine) as session:
        row = session.get(Activity, activity)
        assert row is not None
        row.status = ActivityStatus.PUBLISHED
        session.add(row)
    await jan.press_data(f"su:{activity}")
    assert jan.alerts()[-1] == "To wydarzenie już się zaczęło, więc zapisy są zamknięte."
    with Session(engine) as session:
        assert session.exec(select(Registration)).all() == []


async def test_forged_and_unknown_activity_ids(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    seed_programme(engine, clock.now())
    jan = chat_user(709, language_code="en")
    await onboard(jan, "Jan", language="English")
    for data in ("act:999999", "su:999999", "ics:999999", "cx:999999", "cxy:999999"):
        await jan.press_data(data)
        assert jan.alerts()[-1] == "This activity no longer exists."
    await jan.press_data("su:abc")
    assert jan.alerts()[-1] == "This button is no longer active. Open the menu again."
    await jan.press_data("su:" + "9" * 60)
    assert jan.alerts()[-1] == "This button is no longer active. Open the menu again."
    with Session(engine) as session:
        assert session.exec(select(Registration)).all() == []


async def test_calendar_file_for_a_confirmed_place(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    _, (activity,) = seed_programme(engine, clock.now(), places=1)
    olena, jan = chat_user(710), chat_user(711)
    await onboard(olena, "Olena")
    await onboard(jan, "Jan")
    await jan.press_data(f"ics:{activity}")
    assert jan.alerts()[-1] == "Plik do kalendarza jest dostępny, gdy masz miejsce."
    await olena.press_data(f"act:{activity}")
    await olena.press("Zapisz się")
    await olena.press("📅 Dodaj do kalendarza")
    sent = olena.last
    assert sent.file_name == f"activity-{activity}.ics"
    assert "Warsztaty rękodzieła" in sent.text
    assert sent.document is not None
    event = Calendar.from_ical(sent.document).walk("VEVENT")[0]
    assert event.decoded("dtstart") == datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    assert event.decoded("dtend") == datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
    assert str(event["summary"]) == "Warsztaty rękodzieła"
    assert str(event["location"]) == "Klub Sąsiedzki, ul. Słoneczna 5"
    assert b"DTSTART:20261125T090000Z" in sent.document


async def test_no_upcoming_activities(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    seed_programme(engine, clock.now(), activities=0)
    jan = chat_user(712)
    await onboard(jan, "Jan")
    await jan.send("/activities")
    assert "nie ma teraz zaplanowanych wydarzeń" in jan.last.text


async def test_person_without_programme_chooses_one_later(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    jan = chat_user(713)
    await onboard(jan, "Jan")  # no programme is open yet
    await jan.send("/activities")
    assert "żaden program nie prowadzi zapisów" in jan.last.text
    seed_programme(engine, clock.now(), name="PAL Barwinek")
    await jan.send("/activities")
    await jan.press("PAL Barwinek")
    assert "Warsztaty rękodzieła" in jan.last.buttons()[0][0]


async def test_sign_up_from_a_button_without_opening_details(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    _, (activity,) = seed_programme(engine, clock.now(), places=1)
    jan = chat_user(714)
    await onboard(jan, "Jan")
    await jan.press_data(f"su:{activity}")
    with Session(engine) as session:
        (row,) = session.exec(select(Registration)).all()
        assert row.status == RegistrationStatus.CONFIRMED
