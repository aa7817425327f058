"""A local fake of the Telegram Bot API HTTP server for end-to-end tests."""
# ruff: noqa: ASYNC109  # waiters take timeout= like pytest helpers, not asyncio.timeout

from __future__ import annotations

import asyncio
import base64
import contextlib
import inspect
import itertools
import json
import mimetypes
import time
import uuid
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from .formatting import EntityParseError, render_text, utf16_len
from .models import (
    ApiCall,
    ApiError,
    BotEvent,
    BotMessage,
    CallbackAnswer,
    CallbackPress,
    CommandSet,
    EventKind,
    ExpectationError,
    JSONDict,
    MessageMatch,
    RateLimit,
    StoredFile,
    matches,
)
from .ratelimit import RateLimiter
from .user import TgUser

__all__ = ["DEFAULT_TOKEN", "FakeBotApi"]

DEFAULT_TOKEN = "123456:TEST"

# Methods that count against flood limits (they create or change visible messages).
_RATE_LIMITED = frozenset(
    {"sendMessage", "sendDocument", "sendPhoto", "editMessageText", "editMessageCaption",
     "editMessageReplyMarkup"}
)  # fmt: skip
# Methods that target a chat and fail with 403 once the user blocked the bot.
_CHAT_TARGETED = _RATE_LIMITED | {"deleteMessage", "deleteMessages", "sendChatAction"}

