"""Data rights without Telegram: what a person may see, and erasing their identity."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from schedules.clock import FrozenClock
from storage.db import transaction
from storage.models import (
    AuditEntry,
    Dialog,
    ParticipantCode,
    PendingSend,
    Person,
    PlaceOffer,
    Registration,
    RoleGrant,
    SurveyAnswer,
    SurveyResponse,
)
from storage.people.without_telegram import ProxyNotFound
from storage.privacy.erasure import (
    AnswersFate,
    erase_person,
    erase_proxy_participant,
    erasure_preview,
    scrub_freed_space,
)
from storage.privacy.my_data import PersonNotFound, person_data
from tests.support.privacy import (
    all_rows_text,
    name_patterns,
    person_row,
    resident_with_history,
    telegram_id_patterns,
)
from tests.support.signup import make_person, make_programme


def test_person_data_holds_everything_stored(engine: Engine, clock: FrozenClock) -> None:
    now = clock.now()
    with transaction(engine) as session:
        wieslawa = resident_with_history(session, now=now)
    with transaction(engine) as session:
        data = person_data(session, person_id=wieslawa.person_id, now=now)
    assert data.display_name == wieslawa.name
    assert data.telegram_id == wieslawa.telegram_id
    assert data.roles == ("evaluator",)
    titles = {r.title: r for r in data.registrations}
    assert titles["Spacer nordic walking"].status == "confirmed"
    assert titles["Wycieczka do skansenu"].reserve_position == 1
    assert [r.title for r in data.attendance] == ["Kawiarenka sąsiedzka"]
    assert data.attendance[0].attended
    [response] = data.responses
    assert response.participant_code == wieslawa.code
    answers = {a.item_id: a for a in response.answers}
    assert answers["q1"].label["pl"] == "4 — Raczej się zgadzam"
    assert answers["note"].value == wieslawa.free_text
    assert answers["note"].question["en"] == "What would you like to tell us?"
    assert data.pending_messages and {m.kind for m in data.pending_messages} == {"reminder"}
    assert {m.activity_title for m in data.pending_messages} == {"Spacer nordic walking"}
    assert data.open_dialogs[0]["kind"] == "survey"
    exported = data.to_json()
    json.dumps(exported)  # plain JSON all the way down
    assert exported["attendance"][0]["attended"] is True


def test_person_data_of_nobody(engine: Engine, clock: FrozenClock) -> None:
    with transaction(engine) as session, pytest.raises(PersonNotFound):
        person_data(session, person_id=4242, now=clock.now())


def test_erasure_gives_up_places_promotes_and_keeps_answers_under_the_code(
    engine: Engine, clock: FrozenClock
) -> None:
    now = clock.now()
    with transaction(engine) as session:
        wieslawa = resident_with_history(session, now=now)
    with transaction(engine) as session:
        preview = erasure_preview(session, person_id=wieslawa.person_id, now=now)
        assert (preview.places_released, preview.reserve_positions_left) == (1, 1)
        pending = len(
            session.exec(
                select(PendingSend).where(
                    PendingSend.person_id == wieslawa.person_id, PendingSend.state == "pending"
                )
            ).all()
        )
        assert preview.pending_messages == pending >= 1
        assert preview.answers == AnswersFate.KEPT
    with transaction(engine) as session:
        report = erase_person(session, person_id=wieslawa.person_id, now=now)
    assert (report.places_released, report.reserve_positions_left) == (1, 1)
    assert report.answers == AnswersFate.KEPT
    assert report.free_text_answers_deleted == 1
    assert report.sends_cancelled == pending
    with transaction(engine) as session:
        person = person_row(session, wieslawa.person_id)
        assert (person.display_name, person.telegram_id, person.phone) == (None, None, None)
        assert person.erased_at == now
        # Marianna, first on the reserve list, is offered the freed place.
        marianna = session.exec(
            select(Registration).where(Registration.person_id == wieslawa.waiting_person_id)
        ).one()
        offer = session.exec(
            select(PlaceOffer).where(PlaceOffer.registration_id == marianna.id)
        ).one()
        assert (marianna.status, offer.state) == ("reserve", "offered")
        assert len(report.promoted_registration_ids) == 1
        # The past attendance stays for the indicators, on the nameless stub.
        past = session.exec(
            select(Registration).where(Registration.activity_id == wieslawa.past_activity_id)
        ).one()
        assert past.attended and past.person_id == wieslawa.person_id
        code = session.exec(
            select(ParticipantCode).where(ParticipantCode.code == wieslawa.code)
        ).one()
        assert code.person_id is None
        answers = {a.item_id: a.value for a in session.exec(select(SurveyAnswer))}
        assert answers == {"q1": "4", "q2": "2"}
        assert session.exec(select(Dialog)).all() == []
        assert (
            session.exec(
                select(RoleGrant).where(RoleGrant.telegram_id == wieslawa.telegram_id)
            ).all()
            == []
        )
        states = {
            s.state
            for s in session.exec(
                select(PendingSend).where(PendingSend.person_id == wieslawa.person_id)
            )
        }
        assert states == {"cancelled"}
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "person.erase")).one()
        assert audit.subject_id == wieslawa.person_id
        assert audit.details["reason"] == "request"
        assert wieslawa.name not in json.dumps(audit.details)


def test_erasure_deletes_answers_when_the_programme_says_so(
    engine: Engine, clock: FrozenClock
) -> None:
    now = clock.now()
    with transaction(engine) as session:
        wieslawa = resident_with_history(session, now=now, keep_answers=False)
    with transaction(engine) as session:
        assert (
            erasure_preview(session, person_id=wieslawa.person_id, now=now).answers
            == AnswersFate.DELETED
        )
        report = erase_person(session, person_id=wieslawa.person_id, now=now)
    assert report.answers == AnswersFate.DELETED
    with transaction(engine) as session:
        assert session.exec(select(SurveyResponse)).all() == []
        assert session.exec(select(SurveyAnswer)).all() == []
        assert session.exec(select(ParticipantCode)).all() == []


def test_unsubmitted_survey_goes_even_when_answers_are_kept(
    engine: Engine, clock: FrozenClock
) -> None:
    now = clock.now()
    with transaction(engine) as session:
        wieslawa = resident_with_history(session, now=now)
        code = session.exec(select(ParticipantCode)).one()
        assert code.id is not None
        draft = SurveyResponse(
            participant_code_id=code.id,
            programme_id=wieslawa.programme_id,
            phase="final",
            questionnaire_id="privacy_test",
            questionnaire_version="1",
        )
        session.add(draft)
        session.flush()
        assert draft.id is not None
        session.add(SurveyAnswer(response_id=draft.id, item_id="q1", value="5"))
    with transaction(engine) as session:
        erase_person(session, person_id=wieslawa.person_id, now=now)
    with transaction(engine) as session:
        assert [r.phase for r in session.exec(select(SurveyResponse))] == ["initial"]


def test_erasing_twice_is_harmless(engine: Engine, clock: FrozenClock) -> None:
    now = clock.now()
    with transaction(engine) as session:
        wieslawa = resident_with_history(session, now=now)
    with transaction(engine) as session:
        erase_person(session, person_id=wieslawa.person_id, now=now)
    with transaction(engine) as session:
        again = erase_person(session, person_id=wieslawa.person_id, now=now)
    assert again.already_erased
    with transaction(engine) as session:
        assert (
            len(session.exec(select(AuditEntry).where(AuditEntry.action == "person.erase")).all())
            == 1
        )


def test_animator_erases_only_people_without_telegram(engine: Engine, clock: FrozenClock) -> None:
    now = clock.now()
    with transaction(engine) as session:
        programme = make_programme(session)
        animator = make_person(
            session, telegram_id=5550001, name="Animatorka Ewa", programme=programme
        )
        paper = make_person(session, name="Henryka z ulicy Lipowej", programme=programme)
        paper.created_by_id = animator.id
        paper.phone = "+48 600 100 200"
        session.add(paper)
        resident = make_person(session, telegram_id=5550002, programme=programme)
        ids = (animator.id, paper.id, resident.id, programme.id)
    animator_id, paper_id, resident_id, programme_id = ids
    assert animator_id and paper_id and resident_id and programme_id
    with transaction(engine) as session, pytest.raises(ProxyNotFound):
        erase_proxy_participant(
            session,
            person_id=resident_id,
            animator_id=animator_id,
            programme_ids={programme_id},
            now=now,
        )
    with transaction(engine) as session, pytest.raises(ProxyNotFound):
        # Not an animator of that person's programme.
        erase_proxy_participant(
            session,
            person_id=paper_id,
            animator_id=animator_id,
            programme_ids={programme_id + 1},
            now=now,
        )
    with transaction(engine) as session:
        report = erase_proxy_participant(
            session,
            person_id=paper_id,
            animator_id=animator_id,
            programme_ids={programme_id},
            now=now,
        )
    assert not report.already_erased
    with transaction(engine) as session:
        paper_row = person_row(session, paper_id)
        assert (paper_row.display_name, paper_row.phone) == (None, None)
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "person.erase")).one()
        assert (audit.actor_id, audit.details["reason"]) == (animator_id, "animator")
    with transaction(engine) as session, pytest.raises(ProxyNotFound):
        erase_proxy_participant(
            session, person_id=paper_id, animator_id=animator_id, programme_ids=None, now=now
        )


def _file_bytes(db_file: Path) -> bytes:
    found = db_file.read_bytes()
    for suffix in ("-wal", "-journal"):
        extra = db_file.with_name(db_file.name + suffix)
        if extra.exists():
            found += extra.read_bytes()
    return found


def test_no_trace_in_the_sqlite_file_after_erasure(
    engine: Engine, clock: FrozenClock, db_url: str
) -> None:
    now = clock.now()
    db_file = Path(db_url.removeprefix("sqlite:///"))
    with transaction(engine) as session:
        wieslawa = resident_with_history(session, now=now)
    id_as_text, id_as_integer = telegram_id_patterns(wieslawa.telegram_id)
    patterns = [
        *name_patterns(wieslawa.name),
        id_as_text,
        id_as_integer,
        wieslawa.free_text.encode(),
    ]
    before = _file_bytes(db_file)
    # The search must be able to find them: the name, the id as SQLite stores an integer.
    for pattern in (wieslawa.name.encode(), id_as_integer, wieslawa.free_text.encode()):
        assert pattern in before
    # Another connection stays open, as the running bot's do: the WAL is not folded
    # into the main file and removed by the last connection closing.
    keeper = sqlite3.connect(db_file)
    keeper.execute("SELECT count(*) FROM person").fetchone()
    with transaction(engine) as session:
        erase_person(session, person_id=wieslawa.person_id, now=now)
    scrub_freed_space(engine)
    after = _file_bytes(db_file)
    keeper.close()
    for pattern in patterns:
        assert pattern not in after, f"{pattern!r} still in the database file"
    assert wieslawa.name not in all_rows_text(engine)


def test_no_trace_in_postgresql_rows_after_erasure(
    postgres_engine: Engine, clock: FrozenClock
) -> None:
    # PostgreSQL keeps dead row versions until VACUUM reclaims them; what the database
    # answers (every row of every table) must hold no trace at once.
    now = clock.now()
    with transaction(postgres_engine) as session:
        wieslawa = resident_with_history(session, now=now)
    assert wieslawa.name in all_rows_text(postgres_engine)
    with transaction(postgres_engine) as session:
        report = erase_person(session, person_id=wieslawa.person_id, now=now)
    assert report.places_released == 1
    rows = all_rows_text(postgres_engine)
    for needle in (wieslawa.name, str(wieslawa.telegram_id), wieslawa.free_text):
        assert needle not in rows


def test_erased_stub_is_not_found_by_telegram_id(engine: Engine, clock: FrozenClock) -> None:
    now = clock.now()
    with transaction(engine) as session:
        wieslawa = resident_with_history(session, now=now)
    with transaction(engine) as session:
        erase_person(session, person_id=wieslawa.person_id, now=now)
    with Session(engine) as session:
        assert (
            session.exec(select(Person).where(Person.telegram_id == wieslawa.telegram_id)).first()
            is None
        )
