"""Ewa sends announcements: audiences, limits, translations, sending, progress, stopping."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from telegram import Update

from bot.broadcast_progress import progress_watcher
from bot.context import Services
from bot.dispatch import dispatcher_of
from schedules.broadcast import FIRST_EDIT_AFTER
from schedules.clock import FrozenClock
from storage.db import read_only, transaction
from storage.models import AuditEntry, Broadcast, PendingSend, Person, Role
from tests.support.animator import Scene, grant_where_they_live, make_scene
from tests.support.chat import ChatUser
from translations import translator

EWA = 900
_ids = itertools.count(50_000)


@pytest.fixture
def scene(engine: Engine, clock: FrozenClock) -> Scene:
    """Ewa's programme: 3 places taken, 2 on the reserve list; Olena reads Ukrainian."""
    found = make_scene(engine, clock.now(), places=3, people=5)
    with transaction(engine) as session:
        olena = session.get(Person, found.placed[2])
        assert olena is not None
        olena.language = "uk"
        session.add(olena)
        grant_where_they_live(session, role=Role.ANIMATOR, telegram_id=EWA)
    return found


@pytest.fixture
async def ewa(chat_user: Callable[..., ChatUser], scene: Scene) -> ChatUser:
    user = chat_user(EWA)
    await user.send("/animator")
    return user


async def send_photo(user: ChatUser, caption: str) -> None:
    """The user sends a photo with a caption."""

    message: dict[str, Any] = {
        "message_id": next(_ids),
        "date": 1_780_000_000,
        "chat": {"id": user.user_id, "type": "private"},
        "from": {"id": user.user_id, "is_bot": False, "first_name": "Ewa", "language_code": "pl"},
        "photo": [
            {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90},
            {"file_id": "big-photo", "file_unique_id": "b", "width": 900, "height": 900},
        ],
        "caption": caption,
    }
    await user.app.process_update(
        Update.de_json({"update_id": next(_ids), "message": message}, user.app.bot)
    )


def _sends(engine: Engine) -> list[PendingSend]:
    with read_only(engine) as session:
        return list(session.exec(select(PendingSend).where(PendingSend.kind == "broadcast")))


async def test_an_over_long_text_is_refused_with_its_length(ewa: ChatUser, engine: Engine) -> None:
    await ewa.press("Ogłoszenie")
    await ewa.send("b" * 4097)
    said = ewa.last_answer().replace("\u00a0", " ")
    assert "4 097 znaków" in said and "najwyżej na 4 096" in said
    assert _sends(engine) == []
    # Telegram's own limit applies, not the chat's 2,000-character limit for answers.
    await ewa.send("a" * 4096)
    assert "Kto ma dostać ogłoszenie?" in ewa.last.text


async def test_a_caption_over_1024_is_refused(ewa: ChatUser, engine: Engine) -> None:
    await ewa.press("Ogłoszenie")
    await send_photo(ewa, "x" * 1030)
    assert "1030" in ewa.last_answer().replace("\u00a0", "").replace(" ", "")
    assert "1024" in ewa.last_answer().replace("\u00a0", "").replace(" ", "")
    await send_photo(ewa, "")
    assert "tekst pod zdjęcie" in ewa.last_answer()
    await ewa.send("Zapraszamy na piknik!")
    assert "Kto ma dostać ogłoszenie?" in ewa.last.text


