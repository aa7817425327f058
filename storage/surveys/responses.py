"""Survey responses: starting and resuming, answers as they happen, submission.

The rules:
- responses are keyed by the participant's code (storage.people.participant_codes), never by
  name; evaluators only ever see the code;
- one response per participant, programme and phase; it can be paused and resumed
  at the question where it stopped, and it counts only once submitted;
- every answer is stored (with its time) in the same transaction that moves the
  position, and every step re-checks that the step is the one the response is at, so
  a stale or repeated button press changes nothing;
- a response is answered and scored against the exact questionnaire version it started
  with (storage.surveys.versions).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.messaging.outbox import NewSend
from storage.models import (
    Activity,
    ParticipantCode,
    PendingSend,
    Person,
    Programme,
    Registration,
    SendKind,
    SendState,
    SurveyAnswer,
    SurveyResponse,
)
from storage.people.participant_codes import participant_code
from storage.surveys.questionnaires import (
    Item,
    ItemType,
    Questionnaire,
    SurveyPhase,
    items_for_phase,
)
from storage.surveys.versions import SurveyError as SurveyError
from storage.surveys.versions import SurveyUnavailable as SurveyUnavailable
from storage.surveys.versions import current_questionnaire, questionnaire_of, register_version
from storage.text_rule import forbidden_character

log = logging.getLogger(__name__)


class Channel(StrEnum):
    """How the answers came in."""

    CHAT = "chat"
    PROXY = "proxy"


class AlreadySubmitted(SurveyError):
    """This phase was already answered; `submitted_at` says when."""

    def __init__(self, submitted_at: datetime) -> None:
        super().__init__(submitted_at.isoformat())
        self.submitted_at = submitted_at


class ResponseNotFound(SurveyError):
    """No such response, or it is not the caller's (forged or foreign button)."""


class StaleStep(SurveyError):
    """The button belongs to another question than the one the response is at."""

    def __init__(self, position: int) -> None:
        super().__init__(position)
        self.position = position


class InvalidAnswer(SurveyError):
    """Not an answer this item accepts."""


class AnswerTooLong(SurveyError):
    """A text answer over the item's limit."""

    def __init__(self, max_length: int) -> None:
        super().__init__(max_length)
        self.max_length = max_length


class AnswerNotPlainText(SurveyError):
    """A text answer with control or invisible formatting characters (storage.text_rule)."""


class NotFinished(SurveyError):
    """Submit pressed before every question was reached."""


@dataclass(frozen=True)
class ResponseView:
    """A response with its questionnaire and answers, as the form shows it."""

    response: SurveyResponse
    questionnaire: Questionnaire
    items: tuple[Item, ...]
    # item id → stored value (None = skipped); items never reached are absent.
    answers: dict[str, str | None]

    @property
    def total(self) -> int:
        """How many questions this phase has."""
        return len(self.items)

    @property
    def at_summary(self) -> bool:
        """Whether every question was passed and the summary is due."""
        return self.response.position >= self.total

    @property
    def current(self) -> Item | None:
        """The question the response is at (None at the summary)."""
        return None if self.at_summary else self.items[self.response.position]

    @property
    def phase(self) -> SurveyPhase:
        """Initial or final."""
        return SurveyPhase(self.response.phase)

    @property
    def reached_summary(self) -> bool:
        """Whether every question has an answer or a skip: the summary was reached once,
        so a question open now was opened from the summary to change it."""
        return all(item.id in self.answers for item in self.items)

    @property
    def answered_count(self) -> int:
        """Questions with an answer (skips not counted)."""
        return sum(1 for value in self.answers.values() if value is not None)


# --------------------------------------------------------------------- who, which, when


def resident_programme_id(session: Session, person: Person) -> int | None:
    """The programme a resident's survey belongs to: theirs, or their latest sign-up's."""
    if person.programme_id is not None:
        return person.programme_id
    return session.exec(
        select(Activity.programme_id)
        .join(Registration, col(Registration.activity_id) == col(Activity.id))
        .where(Registration.person_id == person.id)
        .order_by(col(Registration.id).desc())
    ).first()


def find_response(
    session: Session, *, person_id: int, programme_id: int, phase: SurveyPhase
) -> SurveyResponse | None:
    """The person's response of a phase in a programme, submitted or not."""
    return session.exec(
        select(SurveyResponse)
        .join(ParticipantCode, col(ParticipantCode.id) == col(SurveyResponse.participant_code_id))
        .where(
            ParticipantCode.person_id == person_id,
            ParticipantCode.programme_id == programme_id,
            SurveyResponse.phase == phase.value,
        )
    ).first()


