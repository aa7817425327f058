"""Announcements leaving the outbox: the BROADCAST renderer and the progress watcher.

Each recipient's copy is a pending send the dispatcher delivers at the broadcast pace
(schedules.pacing); the renderer below picks the recipient's language. The watcher
counts the copies by outcome every few seconds and edits the animator's progress
message (`Sent 340 / 1,200`) through a small `ProgressView`, ending with the delivery
report. Everything it shows is read from the database, so after a restart it simply
carries on with the broadcasts still sending.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlmodel import Session, and_, col, or_, select

from schedules.clock import Clock
from schedules.messages import Button, OutgoingMessage
from schedules.quiet_hours import is_quiet, quiet_end
from schedules.workers import worker_identity
from storage.activities.organising import detached
from storage.executor import Database
from storage.messaging.broadcasts import Progress, finish_if_done, progress
from storage.messaging.progress_claims import claim_progress, mark_reported
from storage.models import (
    Activity,
    ActivityStatus,
    Broadcast,
    BroadcastState,
    PendingSend,
    Person,
)
from storage.setting_values import QuietHours
from translations import Translator, translator

log = logging.getLogger(__name__)

# Finished broadcasts stay watched this long, so the last copies in flight when it was
# stopped still reach the animator's message…
FOLLOW_AFTER_END = timedelta(minutes=2)
# …and until the delivery report was shown, however long that takes, up to a day.
REPORT_GIVE_UP = timedelta(days=1)
# The process editing a progress message renews this lease every tick; when it stops
# or dies another process takes over after at most this long.
PROGRESS_LEASE = timedelta(seconds=3 * 4.0)
# The handler that started a broadcast shows its first progress itself; nobody edits the
# message again this soon, whichever process (Telegram allows one message a second there).
FIRST_EDIT_AFTER = timedelta(seconds=2)
# Each edit of the progress message takes a slot of Telegram's 30 messages a second.
TICK_SECONDS = 4.0


def render_broadcast(
    session: Session, send: PendingSend, person: Person, t: Translator
) -> OutgoingMessage | None:
    """One recipient's copy, in their language if the animator added it."""
    broadcast = session.get(Broadcast, send.broadcast_id) if send.broadcast_id else None
    if broadcast is None or broadcast.state == BroadcastState.CANCELLED:
        return None
    text = broadcast.translations.get(person.language) or broadcast.text
    buttons: tuple[tuple[Button, ...], ...] = ()
    if broadcast.activity_id is not None:
        activity = session.get(Activity, broadcast.activity_id)
        if activity is not None and activity.status == ActivityStatus.PUBLISHED:
            label = t._("📅 {title}").format(title=activity.title[:50])
            buttons = ((Button(label, callback_data=f"act:{activity.id}"),),)
    return OutgoingMessage(
        text=text,
        buttons=buttons,
        photo_file_id=broadcast.photo_file_id,
        exempt_from_quiet_hours=broadcast.urgent,
    )


class ProgressView(Protocol):
    """Shows the progress in the animator's chat (bot/ or handlers/ implement it)."""

    async def show(
        self,
        *,
        chat_id: int,
        message_id: int,
        text: str,
        stop_label: str | None,
        stop_data: str | None,
    ) -> None:
        """Edit the progress message; a stop button while it is still sending."""
        ...


def progress_text(t: Translator, found: Progress, *, resumes_at: datetime | None = None) -> str:
    """`📣 Sending: 340 / 1,200` while sending; the delivery report at the end."""
    b = found.broadcast
    report = [
        t._("Delivered: {n}").format(n=t.number(found.delivered)),
        t._("Unreachable (blocked the bot): {n}").format(n=t.number(found.unreachable)),
        t._("Failed: {n}").format(n=t.number(found.failed)),
    ]
    if found.skipped:
        report.append(t._("Not sent: {n}").format(n=t.number(found.skipped)))
    if b.state == BroadcastState.CANCELLED:
        head = t._("⏹ Sending stopped: {done} / {total} went out before that.").format(
            done=t.number(found.delivered + found.unreachable + found.failed),
            total=t.number(found.total),
        )
        return "\n".join([head, *report])
    if b.state == BroadcastState.DONE or found.finished:
        return "\n".join([t._("📣 The announcement has been sent."), *report])
    lines = [
        t._("📣 Announcement: sent {done} / {total}").format(
            done=t.number(found.done), total=t.number(found.total)
        )
    ]
    if resumes_at is not None:
        lines.append(
            t._("Quiet hours: the rest goes out at {time}.").format(time=t.time(resumes_at))
        )
    return "\n".join(lines)