async def test_compose_choose_audience_translate_send_and_report(
    ewa: ChatUser, engine: Engine, scene: Scene, rec: Any
) -> None:
    await ewa.press("Ogłoszenie")
    await ewa.send("Jutro przynieście kubki.")
    assert "Wszyscy w programie (5)" in str(ewa.last.buttons())
    await ewa.press("Osoby z miejscem na wydarzeniu")
    await ewa.press("Warsztaty")
    assert "Odbiorcy: 3 — osoby z miejscem na Warsztaty rękodzieła." in ewa.last.text
    await ewa.press("Dodaj tekst: Українська")
    await ewa.send("Завтра принесіть чашки.")
    assert "Wersje w innych językach: Українська" in ewa.last.text
    await ewa.press("Przycisk do wydarzenia")
    await ewa.press("Warsztaty")
    preview = ewa.messages[-2]
    assert preview.text == "Jutro przynieście kubki."
    assert preview.buttons() == [("📅 Warsztaty rękodzieła", f"act:{scene.activity_id}")]
    await ewa.press("Wyślij do 3 osób")
    progress = ewa.last
    assert "Ogłoszenie: wysłano 0 / 3" in progress.text
    sends = _sends(engine)
    assert sorted(s.person_id or 0 for s in sends) == sorted(scene.placed)
    # The dispatcher delivers; each resident gets their language.
    services: Services = ewa.app.bot_data["services"]
    await dispatcher_of(services).drain()
    for person_id, telegram_id in zip(scene.placed, (5000, 5001, 5002), strict=True):
        texts = [m.text for m in rec.chats.get(telegram_id, [])]
        expected = "Завтра принесіть чашки." if telegram_id == 5002 else "Jutro przynieście kubki."
        assert texts == [expected], person_id
    # The handler showed the first progress; the watcher edits from a moment later.
    services.clock.advance(FIRST_EDIT_AFTER)  # type: ignore[attr-defined]
    await progress_watcher(ewa.app).tick()
    report = rec.find(EWA, progress.message_id)
    assert "Ogłoszenie zostało wysłane." in report.text
    assert "Dostarczono: 3" in report.text and "Nie udało się: 0" in report.text
    with read_only(engine) as session:
        broadcast = session.exec(select(Broadcast)).one()
        actions = [
            e.action
            for e in session.exec(select(AuditEntry).where(AuditEntry.subject_type == "broadcast"))
        ]
    assert broadcast.state == "done"
    assert actions == ["broadcast.started", "broadcast.finished"]


async def test_survey_audiences_and_blocked_people(
    ewa: ChatUser, engine: Engine, scene: Scene, rec: Any
) -> None:
    rec.fail_with.clear()
    with transaction(engine) as session:
        programme_person = session.get(Person, scene.placed[0])
        assert programme_person is not None and programme_person.programme_id is not None
    await ewa.press("Ogłoszenie")
    await ewa.send("Prosimy o ankietę.")
    await ewa.press("Bez ankiety początkowej")
    assert "Odbiorcy: 5" in ewa.last.text
    await ewa.press("Wyślij do 5 osób")
    progress = ewa.last
    # Jan blocked the bot meanwhile.
    rec.fail_with["sendMessage"] = (
        403,
        {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
    )
    services: Services = ewa.app.bot_data["services"]
    await dispatcher_of(services).drain()
    services.clock.advance(FIRST_EDIT_AFTER)  # type: ignore[attr-defined]
    await progress_watcher(ewa.app).tick()
    report = rec.find(EWA, progress.message_id).text
    assert "Dostarczono: 4" in report
    assert "Nieosiągalni (zablokowali bota): 1" in report


async def test_stop_withdraws_the_rest(ewa: ChatUser, engine: Engine, scene: Scene) -> None:
    await ewa.press("Ogłoszenie")
    await ewa.send("Spotkanie przeniesione.")
    await ewa.press("Wszyscy w programie")
    await ewa.press("Oznacz jako pilne")
    assert "Pilne: wyślemy także w godzinach ciszy." in ewa.last.text
    await ewa.press("Wyślij do 5 osób")
    await ewa.press("Zatrzymaj wysyłkę")
    assert "Wysyłka zatrzymana" in ewa.last.text
    assert {s.state for s in _sends(engine)} == {"cancelled"}
    with read_only(engine) as session:
        broadcast = session.exec(select(Broadcast)).one()
    assert broadcast.state == "cancelled" and broadcast.urgent


async def test_send_twice_sends_once(ewa: ChatUser, engine: Engine, scene: Scene) -> None:
    await ewa.press("Ogłoszenie")
    await ewa.send("Raz.")
    await ewa.press("Wszyscy w programie")
    send_button = ewa.last
    await ewa.press("Wyślij do 5 osób", message=send_button)
    # A second tap on the same button before the screen changed on the phone.
    await ewa.press_data("anb:send", message=send_button)
    assert "już wysłane albo anulowane" in ewa.last_answer()
    assert len(_sends(engine)) == 5


async def test_a_resident_photo_is_not_an_announcement(
    engine: Engine, chat_user: Callable[..., ChatUser], scene: Scene
) -> None:
    jan = chat_user(5001)
    await send_photo(jan, "hello")
    assert jan.last_answer() == translator("pl")._("I can only read text and button presses.")
    assert _sends(engine) == []
