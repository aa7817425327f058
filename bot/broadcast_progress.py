"""Progress messages of announcements, edited in the animator's chat as copies go out.

schedules.broadcast counts and words the progress; this is its Telegram side: a
`ProgressView` that edits the message, and the repeating job that drives the watcher.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram.error import BadRequest, Forbidden

import schedules.broadcast
from bot.context import PalApplication
from bot.keyboards import inline
from schedules.broadcast import BroadcastProgress
from schedules.pacing import Lane
from schedules.workers import is_dead_worker

log = logging.getLogger(__name__)
PROGRESS = "broadcast_progress"


class ChatProgressView:
    """Edits progress messages through the bot (a schedules.broadcast.ProgressView)."""

    def __init__(self, app: PalApplication) -> None:
        self._app = app

    async def show(
        self,
        *,
        chat_id: int,
        message_id: int,
        text: str,
        stop_label: str | None,
        stop_data: str | None,
    ) -> None:
        """Edit the message; "not modified" and a vanished chat are not errors."""
        markup = inline([[(stop_label, stop_data)]]) if stop_label and stop_data else None
        # A bulk send for the pacer: it waits for the chat's own spacing, also after a
        # reply another process just sent there, instead of going ahead of it.
        extra: dict[str, Any] = {}
        if self._app.bot.rate_limiter is not None:
            extra["rate_limit_args"] = {"lane": Lane.BULK.value}
        try:
            await self._app.bot.edit_message_text(
                text, chat_id=chat_id, message_id=message_id, reply_markup=markup, **extra
            )
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise
        except Forbidden:
            # No chat id in the log: for a one-to-one chat it is the Telegram id.
            log.info("an animator's chat blocked the bot; progress not shown")


def progress_watcher(app: PalApplication) -> BroadcastProgress:
    """The application's progress watcher (made on first use)."""
    services = app.bot_data["services"]
    watcher = services.extras.get(PROGRESS)
    if watcher is None:
        settings = services.settings
        watcher = BroadcastProgress(
            db=services.db,
            view=ChatProgressView(app),
            clock=services.clock,
            zone_name=settings.timezone,
            quiet_hours=settings.quiet_hours,
            is_dead=is_dead_worker,
        )
        services.extras[PROGRESS] = watcher
    assert isinstance(watcher, BroadcastProgress)
    return watcher


async def start_progress(app: PalApplication) -> None:
    """Start editing progress messages every few seconds (a start hook)."""
    watcher = progress_watcher(app)

    async def tick(_context: Any) -> None:
        try:
            await watcher.tick()
        except Exception:
            log.exception("broadcast progress tick failed")

    if app.job_queue is not None:
        app.job_queue.run_repeating(
            tick, interval=schedules.broadcast.TICK_SECONDS, first=1.0, name="broadcast-progress"
        )
