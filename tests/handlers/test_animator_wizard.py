"""Ewa, an animator, creates an activity in the wizard: every step, its checks, restart."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.app import build_application
from bot.context import PalApplication, Services
from bot.settings import Settings
from schedules.clock import FrozenClock
from storage.db import read_only
from storage.models import Activity, Dialog, Person
from tests.support.animator import seat_animator, seat_resident
from tests.support.chat import ChatUser
from tests.support.recording import RecordingRequest

EWA = 900


@pytest.fixture
def ewa(engine: Engine, chat_user: Callable[..., ChatUser]) -> ChatUser:
    """An animator with a programme, speaking Polish."""
    seat_animator(engine, telegram_id=EWA)
    return chat_user(EWA, language_code="pl")


def _activities(engine: Engine) -> list[Activity]:
    with read_only(engine) as session:
        return list(session.exec(select(Activity)))


def _draft(engine: Engine) -> Dialog | None:
    with read_only(engine) as session:
        return session.exec(select(Dialog).where(Dialog.kind == "animator_wizard")).first()


async def _to_preview(ewa: ChatUser) -> None:
    await ewa.send("/animator")
    await ewa.press("Nowe wydarzenie")
    assert "pytanie 1 z 10" in ewa.last.text
    await ewa.send("Warsztaty ceramiki")
    assert "Jaki to rodzaj" in ewa.last.text
    await ewa.send("warsztaty")
    await ewa.press("Jutro")
    assert "Dzień: " not in ewa.last.text
    await ewa.press("17:00")
    await ewa.press("1 godz. 30 min")
    await ewa.press("Tylko raz")
    await ewa.send("Klub Sąsiedzki, ul. Słoneczna 5")
    await ewa.press("12")
    await ewa.press("1 dzień przed")
    await ewa.press("Pomiń")


async def test_ewa_creates_an_activity_and_residents_see_it(
    ewa: ChatUser, engine: Engine, chat_user: Callable[..., ChatUser]
) -> None:
    await _to_preview(ewa)
    preview = ewa.last.text
    assert "Sprawdź nowe wydarzenie" in preview
    assert "📌 Warsztaty ceramiki" in preview
    assert "wtorek, 24 listopada, 17:00–18:30" in preview
    assert "12 miejsc" in preview
    await ewa.press("Opublikuj")
    assert "Opublikowano: Warsztaty ceramiki" in ewa.last.text
    [activity] = _activities(engine)
    assert activity.starts_at == datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
    assert activity.registration_deadline == datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    assert activity.places == 12 and activity.description == ""
    assert _draft(engine) is None
    # A resident of the same programme finds it in /activities.
    assert activity.organiser_id is not None
    with read_only(engine) as session:
        organiser = session.get(Person, activity.organiser_id)
        assert organiser is not None and organiser.programme_id is not None
        programme_id = organiser.programme_id
    seat_resident(engine, telegram_id=5001, programme_id=programme_id)
    krystyna = chat_user(5001)
    await krystyna.send("/activities")
    assert any("Warsztaty ceramiki" in label for label, _ in krystyna.last.buttons())


@pytest.mark.parametrize(
    ("answers", "bad", "hint"),
    [
        ([], "", "nie może być puste"),
        ([], "x" * 101, "za długie: 101 znaków, najwyżej 100"),
        (["Spacer", "spacer"], "kiedyś", "Nie rozumiem tej daty"),
        (["Spacer", "spacer"], "1.1.2026", "już minął"),
        (["Spacer", "spacer", "dziś"], "8:00", "już minął"),
        (["Spacer", "spacer", "jutro"], "25:00", "Nie rozumiem tej godziny"),
        (["Spacer", "spacer", "jutro", "17"], "16:00", "po rozpoczęciu (17:00)"),
        (["Spacer", "spacer", "jutro", "17"], "14 h", "najwyżej 12 godz."),
        (["Spacer", "spacer", "jutro", "17", "2 h", "raz", "Park"], "dużo", "cyframi, od 1 do 500"),
        (["Spacer", "spacer", "jutro", "17", "2 h", "raz", "Park"], "501", "od 1 do 500"),
        (
            ["Spacer", "spacer", "jutro", "17", "2 h", "raz", "Park", "10"],
            "jutro 18:00",
            "przed rozpoczęciem",
        ),
        (
            ["Spacer", "spacer", "jutro", "17", "2 h", "raz", "Park", "10"],
            "wczoraj?",
            "Nie rozumiem tego terminu",
        ),
    ],
)
async def test_every_step_rejects_bad_input_with_a_hint_and_keeps_answers(
    ewa: ChatUser, engine: Engine, answers: list[str], bad: str, hint: str
) -> None:
    await ewa.send("/animator")
    await ewa.press("Nowe wydarzenie")
    for text in answers:
        await ewa.send(text)
    before = _draft(engine)
    assert before is not None
    await ewa.send(bad if bad else " ")
    assert hint in ewa.last.text
    after = _draft(engine)
    assert after is not None
    assert (after.step, after.data["draft"]) == (before.step, before.data["draft"])
    assert _activities(engine) == []


async def test_back_keeps_answers_and_continue_moves_on(ewa: ChatUser, engine: Engine) -> None:
    await ewa.send("/animator")
    await ewa.press("Nowe wydarzenie")
    await ewa.send("Spacer z kijami")
    await ewa.send("sport")
    await ewa.press("Wstecz")
    assert "Obecna odpowiedź: sport" in ewa.last.text
    await ewa.press("Wstecz")
    assert "Obecna odpowiedź: Spacer z kijami" in ewa.last.text
    await ewa.press("Dalej")
    await ewa.press("Dalej")
    assert "Który dzień?" in ewa.last.text
    dialog = _draft(engine)
    assert dialog is not None
    assert dialog.data["draft"] == {"title": "Spacer z kijami", "category": "sport"}


async def test_change_from_the_preview_returns_to_it(ewa: ChatUser, engine: Engine) -> None:
    await _to_preview(ewa)
    await ewa.press("Zmień…")
    await ewa.press("Liczba miejsc")
    await ewa.send("0")
    assert "od 1 do 500" in ewa.last.text
    await ewa.send("20")
    assert "Sprawdź nowe wydarzenie" in ewa.last.text and "20 miejsc" in ewa.last.text
    await ewa.press("Opublikuj")
    assert [a.places for a in _activities(engine)] == [20]


async def test_cancel_discards_the_draft(ewa: ChatUser, engine: Engine) -> None:
    await ewa.send("/animator")
    await ewa.press("Nowe wydarzenie")
    await ewa.send("Spacer")
    await ewa.press("Anuluj")
    assert "Nic nie zostało opublikowane" in ewa.last.text
    assert _draft(engine) is None and _activities(engine) == []


async def test_stale_buttons_of_an_earlier_question_change_nothing(
    ewa: ChatUser, engine: Engine
) -> None:
    await ewa.send("/animator")
    await ewa.press("Nowe wydarzenie")
    await ewa.send("Spacer")
    await ewa.send("sport")
    await ewa.press("Jutro")
    # A forged answer for the date question, which is no longer the current one.
    await ewa.press_data("anw:a:d:2026-12-24")
    assert "nieaktywny" in ewa.last_answer()
    dialog = _draft(engine)
    assert dialog is not None and dialog.data["draft"]["date"] == "2026-11-24"


async def test_resident_cannot_open_the_wizard(
    engine: Engine, chat_user: Callable[..., ChatUser]
) -> None:
    _, programme_id = seat_animator(engine, telegram_id=EWA)
    seat_resident(engine, telegram_id=5002, programme_id=programme_id, name="Jan")
    jan = chat_user(5002)
    await jan.send("/animator")
    assert jan.last_answer() == "To jest tylko dla zespołu programu."
    for data in ("anw:new", "anw:a:t:x", "anw:pub", "an:a:1", "ana:t:1:1:1:0"):
        await jan.press_data(data)
        assert jan.last_answer() == "To jest tylko dla zespołu programu."
    assert _draft(engine) is None and _activities(engine) == []


async def test_the_draft_survives_a_restart(
    ewa: ChatUser, engine: Engine, settings: Settings, clock: FrozenClock
) -> None:
    await ewa.send("/animator")
    await ewa.press("Nowe wydarzenie")
    await ewa.send("Wieczór gier")
    await ewa.send("integracja")
    # The bot restarts: a brand-new Application on the same database.
    await ewa.app.shutdown()
    rec = RecordingRequest()
    fresh: PalApplication = build_application(
        settings, request=rec, get_updates_request=rec, with_updater=False, clock=clock
    )
    await fresh.initialize()
    try:
        again = ChatUser(fresh, rec, EWA, language_code="pl")
        await again.send("pojutrze")
        assert "O której" in again.last.text
        for text in ("18:00", "do 20:00", "raz", "Świetlica", "15"):
            await again.send(text)
        await again.press("Bez terminu")
        await again.press("Pomiń")
        assert "Sprawdź nowe wydarzenie" in again.last.text
        assert "Wieczór gier" in again.last.text
        await again.press("Opublikuj")
        [activity] = _activities(engine)
        assert (activity.title, activity.category) == ("Wieczór gier", "integracja")
        assert activity.ends_at == datetime(2026, 11, 25, 19, 0, tzinfo=UTC)
    finally:
        await fresh.shutdown()
        services: Services = fresh.bot_data["services"]
        services.db.close()
        # The fixture shuts the first application down again; make that harmless.
        await ewa.app.initialize()
