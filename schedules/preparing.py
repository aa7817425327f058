"""Claiming due sends and turning each into a message, or settling it on the spot.

Runs in one database transaction (a worker thread): claim a handful of due rows, then
for each decide what happens — drop it (person erased or unreachable, activity gone,
reminder too late, renderer says no longer relevant), hold it until quiet hours end,
retry it later (no renderer, renderer failed), or render it in the person's language
and hand it back ready to send.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from schedules.messages import OutgoingMessage, Renderer
from schedules.quiet_hours import effective_quiet_hours, held_until
from storage.messaging.claims import claim_due, hold_until, mark_dropped, mark_retry, retry_delay
from storage.messaging.outbox import UNREACHABLE
from storage.messaging.reminders import later_reminder_due
from storage.models import Activity, PendingSend, Person, Programme, SendKind
from storage.setting_values import QuietHours
from translations import translator

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ready:
    """A claimed send rendered and ready for the Sender."""

    send_id: int
    attempts: int
    kind: str
    person_id: int | None
    chat_id: int
    message: OutgoingMessage


@dataclass
class Batch:
    """What one claim transaction produced: sends to make, and how many were settled."""

    ready: list[Ready] = field(default_factory=list)
    retired: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Preparer:
    """Claims and prepares sends for one worker."""

    worker: str
    timezone: str
    quiet_hours: QuietHours
    renderers: Mapping[str, Renderer]

    def claim(self, session: Session, *, now: datetime, limit: int, busy: frozenset[int]) -> Batch:
        """Claim up to `limit` due sends (none for `busy` people) and prepare each."""
        batch = Batch()
        for send in claim_due(session, worker=self.worker, now=now, limit=limit, busy_people=busy):
            outcome = self.prepare(session, send, now)
            if isinstance(outcome, Ready):
                batch.ready.append(outcome)
            else:
                batch.retired[outcome] += 1
        return batch

    def prepare(self, session: Session, send: PendingSend, now: datetime) -> Ready | str:
        """Render a claimed send, or settle it here; returns it ready, or what happened."""
        assert send.id is not None
        person = session.get(Person, send.person_id) if send.person_id is not None else None
        if person is None or person.erased_at is not None:
            return self._drop(session, send, "person erased")
        if person.telegram_id is None:
            return self._drop(session, send, "no Telegram chat")
        if person.unreachable_at is not None:
            return self._drop(session, send, UNREACHABLE)
        activity = session.get(Activity, send.activity_id) if send.activity_id else None
        if send.activity_id is not None and activity is None:
            return self._drop(session, send, "activity gone")
        if activity is not None and send.kind == SendKind.REMINDER and activity.starts_at <= now:
            log.info("reminder %s came too late (activity %s has started)", send.id, activity.id)
            return self._drop(session, send, "activity started")
        if activity is not None and send.kind == SendKind.CHANGE and activity.ends_at <= now:
            return self._drop(session, send, "activity over")
        render = self.renderers.get(send.kind)
        if render is None:
            log.error("no renderer for %s (send %s)", send.kind, send.id)
            return self._retry(session, send, now, "no renderer")
        t = translator(person.language, self.timezone)
        try:
            message = render(session, send, person, t)
        except Exception as exc:
            log.exception("renderer for %s failed on send %s", send.kind, send.id)
            return self._retry(session, send, now, type(exc).__name__)
        if message is None:
            return self._drop(session, send, "no longer relevant")
        hold = held_until(
            send.kind,
            message,
            now=now,
            hours=self._quiet_hours(session, send, activity, person),
            zone=t.zone,
            activity_starts_at=activity.starts_at if activity else None,
        )
        if hold is not None:
            return self._hold(session, send, hold, activity)
        return Ready(send.id, send.attempts, send.kind, person.id, person.telegram_id, message)

    def _drop(self, session: Session, send: PendingSend, reason: str) -> str:
        assert send.id is not None
        mark_dropped(session, send_id=send.id, worker=self.worker, reason=reason)
        log.info("send %s (%s) dropped: %s", send.id, send.kind, reason)
        return "dropped"

    def _retry(self, session: Session, send: PendingSend, now: datetime, error: str) -> str:
        assert send.id is not None
        mark_retry(
            session,
            send_id=send.id,
            worker=self.worker,
            attempts=send.attempts,
            due_at=now + retry_delay(send.attempts + 1),
            error=error,
        )
        return "retry"

    def _hold(
        self, session: Session, send: PendingSend, until: datetime, activity: Activity | None
    ) -> str:
        assert send.id is not None
        if send.kind == SendKind.REMINDER and activity is not None:
            later = later_reminder_due(session, send)
            if until >= activity.starts_at or (later is not None and until >= later):
                # The next reminder (or the activity itself) comes first: this one is moot.
                return self._drop(session, send, "superseded during quiet hours")
        hold_until(session, send_id=send.id, worker=self.worker, due_at=until)
        return "held"

    def _quiet_hours(
        self, session: Session, send: PendingSend, activity: Activity | None, person: Person
    ) -> QuietHours:
        programme_id = (
            send.programme_id
            or (activity.programme_id if activity else None)
            or (person.programme_id)
        )
        programme = session.get(Programme, programme_id) if programme_id else None
        return effective_quiet_hours(programme.quiet_hours if programme else None, self.quiet_hours)
