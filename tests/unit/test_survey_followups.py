"""Survey invitations and follow-ups: who is invited, once, when, and when they stop."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

import schedules.survey_followups  # noqa: F401 — registers the renderers
from schedules.clock import FrozenClock
from schedules.renderers import RENDERERS
from schedules.survey_followups import open_final_survey, open_survey_data, schedule_followups
from storage.db import transaction
from storage.models import (
    AuditEntry,
    PendingSend,
    Person,
    Programme,
    RegistrationStatus,
    SendKind,
    SendState,
)
from storage.people.without_telegram import create_proxy_participant
from storage.surveys.questionnaires import SurveyPhase
from storage.surveys.responses import Channel, answer, load_view, start_or_resume, submit
from tests.support.signup import make_person, make_programme
from tests.support.surveys import answered_survey, register
from translations import translator


def sends(session: Session) -> list[PendingSend]:
    return list(session.exec(select(PendingSend).order_by(col(PendingSend.id))))


def render(session: Session, send: PendingSend, language: str = "pl") -> str | None:
    person = session.get(Person, send.person_id)
    assert person is not None
    fn = RENDERERS[send.kind]
    assert fn is not None
    message = fn(session, send, person, translator(language))
    return None if message is None else message.text


def test_initial_followup_is_one_reminder_three_days_after_the_offer(
    engine: Engine, clock: FrozenClock
) -> None:
    with transaction(engine) as session:
        programme = make_programme(session)
        olena = make_person(session, telegram_id=11, programme=programme, language="uk")
        assert olena.id is not None
        added = schedule_followups(
            session,
            person_id=olena.id,
            programme=programme,
            phase=SurveyPhase.INITIAL,
            offered_at=clock.now(),
        )
        # Offered again (or started from /survey): nothing new, nothing moved.
        again = schedule_followups(
            session,
            person_id=olena.id,
            programme=programme,
            phase=SurveyPhase.INITIAL,
            offered_at=clock.now() + timedelta(days=1),
        )
        (send,) = sends(session)
        assert (added, again) == (1, 0)
        assert send.kind == SendKind.SURVEY_FOLLOWUP.value
        assert send.due_at == clock.now() + timedelta(days=3)
        text = render(session, send, "uk")
        assert text is not None and "початкову анкету" in text


def test_followups_are_off_per_programme(engine: Engine, clock: FrozenClock) -> None:
    with transaction(engine) as session:
        programme = make_programme(session)
        programme.survey_followups = False
        person = make_person(session, telegram_id=12, programme=programme)
        assert person.id is not None
        assert (
            schedule_followups(
                session,
                person_id=person.id,
                programme=programme,
                phase=SurveyPhase.INITIAL,
                offered_at=clock.now(),
            )
            == 0
        )


def test_final_survey_invites_participants_once_with_two_reminders(
    engine: Engine, clock: FrozenClock
) -> None:
    with transaction(engine) as session:
        programme = make_programme(session)
        start = clock.now() - timedelta(days=30)
        jan = make_person(session, telegram_id=21, programme=programme, name="Jan")
        register(session, person=jan, programme=programme, starts_at=start)
        # Only on the reserve list, never got a place: not a participant.
        reserve = make_person(session, telegram_id=22, programme=programme, name="Rezerwa")
        register(
            session,
            person=reserve,
            programme=programme,
            starts_at=start,
            status=RegistrationStatus.RESERVE,
        )
        # Cancelled but attended an earlier one: a participant.
        ola = make_person(session, telegram_id=23, programme=programme, name="Ola")
        register(
            session,
            person=ola,
            programme=programme,
            starts_at=start,
            status=RegistrationStatus.CANCELLED,
            attended=True,
        )
        # Answered the initial survey without ever signing up: invited too.
        krystyna = make_person(session, telegram_id=24, programme=programme, name="Krystyna")
        answered_survey(
            session,
            person=krystyna,
            programme=programme,
            phase=SurveyPhase.INITIAL,
            values={},
            now=start,
        )
        assert jan.id is not None
        paper = create_proxy_participant(
            session, display_name="Pani Zofia", created_by_id=jan.id, programme_id=programme.id or 0
        )
        register(session, person=paper, programme=programme, starts_at=start)

        result = open_final_survey(session, programme=programme, now=clock.now(), actor_id=None)
        assert (result.invited, result.without_telegram, result.opened_now) == (3, 1, True)
        assert programme.final_survey_opened_at == clock.now()
        invites = [s for s in sends(session) if s.kind == SendKind.SURVEY_INVITE.value]
        followups = [s for s in sends(session) if s.kind == SendKind.SURVEY_FOLLOWUP.value]
        assert sorted(s.person_id or 0 for s in invites) == sorted(
            [jan.id, ola.id or 0, krystyna.id or 0]
        )
        assert {s.due_at - clock.now() for s in followups} == {timedelta(days=3), timedelta(days=7)}
        assert len(followups) == 6
        assert (
            session.exec(
                select(AuditEntry).where(AuditEntry.action == "survey.final_opened")
            ).first()
            is not None
        )

        again = open_final_survey(session, programme=programme, now=clock.now())
        assert (again.invited, again.already_invited, again.opened_now) == (0, 3, False)
        assert len(sends(session)) == 9


def test_submitting_cancels_reminders_and_renderers_drop_the_rest(
    engine: Engine, clock: FrozenClock
) -> None:
    with transaction(engine) as session:
        programme = make_programme(session)
        jan = make_person(session, telegram_id=31, programme=programme)
        register(session, person=jan, programme=programme, starts_at=clock.now())
        open_final_survey(session, programme=programme, now=clock.now())
        invite, *_ = sends(session)
        text = render(session, invite)
        assert text is not None and "ankieta końcowa" in text.lower()
        assert jan.id is not None and programme.id is not None
        answered_survey(
            session,
            person=jan,
            programme=programme,
            phase=SurveyPhase.FINAL,
            values={"se_cope": "4"},
            now=clock.now(),
        )
        states = {s.state for s in sends(session)}
        assert states == {SendState.CANCELLED.value}
        # A renderer meeting a send that slipped through drops it.
        assert render(session, invite) is None


def test_followup_of_an_unfinished_survey_says_how_far_it_got(
    engine: Engine, clock: FrozenClock
) -> None:
    with transaction(engine) as session:
        programme = make_programme(session)
        jan = make_person(session, telegram_id=41, programme=programme, language="en")
        assert jan.id is not None and programme.id is not None
        schedule_followups(
            session,
            person_id=jan.id,
            programme=programme,
            phase=SurveyPhase.INITIAL,
            offered_at=clock.now(),
        )
        response = start_or_resume(
            session,
            person_id=jan.id,
            programme=programme,
            phase=SurveyPhase.INITIAL,
            channel=Channel.CHAT,
            now=clock.now(),
        )
        assert response.id is not None
        for index in range(4):
            answer(session, response_id=response.id, index=index, value="2", now=clock.now())
        (send,) = sends(session)
        person = session.get(Person, jan.id)
        assert person is not None
        fn = RENDERERS[send.kind]
        assert fn is not None
        message = fn(session, send, person, translator("en"))
        assert message is not None
        assert "4 of 12 questions done" in message.text
        assert message.buttons[0][0].callback_data == open_survey_data(
            programme.id, SurveyPhase.INITIAL
        )
        assert load_view(session, response_id=response.id).response.position == 4


def test_renderers_drop_sends_for_erased_people_closed_phases_or_turned_off(
    engine: Engine, clock: FrozenClock
) -> None:
    with transaction(engine) as session:
        programme = make_programme(session)
        jan = make_person(session, telegram_id=51, programme=programme)
        assert jan.id is not None
        schedule_followups(
            session,
            person_id=jan.id,
            programme=programme,
            phase=SurveyPhase.INITIAL,
            offered_at=clock.now(),
        )
        (send,) = sends(session)
        assert render(session, send) is not None
        programme.survey_followups = False
        assert render(session, send) is None
        programme.survey_followups = True
        programme.final_survey_opened_at = clock.now()  # the initial survey is over
        assert render(session, send) is None
        programme.final_survey_opened_at = None
        jan.erased_at = clock.now()
        assert render(session, send) is None
        jan.erased_at = None
        send.payload = {"phase": "nonsense"}
        assert render(session, send) is None
        send.payload = {"phase": "initial"}
        send.programme_id = None
        assert render(session, send) is None


def test_submit_cancels_only_its_own_phase(engine: Engine, clock: FrozenClock) -> None:
    with transaction(engine) as session:
        programme = make_programme(session)
        jan = make_person(session, telegram_id=61, programme=programme)
        assert jan.id is not None and programme.id is not None
        register(session, person=jan, programme=programme, starts_at=clock.now())
        response = start_or_resume(
            session,
            person_id=jan.id,
            programme=programme,
            phase=SurveyPhase.INITIAL,
            channel=Channel.CHAT,
            now=clock.now(),
        )
        open_final_survey(session, programme=programme, now=clock.now())
        assert response.id is not None
        # The old initial survey is finished after the final opened (buttons still live).
        view = load_view(session, response_id=response.id)
        for index in range(view.total):
            answer(session, response_id=response.id, index=index, value="3", now=clock.now())
        submit(session, response_id=response.id, now=clock.now())
        live = [s for s in sends(session) if s.state == SendState.PENDING.value]
        assert len(live) == 3  # the final invitation and its two reminders stay
        assert session.get(Programme, programme.id) is not None
