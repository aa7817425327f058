"""Data records kept by the fake Telegram Bot API server."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "ApiCall",
    "ApiError",
    "BotEvent",
    "BotMessage",
    "Button",
    "CallbackAnswer",
    "CallbackPress",
    "CommandSet",
    "ExpectationError",
    "JSONDict",
    "MessageMatch",
    "RateLimit",
    "StoredFile",
    "matches",
]

JSONDict = dict[str, Any]
EventKind = Literal["send", "edit", "delete"]


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status plus Telegram description."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(f"{status}: {description}")
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> JSONDict:
        """Return the JSON body Telegram would answer with."""
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


class ExpectationError(AssertionError):
    """Something a test waited for on the fake server did not happen in time."""


@dataclass(frozen=True, slots=True)
class RateLimit:
    """Telegram-like flood limits for message-sending methods (rolling windows)."""

    global_limit: int = 30
    global_window: float = 1.0
    per_chat_burst: int = 1
    per_chat_window: float = 1.0


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file uploaded by the bot or a user, with its bytes."""

    file_id: str
    file_unique_id: str
    file_path: str
    file_name: str | None
    mime_type: str | None
    data: bytes
    kind: str = "document"

    @property
    def file_size(self) -> int:
        """Return the size in bytes."""
        return len(self.data)

    def document_dict(self) -> JSONDict:
        """Return the Telegram Document object."""
        doc: JSONDict = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
        }
        if self.file_name is not None:
            doc["file_name"] = self.file_name
        if self.mime_type is not None:
            doc["mime_type"] = self.mime_type
        return doc

    def photo_sizes(self) -> list[JSONDict]:
        """Return the Telegram PhotoSize list for this file."""
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "file_size": self.file_size,
                "width": 100,
                "height": 100,
            }
        ]

    def file_dict(self) -> JSONDict:
        """Return the Telegram File object (answer of getFile)."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            "file_path": self.file_path,
        }

    def summary(self) -> JSONDict:
        """Return a JSON-friendly description without the bytes."""
        return {**self.document_dict(), "file_path": self.file_path, "kind": self.kind}


@dataclass(frozen=True, slots=True)
class Button:
    """One inline keyboard button with its position."""

    text: str
    row: int
    col: int
    callback_data: str | None = None
    url: str | None = None


@dataclass(slots=True)
class BotMessage:
    """The state of one message the bot sent into a chat."""

    chat_id: int
    message_id: int
    date: int
    method: str
    sent_at: float
    text: str | None = None
    raw_text: str | None = None
    caption: str | None = None
    raw_caption: str | None = None
    parse_mode: str | None = None
    reply_markup: JSONDict | None = None
    document: StoredFile | None = None
    photo: StoredFile | None = None
    edit_date: int | None = None
    edits: int = 0
    deleted: bool = False

    @property
    def body(self) -> str:
        """Return the visible text or caption (empty string if none)."""
        return self.text if self.text is not None else (self.caption or "")

    @property
    def buttons(self) -> list[Button]:
        """Return all inline keyboard buttons, row by row."""
        markup = self.reply_markup or {}
        rows = markup.get("inline_keyboard") or []
        return [
            Button(
                text=str(btn.get("text", "")),
                row=r,
                col=c,
                callback_data=btn.get("callback_data"),
                url=btn.get("url"),
            )
            for r, row in enumerate(rows)
            for c, btn in enumerate(row)
        ]

    @property
    def button_texts(self) -> list[str]:
        """Return the texts of all inline keyboard buttons."""
        return [b.text for b in self.buttons]

    def button(self, text: str) -> Button:
        """Return the first button whose text contains text (exact match preferred)."""
        buttons = self.buttons
        for btn in buttons:
            if btn.text == text:
                return btn
        for btn in buttons:
            if text in btn.text:
                return btn
        raise LookupError(
            f"no button containing {text!r} in message {self.message_id}; "
            f"buttons: {[b.text for b in buttons]}"
        )

    def snapshot(self) -> BotMessage:
        """Return a copy frozen at this moment."""
        return dataclasses.replace(self)

    def to_api(self, bot_user: JSONDict, chat: JSONDict) -> JSONDict:
        """Return the Telegram Message object."""
        msg: JSONDict = {
            "message_id": self.message_id,
            "from": bot_user,
            "chat": chat,
            "date": self.date,
        }
        if self.text is not None:
            msg["text"] = self.text
        if self.caption is not None:
            msg["caption"] = self.caption
        if self.edit_date is not None:
            msg["edit_date"] = self.edit_date
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            msg["reply_markup"] = self.reply_markup
        if self.document is not None:
            msg["document"] = self.document.document_dict()
        if self.photo is not None:
            msg["photo"] = self.photo.photo_sizes()
        return msg

    def to_dict(self) -> JSONDict:
        """Return a JSON-friendly view for test assertions and the control API."""
        return {
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "method": self.method,
            "date": self.date,
            "sent_at": self.sent_at,
            "text": self.text,
            "raw_text": self.raw_text,
            "caption": self.caption,
            "raw_caption": self.raw_caption,
            "parse_mode": self.parse_mode,
            "reply_markup": self.reply_markup,
            "buttons": [dataclasses.asdict(b) for b in self.buttons],
            "document": self.document.summary() if self.document else None,
            "photo": self.photo.summary() if self.photo else None,
            "edits": self.edits,
            "deleted": self.deleted,
        }

    def __str__(self) -> str:
        """Return a short human-readable description for failure messages."""
        flags = "".join(
            [" [deleted]" if self.deleted else "", f" [edited x{self.edits}]" if self.edits else ""]
        )
        extra = f" doc={self.document.file_name!r}" if self.document else ""
        btns = f" buttons={self.button_texts}" if self.buttons else ""
        body = self.body if len(self.body) <= 120 else self.body[:117] + "..."
        return f"#{self.message_id}{flags} {body!r}{extra}{btns}"


@dataclass(frozen=True, slots=True)
class BotEvent:
    """One change in a chat caused by the bot: a send, an edit or a delete."""

    index: int
    kind: EventKind
    method: str
    chat_id: int
    message_id: int
    time: float
    message: BotMessage

    def to_dict(self) -> JSONDict:
        """Return a JSON-friendly view."""
        return {
            "index": self.index,
            "kind": self.kind,
            "method": self.method,
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "time": self.time,
            "message": self.message.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    """The bot's answerCallbackQuery for one press."""

    query_id: str
    chat_id: int
    message_id: int
    data: str
    text: str | None
    show_alert: bool
    url: str | None
    time: float

    def to_dict(self) -> JSONDict:
        """Return a JSON-friendly view."""
        return dataclasses.asdict(self)


