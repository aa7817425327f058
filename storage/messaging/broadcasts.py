"""Announcements (broadcasts): audiences, limits, and handing every copy to the outbox.

Starting a broadcast writes the Broadcast row and one pending send per recipient in one
transaction, each with the dedupe key `broadcast:{id}:{person_id}`. The outbox
dispatcher then delivers them at the broadcast pace, and its claim-before-send rule is
what makes a crash mid-way resume without anybody getting a second copy. Progress and
the delivery report are counted from those rows; nothing here talks to Telegram.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, exists, func
from sqlmodel import Session, col, select

from storage.activities.organising import Actor, detached, managed_activity
from storage.audit import AuditAction, record
from storage.messaging.outbox import UNREACHABLE, NewSend, cancel_pending, enqueue_many
from storage.models import (
    Activity,
    Broadcast,
    BroadcastState,
    ParticipantCode,
    PendingSend,
    Person,
    Registration,
    RegistrationStatus,
    SendKind,
    SendState,
    SurveyResponse,
)
from storage.models.people import OnboardingStep
from storage.people.memberships import members_of
from storage.surveys.questionnaires import SurveyPhase
from storage.text_rule import InvalidText, TextProblem, forbidden_character

# Telegram's limits: a message text, and a photo caption.
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
TRANSLATION_LANGUAGES = ("pl", "uk", "en")


class Audience(StrEnum):
    """Who an announcement goes to."""

    PROGRAMME = "programme"
    PLACES = "places"  # people holding a place in one activity
    RESERVE = "reserve"  # its reserve list
    NO_INITIAL = "no_initial"  # residents without a submitted initial survey
    NO_FINAL = "no_final"  # residents without a submitted final survey


ACTIVITY_AUDIENCES = frozenset({Audience.PLACES, Audience.RESERVE})


class BroadcastTooLong(ValueError):
    """The text is over Telegram's limit; `length` and `limit` are shown to the animator."""

    def __init__(self, length: int, limit: int, language: str | None = None) -> None:
        super().__init__(f"{length} > {limit}")
        self.length = length
        self.limit = limit
        self.language = language


class BroadcastEmpty(ValueError):
    """Nothing to send: empty text, or nobody in the audience."""


class BroadcastNotFound(LookupError):
    """No such broadcast, or not this animator's to cancel."""


def text_limit(*, with_photo: bool) -> int:
    """The longest text Telegram takes: a caption under a photo is shorter."""
    return CAPTION_LIMIT if with_photo else TEXT_LIMIT


def check_length(text: str, *, with_photo: bool, language: str | None = None) -> None:
    """Refuse a text over Telegram's limit (or breaking the text rule) before sending.

    Telegram counts UTF-16 code units, so an emoji counts as two.
    """
    if (char := forbidden_character(text, multiline=True)) is not None:
        # The text rule (storage.text_rule) holds for announcements too.
        raise InvalidText(TextProblem.CONTROL, char=char)
    length = utf16_length(text)
    limit = text_limit(with_photo=with_photo)
    if length > limit:
        raise BroadcastTooLong(length, limit, language)


def utf16_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _reachable_residents(programme_id: int) -> tuple[ColumnElement[bool], ...]:
    """Conditions for people a message can reach in a programme."""
    return (
        members_of(programme_id),
        col(Person.telegram_id).is_not(None),
        col(Person.erased_at).is_(None),
        col(Person.unreachable_at).is_(None),
        col(Person.onboarding_step) == OnboardingStep.DONE.value,
    )


def recipients(
    session: Session,
    *,
    programme_id: int,
    audience: Audience,
    activity_id: int | None = None,
    author_id: int | None = None,
) -> list[int]:
    """Person ids the announcement would go to, in a stable order.

    Only people reachable in the chat count: people without Telegram, people who blocked
    the bot and erased records are left out. The author is left out too: the preview
    was their copy.
    """
    query = select(Person.id).where(*_reachable_residents(programme_id))
    if author_id is not None:
        query = query.where(col(Person.id) != author_id)
    if audience in ACTIVITY_AUDIENCES:
        if activity_id is None:
            raise ValueError(f"audience {audience} needs an activity")
        status = (
            RegistrationStatus.CONFIRMED
            if audience == Audience.PLACES
            else RegistrationStatus.RESERVE
        )
        query = query.where(
            exists().where(
                col(Registration.person_id) == col(Person.id),
                col(Registration.activity_id) == activity_id,
                col(Registration.status) == status.value,
            )
        )
    elif audience in (Audience.NO_INITIAL, Audience.NO_FINAL):
        phase = SurveyPhase.INITIAL if audience == Audience.NO_INITIAL else SurveyPhase.FINAL
        answered = (
            select(ParticipantCode.person_id)
            .join(
                SurveyResponse,
                col(SurveyResponse.participant_code_id) == col(ParticipantCode.id),
            )
            .where(
                and_(
                    col(SurveyResponse.programme_id) == programme_id,
                    col(SurveyResponse.phase) == phase.value,
                    col(SurveyResponse.submitted_at).is_not(None),
                    col(ParticipantCode.person_id).is_not(None),
                )
            )
        )
        query = query.where(col(Person.id).not_in(answered))
    return [int(pid) for pid in session.exec(query.order_by(col(Person.id))).all() if pid]


