"""Main menu, /help per role, /language, and Telegram's command lists per language."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.context import PalApplication
from handlers.menu import set_command_lists
from schedules.clock import FrozenClock
from storage.db import transaction
from storage.models import Person, Role
from tests.support.animator import grant_where_they_live
from tests.support.chat import ChatUser
from tests.support.recording import RecordingRequest
from tests.support.signup import onboard, seed_programme


async def test_help_for_a_resident_lists_resident_commands(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    seed_programme(engine, clock.now())
    olena = chat_user(901, language_code="uk")
    await onboard(olena, "Олена", language="Українська")
    await olena.send("/help")
    text = olena.last.text
    assert text.startswith("Ось що ви можете зробити:")
    for command in ("/activities", "/my", "/language", "/help"):
        assert command in text
    assert "Для команди програми" not in text
    await olena.send("❓ Допомога")
    assert olena.last.text == text


async def test_help_for_the_team_adds_their_section(
    app: PalApplication, chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    seed_programme(engine, clock.now())
    jan = chat_user(902)
    await onboard(jan, "Jan")
    await jan.send("/help")
    assert "/animator" not in jan.last.text and "/paper" not in jan.last.text
    with transaction(engine) as session:
        grant_where_they_live(session, role=Role.ANIMATOR, telegram_id=902)
    await jan.send("/help")
    assert "Dla zespołu programu:" in jan.last.text
    assert "/animator — " in jan.last.text and "/paper — " in jan.last.text
    # Only what the animator's role allows: no evaluator or administration commands.
    assert "/evaluator" not in jan.last.text and "/admin" not in jan.last.text


async def test_language_switch_at_any_time(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    seed_programme(engine, clock.now())
    jan = chat_user(903)
    await onboard(jan, "Jan")
    await jan.send("🌐 Język")
    await jan.press("English")
    assert jan.messages[-2].text == "Done. From now on I will write in English."
    assert "📅 Activities" in jan.last.keyboard()
    await jan.send("/language")
    await jan.press("Українська")
    assert jan.messages[-2].text == "Готово. Відтепер я пишу українською."
    with Session(engine) as session:
        person = session.exec(select(Person).where(Person.telegram_id == 903)).one()
        assert person.language == "uk" and person.is_onboarded
    # A Polish label from an old keyboard still works after switching.
    await jan.send("📅 Zajęcia i spotkania")
    assert "Заняття та зустрічі: PAL Osiedle Barwinek" in jan.last.text


async def test_menu_button_under_a_screen(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    seed_programme(engine, clock.now())
    jan = chat_user(904)
    await onboard(jan, "Jan")
    await jan.send("/activities")
    await jan.press("↩️ Menu")
    assert jan.last.text == "Co chcesz zrobić? Wybierz poniżej."


async def test_command_lists_are_set_per_language(
    app: PalApplication, rec: RecordingRequest
) -> None:
    await set_command_lists(app)
    calls = rec.calls_to("setMyCommands")
    by_language = {c.params.get("language_code"): c.params["commands"] for c in calls}
    assert set(by_language) == {None, "pl", "uk", "en"}
    assert {"command": "activities", "description": "Browse activities and sign up"} in by_language[
        "en"
    ]
    assert by_language[None] == by_language["pl"]
    assert any(c["description"] == "Змінити мову" for c in by_language["uk"])


async def test_stray_text_after_onboarding_shows_the_menu(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    seed_programme(engine, clock.now())
    jan = chat_user(905)
    await onboard(jan, "Jan")
    for text in ("x" * 10_000, "🙂🙂🙂", "مرحبا ‏שלום"):
        await jan.send(text)
        assert jan.last.text == "Nie rozumiem tej wiadomości. Użyj przycisków poniżej."
        assert "📅 Zajęcia i spotkania" in jan.last.keyboard()
    with Session(engine) as session:
        person = session.exec(select(Person).where(Person.telegram_id == 905)).one()
        assert person.display_name == "Jan"
