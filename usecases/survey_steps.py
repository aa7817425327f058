"""The survey form's steps as use cases: one press, one transaction, one result.

Residents' own answers take storage.surveys.answers' lean path; everything else (back,
summary, submit, paper surveys entered by animators) the general rules of
storage.surveys.responses. A refusal is raised as FormRefused, carrying who pressed, so the
transaction rolls back and the handler can still answer in the person's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from storage.access import Access, Action, may
from storage.audit import record
from storage.dialogs import close_dialog, save_dialog
from storage.models import Person, SurveyResponse
from storage.people.identity import Resident
from storage.surveys.answers import FORM_DIALOG, answer_own
from storage.surveys.questionnaires import ItemType
from storage.surveys.responses import (
    AlreadySubmitted,
    AnswerNotPlainText,
    AnswerTooLong,
    Channel,
    InvalidAnswer,
    ResponseNotFound,
    ResponseView,
    StaleStep,
    SurveyError,
    back,
    choice_value,
    go_to,
    response_owner,
    submit,
    to_summary,
    view,
)
from storage.surveys.responses import answer as store_answer
from usecases.caller import Caller, resident_of

KIND_SELF = FORM_DIALOG
KIND_PROXY = "paper_survey"


@dataclass(frozen=True)
class Actor:
    """Who is pressing: their person id, and their grants (for paper surveys)."""

    person_id: int
    access: Access


@dataclass(frozen=True)
class Step:
    """What a form step left: the response as it is now, and whose paper survey it is."""

    view: ResponseView
    proxy_name: str | None
    hint: str | None = None


def kind_of(proxy_name: str | None) -> str:
    """The dialog kind of a form: the resident's own, or a paper survey's."""
    return KIND_SELF if proxy_name is None else KIND_PROXY


def authorise(session: Session, response: SurveyResponse, actor: Actor) -> str | None:
    """Check the actor may work on this response; the paper participant's name, if any.

    Raises ResponseNotFound for someone else's survey, so forged buttons learn nothing.
    """
    owner_id = response_owner(session, response)
    if response.channel == Channel.CHAT.value:
        if owner_id != actor.person_id:
            raise ResponseNotFound(response.id)
        return None
    # Paper surveys: the access rule for acting for this person, in the response's programme.
    owner = session.get(Person, owner_id) if owner_id is not None else None
    if (
        owner is None
        or not may(actor.access, Action.ACT_FOR_PERSON, person=owner)
        or not may(actor.access, Action.WORK_IN_PROGRAMME, programme_id=response.programme_id)
    ):
        raise ResponseNotFound(response.id)
    return owner.display_name or "?"


def keep_dialog(session: Session, actor: Actor, step: Step, message_id: int | None) -> None:
    """Remember which response the actor's chat is on and the message that shows it."""
    assert step.view.response.id is not None
    # The person may already have pressed Submit on the message just sent (in another
    # process): under the response's lock, a submitted survey keeps no open form.
    response = session.get(SurveyResponse, step.view.response.id, with_for_update=True)
    if response is None or response.submitted_at is not None:
        return
    save_dialog(
        session,
        person_id=actor.person_id,
        kind=kind_of(step.proxy_name),
        step="form",
        data={"response_id": step.view.response.id},
        awaits_text=True,
        message_id=message_id,
    )


