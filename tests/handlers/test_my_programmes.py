"""A resident moves from an ended edition to the new one, joins a second area, shows and
leaves programmes, from the chat; forged buttons change nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import select

from schedules.clock import FrozenClock
from storage.db import read_only, transaction
from storage.models import Person, Registration
from tests.support.chat import ChatUser
from tests.support.signup import make_activity, make_person, make_programme


def _editions(engine: Engine, clock: FrozenClock) -> tuple[int, int, int]:
    now = clock.now()
    with transaction(engine) as session:
        old = make_programme(session, name="PAL Zatorze 2026", open_until=now - timedelta(days=1))
        new = make_programme(session, name="PAL Zatorze 2027")
        archived = make_programme(session, name="PAL Stary")
        archived.archived_at = now
        make_activity(session, programme=new, starts_at=now + timedelta(days=3), title="Spacer")
        make_person(session, telegram_id=7101, programme=old, name="Krystyna")
        make_person(session, telegram_id=7102, programme=old, name="Olena", language="uk")
        assert old.id is not None and new.id is not None and archived.id is not None
        return old.id, new.id, archived.id


def _person(engine: Engine, telegram_id: int) -> Person:
    with read_only(engine) as session:
        return session.exec(select(Person).where(Person.telegram_id == telegram_id)).one()


async def test_a_resident_of_an_ended_edition_joins_the_new_one_and_signs_up(
    engine: Engine, clock: FrozenClock, chat_user: Callable[..., ChatUser]
) -> None:
    old, new, _ = _editions(engine, clock)
    krystyna = chat_user(7101)
    await krystyna.send("/activities")
    assert "nie ma teraz zaplanowanych" in krystyna.last.text
    await krystyna.press("Programy")
    screen = krystyna.last.text
    assert "PAL Zatorze 2026 — teraz widzisz jego zajęcia" in screen
    assert "Wcześniejsze zapisy i ankiety zostają" in screen
    await krystyna.press("Dołącz: PAL Zatorze 2027")
    assert "Zajęcia i spotkania: PAL Zatorze 2027" in krystyna.last.text
    await krystyna.press("Spacer")
    await krystyna.press("Zapisz się")
    assert _person(engine, 7101).programme_id == new
    with read_only(engine) as session:
        assert len(session.exec(select(Registration)).all()) == 1
    # The ended edition stays one of hers, to show again or to leave.
    await krystyna.send("/programmes")
    labels = [label for label, _ in krystyna.last.buttons()]
    assert "📅 Pokaż: PAL Zatorze 2026" in labels
    assert "🚪 Wypisz się: PAL Zatorze 2026" in labels
    await krystyna.press("Wypisz się: PAL Zatorze 2026")
    assert "Ogłoszenia z niego przestaną przychodzić" in krystyna.last.text
    await krystyna.press("Tak, wypisz mnie")
    assert any("Wypisano Cię z programu PAL Zatorze 2026" in m.text for m in krystyna.messages)
    assert "Zajęcia i spotkania: PAL Zatorze 2027" in krystyna.last.text
    await krystyna.send("/programmes")
    assert "PAL Zatorze 2026" not in krystyna.last.text.split("\n\n")[0]
    assert _person(engine, 7101).programme_id == new
    assert old != new


async def test_forged_and_stale_programme_buttons_change_nothing(
    engine: Engine, clock: FrozenClock, chat_user: Callable[..., ChatUser]
) -> None:
    old, new, archived = _editions(engine, clock)
    olena = chat_user(7102, language_code="uk")
    await olena.send("/programmes")
    assert "🏘 Ваші програми" in olena.last.text
    for data in (f"pr:j:{archived}", f"pr:j:{old}", "pr:j:999999", f"pr:s:{new}", f"pr:ly:{new}"):
        await olena.press_data(data)
        assert olena.last_answer() == "Ця кнопка вже неактивна. Відкрийте меню знову."
    assert _person(engine, 7102).programme_id == old
    stranger = chat_user(7199)
    await stranger.send("/programmes")
    assert "/start" in stranger.last.text