@dataclass(frozen=True)
class BroadcastDraft:
    """What the animator composed, before it is started."""

    text: str
    audience: Audience
    audience_activity_id: int | None = None
    photo_file_id: str | None = None
    link_activity_id: int | None = None
    translations: Mapping[str, str] | None = None
    urgent: bool = False


def validate_draft(session: Session, draft: BroadcastDraft, *, actor: Actor) -> None:
    """Check texts against the limits and activities against the animator's rights."""
    if not draft.text.strip():
        raise BroadcastEmpty("text")
    with_photo = draft.photo_file_id is not None
    check_length(draft.text, with_photo=with_photo)
    for language, text in (draft.translations or {}).items():
        if language not in TRANSLATION_LANGUAGES:
            raise ValueError(f"unsupported language {language!r}")
        check_length(text, with_photo=with_photo, language=language)
    if draft.audience in ACTIVITY_AUDIENCES:
        if draft.audience_activity_id is None:
            raise ValueError("audience needs an activity")
        managed_activity(session, activity_id=draft.audience_activity_id, actor=actor)
    if draft.link_activity_id is not None:
        activity = session.get(Activity, draft.link_activity_id)
        if activity is None or (
            actor.programme_id is not None
            and activity.programme_id != actor.programme_id
            and not actor.is_admin
        ):
            raise BroadcastNotFound(draft.link_activity_id)


def start_broadcast(
    session: Session,
    *,
    draft: BroadcastDraft,
    programme_id: int,
    actor: Actor,
    progress_chat_id: int | None,
    now: datetime,
    progress_message_id: int | None = None,
) -> Broadcast:
    """Create the broadcast and one pending send per recipient, all or nothing."""
    validate_draft(session, draft, actor=actor)
    people = recipients(
        session,
        programme_id=programme_id,
        audience=draft.audience,
        activity_id=draft.audience_activity_id,
        author_id=actor.person_id,
    )
    if not people:
        raise BroadcastEmpty("audience")
    broadcast = Broadcast(
        programme_id=programme_id,
        author_id=actor.person_id,
        text=draft.text,
        translations=dict(draft.translations or {}),
        photo_file_id=draft.photo_file_id,
        activity_id=draft.link_activity_id,
        audience=draft.audience.value,
        audience_activity_id=draft.audience_activity_id,
        urgent=draft.urgent,
        state=BroadcastState.SENDING,
        progress_chat_id=progress_chat_id,
        progress_message_id=progress_message_id,
        created_at=now,
        started_at=now,
    )
    session.add(broadcast)
    session.flush()
    assert broadcast.id is not None
    enqueue_many(
        session,
        [
            NewSend(
                kind=SendKind.BROADCAST,
                person_id=person_id,
                due_at=now,
                broadcast_id=broadcast.id,
                programme_id=programme_id,
                dedupe_key=f"broadcast:{broadcast.id}:{person_id}",
            )
            for person_id in people
        ],
    )
    record(
        session,
        actor_id=actor.person_id,
        action=AuditAction.BROADCAST_STARTED,
        subject_type="broadcast",
        subject_id=broadcast.id,
        details={
            "programme_id": programme_id,
            "audience": draft.audience.value,
            "activity_id": draft.audience_activity_id,
            "recipients": len(people),
            "urgent": draft.urgent,
            "photo": draft.photo_file_id is not None,
            "languages": sorted((draft.translations or {}).keys()),
        },
        at=now,
    )
    return broadcast


def set_progress_message(session: Session, *, broadcast_id: int, message_id: int) -> None:
    """Remember the animator's progress message so it can be edited as sends go out."""
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is not None:
        broadcast.progress_message_id = message_id
        session.add(broadcast)