def form_step(
    session: Session,
    *,
    action: str,
    response_id: int,
    index: int,
    choice: int,
    actor: Actor,
    now: datetime,
    message_id: int | None,
) -> Step:
    """Apply one tap of the staff survey form (answer, skip, back) and return the next step."""
    response = session.get(SurveyResponse, response_id)
    if response is None:
        raise ResponseNotFound(response_id)
    proxy_name = authorise(session, response, actor)
    if action == "a":
        current = view(session, response)
        if not 0 <= index < current.total:
            raise StaleStep(response.position)
        # Text questions have no choices, so a forged button for one is refused here too.
        value = choice_value(current.items[index], choice)
        result = store_answer(session, response_id=response_id, index=index, value=value, now=now)
    elif action == "k":
        result = store_answer(session, response_id=response_id, index=index, value=None, now=now)
    elif action == "b":
        result = back(session, response_id=response_id, index=index)
    elif action == "s":
        result = to_summary(session, response_id=response_id, index=index)
    elif action == "e":
        result = go_to(session, response_id=response_id, index=index)
    elif action == "w":
        result = submit(session, response_id=response_id, now=now)
        close_dialog(session, person_id=actor.person_id, kind=kind_of(proxy_name))
        if proxy_name is not None:
            record(
                session,
                actor_id=actor.person_id,
                action="survey.paper_submitted",
                subject_type="survey_response",
                subject_id=response_id,
                details={"phase": response.phase, "programme_id": response.programme_id},
            )
        return Step(result, proxy_name)
    else:  # p, c, v: nothing changes, but only on a response still open
        if response.submitted_at is not None:
            raise AlreadySubmitted(response.submitted_at)
        result = view(session, response)
    step = Step(result, proxy_name)
    keep_dialog(session, actor, step, message_id)
    if action == "p":
        save_dialog(
            session,
            person_id=actor.person_id,
            kind=kind_of(proxy_name),
            step="paused",
            awaits_text=False,
        )
    return step


class FormRefused(Exception):
    """A form press that changes nothing; `error` says why, `resident` who pressed."""

    def __init__(self, resident: Resident, error: SurveyError | None) -> None:
        super().__init__(type(error).__name__ if error else "not set up")
        self.resident = resident
        self.error = error


@dataclass(frozen=True)
class FormPress:
    """What a form button did: who pressed and the form as it is now."""

    resident: Resident
    actor: Actor
    step: Step


def press_form_button(
    session: Session,
    *,
    caller: Caller,
    action: str,
    response_id: int,
    index: int,
    choice: int,
    now: datetime,
    message_id: int | None,
) -> FormPress:
    """One `sv:<action>:…` press, the sender identified in the same transaction.

    Raises FormRefused (error None: the person has not started the bot).
    """
    resident = resident_of(session, caller)
    if resident.person_id is None:
        raise FormRefused(resident, None)
    actor = Actor(resident.person_id, resident.access)
    try:
        if action in ("a", "k"):
            own = answer_own(
                session,
                response_id=response_id,
                person_id=resident.person_id,
                index=index,
                choice=choice if action == "a" else None,
                now=now,
                message_id=message_id,
            )
            if own is not None:
                return FormPress(resident, actor, Step(own, None))
        step = form_step(
            session,
            action=action,
            response_id=response_id,
            index=index,
            choice=choice,
            actor=actor,
            now=now,
            message_id=message_id,
        )
    except SurveyError as error:
        raise FormRefused(resident, error) from error
    return FormPress(resident, actor, step)


def text_step(
    session: Session,
    *,
    response_id: int,
    text: str,
    actor: Actor,
    now: datetime,
    max_text: int,
) -> Step:
    """Typed text while the form is open: a text answer, or why the buttons are needed."""
    response = session.get(SurveyResponse, response_id)
    if response is None:
        raise ResponseNotFound(response_id)
    proxy_name = authorise(session, response, actor)
    if response.submitted_at is not None:
        close_dialog(session, person_id=actor.person_id, kind=kind_of(proxy_name))
        raise AlreadySubmitted(response.submitted_at)
    current = view(session, response)
    item = current.current
    if item is None:
        return Step(current, proxy_name, hint="summary")
    if item.type != ItemType.TEXT:
        return Step(current, proxy_name, hint="buttons")
    if len(text) > max_text:
        return Step(current, proxy_name, hint="too_long")
    try:
        result = store_answer(
            session, response_id=response_id, index=response.position, value=text, now=now
        )
    except AnswerTooLong:
        return Step(current, proxy_name, hint="too_long")
    except AnswerNotPlainText:
        return Step(current, proxy_name, hint="control")
    except InvalidAnswer:
        return Step(current, proxy_name, hint="buttons")
    return Step(result, proxy_name)
