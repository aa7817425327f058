"""Catch-all behaviour: unknown commands, stray text, non-text, unknown buttons."""

from __future__ import annotations

from collections.abc import Callable

from tests.support.chat import ChatUser


async def test_unknown_command_is_explained_in_users_language(
    chat_user: Callable[..., ChatUser],
) -> None:
    olena = chat_user(501, language_code="uk")
    await olena.send("/nonsense")
    assert olena.last_answer() == "Не знаю такої команди. Надішліть /help."


async def test_text_before_onboarding_points_to_start(chat_user: Callable[..., ChatUser]) -> None:
    jan = chat_user(502)
    await jan.send("dzień dobry")
    assert "/start" in jan.last_answer()


async def test_sticker_is_answered_politely(chat_user: Callable[..., ChatUser]) -> None:
    jan = chat_user(503, language_code="en")
    await jan.send_sticker()
    assert jan.last_answer() == "I can only read text and button presses."


async def test_forged_button_data_changes_nothing(chat_user: Callable[..., ChatUser]) -> None:
    jan = chat_user(504)
    await jan.press_data("zzz:999999")
    assert jan.alerts() == ["Ten przycisk jest już nieaktywny. Otwórz menu ponownie."]