_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
_BUTTON_ACTIONS = (
    "callback_data", "url", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip

Handler = Callable[["_Params"], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class _Upload:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes


class _Params:
    """Request parameters from JSON, form or query string, with Bot API style coercion."""

    def __init__(self, values: dict[str, Any], files: dict[str, _Upload]) -> None:
        self.values = values
        self.files = files

    def has(self, name: str) -> bool:
        """Return whether the parameter was given (and is not null)."""
        return self.values.get(name) is not None or name in self.files

    def get_str(self, name: str) -> str | None:
        """Return a string parameter."""
        value = self.values.get(name)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        return json.dumps(value)

    def get_int(self, name: str) -> int | None:
        """Return an integer parameter (400 if malformed)."""
        value = self.values.get(name)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        try:
            return int(str(value))
        except ValueError:
            raise ApiError(400, f"Bad Request: invalid {name} specified") from None

    def get_float(self, name: str) -> float | None:
        """Return a numeric parameter (400 if malformed)."""
        value = self.values.get(name)
        if value is None:
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ApiError(400, f"Bad Request: invalid {name} specified") from None

    def get_bool(self, name: str) -> bool:
        """Return a boolean parameter (false if missing)."""
        value = self.values.get(name)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1")
        return bool(value)

    def get_json(self, name: str) -> Any:
        """Return a JSON-object parameter that may arrive JSON-encoded as a string."""
        value = self.values.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise ApiError(400, f"Bad Request: can't parse {name} JSON object") from None
        return value

    def chat_id(self) -> int:
        """Return the required chat_id."""
        if not self.has("chat_id"):
            raise ApiError(400, "Bad Request: chat_id is empty")
        try:
            return int(str(self.values["chat_id"]))
        except ValueError:
            raise ApiError(400, "Bad Request: chat not found") from None

    def loggable(self) -> JSONDict:
        """Return the parameters with file contents replaced by a summary."""
        logged = dict(self.values)
        for name, upload in self.files.items():
            logged[name] = {"filename": upload.filename, "size": len(upload.data)}
        return logged


@dataclass(slots=True)
class _Chat:
    """Everything the fake server knows about one private chat."""

    chat_id: int
    first_name: str
    username: str | None = None
    language_code: str | None = None
    known: bool = False
    blocked: bool = False
    next_message_id: int = 1
    messages: dict[int, BotMessage] = field(default_factory=dict)
    events: list[BotEvent] = field(default_factory=list)
    user_messages: list[JSONDict] = field(default_factory=list)
    presses: list[CallbackPress] = field(default_factory=list)
    send_times: list[float] = field(default_factory=list)
    edit_times: list[float] = field(default_factory=list)
    rate_limited: int = 0
    reply_keyboard: JSONDict | None = None
    menu_button: JSONDict | None = None

    def take_message_id(self) -> int:
        """Allocate the next message id (shared by user and bot, as in Telegram)."""
        mid = self.next_message_id
        self.next_message_id += 1
        return mid

    def chat_dict(self) -> JSONDict:
        """Return the Telegram Chat object."""
        if self.chat_id < 0:
            return {"id": self.chat_id, "type": "supergroup", "title": f"Group {self.chat_id}"}
        chat: JSONDict = {"id": self.chat_id, "type": "private", "first_name": self.first_name}
        if self.username:
            chat["username"] = self.username
        return chat

    def user_dict(self) -> JSONDict:
        """Return the Telegram User object of the chat's user."""
        user: JSONDict = {"id": self.chat_id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user


class _Notifier:
    """Wakes every waiter whenever server state changes."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        """Wake all current waiters."""
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        """Sleep until the next change or timeout, whichever comes first."""
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), max(0.0, timeout))


class FakeBotApi:
    """In-process fake Telegram Bot API server with test-side user controls."""

    def __init__(
        self,
        token: str | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limit: bool | RateLimit = False,
        strict_chats: bool = False,
        bot_username: str = "pal_test_bot",
        bot_first_name: str = "PAL Bot",
        call_log_size: int = 2000,
    ) -> None:
        self.token = token
        self.host = host
        self.port = port
        self.strict_chats = strict_chats
        bot_id = (
            int(token.split(":", 1)[0]) if token and token.split(":", 1)[0].isdigit() else 123456
        )
        self.bot_user: JSONDict = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self._limiter: RateLimiter | None = None
        self.set_rate_limit(rate_limit)
        self._chats: dict[int, _Chat] = {}
        self._updates: deque[JSONDict] = deque()
        self._next_update_id = 1
        self._updates_enqueued = 0
        self._poll_generation = 0
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_seq = itertools.count(1)
        self._presses: dict[str, CallbackPress] = {}
        self._query_seq = itertools.count(1)
        self._commands: dict[tuple[str, str], CommandSet] = {}
        self._default_menu_button: JSONDict = {"type": "default"}
        self._bot_texts: dict[str, str] = {}
        self.webhook_url = ""
        self._method_counts: Counter[str] = Counter()
        self._status_counts: Counter[int] = Counter()
        self._last_call: dict[str, float] = {}
        self._calls: deque[ApiCall] = deque(maxlen=call_log_size)
        self._requests_total = 0
        self._sends_accepted = 0
        self._edits_accepted = 0
        self._deletes = 0
        self._rate_limited = 0
        # Every 429: (server time, method, chat, "global" or "chat").
        self._refusals: list[tuple[float, str, int | None, str]] = []
        self._faults: dict[str, deque[ApiError]] = {}
        self._latency = 0.0
        self._unpaused = asyncio.Event()
        self._unpaused.set()
        self._closing = False
        self._notifier = _Notifier()
        self._runner: web.AppRunner | None = None
        self._methods: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler) for name, handler in self._method_table().items()
        }

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Self:
        """Start serving."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop serving."""
        await self.stop()

    async def start(self) -> None:
        """Bind host:port (0 = a free port) and start serving."""
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        for name, handler in self._control_routes().items():
            app.router.add_route("*", f"/_test/{name}", handler)
        self._closing = False
        runner = web.AppRunner(app, shutdown_timeout=2.0, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Release hanging requests and stop serving."""
        self._closing = True
        self._unpaused.set()
        self._notifier.notify()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    @property
    def base_url(self) -> str:
        """Return the server root, e.g. http://127.0.0.1:PORT (what PALBOT_API_URL expects)."""
        return f"http://{self.host}:{self.port}"

    @property
    def bot_base_url(self) -> str:
        """Return the base_url to give python-telegram-bot (it appends the token)."""
        return f"{self.base_url}/bot"

    @property
    def file_base_url(self) -> str:
        """Return the base_file_url to give python-telegram-bot (it appends the token)."""
        return f"{self.base_url}/file/bot"

    # ------------------------------------------------------------------ configuration & faults

    def set_rate_limit(self, rate_limit: bool | RateLimit) -> None:
        """Enable (True or a RateLimit) or disable (False) flood limits."""
        if rate_limit is False:
            self._limiter = None
        else:
            self._limiter = RateLimiter(RateLimit() if rate_limit is True else rate_limit)

    def fail_next(
        self,
        method: str = "*",
        status: int = 500,
        count: int = 1,
        *,
        description: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Make the next count calls of method ("*" = any method) fail with status."""
        default = {
            400: "Bad Request",
            403: "Forbidden",
            429: f"Too Many Requests: retry after {retry_after or 1}",
            500: "Internal Server Error",
            502: "Bad Gateway",
        }.get(status, "Error")
        if status == 429 and retry_after is None:
            retry_after = 1
        queue = self._faults.setdefault(method.lower(), deque())
        for _ in range(count):
            queue.append(ApiError(status, description or default, retry_after))

    def set_latency(self, seconds: float) -> None:
        """Delay every Bot API answer by seconds."""
        self._latency = max(0.0, seconds)

    def pause(self) -> None:
        """Make every Bot API request hang until resume() (an unreachable server)."""
        self._unpaused.clear()

    def resume(self) -> None:
        """Let hanging requests proceed."""
        self._unpaused.set()

    @property
    def paused(self) -> bool:
        """Return whether the server is paused."""
        return not self._unpaused.is_set()

    # ------------------------------------------------------------------ acting as users

    def user(
        self,
        user_id: int,
        *,
        first_name: str = "Test",
        language_code: str | None = "pl",
        username: str | None = None,
    ) -> TgUser:
        """Return a conversation helper acting as the given user."""
        return TgUser(
            self, user_id, first_name=first_name, language_code=language_code, username=username
        )

    def user_sends_text(
        self,
        user_id: int,
        text: str,
        *,
        language_code: str | None = "pl",
        first_name: str = "Test",
        username: str | None = None,
    ) -> int:
        """Enqueue a private text message from the user; return its update_id.

        A user who blocked the bot unblocks it by writing (my_chat_member update first).
        """
        chat = self._user_chat(user_id, first_name, language_code, username)
        if chat.blocked:
            self.user_unblocks_bot(user_id)
        message = self._user_message(chat)
        message["text"] = text
        entities = _command_entities(text)
        if entities:
            message["entities"] = entities
        chat.user_messages.append(message)
        return self._enqueue({"message": message})

    def user_sends_document(
        self,
        user_id: int,
        data: bytes,
        file_name: str,
        *,
        caption: str | None = None,
        mime_type: str | None = None,
        language_code: str | None = "pl",
        first_name: str = "Test",
        username: str | None = None,
    ) -> int:
        """Enqueue a private message with a document from the user; return its update_id."""
        chat = self._user_chat(user_id, first_name, language_code, username)
        stored = self._store_file(data, file_name, mime_type, "document")
        message = self._user_message(chat)
        message["document"] = stored.document_dict()
        if caption is not None:
            message["caption"] = caption
        chat.user_messages.append(message)
        return self._enqueue({"message": message})

    def user_presses(self, user_id: int, message_id: int, callback_data: str) -> int:
        """Enqueue a callback query for an inline button press; return its update_id."""
        chat = self._chats.get(user_id)
        msg = chat.messages.get(message_id) if chat else None
        if chat is None or msg is None or msg.deleted:
            raise LookupError(f"chat {user_id} has no bot message {message_id} to press on")
        chat.known = True
        query_id = f"{user_id}-{next(self._query_seq)}-{uuid.uuid4().hex[:8]}"
        update_id = self._enqueue(
            {
                "callback_query": {
                    "id": query_id,
                    "from": chat.user_dict(),
                    "message": msg.to_api(self.bot_user, chat.chat_dict()),
                    "chat_instance": str(10**12 + user_id),
                    "data": callback_data,
                }
            }
        )
        press = CallbackPress(query_id, user_id, message_id, callback_data, time.time(), update_id)
        chat.presses.append(press)
        self._presses[query_id] = press
        return update_id

    def user_presses_button(self, user_id: int, text: str, message_id: int | None = None) -> int:
        """Press the button containing text on the newest bot message that has one."""
        chat = self._chats.get(user_id)
        candidates = [] if chat is None else [
            m for m in reversed(chat.messages.values())
            if not m.deleted and (message_id is None or m.message_id == message_id)
        ]  # fmt: skip
        for msg in candidates:
            try:
                button = msg.button(text)
            except LookupError:
                continue
            if button.callback_data is None:
                raise LookupError(
                    f"button {button.text!r} of message {msg.message_id} is not a callback button"
                )
            return self.user_presses(user_id, msg.message_id, button.callback_data)
        available = [f"#{m.message_id}: {m.button_texts}" for m in candidates if m.buttons][:5]
        where = f"message {message_id}" if message_id is not None else "any bot message"
        raise LookupError(
            f"no button containing {text!r} on {where} in chat {user_id}; "
            f"newest keyboards: {available}"
        )

    def user_blocks_bot(self, user_id: int, *, send_update: bool = True) -> None:
        """Make sends to the user's chat fail with 403; optionally enqueue my_chat_member."""
        chat = self._chat(user_id)
        chat.blocked = True
        if send_update:
            self._enqueue(self._member_update(chat, "member", "kicked"))

    def user_unblocks_bot(self, user_id: int, *, send_update: bool = True) -> None:
        """Allow sends to the user's chat again; optionally enqueue my_chat_member."""
        chat = self._chat(user_id)
        chat.blocked = False
        if send_update:
            self._enqueue(self._member_update(chat, "kicked", "member"))

    # ------------------------------------------------------------------ readers

    def chat_ids(self) -> list[int]:
        """Return ids of all chats the server knows."""
        return list(self._chats)

    def messages(self, chat_id: int, *, include_deleted: bool = True) -> list[BotMessage]:
        """Return snapshots of all bot messages in the chat, oldest first."""
        chat = self._chats.get(chat_id)
        if chat is None:
            return []
        return [m.snapshot() for m in chat.messages.values() if include_deleted or not m.deleted]

    def message(self, chat_id: int, message_id: int) -> BotMessage:
        """Return a snapshot of one bot message (KeyError if unknown)."""
        return self._chats[chat_id].messages[message_id].snapshot()

    def last_message(self, chat_id: int) -> BotMessage | None:
        """Return a snapshot of the newest non-deleted bot message in the chat."""
        chat = self._chats.get(chat_id)
        if chat is None:
            return None
        for msg in reversed(chat.messages.values()):
            if not msg.deleted:
                return msg.snapshot()
        return None

    def events(self, chat_id: int, since: int = 0) -> list[BotEvent]:
        """Return the chat's bot events (send/edit/delete) with index >= since."""
        chat = self._chats.get(chat_id)
        return [] if chat is None else chat.events[since:]

    def mark(self, chat_id: int) -> int:
        """Return the index of the chat's newest event (-1 if none), for after_event_index."""
        chat = self._chats.get(chat_id)
        return -1 if chat is None else len(chat.events) - 1

    def user_messages(self, chat_id: int) -> list[JSONDict]:
        """Return the Message objects the user sent in the chat."""
        chat = self._chats.get(chat_id)
        return [] if chat is None else list(chat.user_messages)

    def callback_presses(self, chat_id: int) -> list[CallbackPress]:
        """Return all button presses in the chat (answer is None until the bot answers)."""
        chat = self._chats.get(chat_id)
        return [] if chat is None else list(chat.presses)

    def answered_callbacks(self, chat_id: int) -> list[CallbackAnswer]:
        """Return the bot's callback answers in the chat, in press order."""
        return [p.answer for p in self.callback_presses(chat_id) if p.answer is not None]

    def documents(self, chat_id: int) -> list[StoredFile]:
        """Return files (documents and photos) the bot sent to the chat."""
        files: list[StoredFile] = []
        for msg in self.messages(chat_id):
            files.extend(f for f in (msg.document, msg.photo) if f is not None)
        return files

    def file(self, file_id: str) -> StoredFile:
        """Return a stored file by file_id (KeyError if unknown)."""
        return self._files[file_id]

    def commands(self) -> list[CommandSet]:
        """Return all command sets stored with setMyCommands."""
        return list(self._commands.values())

    def commands_for(
        self, language_code: str = "", scope: JSONDict | None = None
    ) -> list[tuple[str, str]] | None:
        """Return (command, description) pairs for a scope/language, or None if unset."""
        found = self._commands.get((_scope_key(scope), language_code))
        return None if found is None else list(found.commands)

    def reply_keyboard(self, chat_id: int) -> JSONDict | None:
        """Return the last ReplyKeyboardMarkup/ReplyKeyboardRemove sent to the chat."""
        chat = self._chats.get(chat_id)
        return None if chat is None else chat.reply_keyboard

    def menu_button(self, chat_id: int | None = None) -> JSONDict:
        """Return the menu button set for a chat (or the default one)."""
        chat = self._chats.get(chat_id) if chat_id is not None else None
        return (
            chat.menu_button if chat and chat.menu_button else None
        ) or self._default_menu_button

    def method_count(self, method: str) -> int:
        """Return how many times a Bot API method was called."""
        return self._method_counts[self._canonical(method)]

    def last_call_time(self, method: str) -> float | None:
        """Return the wall-clock time of the latest call of method."""
        return self._last_call.get(self._canonical(method))

    def calls(self, method: str | None = None) -> list[ApiCall]:
        """Return recent Bot API calls (bounded log), optionally of one method."""
        if method is None:
            return list(self._calls)
        name = self._canonical(method)
        return [c for c in self._calls if c.method == name]

    def pending_updates(self) -> list[JSONDict]:
        """Return updates not yet confirmed by the bot."""
        return list(self._updates)

    def stats(self, *, include_chats: bool = True) -> JSONDict:
        """Return counters: requests, accepted sends/edits, 429s, per-method and per-chat data."""
        result: JSONDict = {
            "requests_total": self._requests_total,
            "sends_accepted": self._sends_accepted,
            "edits_accepted": self._edits_accepted,
            "deletes": self._deletes,
            "rate_limited": self._rate_limited,
            "refusals": list(self._refusals),
            "methods": dict(self._method_counts),
            "statuses": {str(k): v for k, v in self._status_counts.items()},
            "updates_enqueued": self._updates_enqueued,
            "updates_pending": len(self._updates),
            "rate_limit": self._limiter is not None,
        }
        if include_chats:
            result["chats"] = {
                str(c.chat_id): {
                    "send_times": list(c.send_times),
                    "edit_times": list(c.edit_times),
                    "rate_limited": c.rate_limited,
                    "messages": len(c.messages),
                    "blocked": c.blocked,
                }
                for c in self._chats.values()
            }
        return result

    # ------------------------------------------------------------------ waiting

    async def wait_for_change(self, timeout: float) -> None:
        """Sleep until any server state changes or timeout passes."""
        await self._notifier.wait(timeout)

    async def wait_until(
        self,
        condition: Callable[[], bool | Awaitable[bool]],
        timeout: float = 10.0,
        *,
        interval: float = 0.05,
        description: str = "condition",
    ) -> None:
        """Wait until condition() is true, re-checking on every change and every interval."""
        deadline = time.monotonic() + timeout
        while True:
            result = condition()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ExpectationError(f"{description} not true within {timeout} s")
            await self._notifier.wait(min(interval, remaining))

    async def wait_for_method(self, method: str, count: int = 1, *, timeout: float = 10.0) -> None:
        """Wait until method has been called at least count times in total."""
        await self.wait_until(
            lambda: self.method_count(method) >= count,
            timeout,
            description=f"{count} call(s) of {method} (seen {self.method_count(method)})",
        )

    async def wait_for_event(
        self,
        chat_id: int,
        match: MessageMatch = None,
        *,
        timeout: float = 10.0,
        after_event_index: int | None = None,
        kinds: Iterable[EventKind] = ("send", "edit"),
    ) -> BotEvent:
        """Wait for the first event after after_event_index whose message matches."""
        wanted = frozenset(kinds)
        pos = 0 if after_event_index is None else after_event_index + 1
        deadline = time.monotonic() + timeout
        while True:
            events = self.events(chat_id)
            for event in events[pos:]:
                if event.kind in wanted and matches(event.message, match):
                    return event
            pos = max(pos, len(events))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                start = 0 if after_event_index is None else after_event_index + 1
                raise ExpectationError(
                    f"no {'/'.join(sorted(wanted))} event matching {_describe(match)} "
                    f"in chat {chat_id} "
                    f"within {timeout} s (searched events from index {start}).\n"
                    + self.describe_chat(chat_id)
                )
            await self._notifier.wait(remaining)

    async def wait_for_message(
        self,
        chat_id: int,
        predicate: MessageMatch = None,
        *,
        timeout: float = 10.0,
        after_event_index: int | None = None,
    ) -> BotMessage:
        """Wait for a sent or edited message matching predicate; return its snapshot."""
        event = await self.wait_for_event(
            chat_id, predicate, timeout=timeout, after_event_index=after_event_index
        )
        return event.message

    def describe_chat(self, chat_id: int, last: int = 10) -> str:
        """Return a readable summary of the chat's recent events, for failure messages."""
        events = self.events(chat_id)
        lines = [f"  [{e.index}] {e.kind} {e.message}" for e in events[-last:]]
        head = f"chat {chat_id}: {len(events)} event(s), {len(self._updates)} update(s) unconfirmed"
        return "\n".join([head, *lines]) if lines else head + " (no bot messages)"

    # ------------------------------------------------------------------ internals: state

    def _chat(self, chat_id: int) -> _Chat:
        """Return the chat, creating it on first use."""
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = _Chat(chat_id, first_name=f"User{chat_id}")
        return chat

    def _user_chat(
        self, user_id: int, first_name: str, language_code: str | None, username: str | None
    ) -> _Chat:
        """Return the user's chat with the profile updated."""
        chat = self._chat(user_id)
        chat.first_name, chat.language_code, chat.username = first_name, language_code, username
        chat.known = True
        return chat

    def _user_message(self, chat: _Chat) -> JSONDict:
        """Return a new user Message skeleton in the chat."""
        return {
            "message_id": chat.take_message_id(),
            "from": chat.user_dict(),
            "chat": chat.chat_dict(),
            "date": int(time.time()),
        }

    def _member_update(self, chat: _Chat, old: str, new: str) -> JSONDict:
        """Return a my_chat_member update for a block/unblock."""
        new_member: JSONDict = {"status": new, "user": self.bot_user}
        if new == "kicked":
            new_member["until_date"] = 0
        return {
            "my_chat_member": {
                "chat": chat.chat_dict(),
                "from": chat.user_dict(),
                "date": int(time.time()),
                "old_chat_member": {"status": old, "user": self.bot_user},
                "new_chat_member": new_member,
            }
        }

    def _enqueue(self, update: JSONDict) -> int:
        """Queue an update for getUpdates and return its update_id."""
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates.append({"update_id": update_id, **update})
        self._updates_enqueued += 1
        self._notifier.notify()
        return update_id

    def _store_file(
        self, data: bytes, file_name: str | None, mime_type: str | None, kind: str
    ) -> StoredFile:
        """Store file bytes and return the record."""
        seq = next(self._file_seq)
        ext = ""
        if file_name and "." in file_name:
            ext = "." + file_name.rsplit(".", 1)[1]
        if mime_type is None and file_name:
            mime_type = mimetypes.guess_type(file_name)[0]
        stored = StoredFile(
            file_id=f"{kind}-{seq}-{uuid.uuid4().hex}",
            file_unique_id=f"u{seq}{uuid.uuid4().hex[:8]}",
            file_path=f"{kind}s/file_{seq}{ext}",
            file_name=file_name,
            mime_type=mime_type,
            data=data,
            kind=kind,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _record(
        self, chat: _Chat, msg: BotMessage, kind: EventKind, method: str, now: float
    ) -> None:
        """Append an event with a snapshot of msg."""
        event = BotEvent(
            len(chat.events), kind, method, chat.chat_id, msg.message_id, now, msg.snapshot()
        )
        chat.events.append(event)

    def _canonical(self, method: str) -> str:
        """Return the canonical spelling of a method name."""
        entry = self._methods.get(method.lower())
        return entry[0] if entry else method

    # ------------------------------------------------------------------ internals: HTTP

    async def _gate(self) -> None:
        """Apply pause and latency before answering a Bot API request."""
        if not self._closing:
            await self._unpaused.wait()
        if self._latency > 0:
            await asyncio.sleep(self._latency)

    def _respond(self, name: str, params: JSONDict, status: int, body: JSONDict) -> web.Response:
        """Log and return a JSON answer."""
        self._status_counts[status] += 1
        self._calls.append(ApiCall(name, params, time.time(), status))
        self._notifier.notify()
        return web.json_response(body, status=status)

    async def _handle_api(self, request: web.Request) -> web.Response:
        """Serve /bot<token>/<method>."""
        await self._gate()
        self._requests_total += 1
        token, raw_method = request.match_info["token"], request.match_info["method"]
        if self.token is not None and token != self.token:
            return self._respond(raw_method, {}, 401, ApiError(401, "Unauthorized").payload())
        entry = self._methods.get(raw_method.lower())
        if entry is None:
            return self._respond(
                raw_method, {}, 404, ApiError(404, "Not Found: method not found").payload()
            )
        name, handler = entry
        try:
            params = await _read_params(request)
        except ApiError as exc:
            return self._respond(name, {}, exc.status, exc.payload())
        self._method_counts[name] += 1
        now = time.time()
        self._last_call[name] = now
        self._notifier.notify()
        try:
            self._apply_faults(name)
            chat_id = params.chat_id() if name in _CHAT_TARGETED else None
            if chat_id is not None:
                self._check_chat(chat_id)
            if self._limiter is not None and name in _RATE_LIMITED:
                retry_after = self._limiter.try_acquire(chat_id, time.monotonic())
                if retry_after is not None:
                    self._rate_limited += 1
                    self._refusals.append((now, name, chat_id, self._limiter.last_refusal))
                    if chat_id is not None:
                        self._chat(chat_id).rate_limited += 1
                    raise ApiError(
                        429, f"Too Many Requests: retry after {retry_after}", retry_after
                    )
            result = await handler(params)
        except ApiError as exc:
            return self._respond(name, params.loggable(), exc.status, exc.payload())
        return self._respond(name, params.loggable(), 200, {"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        """Serve /file/bot<token>/<file_path>."""
        await self._gate()
        if self.token is not None and request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").payload(), status=401)
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        return web.Response(body=stored.data, content_type="application/octet-stream")

    def _apply_faults(self, name: str) -> None:
        """Raise an injected failure for this method if one is queued."""
        for key in (name.lower(), "*"):
            queue = self._faults.get(key)
            if queue:
                raise queue.popleft()

    def _check_chat(self, chat_id: int) -> None:
        """Enforce blocked users and (optionally) unknown chats."""
        chat = self._chats.get(chat_id)
        if chat is not None and chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if self.strict_chats and (chat is None or not chat.known):
            raise ApiError(400, "Bad Request: chat not found")

    # ------------------------------------------------------------------ Bot API methods

    def _method_table(self) -> dict[str, Handler]:
        """Return the supported Bot API methods."""
        return {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "answerCallbackQuery": self._answer_callback_query,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "sendChatAction": self._true,
            "getFile": self._get_file,
            "getChat": self._get_chat,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setMyDescription": self._set_bot_text("description"),
            "setMyShortDescription": self._set_bot_text("short_description"),
            "setMyName": self._set_bot_text("name"),
            "getMyDescription": self._get_bot_text("description"),
            "getMyShortDescription": self._get_bot_text("short_description"),
            "getMyName": self._get_bot_text("name"),
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "close": self._true,
            "logOut": self._true,
        }

    async def _true(self, p: _Params) -> bool:
        """Answer True (methods with no observable effect here)."""
        return True

    async def _get_me(self, p: _Params) -> JSONDict:
        """Answer getMe."""
        return self.bot_user

    async def _get_updates(self, p: _Params) -> list[JSONDict]:
        """Answer getUpdates: confirm by offset, then long-poll up to timeout seconds."""
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = p.get_int("offset")
        limit = min(max(p.get_int("limit") or 100, 1), 100)
        timeout = max(p.get_float("timeout") or 0.0, 0.0)
        if offset is not None and offset < 0:
            while len(self._updates) > -offset:
                self._updates.popleft()
        elif offset is not None:
            while self._updates and self._updates[0]["update_id"] < offset:
                self._updates.popleft()
        self._poll_generation += 1
        generation = self._poll_generation
        self._notifier.notify()
        deadline = time.monotonic() + timeout
        while True:
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            if self._updates or self._closing:
                return list(itertools.islice(self._updates, limit))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            await self._notifier.wait(remaining)

    async def _send_message(self, p: _Params) -> JSONDict:
        """Answer sendMessage."""
        chat = self._target_chat(p)
        raw = p.get_str("text")
        if not raw:
            raise ApiError(400, "Bad Request: message text is empty")
        parse_mode = p.get_str("parse_mode")
        text = _render(raw, parse_mode, limit=4096, what="message")
        markup = _reply_markup(p)
        msg = BotMessage(
            chat.chat_id, chat.take_message_id(), int(time.time()), "sendMessage", time.time(),
            text=text, raw_text=raw, parse_mode=parse_mode, reply_markup=markup,
        )  # fmt: skip
        return self._store_message(chat, msg)

    async def _send_document(self, p: _Params) -> JSONDict:
        """Answer sendDocument."""
        return self._send_media(p, "document")

    async def _send_photo(self, p: _Params) -> JSONDict:
        """Answer sendPhoto."""
        return self._send_media(p, "photo")

    def _send_media(self, p: _Params, kind: str) -> JSONDict:
        """Store an uploaded (or referenced) file and send it as a message."""
        chat = self._target_chat(p)
        stored = self._input_file(p, kind)
        raw_caption = p.get_str("caption")
        parse_mode = p.get_str("parse_mode")
        caption = (
            None
            if raw_caption is None
            else _render(raw_caption, parse_mode, limit=1024, what="caption")
        )
        method = "sendDocument" if kind == "document" else "sendPhoto"
        msg = BotMessage(
            chat.chat_id, chat.take_message_id(), int(time.time()), method, time.time(),
            caption=caption, raw_caption=raw_caption, parse_mode=parse_mode,
            reply_markup=_reply_markup(p),
            document=stored if kind == "document" else None,
            photo=stored if kind == "photo" else None,
        )  # fmt: skip
        return self._store_message(chat, msg)

    def _input_file(self, p: _Params, kind: str) -> StoredFile:
        """Resolve an uploaded file, attach:// reference, file_id or URL."""
        upload = p.files.get(kind)
        ref = p.get_str(kind)
        if upload is None and ref and ref.startswith("attach://"):
            upload = p.files.get(ref.removeprefix("attach://"))
        if upload is not None:
            if not upload.data:
                raise ApiError(400, "Bad Request: file must be non-empty")
            return self._store_file(upload.data, upload.filename, upload.content_type, kind)
        if not ref:
            raise ApiError(400, f"Bad Request: there is no {kind} in the request")
        if ref in self._files:
            return self._files[ref]
        if ref.startswith(("http://", "https://")):
            return self._store_file(b"", ref.rsplit("/", 1)[-1] or None, None, kind)
        raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    def _store_message(self, chat: _Chat, msg: BotMessage) -> JSONDict:
        """Record a newly sent bot message and return its API object."""
        chat.messages[msg.message_id] = msg
        self._record(chat, msg, "send", msg.method, msg.sent_at)
        chat.send_times.append(msg.sent_at)
        self._sends_accepted += 1
        if msg.reply_markup and (
            "keyboard" in msg.reply_markup or "remove_keyboard" in msg.reply_markup
        ):
            chat.reply_keyboard = msg.reply_markup
        return msg.to_api(self.bot_user, chat.chat_dict())

    def _target_chat(self, p: _Params) -> _Chat:
        """Return the chat addressed by chat_id."""
        return self._chat(p.chat_id())

    def _target_message(self, p: _Params, action: str) -> tuple[_Chat, BotMessage]:
        """Return the chat and live message addressed by chat_id + message_id."""
        if p.has("inline_message_id"):
            raise ApiError(400, "Bad Request: inline messages are not supported by the fake server")
        chat = self._target_chat(p)
        message_id = p.get_int("message_id")
        if message_id is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        msg = chat.messages.get(message_id)
        if msg is None or msg.deleted:
            raise ApiError(400, f"Bad Request: message to {action} not found")
        return chat, msg

    def _finish_edit(self, chat: _Chat, msg: BotMessage, method: str) -> JSONDict:
        """Record an edit and return the edited message."""
        now = time.time()
        msg.edit_date = int(now)
        msg.edits += 1
        self._record(chat, msg, "edit", method, now)
        chat.edit_times.append(now)
        self._edits_accepted += 1
        return msg.to_api(self.bot_user, chat.chat_dict())

    async def _edit_message_text(self, p: _Params) -> JSONDict:
        """Answer editMessageText (omitting reply_markup removes the inline keyboard)."""
        chat, msg = self._target_message(p, "edit")
        if msg.text is None:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        raw = p.get_str("text")
        if not raw:
            raise ApiError(400, "Bad Request: message text is empty")
        parse_mode = p.get_str("parse_mode")
        text = _render(raw, parse_mode, limit=4096, what="message")
        markup = _reply_markup(p)
        if text == msg.text and raw == msg.raw_text and markup == msg.reply_markup:
            raise ApiError(400, _NOT_MODIFIED)
        msg.text, msg.raw_text, msg.parse_mode, msg.reply_markup = text, raw, parse_mode, markup
        return self._finish_edit(chat, msg, "editMessageText")

    async def _edit_message_caption(self, p: _Params) -> JSONDict:
        """Answer editMessageCaption (omitting reply_markup removes the inline keyboard)."""
        chat, msg = self._target_message(p, "edit")
        if msg.document is None and msg.photo is None:
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        raw = p.get_str("caption")
        parse_mode = p.get_str("parse_mode")
        caption = None if raw is None else _render(raw, parse_mode, limit=1024, what="caption")
        markup = _reply_markup(p)
        if caption == msg.caption and raw == msg.raw_caption and markup == msg.reply_markup:
            raise ApiError(400, _NOT_MODIFIED)
        msg.caption, msg.raw_caption, msg.parse_mode, msg.reply_markup = (
            caption,
            raw,
            parse_mode,
            markup,
        )
        return self._finish_edit(chat, msg, "editMessageCaption")

    async def _edit_message_reply_markup(self, p: _Params) -> JSONDict:
        """Answer editMessageReplyMarkup (omitting reply_markup removes the keyboard)."""
        chat, msg = self._target_message(p, "edit")
        markup = _reply_markup(p)
        if markup == msg.reply_markup:
            raise ApiError(400, _NOT_MODIFIED)
        msg.reply_markup = markup
        return self._finish_edit(chat, msg, "editMessageReplyMarkup")

    async def _delete_message(self, p: _Params) -> bool:
        """Answer deleteMessage."""
        chat, msg = self._target_message(p, "delete")
        self._delete(chat, msg, "deleteMessage")
        return True

    async def _delete_messages(self, p: _Params) -> bool:
        """Answer deleteMessages (missing messages are skipped, as Telegram does)."""
        chat = self._target_chat(p)
        ids = p.get_json("message_ids")
        if not isinstance(ids, list) or not ids:
            raise ApiError(400, "Bad Request: message_ids is empty")
        for mid in ids:
            msg = chat.messages.get(int(mid))
            if msg is not None and not msg.deleted:
                self._delete(chat, msg, "deleteMessages")
        return True

    def _delete(self, chat: _Chat, msg: BotMessage, method: str) -> None:
        """Mark a message deleted and record the event."""
        msg.deleted = True
        self._deletes += 1
        self._record(chat, msg, "delete", method, time.time())

    async def _answer_callback_query(self, p: _Params) -> bool:
        """Answer answerCallbackQuery (each query can be answered once)."""
        query_id = p.get_str("callback_query_id")
        press = self._presses.get(query_id or "")
        if press is None or press.answer is not None:
            raise ApiError(400, _QUERY_INVALID)
        press.answer = CallbackAnswer(
            query_id=press.query_id,
            chat_id=press.chat_id,
            message_id=press.message_id,
            data=press.data,
            text=p.get_str("text"),
            show_alert=p.get_bool("show_alert"),
            url=p.get_str("url"),
            time=time.time(),
        )
        return True

    async def _get_file(self, p: _Params) -> JSONDict:
        """Answer getFile."""
        stored = self._files.get(p.get_str("file_id") or "")
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return stored.file_dict()

    async def _get_chat(self, p: _Params) -> JSONDict:
        """Answer getChat with a ChatFullInfo."""
        chat = self._chats.get(p.chat_id())
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        return {**chat.chat_dict(), "accent_color_id": 0, "max_reaction_count": 11}

    async def _set_my_commands(self, p: _Params) -> bool:
        """Answer setMyCommands (stored per scope and language_code)."""
        commands = p.get_json("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: commands must be a list")
        pairs: list[tuple[str, str]] = []
        for cmd in commands:
            name = str(cmd.get("command", "")) if isinstance(cmd, dict) else ""
            desc = str(cmd.get("description", "")) if isinstance(cmd, dict) else ""
            if not (1 <= len(name) <= 32) or not all(
                c.islower() or c.isdigit() or c == "_" for c in name
            ):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not (1 <= len(desc) <= 256):
                raise ApiError(400, "Bad Request: command description must be non-empty")
            pairs.append((name, desc))
        scope = p.get_json("scope") or {"type": "default"}
        key = (_scope_key(scope), p.get_str("language_code") or "")
        if pairs:
            self._commands[key] = CommandSet(scope, key[1], tuple(pairs))
        else:
            self._commands.pop(key, None)
        return True

    async def _get_my_commands(self, p: _Params) -> list[JSONDict]:
        """Answer getMyCommands."""
        found = self._commands.get(
            (_scope_key(p.get_json("scope")), p.get_str("language_code") or "")
        )
        return [] if found is None else found.to_dict()["commands"]

    async def _delete_my_commands(self, p: _Params) -> bool:
        """Answer deleteMyCommands."""
        self._commands.pop(
            (_scope_key(p.get_json("scope")), p.get_str("language_code") or ""), None
        )
        return True

    def _set_bot_text(self, field_name: str) -> Handler:
        """Return a handler storing setMyDescription/ShortDescription/Name."""

        async def handler(p: _Params) -> bool:
            self._bot_texts[f"{field_name}:{p.get_str('language_code') or ''}"] = (
                p.get_str(field_name) or ""
            )
            return True

        return handler

    def _get_bot_text(self, field_name: str) -> Handler:
        """Return a handler answering getMyDescription/ShortDescription/Name."""

        async def handler(p: _Params) -> JSONDict:
            return {
                field_name: self._bot_texts.get(
                    f"{field_name}:{p.get_str('language_code') or ''}", ""
                )
            }

        return handler

    async def _set_webhook(self, p: _Params) -> bool:
        """Answer setWebhook (only remembered; updates are never pushed)."""
        self.webhook_url = p.get_str("url") or ""
        if p.get_bool("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _delete_webhook(self, p: _Params) -> bool:
        """Answer deleteWebhook."""
        self.webhook_url = ""
        if p.get_bool("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, p: _Params) -> JSONDict:
        """Answer getWebhookInfo."""
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _set_chat_menu_button(self, p: _Params) -> bool:
        """Answer setChatMenuButton (per chat or default)."""
        button = p.get_json("menu_button") or {"type": "default"}
        chat_id = p.get_int("chat_id")
        if chat_id is None:
            self._default_menu_button = button
        else:
            self._chat(chat_id).menu_button = button
        return True

    async def _get_chat_menu_button(self, p: _Params) -> JSONDict:
        """Answer getChatMenuButton."""
        return self.menu_button(p.get_int("chat_id"))

    # ------------------------------------------------------------------ control endpoints

    def _control_routes(self) -> dict[str, Callable[[web.Request], Awaitable[web.Response]]]:
        """Return the /_test/<name> handlers used by other processes."""
        actions: dict[str, Callable[[JSONDict], Any]] = {
            "health": lambda a: {"base_url": self.base_url, "paused": self.paused},
            "send_text": lambda a: {
                "update_id": self.user_sends_text(
                    int(a["user_id"]), str(a["text"]),
                    language_code=a.get("language_code", "pl"),
                    first_name=str(a.get("first_name", "Test")), username=a.get("username"),
                )
            },
            "send_document": lambda a: {
                "update_id": self.user_sends_document(
                    int(a["user_id"]), base64.b64decode(a["data_b64"]), str(a["file_name"]),
                    caption=a.get("caption"), language_code=a.get("language_code", "pl"),
                    first_name=str(a.get("first_name", "Test")),
                )
            },
            "press": lambda a: {
                "update_id": self.user_presses(
                    int(a["user_id"]), int(a["message_id"]), str(a["data"])
                )
            },
            "press_button": lambda a: {
                "update_id": self.user_presses_button(
                    int(a["user_id"]), str(a["text"]), _opt_int(a.get("message_id"))
                )
            },
            "block": lambda a: self.user_blocks_bot(
                int(a["user_id"]), send_update=_truthy(a, "send_update")
            ),
            "unblock": lambda a: self.user_unblocks_bot(
                int(a["user_id"]), send_update=_truthy(a, "send_update")
            ),
            "messages": lambda a: [m.to_dict() for m in self.messages(int(a["chat_id"]))],
            "events": lambda a: [
                e.to_dict() for e in self.events(int(a["chat_id"]), _since(a.get("after")))
            ],
            "callbacks": lambda a: [
                c.to_dict() for c in self.answered_callbacks(int(a["chat_id"]))
            ],
            "documents": lambda a: [f.summary() for f in self.documents(int(a["chat_id"]))],
            "commands": lambda a: [c.to_dict() for c in self.commands()],
            "stats": lambda a: self.stats(include_chats=_truthy(a, "chats")),
            "calls": lambda a: [
                {"method": c.method, "params": c.params, "time": c.time, "status": c.status}
                for c in self.calls(a.get("method"))
            ],
            "fail_next": lambda a: self.fail_next(
                str(a.get("method", "*")), int(a.get("status", 500)), int(a.get("count", 1)),
                description=a.get("description"), retry_after=_opt_int(a.get("retry_after")),
            ),
            "latency": lambda a: self.set_latency(float(a.get("seconds", 0.0))),
            "pause": lambda a: self.pause(),
            "resume": lambda a: self.resume(),
            "rate_limit": lambda a: self.set_rate_limit(
                RateLimit(
                    global_limit=int(a.get("global_limit", 30)),
                    global_window=float(a.get("global_window", 1.0)),
                    per_chat_burst=int(a.get("per_chat_burst", 1)),
                    per_chat_window=float(a.get("per_chat_window", 1.0)),
                )
                if _truthy(a, "enabled")
                else False
            ),
        }  # fmt: skip
        routes: dict[str, Callable[[web.Request], Awaitable[web.Response]]] = {
            name: self._control_handler(action) for name, action in actions.items()
        }
        routes["wait_message"] = self._control_wait_message
        return routes

    def _control_handler(
        self, action: Callable[[JSONDict], Any]
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        """Wrap a control action into an aiohttp handler with JSON in/out."""

        async def handler(request: web.Request) -> web.Response:
            try:
                args = await _control_args(request)
                result = action(args)
            except LookupError as exc:
                return web.json_response({"ok": False, "description": str(exc)}, status=404)
            except (TypeError, ValueError) as exc:
                return web.json_response({"ok": False, "description": str(exc)}, status=400)
            return web.json_response({"ok": True, "result": result})

        return handler

    async def _control_wait_message(self, request: web.Request) -> web.Response:
        """Long-poll for a message: chat_id, contains (substring), after (event index), timeout."""
        try:
            args = await _control_args(request)
            event = await self.wait_for_event(
                int(args["chat_id"]),
                args.get("contains"),
                timeout=float(args.get("timeout", 10.0)),
                after_event_index=_opt_int(args.get("after")),
            )
        except ExpectationError as exc:
            return web.json_response({"ok": False, "description": str(exc)}, status=408)
        except (LookupError, TypeError, ValueError) as exc:
            return web.json_response({"ok": False, "description": str(exc)}, status=400)
        return web.json_response({"ok": True, "result": event.to_dict()})


# ---------------------------------------------------------------------- helpers


async def _read_params(request: web.Request) -> _Params:
    """Collect parameters from query string and JSON, urlencoded or multipart body."""
    values: dict[str, Any] = dict(request.query)
    files: dict[str, _Upload] = {}
    if request.can_read_body:
        ctype = request.content_type
        if ctype in ("multipart/form-data", "application/x-www-form-urlencoded"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = _Upload(value.filename, value.content_type, value.file.read())
                else:
                    values[key] = value
        else:
            raw = await request.read()
            if raw.strip():
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise ApiError(400, "Bad Request: can't parse JSON request body") from None
                if not isinstance(body, dict):
                    raise ApiError(400, "Bad Request: request body must be a JSON object")
                values.update(body)
    return _Params(values, files)


async def _control_args(request: web.Request) -> JSONDict:
    """Return control-endpoint arguments from the query string and JSON body."""
    args: JSONDict = dict(request.query)
    if request.can_read_body:
        raw = await request.read()
        if raw.strip():
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object")
            args.update(body)
    return args


def _opt_int(value: Any) -> int | None:
    """Convert to int unless None or empty."""
    return None if value is None or value == "" else int(value)


def _since(after: Any) -> int:
    """Convert an "after event index" argument into a start index."""
    value = _opt_int(after)
    return 0 if value is None else value + 1


def _truthy(args: Mapping[str, Any], name: str, default: bool = True) -> bool:
    """Read a boolean control argument (JSON bool or query-string text)."""
    value = args.get(name, default)
    if isinstance(value, str):
        return value.strip().lower() not in ("0", "false", "no", "")
    return bool(value)


def _scope_key(scope: JSONDict | None) -> str:
    """Return a canonical key for a BotCommandScope."""
    return json.dumps(scope or {"type": "default"}, sort_keys=True)


def _render(raw: str, parse_mode: str | None, *, limit: int, what: str) -> str:
    """Render formatted text, enforcing Telegram's parse errors and length limits."""
    try:
        text = render_text(raw, parse_mode)
    except EntityParseError as exc:
        raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
    if what == "message" and not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if utf16_len(text) > limit:
        raise ApiError(
            400, f"Bad Request: {'message' if what == 'message' else 'message caption'} is too long"
        )
    return text


def _reply_markup(p: _Params) -> JSONDict | None:
    """Return the validated reply_markup parameter."""
    markup = p.get_json("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return markup
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise ApiError(400, 'Bad Request: field "inline_keyboard" must be an Array of Arrays')
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise ApiError(
                    400,
                    "Bad Request: can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard",
                )
            actions = [a for a in _BUTTON_ACTIONS if a in button]
            if len(actions) != 1:
                raise ApiError(
                    400,
                    "Bad Request: can't parse inline keyboard button: "
                    "InlineKeyboardButton must have exactly one optional field",
                )
            data = button.get("callback_data")
            if data is not None and not (1 <= len(str(data).encode()) <= 64):
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup


def _command_entities(text: str) -> list[JSONDict]:
    """Return a bot_command entity for a leading /command, as Telegram adds one."""
    if not text.startswith("/") or len(text) < 2:
        return []
    command = text.split(maxsplit=1)[0]
    if not all(c.isalnum() or c in "_@" for c in command[1:]):
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]


def _describe(match: MessageMatch) -> str:
    """Describe a match for error messages."""
    if match is None:
        return "anything"
    if isinstance(match, str):
        return repr(match)
    pattern = getattr(match, "pattern", None)
    if pattern is not None:
        return f"/{pattern}/"
    return getattr(match, "__name__", repr(match))
