"""Weekly series in the chat: the wizard's repeat question, one list entry, all dates in one
tap or one date, per-date places and reminders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from schedules.clock import FrozenClock
from storage.db import read_only, transaction
from storage.models import (
    Activity,
    ActivitySeries,
    PendingSend,
    Person,
    Registration,
    RegistrationStatus,
    SendKind,
)
from tests.support.animator import seat_animator, seat_resident
from tests.support.chat import ChatUser
from tests.support.series import make_series

WARSAW = ZoneInfo("Europe/Warsaw")
EWA = 900


@pytest.fixture
def ewa(engine: Engine, chat_user: Callable[..., ChatUser]) -> ChatUser:
    """An animator with a programme, speaking Polish."""
    seat_animator(engine, telegram_id=EWA)
    return chat_user(EWA, language_code="pl")


async def _to_repeat_question(ewa: ChatUser) -> None:
    await ewa.send("/animator")
    await ewa.press("Nowe wydarzenie")
    await ewa.send("Klub seniora")
    await ewa.send("spotkania")
    await ewa.press("Jutro")  # Tuesday 24.11.2026
    await ewa.press("17:00")
    await ewa.press("2 godz.")
    assert "co tydzień o tej porze" in ewa.last.text


async def _finish(ewa: ChatUser) -> None:
    await ewa.send("Świetlica, ul. Lipowa 3")
    await ewa.press("12")
    await ewa.press("1 dzień przed")
    await ewa.press("Pomiń")


def _dates(engine: Engine) -> list[Activity]:
    with read_only(engine) as session:
        return list(
            session.exec(
                select(Activity)
                .where(col(Activity.series_id).is_not(None))
                .order_by(col(Activity.starts_at))
            )
        )


async def test_the_wizard_publishes_a_weekly_series_with_a_date_per_week(
    ewa: ChatUser, engine: Engine
) -> None:
    await _to_repeat_question(ewa)
    await ewa.press("Co tydzień, 4 tygodnie")
    assert "Gdzie się odbywa" in ewa.last.text
    await _finish(ewa)
    preview = ewa.last.text
    assert "Co tydzień do 15.12.2026: 4 terminy" in preview
    await ewa.press("Opublikuj")
    assert "co tydzień, 4 terminy" in ewa.last.text
    dates = _dates(engine)
    assert [a.starts_at.astimezone(WARSAW).date() for a in dates] == [
        date(2026, 11, 24),
        date(2026, 12, 1),
        date(2026, 12, 8),
        date(2026, 12, 15),
    ]
    assert all(a.starts_at.astimezone(WARSAW).time() == time(17) for a in dates)
    assert all(a.registration_deadline == a.starts_at - timedelta(days=1) for a in dates)
    assert len({a.series_id for a in dates}) == 1


async def test_a_typed_last_date_and_skipped_dates_make_the_series(
    ewa: ChatUser, engine: Engine
) -> None:
    await _to_repeat_question(ewa)
    await ewa.send("do 22.12 oprócz 8.12")
    await _finish(ewa)
    assert "Co tydzień do 22.12.2026: 4 terminy; pominięte: 8.12" in ewa.last.text
    await ewa.press("Opublikuj")
    days = [a.starts_at.astimezone(WARSAW).day for a in _dates(engine)]
    assert days == [24, 1, 15, 22]
    with read_only(engine) as session:
        [series] = session.exec(select(ActivitySeries)).all()
        assert series.skipped == ["2026-12-08"]


@pytest.mark.parametrize(
    ("typed", "hint"),
    [
        ("co tydzień", "Nie rozumiem. Wpisz ostatni termin"),
        ("do 26.11", "co najmniej tydzień po pierwszym"),
        ("do 15.12 oprócz 2.12", "nie jest jednym z terminów"),
        ("do 30.06.2028", "najwyżej 60 terminów"),
        ("🎉" * 20, "Nie rozumiem"),
    ],
)
async def test_a_bad_repeat_answer_gets_a_hint_and_keeps_the_draft(
    ewa: ChatUser, engine: Engine, typed: str, hint: str
) -> None:
    await _to_repeat_question(ewa)
    await ewa.send(typed)
    assert hint in ewa.last.text
    assert "co tydzień o tej porze" in ewa.last.text  # asked again
    assert _dates(engine) == []


def _seed_series(engine: Engine, clock: FrozenClock, *, places: int = 2) -> tuple[int, int]:
    _, programme_id = seat_animator(engine, telegram_id=EWA)
    with transaction(engine) as session:
        series, _ = make_series(
            session,
            programme_id=programme_id,
            first_day=date(2026, 11, 24),
            last_day=date(2026, 12, 15),
            places=places,
            now=clock.now(),
        )
        assert series.id is not None
        return programme_id, series.id


def _screen(user: ChatUser) -> str:
    """The newest series or activity screen (the survey offer may follow it)."""
    return next(m.text for m in reversed(user.messages) if m.text.startswith("📌"))


def _registrations(engine: Engine, person_telegram_id: int) -> list[Registration]:
    with read_only(engine) as session:
        return list(
            session.exec(
                select(Registration)
                .join(Person, col(Person.id) == Registration.person_id)
                .where(Person.telegram_id == person_telegram_id)
                .order_by(col(Registration.activity_id))
            )
        )


async def test_a_resident_sees_one_entry_and_signs_up_for_every_date_in_one_tap(
    engine: Engine, clock: FrozenClock, chat_user: Callable[..., ChatUser]
) -> None:
    programme_id, series_id = _seed_series(engine, clock)
    seat_resident(engine, telegram_id=5001, programme_id=programme_id)
    krystyna = chat_user(5001)
    await krystyna.send("/activities")
    entries = [label for label, data in krystyna.last.buttons() if data.startswith("ser:")]
    assert entries == ["Klub seniora · 🔁 24.11, 17:00 · 4 terminy"]
    await krystyna.press("Klub seniora")
    screen = krystyna.last.text
    assert "Co tydzień: wtorek, 17:00–19:00" in screen
    assert "Do 15.12.2026: jeszcze 4 terminy" in screen
    await krystyna.press("Zapisz się na wszystkie terminy")
    assert "✅ Masz miejsce na 4 z tych terminów." in _screen(krystyna)
    # The initial survey is offered once, after the first place in the programme.
    assert "krótka ankieta" in krystyna.last.text
    registrations = _registrations(engine, 5001)
    assert [r.status for r in registrations] == [RegistrationStatus.CONFIRMED] * 4
    with read_only(engine) as session:
        reminders = session.exec(
            select(PendingSend).where(PendingSend.kind == SendKind.REMINDER)
        ).all()
    # Reminders per date: every date's registration has its own.
    assert {r.registration_id for r in reminders} == {r.id for r in registrations}
    # The button again (a stale screen): nothing changes.
    await krystyna.press_data(f"sua:{series_id}")
    assert len(_registrations(engine, 5001)) == 4


async def test_places_and_the_reserve_list_are_per_date(
    engine: Engine, clock: FrozenClock, chat_user: Callable[..., ChatUser]
) -> None:
    programme_id, series_id = _seed_series(engine, clock, places=1)
    for telegram_id in (5001, 5002):
        seat_resident(engine, telegram_id=telegram_id, programme_id=programme_id)
    jan, olena = chat_user(5001), chat_user(5002)
    # Jan takes only the second date.
    await jan.send("/activities")
    await jan.press("Klub seniora")
    second = [data for _, data in jan.last.buttons() if data.startswith("act:")][1]
    await jan.press_data(second)
    assert "(jeden termin cotygodniowego wydarzenia)" in jan.last.text
    await jan.press("Zapisz się")
    assert len(_registrations(engine, 5001)) == 1
    # Olena takes all: a place on three dates, the reserve list on Jan's.
    await olena.send("/activities")
    await olena.press("Klub seniora")
    await olena.press("Zapisz się na wszystkie terminy")
    assert "✅ Masz miejsce na 3 z tych terminów." in _screen(olena)
    assert "⏳ Jesteś na liście rezerwowej na 1 termin." in _screen(olena)
    statuses = [r.status for r in _registrations(engine, 5002)]
    assert statuses == ["confirmed", "reserve", "confirmed", "confirmed"]
    # Jan now sees "the other 3 dates", and the list still shows one entry.
    await jan.press_data(f"ser:{series_id}")
    shown = next(m for m in reversed(jan.messages) if m.text.startswith("📌"))
    assert any("pozostałe 3 terminy" in label for label, _ in shown.buttons())


async def test_a_series_of_another_programme_or_gone_is_refused_politely(
    engine: Engine, clock: FrozenClock, chat_user: Callable[..., ChatUser]
) -> None:
    _, series_id = _seed_series(engine, clock)
    _, elsewhere = seat_animator(engine, telegram_id=901, programme_name="PAL Inny")
    seat_resident(engine, telegram_id=5003, programme_id=elsewhere)
    zofia = chat_user(5003)
    await zofia.send("/activities")
    await zofia.press_data(f"sua:{series_id}")
    assert "innego programu" in zofia.last_answer()
    await zofia.press_data("sua:999999")
    assert "nie ma już kolejnych terminów" in zofia.last_answer()
    assert _registrations(engine, 5003) == []