def phase_open(programme: Programme, phase: SurveyPhase) -> bool:
    """Whether residents can answer a phase now: initial until the final opens."""
    if phase == SurveyPhase.FINAL:
        return programme.final_survey_opened_at is not None
    return programme.final_survey_opened_at is None


def phase_due(programme: Programme) -> SurveyPhase:
    """The phase residents are asked now."""
    return (
        SurveyPhase.FINAL if programme.final_survey_opened_at is not None else (SurveyPhase.INITIAL)
    )


def start_or_resume(
    session: Session,
    *,
    person_id: int,
    programme: Programme,
    phase: SurveyPhase,
    channel: Channel,
    now: datetime,
    entered_by_id: int | None = None,
    surveys_dir: str | None = None,
) -> SurveyResponse:
    """The response to continue, started now if there is none; AlreadySubmitted if done."""
    assert programme.id is not None
    existing = find_response(session, person_id=person_id, programme_id=programme.id, phase=phase)
    if existing is not None:
        if existing.submitted_at is not None:
            raise AlreadySubmitted(existing.submitted_at)
        if channel == Channel.PROXY and entered_by_id is not None:
            existing.entered_by_id = entered_by_id
            session.add(existing)
        return existing
    q = current_questionnaire(session, programme, surveys_dir)
    register_version(session, q)
    code = participant_code(session, person_id=person_id, programme_id=programme.id)
    assert code.id is not None
    response = SurveyResponse(
        participant_code_id=code.id,
        programme_id=programme.id,
        phase=phase.value,
        questionnaire_id=q.id,
        questionnaire_version=q.version,
        channel=channel.value,
        entered_by_id=entered_by_id if channel == Channel.PROXY else None,
        position=0,
        started_at=now,
    )
    try:
        with session.begin_nested():
            session.add(response)
    except IntegrityError:
        # A double tap on "Continue" raced us to it: use the row the other one made.
        again = find_response(session, person_id=person_id, programme_id=programme.id, phase=phase)
        if again is None:
            raise
        return again
    return response


# --------------------------------------------------------------------- the form's steps