@dataclass(frozen=True)
class Progress:
    """How far a broadcast has got, counted from its pending sends."""

    broadcast: Broadcast
    total: int
    delivered: int
    unreachable: int
    failed: int
    # Dropped by the renderer (e.g. the person was erased meanwhile) or withdrawn.
    skipped: int
    waiting: int

    @property
    def done(self) -> int:
        """Sends that have ended one way or another."""
        return self.total - self.waiting

    @property
    def finished(self) -> bool:
        """Whether nothing is left to send."""
        return self.waiting == 0


def _is_unreachable(error: str | None) -> bool:
    # The sender writes this when Telegram said the person blocked the bot.
    return error is not None and error.startswith(UNREACHABLE)


def progress(session: Session, *, broadcast_id: int) -> Progress:
    """Count the broadcast's sends by outcome."""
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise BroadcastNotFound(broadcast_id)
    rows = session.exec(
        select(PendingSend.state, PendingSend.last_error, func.count())
        .where(PendingSend.broadcast_id == broadcast_id)
        .group_by(col(PendingSend.state), col(PendingSend.last_error))
    ).all()
    total = delivered = unreachable = failed = skipped = waiting = 0
    for state, error, count in rows:
        n = int(count)
        total += n
        if state == SendState.SENT:
            delivered += n
        elif state in (SendState.PENDING, SendState.CLAIMED):
            waiting += n
        elif _is_unreachable(error):
            unreachable += n
        elif state == SendState.FAILED:
            failed += n
        else:
            skipped += n
    return Progress(detached(broadcast), total, delivered, unreachable, failed, skipped, waiting)


def finish_if_done(session: Session, *, broadcast_id: int, now: datetime) -> Progress | None:
    """Close a sending broadcast once nothing is left; returns its final progress then."""
    found = progress(session, broadcast_id=broadcast_id)
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None or broadcast.state != BroadcastState.SENDING or not found.finished:
        return None
    broadcast.state = BroadcastState.DONE
    broadcast.finished_at = now
    session.add(broadcast)
    record(
        session,
        actor_id=None,
        action=AuditAction.BROADCAST_FINISHED,
        subject_type="broadcast",
        subject_id=broadcast_id,
        details={
            "delivered": found.delivered,
            "unreachable": found.unreachable,
            "failed": found.failed,
            "skipped": found.skipped,
        },
        at=now,
    )
    return progress(session, broadcast_id=broadcast_id)


def cancel_broadcast(
    session: Session, *, broadcast_id: int, actor: Actor, now: datetime
) -> Progress:
    """Stop a running broadcast: copies not yet handed to Telegram are withdrawn."""
    broadcast = session.exec(
        select(Broadcast).where(Broadcast.id == broadcast_id).with_for_update()
    ).first()
    if broadcast is None or (broadcast.author_id != actor.person_id and not actor.is_admin):
        raise BroadcastNotFound(broadcast_id)
    if broadcast.state == BroadcastState.SENDING:
        withdrawn = cancel_pending(session, broadcast_id=broadcast_id, kinds=[SendKind.BROADCAST])
        broadcast.state = BroadcastState.CANCELLED
        broadcast.finished_at = now
        session.add(broadcast)
        record(
            session,
            actor_id=actor.person_id,
            action=AuditAction.BROADCAST_CANCELLED,
            subject_type="broadcast",
            subject_id=broadcast_id,
            details={"withdrawn": withdrawn},
            at=now,
        )
        session.flush()
    return progress(session, broadcast_id=broadcast_id)


def running_broadcasts(session: Session) -> list[Broadcast]:
    """Broadcasts still sending (the progress watcher follows these)."""
    return [
        detached(b)
        for b in session.exec(
            select(Broadcast)
            .where(col(Broadcast.state) == BroadcastState.SENDING.value)
            .order_by(col(Broadcast.id))
        )
    ]


def recent_broadcasts(session: Session, *, actor: Actor, limit: int = 5) -> list[Broadcast]:
    """The animator's latest broadcasts (admins: the programme's), newest first."""
    query = select(Broadcast)
    if not actor.is_admin:
        query = query.where(Broadcast.author_id == actor.person_id)
    elif actor.programme_id is not None:
        query = query.where(Broadcast.programme_id == actor.programme_id)
    rows = session.exec(query.order_by(col(Broadcast.id).desc()).limit(limit))
    return [detached(b) for b in rows]
