"""People talking to the bot in handler tests, through the real Application."""

from __future__ import annotations

import itertools
from typing import Any

from telegram import Update

from bot.context import PalApplication
from tests.support.recording import BOT_USER, RecordingRequest, SentMessage

_update_ids = itertools.count(1)
_callback_ids = itertools.count(1)


class ChatUser:
    """A Telegram user in a private chat with the bot (handler-test layer)."""

    def __init__(
        self,
        app: PalApplication,
        rec: RecordingRequest,
        user_id: int,
        *,
        language_code: str = "pl",
        first_name: str = "Test",
    ) -> None:
        self.app = app
        self.rec = rec
        self.user_id = user_id
        self.language_code = language_code
        self.first_name = first_name

    def _user(self) -> dict[str, Any]:
        return {
            "id": self.user_id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }

    async def send(self, text: str) -> list[SentMessage]:
        """Type a message; returns the bot messages this update created or edited."""
        return await self._process(self.message_payload(text))

    def message_payload(self, text: str) -> dict[str, Any]:
        """The update a typed message arrives as (to queue it without waiting for the bot)."""
        message: dict[str, Any] = {
            "message_id": next(_update_ids),
            "date": 1_780_000_000,
            "chat": {"id": self.user_id, "type": "private", "first_name": self.first_name},
            "from": self._user(),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return {"update_id": next(_update_ids), "message": message}

    def update(self, payload: dict[str, Any]) -> Update:
        """A payload as the Update python-telegram-bot hands to the application."""
        return Update.de_json(payload, self.app.bot)

    async def send_sticker(self) -> list[SentMessage]:
        """Send something that is not text."""
        message = {
            "message_id": next(_update_ids),
            "date": 1_780_000_000,
            "chat": {"id": self.user_id, "type": "private"},
            "from": self._user(),
            "sticker": {
                "file_id": "s",
                "file_unique_id": "s",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            },
        }
        return await self._process({"update_id": next(_update_ids), "message": message})

    async def press(self, label: str, *, message: SentMessage | None = None) -> list[SentMessage]:
        """Press the newest inline button whose text contains `label`."""
        candidates = [message] if message else reversed(self.messages)
        for sent in candidates:
            for text, data in sent.buttons():
                if label in text:
                    return await self.press_data(data, message=sent)
        shown = [b for m in self.messages for b in m.buttons()]
        raise AssertionError(f"no button with {label!r}; buttons shown: {shown}")

    async def press_data(
        self, data: str, *, message: SentMessage | None = None
    ) -> list[SentMessage]:
        """Send a callback with arbitrary data (also forged data) from a bot message."""
        target = message or (self.messages[-1] if self.messages else None)
        api_message = (
            target.as_api()
            if target
            else {
                "message_id": 1,
                "date": 1_780_000_000,
                "chat": {"id": self.user_id, "type": "private"},
                "from": BOT_USER,
                "text": "old",
            }
        )
        query = {
            "id": str(next(_callback_ids)),
            "from": self._user(),
            "chat_instance": "ci",
            "data": data,
            "message": api_message,
        }
        return await self._process({"update_id": next(_update_ids), "callback_query": query})

    async def _process(self, payload: dict[str, Any]) -> list[SentMessage]:
        before = len(self.rec.calls)
        await self.app.process_update(self.update(payload))
        touched: list[SentMessage] = []
        for call in self.rec.calls[before:]:
            if (
                call.method
                in {
                    "sendMessage",
                    "sendDocument",
                    "sendPhoto",
                    "editMessageText",
                    "editMessageReplyMarkup",
                    "editMessageCaption",
                }
                and int(call.params.get("chat_id", 0)) == self.user_id
            ):
                msgs = self.rec.chats.get(self.user_id, [])
                if call.method.startswith("send"):
                    touched.append(msgs[-1] if msgs else SentMessage(0, 0, "", None))
                else:
                    touched.append(self.rec.find(self.user_id, int(call.params["message_id"])))
        return touched

    @property
    def messages(self) -> list[SentMessage]:
        """Everything the bot sent to this chat, edits applied."""
        return self.rec.chats.get(self.user_id, [])

    @property
    def last(self) -> SentMessage:
        """The newest bot message in this chat."""
        assert self.messages, "the bot has not written to this chat"
        return self.messages[-1]

    def alerts(self) -> list[str]:
        """Texts of callback answers (toasts and alerts) the bot gave this user."""
        return [
            str(c.params.get("text", ""))
            for c in self.rec.calls_to("answerCallbackQuery")
            if c.params.get("text")
        ]

    def last_answer(self) -> str:
        """The most recent thing the bot said to this user: a toast or a message."""
        for call in reversed(self.rec.calls):
            if call.method == "answerCallbackQuery" and call.params.get("text"):
                return str(call.params["text"])
            if (
                call.method in {"sendMessage", "editMessageText"}
                and int(call.params.get("chat_id", 0)) == self.user_id
            ):
                return str(call.params.get("text", ""))
        raise AssertionError("the bot said nothing")
