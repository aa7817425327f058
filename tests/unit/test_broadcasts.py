"""Broadcast rules: audiences, Telegram's length limits, one send per recipient, progress."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from schedules.clock import FrozenClock
from storage.activities.organising import Actor, NotYourActivity
from storage.db import read_only, transaction
from storage.messaging.broadcasts import (
    Audience,
    BroadcastDraft,
    BroadcastEmpty,
    BroadcastNotFound,
    BroadcastTooLong,
    cancel_broadcast,
    check_length,
    finish_if_done,
    progress,
    recipients,
    start_broadcast,
)
from storage.messaging.outbox import UNREACHABLE
from storage.models import (
    AuditEntry,
    BroadcastState,
    ParticipantCode,
    PendingSend,
    Person,
    SendState,
    SurveyResponse,
)
from tests.support.animator import Scene, make_scene


def _answered(
    engine: Engine, person_id: int, programme_id: int, phase: str, submitted: bool = True
) -> None:
    with transaction(engine) as session:
        code = session.exec(
            select(ParticipantCode).where(ParticipantCode.person_id == person_id)
        ).first()
        if code is None:
            code = ParticipantCode(
                code=f"C{person_id:06d}", person_id=person_id, programme_id=programme_id
            )
            session.add(code)
            session.flush()
        assert code.id is not None
        response = SurveyResponse(
            participant_code_id=code.id,
            programme_id=programme_id,
            phase=phase,
            questionnaire_id="pal-default",
            questionnaire_version="1",
        )
        if submitted:
            response.submitted_at = datetime(2026, 11, 1, tzinfo=UTC)
        session.add(response)


def _scene(engine: Engine, clock: FrozenClock) -> Scene:
    return make_scene(engine, clock.now(), places=2, people=5)


def test_the_author_is_left_out(engine: Engine, clock: FrozenClock) -> None:
    scene = _scene(engine, clock)
    with read_only(engine) as session:
        found = recipients(
            session,
            programme_id=scene.programme_id,
            audience=Audience.PROGRAMME,
            author_id=scene.animator_id,
        )
    assert found == sorted([*scene.placed, *scene.reserve])


def test_audiences(engine: Engine, clock: FrozenClock) -> None:
    scene = _scene(engine, clock)
    everyone = sorted([scene.animator_id, *scene.placed, *scene.reserve])
    _answered(engine, scene.placed[0], scene.programme_id, "initial")
    _answered(engine, scene.placed[1], scene.programme_id, "initial", submitted=False)
    _answered(engine, scene.reserve[0], scene.programme_id, "final")
    with read_only(engine) as session:

        def who(audience: Audience, activity_id: int | None = None) -> list[int]:
            return recipients(
                session, programme_id=scene.programme_id, audience=audience, activity_id=activity_id
            )

        assert who(Audience.PROGRAMME) == everyone
        assert who(Audience.PLACES, scene.activity_id) == scene.placed
        assert who(Audience.RESERVE, scene.activity_id) == scene.reserve
        assert who(Audience.NO_INITIAL) == [p for p in everyone if p != scene.placed[0]]
        assert who(Audience.NO_FINAL) == [p for p in everyone if p != scene.reserve[0]]


def test_people_who_cannot_be_reached_are_left_out(engine: Engine, clock: FrozenClock) -> None:
    scene = _scene(engine, clock)
    with transaction(engine) as session:
        blocked = session.get(Person, scene.placed[0])
        erased = session.get(Person, scene.reserve[0])
        assert blocked is not None and erased is not None
        blocked.unreachable_at = clock.now()
        erased.erased_at = clock.now()
        session.add_all([blocked, erased])
        programme_id = scene.programme_id
        paper = Person(
            display_name="Pani Irena",
            programme_id=programme_id,
            created_by_id=scene.animator_id,
            onboarding_step="done",
        )
        session.add(paper)
        unfinished = Person(telegram_id=77, programme_id=programme_id, onboarding_step="name")
        session.add(unfinished)
    with read_only(engine) as session:
        found = recipients(session, programme_id=scene.programme_id, audience=Audience.PROGRAMME)
    assert scene.placed[0] not in found and scene.reserve[0] not in found
    assert len(found) == 4


@pytest.mark.parametrize(
    ("text", "photo", "length", "limit"),
    [
        ("a" * 4097, False, 4097, 4096),
        ("a" * 1025, True, 1025, 1024),
        # Telegram counts UTF-16 units: an emoji is two.
        ("😀" * 2049, False, 4098, 4096),
    ],
)
def test_over_long_texts_are_refused_with_the_length(
    text: str, photo: bool, length: int, limit: int
) -> None:
    with pytest.raises(BroadcastTooLong) as caught:
        check_length(text, with_photo=photo)
    assert (caught.value.length, caught.value.limit) == (length, limit)
    check_length(text[: limit // 2], with_photo=photo)


def test_start_creates_one_send_per_recipient_in_one_go(engine: Engine, clock: FrozenClock) -> None:
    scene = _scene(engine, clock)
    draft = BroadcastDraft(
        text="Jutro spotkanie o 17:00.",
        audience=Audience.PROGRAMME,
        translations={"uk": "Завтра зустріч о 17:00."},
    )
    with transaction(engine) as session:
        broadcast = start_broadcast(
            session,
            draft=draft,
            programme_id=scene.programme_id,
            actor=scene.actor,
            progress_chat_id=900,
            now=clock.now(),
        )
        broadcast_id = broadcast.id
    with read_only(engine) as session:
        sends = session.exec(select(PendingSend).where(PendingSend.kind == "broadcast")).all()
        # Everyone but the author, whose copy was the preview.
        assert sorted(s.person_id or 0 for s in sends) == sorted([*scene.placed, *scene.reserve])
        assert {s.dedupe_key for s in sends} == {
            f"broadcast:{broadcast_id}:{s.person_id}" for s in sends
        }
        assert {(s.kind, s.state, s.broadcast_id) for s in sends} == {
            ("broadcast", "pending", broadcast_id)
        }
        entry = session.exec(
            select(AuditEntry).where(AuditEntry.action == "broadcast.started")
        ).one()
        assert entry.action == "broadcast.started"
        assert entry.details["recipients"] == 5
        assert "spotkanie" not in str(entry.details)
        found = progress(session, broadcast_id=broadcast_id or 0)
        assert (found.total, found.waiting, found.finished) == (5, 5, False)


def test_translation_over_the_limit_is_refused_too(engine: Engine, clock: FrozenClock) -> None:
    scene = _scene(engine, clock)
    draft = BroadcastDraft(
        text="Krótko.",
        audience=Audience.PROGRAMME,
        photo_file_id="photo-1",
        translations={"en": "x" * 1100},
    )
    with transaction(engine) as session, pytest.raises(BroadcastTooLong) as caught:
        start_broadcast(
            session,
            draft=draft,
            programme_id=scene.programme_id,
            actor=scene.actor,
            progress_chat_id=None,
            now=clock.now(),
        )
    assert (caught.value.language, caught.value.length) == ("en", 1100)
    with read_only(engine) as session:
        assert session.exec(select(PendingSend).where(PendingSend.kind == "broadcast")).all() == []


def test_another_animators_activity_is_refused(engine: Engine, clock: FrozenClock) -> None:
    scene = _scene(engine, clock)
    other = make_scene(engine, clock.now(), first_telegram_id=7000, animator_telegram_id=950)
    with transaction(engine) as session, pytest.raises(NotYourActivity):
        start_broadcast(
            session,
            draft=BroadcastDraft(
                text="x", audience=Audience.PLACES, audience_activity_id=other.activity_id
            ),
            programme_id=scene.programme_id,
            actor=scene.actor,
            progress_chat_id=None,
            now=clock.now(),
        )
    with read_only(engine) as session:
        assert session.exec(select(PendingSend).where(PendingSend.kind == "broadcast")).all() == []


def test_progress_counts_outcomes_and_finishes(engine: Engine, clock: FrozenClock) -> None:
    scene = _scene(engine, clock)
    with transaction(engine) as session:
        broadcast = start_broadcast(
            session,
            draft=BroadcastDraft(text="Hej", audience=Audience.PROGRAMME),
            programme_id=scene.programme_id,
            actor=scene.actor,
            progress_chat_id=900,
            now=clock.now(),
        )
        broadcast_id = broadcast.id or 0
    outcomes = [(SendState.SENT, None)] * 2 + [
        (SendState.FAILED, UNREACHABLE),
        (SendState.FAILED, "BadRequest"),
        (SendState.DROPPED, "person erased"),
    ]
    with transaction(engine) as session:
        sends = session.exec(
            select(PendingSend)
            .where(PendingSend.broadcast_id == broadcast_id)
            .order_by(col(PendingSend.id))
        ).all()
        for send, (state, error) in zip(sends[:4], outcomes, strict=False):
            send.state, send.last_error = state, error
            session.add(send)
        assert finish_if_done(session, broadcast_id=broadcast_id, now=clock.now()) is None
        last = sends[4]
        last.state, last.last_error = outcomes[4]
        session.add(last)
        session.flush()
        found = finish_if_done(session, broadcast_id=broadcast_id, now=clock.now())
        assert found is not None
        assert (found.delivered, found.unreachable, found.failed, found.skipped) == (2, 1, 1, 1)
        assert found.broadcast.state == BroadcastState.DONE
        # Only once.
        assert finish_if_done(session, broadcast_id=broadcast_id, now=clock.now()) is None


def test_cancel_withdraws_what_is_not_sent_yet(engine: Engine, clock: FrozenClock) -> None:
    scene = _scene(engine, clock)
    with transaction(engine) as session:
        broadcast = start_broadcast(
            session,
            draft=BroadcastDraft(text="Hej", audience=Audience.PROGRAMME),
            programme_id=scene.programme_id,
            actor=scene.actor,
            progress_chat_id=900,
            now=clock.now(),
        )
        broadcast_id = broadcast.id or 0
        first = session.exec(
            select(PendingSend).where(PendingSend.broadcast_id == broadcast_id)
        ).first()
        assert first is not None
        first.state = SendState.SENT
        session.add(first)
    stranger = Actor.animator(scene.placed[0], scene.programme_id)
    with transaction(engine) as session, pytest.raises(BroadcastNotFound):
        cancel_broadcast(session, broadcast_id=broadcast_id, actor=stranger, now=clock.now())
    with transaction(engine) as session:
        found = cancel_broadcast(
            session, broadcast_id=broadcast_id, actor=scene.actor, now=clock.now()
        )
    assert (found.delivered, found.skipped, found.waiting) == (1, 4, 0)
    assert found.broadcast.state == BroadcastState.CANCELLED
    with read_only(engine) as session:
        actions = [
            e.action
            for e in session.exec(select(AuditEntry).where(AuditEntry.subject_type == "broadcast"))
        ]
    assert actions == ["broadcast.started", "broadcast.cancelled"]


def test_reserve_audience_may_come_up_empty(engine: Engine, clock: FrozenClock) -> None:
    scene = make_scene(engine, clock.now(), places=10, people=2)
    with transaction(engine) as session, pytest.raises(BroadcastEmpty):
        start_broadcast(
            session,
            draft=BroadcastDraft(
                text="x", audience=Audience.RESERVE, audience_activity_id=scene.activity_id
            ),
            programme_id=scene.programme_id,
            actor=scene.actor,
            progress_chat_id=None,
            now=clock.now() + timedelta(minutes=1),
        )