@dataclass(slots=True)
class CallbackPress:
    """A user's press of an inline button, and the bot's answer if any."""

    query_id: str
    chat_id: int
    message_id: int
    data: str
    time: float
    update_id: int
    answer: CallbackAnswer | None = None


@dataclass(frozen=True, slots=True)
class CommandSet:
    """Commands stored by setMyCommands for one scope and language."""

    scope: JSONDict
    language_code: str
    commands: tuple[tuple[str, str], ...]

    def to_dict(self) -> JSONDict:
        """Return a JSON-friendly view."""
        return {
            "scope": self.scope,
            "language_code": self.language_code,
            "commands": [{"command": c, "description": d} for c, d in self.commands],
        }


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One Bot API request as received (file bytes omitted)."""

    method: str
    params: JSONDict
    time: float
    status: int = field(default=200)


MessageMatch = str | re.Pattern[str] | Callable[[BotMessage], bool] | None


def matches(message: BotMessage, match: MessageMatch) -> bool:
    """Return whether message matches: None=any, str=substring of text/caption, regex, callable."""
    if match is None:
        return True
    if isinstance(match, str):
        return match in message.body or (message.raw_text is not None and match in message.raw_text)
    if isinstance(match, re.Pattern):
        return match.search(message.body) is not None
    return bool(match(message))
