"""A simulated Telegram user that remembers what it has already seen of the bot."""
# ruff: noqa: ASYNC109  # waiters take timeout= like pytest helpers, not asyncio.timeout

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from .models import BotMessage, CallbackAnswer, ExpectationError, JSONDict, MessageMatch, matches

if TYPE_CHECKING:
    from .models import EventKind
    from .server import FakeBotApi

__all__ = ["TgUser"]


class TgUser:
    """Acts as one user in a private chat; expect() reads the bot's replies in order.

    The cursor starts at the end of the chat's history and jumps to the end whenever the
    user sends or presses something, so expect() only sees replies to the user's latest
    action (plus anything the bot sent on its own since then).
    """

    def __init__(
        self,
        api: FakeBotApi,
        user_id: int,
        *,
        first_name: str = "Test",
        language_code: str | None = "pl",
        username: str | None = None,
    ) -> None:
        self.api = api
        self.user_id = user_id
        self.first_name = first_name
        self.language_code = language_code
        self.username = username
        self.cursor = api.mark(user_id) + 1
        self._last_query_id: str | None = None

    @property
    def chat_id(self) -> int:
        """Return the private chat id (equal to the user id)."""
        return self.user_id

    def __repr__(self) -> str:
        """Return a short description."""
        return f"TgUser({self.user_id}, {self.first_name!r}, cursor={self.cursor})"

    # ------------------------------------------------------------------ actions

    def send(self, text: str) -> int:
        """Send a text message (commands get a bot_command entity); return the update_id."""
        self.skip()
        return self.api.user_sends_text(
            self.user_id,
            text,
            language_code=self.language_code,
            first_name=self.first_name,
            username=self.username,
        )

    def send_document(self, data: bytes, file_name: str, *, caption: str | None = None) -> int:
        """Send a document; return the update_id."""
        self.skip()
        return self.api.user_sends_document(
            self.user_id,
            data,
            file_name,
            caption=caption,
            language_code=self.language_code,
            first_name=self.first_name,
            username=self.username,
        )

    def press(self, button_text: str, *, message: BotMessage | int | None = None) -> int:
        """Press the inline button containing button_text on message (default: newest with one)."""
        message_id = message.message_id if isinstance(message, BotMessage) else message
        self.skip()
        update_id = self.api.user_presses_button(self.user_id, button_text, message_id)
        self._last_query_id = self.api.callback_presses(self.user_id)[-1].query_id
        return update_id

    def press_data(self, message: BotMessage | int, callback_data: str) -> int:
        """Press a button by raw callback_data (may be stale or forged)."""
        message_id = message.message_id if isinstance(message, BotMessage) else message
        self.skip()
        update_id = self.api.user_presses(self.user_id, message_id, callback_data)
        self._last_query_id = self.api.callback_presses(self.user_id)[-1].query_id
        return update_id

    def block(self) -> None:
        """Block the bot (its sends now fail with 403)."""
        self.api.user_blocks_bot(self.user_id)

    def unblock(self) -> None:
        """Unblock the bot."""
        self.api.user_unblocks_bot(self.user_id)

    def skip(self) -> None:
        """Mark everything the bot has sent so far as seen."""
        self.cursor = self.api.mark(self.user_id) + 1

    # ------------------------------------------------------------------ expectations

    async def expect(
        self,
        match: MessageMatch = None,
        *,
        timeout: float = 10.0,
        kind: EventKind | None = None,
    ) -> BotMessage:
        """Wait for the next sent/edited message matching match; return it as it was then.

        match: None (anything), a substring of the text/caption, a compiled regex, or a
        predicate on BotMessage. Non-matching events before the match are skipped.
        """
        kinds: tuple[EventKind, ...] = (kind,) if kind else ("send", "edit")
        event = await self.api.wait_for_event(
            self.user_id, match, timeout=timeout, after_event_index=self.cursor - 1, kinds=kinds
        )
        self.cursor = event.index + 1
        return event.message

    async def expect_new(self, match: MessageMatch = None, *, timeout: float = 10.0) -> BotMessage:
        """Wait for the next newly sent message matching match."""
        return await self.expect(match, timeout=timeout, kind="send")

    async def expect_edit(
        self,
        match: MessageMatch = None,
        *,
        message: BotMessage | int | None = None,
        timeout: float = 10.0,
    ) -> BotMessage:
        """Wait for the next edit (optionally of one message) matching match."""
        message_id = message.message_id if isinstance(message, BotMessage) else message

        def wanted(m: BotMessage) -> bool:
            return (message_id is None or m.message_id == message_id) and matches(m, match)

        return await self.expect(wanted, timeout=timeout, kind="edit")

    async def expect_document(
        self, file_name: str | None = None, *, timeout: float = 10.0
    ) -> BotMessage:
        """Wait for the next message carrying a document whose file name contains file_name."""

        def wanted(m: BotMessage) -> bool:
            if m.document is None:
                return False
            return file_name is None or file_name in (m.document.file_name or "")

        return await self.expect(wanted, timeout=timeout, kind="send")

    async def expect_nothing(self, match: MessageMatch = None, *, within: float = 0.5) -> None:
        """Assert that no matching message is sent or edited within the given seconds."""
        try:
            found = await self.expect(match, timeout=within)
        except ExpectationError:
            return
        raise AssertionError(f"unexpected message in chat {self.user_id}: {found}")

    async def expect_answer(self, *, timeout: float = 10.0) -> CallbackAnswer:
        """Wait until the bot answers the user's latest button press; return the answer."""
        query_id = self._last_query_id
        if query_id is None:
            raise AssertionError("expect_answer() called before any press")
        deadline = time.monotonic() + timeout
        while True:
            for press in self.api.callback_presses(self.user_id):
                if press.query_id == query_id and press.answer is not None:
                    return press.answer
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ExpectationError(
                    f"bot did not answer callback query {query_id} within {timeout} s\n"
                    + self.api.describe_chat(self.user_id)
                )
            await self.api.wait_for_change(remaining)

    async def ask(
        self, text: str, match: MessageMatch = None, *, timeout: float = 10.0
    ) -> BotMessage:
        """Send text and wait for the reply matching match."""
        self.send(text)
        return await self.expect(match, timeout=timeout)

    async def tap(
        self, button_text: str, match: MessageMatch = None, *, timeout: float = 10.0
    ) -> BotMessage:
        """Press a button and wait for the resulting sent/edited message matching match."""
        self.press(button_text)
        return await self.expect(match, timeout=timeout)

    async def settle(self, quiet: float = 0.3, *, timeout: float = 10.0) -> None:
        """Wait until the bot has confirmed all updates and the chat was quiet for quiet seconds."""
        deadline = time.monotonic() + timeout
        last_count = -1
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            count = self.api.mark(self.user_id)
            if count != last_count or self.api.pending_updates():
                last_count, quiet_since = count, time.monotonic()
            elif time.monotonic() - quiet_since >= quiet:
                return
            await asyncio.sleep(0.05)
        raise ExpectationError(f"chat {self.user_id} did not settle within {timeout} s")

    # ------------------------------------------------------------------ state

    @property
    def messages(self) -> list[BotMessage]:
        """Return all bot messages in this chat (current state, oldest first)."""
        return self.api.messages(self.user_id)

    @property
    def last_message(self) -> BotMessage | None:
        """Return the newest non-deleted bot message."""
        return self.api.last_message(self.user_id)

    @property
    def reply_keyboard(self) -> JSONDict | None:
        """Return the reply keyboard currently shown to the user (last one sent)."""
        return self.api.reply_keyboard(self.user_id)

    def current(self, message: BotMessage | int) -> BotMessage:
        """Return the current state of a message seen earlier."""
        message_id = message.message_id if isinstance(message, BotMessage) else message
        return self.api.message(self.user_id, message_id)

    def file_bytes(self, message: BotMessage) -> bytes:
        """Return the bytes of the document or photo in message."""
        stored = message.document or message.photo
        if stored is None:
            raise LookupError(f"message {message.message_id} has no file")
        return stored.data