def _locked(session: Session, response_id: int) -> SurveyResponse:
    response = session.exec(
        select(SurveyResponse)
        .where(SurveyResponse.id == response_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if response is None:
        raise ResponseNotFound(response_id)
    return response


def response_owner(session: Session, response: SurveyResponse) -> int | None:
    """The person a response is about (None once erased)."""
    return session.exec(
        select(ParticipantCode.person_id).where(ParticipantCode.id == response.participant_code_id)
    ).first()


def view(session: Session, response: SurveyResponse) -> ResponseView:
    """The response with its questionnaire, items and answers so far."""
    q = questionnaire_of(session, response)
    rows = session.exec(select(SurveyAnswer).where(SurveyAnswer.response_id == response.id)).all()
    return ResponseView(
        response, q, items_for_phase(q, response.phase), {row.item_id: row.value for row in rows}
    )


def load_view(session: Session, *, response_id: int) -> ResponseView:
    """A response by id, as the form shows it."""
    response = session.get(SurveyResponse, response_id)
    if response is None:
        raise ResponseNotFound(response_id)
    return view(session, response)


def _open_at(session: Session, response_id: int, index: int) -> tuple[SurveyResponse, ResponseView]:
    response = _locked(session, response_id)
    if response.submitted_at is not None:
        raise AlreadySubmitted(response.submitted_at)
    current = view(session, response)
    if index != response.position:
        raise StaleStep(response.position)
    return response, current


def _store(
    session: Session, response_id: int, item_id: str, value: str | None, now: datetime
) -> None:
    row = session.exec(
        select(SurveyAnswer).where(
            SurveyAnswer.response_id == response_id, SurveyAnswer.item_id == item_id
        )
    ).first()
    if row is None:
        row = SurveyAnswer(response_id=response_id, item_id=item_id)
    row.value = value
    row.answered_at = now
    session.add(row)


def answer(
    session: Session, *, response_id: int, index: int, value: str | None, now: datetime
) -> ResponseView:
    """Store the answer to question `index` (None = skip) and move on, in one step.

    `value` is what is stored: a point number, an option value, or the typed text. A
    question opened from the summary (every question already has an answer or a skip)
    returns to the summary; otherwise the next question follows.
    """
    response, current = _open_at(session, response_id, index)
    item = current.items[index] if index < current.total else None
    if item is None:
        raise StaleStep(response.position)
    if value is not None:
        if item.type == ItemType.TEXT:
            value = value.strip()
            if forbidden_character(value, multiline=True) is not None:
                raise AnswerNotPlainText(item.id)
            limit = item.max_length or 0
            if len(value) > limit:
                raise AnswerTooLong(limit)
        if not item.is_valid_answer(value):
            raise InvalidAnswer(item.id)
    assert response.id is not None
    back_to_summary = current.reached_summary
    _store(session, response.id, item.id, value, now)
    return _move(session, response, current.total if back_to_summary else index + 1)


def choice_value(item: Item, number: int) -> str:
    """The stored value of the `number`-th button (1-based); InvalidAnswer if none."""
    choices = item.choices("pl")
    if not 1 <= number <= len(choices):
        raise InvalidAnswer(item.id)
    return choices[number - 1][0]


def _move(session: Session, response: SurveyResponse, position: int) -> ResponseView:
    response.position = position
    session.add(response)
    session.flush()
    return view(session, response)


def back(session: Session, *, response_id: int, index: int) -> ResponseView:
    """Go to the previous question (stays at the first)."""
    response, _ = _open_at(session, response_id, index)
    return _move(session, response, max(0, index - 1))


def go_to(session: Session, *, response_id: int, index: int) -> ResponseView:
    """From the summary, open question `index` to change its answer."""
    response = _locked(session, response_id)
    if response.submitted_at is not None:
        raise AlreadySubmitted(response.submitted_at)
    current = view(session, response)
    if not current.at_summary:
        raise StaleStep(response.position)
    if not 0 <= index < current.total:
        raise InvalidAnswer(str(index))
    return _move(session, response, index)


def to_summary(session: Session, *, response_id: int, index: int) -> ResponseView:
    """Leave a question opened from the summary without changing it."""
    response, current = _open_at(session, response_id, index)
    if not current.reached_summary:
        raise StaleStep(response.position)
    return _move(session, response, current.total)


def submit(session: Session, *, response_id: int, now: datetime) -> ResponseView:
    """Make the answers count; a second submit is refused with the first one's time."""
    response = _locked(session, response_id)
    if response.submitted_at is not None:
        raise AlreadySubmitted(response.submitted_at)
    current = view(session, response)
    if not current.at_summary:
        raise NotFinished(response.position)
    assert response.id is not None
    for item in current.items:
        if item.id not in current.answers:
            _store(session, response.id, item.id, None, now)
    response.submitted_at = now
    session.add(response)
    person_id = response_owner(session, response)
    if person_id is not None:
        cancel_survey_sends(
            session, person_id=person_id, programme_id=response.programme_id, phase=current.phase
        )
    session.flush()
    return view(session, response)


# --------------------------------------------------------------------- follow-up keys


def invite_key(person_id: int, programme_id: int, phase: SurveyPhase) -> str:
    """Dedupe key of the invitation to a phase: one per person, programme and phase."""
    return f"survey:{programme_id}:{person_id}:{phase.value}:invite"


def followup_key(person_id: int, programme_id: int, phase: SurveyPhase, days: int) -> str:
    """Dedupe key of the follow-up `days` after the offer."""
    return f"survey:{programme_id}:{person_id}:{phase.value}:after{days}d"


FOLLOWUP_DAYS = {SurveyPhase.INITIAL: (3,), SurveyPhase.FINAL: (3, 7)}


def followup_sends(
    *, person_id: int, programme_id: int, phase: SurveyPhase, offered_at: datetime
) -> list[NewSend]:
    """A phase's follow-ups after an offer at `offered_at`, as outbox rows."""
    return [
        NewSend(
            kind=SendKind.SURVEY_FOLLOWUP,
            person_id=person_id,
            due_at=offered_at + timedelta(days=days),
            programme_id=programme_id,
            payload={"phase": phase.value, "days": days},
            dedupe_key=followup_key(person_id, programme_id, phase, days),
        )
        for days in FOLLOWUP_DAYS[phase]
    ]


def survey_send_keys(person_id: int, programme_id: int, phase: SurveyPhase) -> list[str]:
    """Every dedupe key of a phase's invitation and follow-ups for one person."""
    return [invite_key(person_id, programme_id, phase)] + [
        followup_key(person_id, programme_id, phase, days) for days in FOLLOWUP_DAYS[phase]
    ]


def cancel_survey_sends(
    session: Session, *, person_id: int, programme_id: int, phase: SurveyPhase
) -> int:
    """Withdraw a phase's pending invitation and follow-ups; returns how many.

    storage.messaging.outbox.cancel_pending filters by person and kind only, which would also
    withdraw another phase's or programme's sends, so this cancels by the exact keys.
    """
    rows = session.exec(
        select(PendingSend).where(
            col(PendingSend.dedupe_key).in_(survey_send_keys(person_id, programme_id, phase)),
            PendingSend.state == SendState.PENDING.value,
            col(PendingSend.kind).in_(
                [SendKind.SURVEY_INVITE.value, SendKind.SURVEY_FOLLOWUP.value]
            ),
        )
    ).all()
    for row in rows:
        row.state = SendState.CANCELLED.value
        session.add(row)
    return len(rows)