def watched_broadcasts(session: Session, *, now: datetime) -> list[Broadcast]:
    """Broadcasts still sending, and those that ended moments ago."""
    rows = session.exec(
        select(Broadcast)
        .where(
            col(Broadcast.progress_message_id).is_not(None),
            or_(
                col(Broadcast.state) == BroadcastState.SENDING.value,
                col(Broadcast.finished_at) > now - FOLLOW_AFTER_END,
                and_(
                    col(Broadcast.reported_at).is_(None),
                    col(Broadcast.finished_at) > now - REPORT_GIVE_UP,
                ),
            ),
        )
        .order_by(col(Broadcast.id))
    )
    return [detached(row) for row in rows]


@dataclass(frozen=True)
class _Update:
    chat_id: int
    message_id: int
    text: str
    # The stop button's label in the author's language, while still sending.
    stop_label: str | None
    broadcast_id: int
    # The delivery report: once shown, no process edits the message again.
    final: bool


class BroadcastProgress:
    """Keeps every running broadcast's progress message up to date."""

    def __init__(
        self,
        *,
        db: Database,
        view: ProgressView,
        clock: Clock,
        zone_name: str,
        quiet_hours: QuietHours,
        worker: str | None = None,
        is_dead: Callable[[str], bool] = lambda _worker: False,
    ) -> None:
        self._db = db
        self.worker = worker or worker_identity()
        self._is_dead = is_dead
        self._view = view
        self._clock = clock
        self._zone_name = zone_name
        self._quiet_hours = quiet_hours
        self._shown: dict[int, str] = {}
        self._reported_ids: set[int] = set()

    def _collect(self, session: Session, *, now: datetime) -> list[_Update]:
        updates = []
        for broadcast in watched_broadcasts(session, now=now):
            assert broadcast.id is not None
            if broadcast.started_at is not None and broadcast.started_at > now - FIRST_EDIT_AFTER:
                continue
            if broadcast.reported_at is not None and broadcast.progress_owner != self.worker:
                continue  # its report is shown; only stragglers of the owner's could change it
            if not claim_progress(
                session,
                broadcast_id=broadcast.id,
                worker=self.worker,
                now=now,
                lease=PROGRESS_LEASE,
                is_dead=self._is_dead,
            ):
                continue  # another process shows this one
            finished = finish_if_done(session, broadcast_id=broadcast.id, now=now)
            found = finished or progress(session, broadcast_id=broadcast.id)
            author = session.get(Person, broadcast.author_id)
            t = translator(author.language if author else "pl", self._zone_name)
            resumes_at = None
            if (
                not broadcast.urgent
                and self._quiet_hours is not None
                and is_quiet(now, self._quiet_hours, t.zone)
            ):
                resumes_at = quiet_end(now, self._quiet_hours, t.zone)
            sending = found.broadcast.state == BroadcastState.SENDING
            if broadcast.progress_chat_id is None or broadcast.progress_message_id is None:
                continue
            updates.append(
                _Update(
                    broadcast.progress_chat_id,
                    broadcast.progress_message_id,
                    progress_text(t, found, resumes_at=resumes_at),
                    t._("⏹ Stop sending") if sending else None,
                    broadcast.id,
                    final=not sending and found.finished,
                )
            )
        return updates

    async def tick(self) -> None:
        """Count every watched broadcast and edit messages whose text changed."""
        # A write: finishing a broadcast is recorded in the same step as counting it.
        updates = await self._db.write(self._collect, now=self._clock.now())
        for update in updates:
            if self._shown.get(update.broadcast_id) == update.text:
                await self._reported(update)
                continue
            stop_data = f"anb:stop:{update.broadcast_id}" if update.stop_label else None
            try:
                await self._view.show(
                    chat_id=update.chat_id,
                    message_id=update.message_id,
                    text=update.text,
                    stop_label=update.stop_label,
                    stop_data=stop_data,
                )
            except Exception:
                log.warning(
                    "could not update progress of broadcast %s", update.broadcast_id, exc_info=True
                )
                continue
            self._shown[update.broadcast_id] = update.text
            await self._reported(update)

    async def _reported(self, update: _Update) -> None:
        if update.final and update.broadcast_id not in self._reported_ids:
            await self._db.write(
                mark_reported,
                broadcast_id=update.broadcast_id,
                worker=self.worker,
                now=self._clock.now(),
            )
            self._reported_ids.add(update.broadcast_id)
