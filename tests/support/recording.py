"""An offline Bot API for handler tests: records every call and answers plausibly.

It keeps what the bot sent to each chat (with edits applied) so tests can press the
buttons the bot really showed, as a person would.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from telegram.request import BaseRequest, RequestData

BOT_ID = 123456
BOT_USER = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "PAL Bot",
    "username": "pal_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


@dataclass
class Call:
    """One Bot API call the bot made."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass
class SentMessage:
    """A bot message as the chat currently shows it."""

    message_id: int
    chat_id: int
    text: str
    reply_markup: dict[str, Any] | None
    document: bytes | None = None
    file_name: str | None = None
    photo: bytes | None = None

    def buttons(self) -> list[tuple[str, str]]:
        """Inline buttons as (text, callback_data or url)."""
        if not self.reply_markup or "inline_keyboard" not in self.reply_markup:
            return []
        return [
            (b["text"], b.get("callback_data") or b.get("url") or "")
            for row in self.reply_markup["inline_keyboard"]
            for b in row
        ]

    def keyboard(self) -> list[str]:
        """Reply-keyboard (main menu) labels, if this message set one."""
        if not self.reply_markup or "keyboard" not in self.reply_markup:
            return []
        return [
            b["text"] if isinstance(b, dict) else str(b)
            for row in self.reply_markup["keyboard"]
            for b in row
        ]

    def as_api(self) -> dict[str, Any]:
        """The message as the Bot API would return it."""
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "date": 1_780_000_000,
            "chat": {"id": self.chat_id, "type": "private"},
            "from": BOT_USER,
        }
        if self.document is not None:
            data["document"] = {
                "file_id": f"doc{self.message_id}",
                "file_unique_id": f"u{self.message_id}",
                "file_name": self.file_name or "file",
            }
            if self.text:
                data["caption"] = self.text
        elif self.photo is not None:
            data["photo"] = [
                {
                    "file_id": f"ph{self.message_id}",
                    "file_unique_id": f"p{self.message_id}",
                    "width": 100,
                    "height": 100,
                }
            ]
            if self.text:
                data["caption"] = self.text
        else:
            data["text"] = self.text
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            data["reply_markup"] = self.reply_markup
        return data


def _decode(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class RecordingRequest(BaseRequest):
    """A BaseRequest that answers like Telegram without a network."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.chats: dict[int, list[SentMessage]] = {}
        self._ids = itertools.count(1000)
        self.fail_with: dict[str, tuple[int, dict[str, Any]]] = {}

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    @property
    def read_timeout(self) -> float | None:
        """No timeout offline."""
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        """Record the call and answer it."""
        api_method = url.rsplit("/", 1)[-1]
        params = {
            k: _decode(v) for k, v in (request_data.parameters if request_data else {}).items()
        }
        files: dict[str, bytes] = {}
        names: dict[str, str] = {}
        if request_data and request_data.contains_files:
            for name, part in request_data.multipart_data.items():
                # PTB gives (file_name, content, mime type) for each upload.
                file_name, content = (part[0], part[1]) if isinstance(part, tuple) else (name, part)
                files[name] = content if isinstance(content, bytes) else content.read()
                names[name] = str(file_name)
        self.calls.append(Call(api_method, params, files))
        if api_method in self.fail_with:
            status, body = self.fail_with.pop(api_method)
            return status, json.dumps(body).encode()
        result = self._answer(api_method, params, files, names)
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _answer(
        self, method: str, params: dict[str, Any], files: dict[str, bytes], names: dict[str, str]
    ) -> Any:
        if method == "getMe":
            return BOT_USER
        if method in {"sendMessage", "sendDocument", "sendPhoto"}:
            chat_id = int(params["chat_id"])
            message = SentMessage(
                message_id=next(self._ids),
                chat_id=chat_id,
                text=params.get("text") or params.get("caption") or "",
                reply_markup=params.get("reply_markup"),
            )
            if method == "sendDocument":
                message.document = next(iter(files.values()), b"")
                message.file_name = next(iter(names.values()), None)
            if method == "sendPhoto":
                message.photo = next(iter(files.values()), b"")
            self.chats.setdefault(chat_id, []).append(message)
            return message.as_api()
        if method in {"editMessageText", "editMessageReplyMarkup", "editMessageCaption"}:
            chat_id = int(params["chat_id"])
            found = self.find(chat_id, int(params["message_id"]))
            if "text" in params:
                found.text = params["text"]
            if "caption" in params:
                found.text = params["caption"]
            found.reply_markup = params.get("reply_markup")
            return found.as_api()
        if method == "getUpdates":
            return []
        return True

    def find(self, chat_id: int, message_id: int) -> SentMessage:
        """A message the bot sent to a chat."""
        for message in self.chats.get(chat_id, []):
            if message.message_id == message_id:
                return message
        raise KeyError(f"no message {message_id} in chat {chat_id}")

    def calls_to(self, method: str) -> list[Call]:
        """Every call of one Bot API method."""
        return [c for c in self.calls if c.method == method]
