"""What each recipient gets, and what the animator's progress message says."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import select

from schedules.broadcast import progress_text, render_broadcast, watched_broadcasts
from schedules.clock import FrozenClock
from storage.db import read_only, transaction
from storage.messaging.broadcasts import Audience, BroadcastDraft, Progress, start_broadcast
from storage.models import Activity, Broadcast, PendingSend, Person
from tests.support.animator import make_scene
from translations import translator


def test_each_person_gets_their_language_a_button_and_urgency(
    engine: Engine, clock: FrozenClock
) -> None:
    scene = make_scene(engine, clock.now(), places=3, people=3)
    draft = BroadcastDraft(
        text="Jutro o 17:00.",
        audience=Audience.PLACES,
        audience_activity_id=scene.activity_id,
        link_activity_id=scene.activity_id,
        urgent=True,
        translations={"uk": "Завтра о 17:00."},
    )
    with transaction(engine) as session:
        olena = session.get(Person, scene.placed[2])
        assert olena is not None
        olena.language = "uk"
        start_broadcast(
            session,
            draft=draft,
            programme_id=scene.programme_id,
            actor=scene.actor,
            progress_chat_id=900,
            now=clock.now(),
            progress_message_id=77,
        )
    with read_only(engine) as session:
        sends = session.exec(select(PendingSend).where(PendingSend.kind == "broadcast")).all()
        rendered = {}
        for send in sends:
            person = session.get(Person, send.person_id)
            assert person is not None
            message = render_broadcast(session, send, person, translator(person.language))
            assert message is not None
            rendered[person.id] = message
    assert rendered[scene.placed[0]].text == "Jutro o 17:00."
    assert rendered[scene.placed[2]].text == "Завтра о 17:00."
    button = rendered[scene.placed[0]].buttons[0][0]
    assert button.callback_data == f"act:{scene.activity_id}"
    assert all(m.exempt_from_quiet_hours for m in rendered.values())


def test_cancelled_broadcasts_and_activities(engine: Engine, clock: FrozenClock) -> None:
    scene = make_scene(engine, clock.now(), places=3, people=2)
    with transaction(engine) as session:
        start_broadcast(
            session,
            draft=BroadcastDraft(
                text="x", audience=Audience.PROGRAMME, link_activity_id=scene.activity_id
            ),
            programme_id=scene.programme_id,
            actor=scene.actor,
            progress_chat_id=None,
            now=clock.now(),
        )
        activity = session.get(Activity, scene.activity_id)
        assert activity is not None
        activity.status = "cancelled"
    with transaction(engine) as session:
        send = session.exec(select(PendingSend).where(PendingSend.kind == "broadcast")).first()
        assert send is not None
        person = session.get(Person, send.person_id)
        assert person is not None
        message = render_broadcast(session, send, person, translator("pl"))
        # The activity was called off: the text still goes, without a button to it.
        assert message is not None and message.buttons == ()
        broadcast = session.exec(select(Broadcast)).one()
        broadcast.state = "cancelled"
        session.add(broadcast)
        session.flush()
        assert render_broadcast(session, send, person, translator("pl")) is None


def test_progress_wording_and_numbers(engine: Engine, clock: FrozenClock) -> None:
    broadcast = Broadcast(
        id=1, programme_id=1, author_id=1, text="x", audience="programme", state="sending"
    )
    sending = Progress(
        broadcast, total=1200, delivered=300, unreachable=30, failed=10, skipped=0, waiting=860
    )
    text = progress_text(translator("pl"), sending).replace("\u00a0", " ")
    assert text == "📣 Ogłoszenie: wysłano 340 / 1 200"
    assert "Announcement: sent 340 / 1,200" in progress_text(translator("en"), sending)
    quiet = progress_text(translator("pl"), sending, resumes_at=clock.now() + timedelta(hours=1))
    assert "Godziny ciszy: reszta wyjdzie o 11:00." in quiet
    done = Progress(
        Broadcast(id=1, programme_id=1, author_id=1, text="x", audience="x", state="done"),
        1200,
        1150,
        30,
        20,
        0,
        0,
    )
    report = progress_text(translator("pl"), done).replace("\u00a0", " ")
    assert report.splitlines() == [
        "📣 Ogłoszenie zostało wysłane.",
        "Dostarczono: 1 150",
        "Nieosiągalni (zablokowali bota): 30",
        "Nie udało się: 20",
    ]


def test_only_broadcasts_with_a_progress_message_are_watched(
    engine: Engine, clock: FrozenClock
) -> None:
    scene = make_scene(engine, clock.now(), places=3, people=2)
    with transaction(engine) as session:
        for message_id in (None, 5):
            start_broadcast(
                session,
                draft=BroadcastDraft(text="x", audience=Audience.PROGRAMME),
                programme_id=scene.programme_id,
                actor=scene.actor,
                progress_chat_id=900,
                now=clock.now(),
                progress_message_id=message_id,
            )
    with read_only(engine) as session:
        watched = watched_broadcasts(session, now=clock.now())
    assert [b.progress_message_id for b in watched] == [5]
