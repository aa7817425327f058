"""A resident's answer to a question of their own survey, in a few Core statements.

The same rule as storage.surveys.responses.answer (the response locked, the press checked
against the question it is at, the value against the question, then the next
question or back to the summary), for the path residents hit on every question: the
response, its owner and the form's dialog are read under one lock, the answers in one
more statement, and the answer, the position and (only when it moved) the dialog are
written with one statement each. Anything else (a paper survey, someone else's
response) returns None and goes the general way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, and_, bindparam, exists, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from storage.dialogs import save_dialog
from storage.models import SurveyResponse
from storage.surveys.questionnaires import ItemType, items_for_phase
from storage.surveys.responses import (
    AlreadySubmitted,
    AnswerTooLong,
    Channel,
    InvalidAnswer,
    ResponseView,
    StaleStep,
    choice_value,
)
from storage.surveys.versions import questionnaire_version
from storage.tables import DIALOG, PARTICIPANT_CODE, SURVEY_ANSWER, SURVEY_RESPONSE

# The resident's own form dialog (handlers keep it under this kind).
FORM_DIALOG = "survey"
_OTHER = DIALOG.alias("other")
_RESPONSE_ID = bindparam("response_id", type_=Integer)
_LOCK_RESPONSE = (
    select(
        *SURVEY_RESPONSE.c,
        PARTICIPANT_CODE.c.person_id.label("owner_id"),
        DIALOG.c.id.label("dialog_id"),
        DIALOG.c.step.label("dialog_step"),
        DIALOG.c.awaits_text,
        DIALOG.c.message_id.label("dialog_message_id"),
        DIALOG.c.data.label("dialog_data"),
        exists()
        .where(
            _OTHER.c.person_id == PARTICIPANT_CODE.c.person_id,
            _OTHER.c.kind != FORM_DIALOG,
            _OTHER.c.awaits_text,
        )
        .label("other_awaits_text"),
    )
    .select_from(
        SURVEY_RESPONSE.join(
            PARTICIPANT_CODE, PARTICIPANT_CODE.c.id == SURVEY_RESPONSE.c.participant_code_id
        ).outerjoin(
            DIALOG,
            and_(DIALOG.c.person_id == PARTICIPANT_CODE.c.person_id, DIALOG.c.kind == FORM_DIALOG),
        )
    )
    .where(SURVEY_RESPONSE.c.id == _RESPONSE_ID)
    .with_for_update(of=SURVEY_RESPONSE)
)
_ANSWERS = select(SURVEY_ANSWER.c.item_id, SURVEY_ANSWER.c.value).where(
    SURVEY_ANSWER.c.response_id == _RESPONSE_ID
)
_MOVE = (
    update(SURVEY_RESPONSE)
    .where(SURVEY_RESPONSE.c.id == _RESPONSE_ID)
    .values(position=bindparam("position", type_=Integer))
)


def _store_statements(insert_of: Any) -> Any:
    statement = insert_of(SURVEY_ANSWER)
    return statement.on_conflict_do_update(
        index_elements=[SURVEY_ANSWER.c.response_id, SURVEY_ANSWER.c.item_id],
        set_={"value": statement.excluded.value, "answered_at": statement.excluded.answered_at},
    )


_STORE = {
    "sqlite": _store_statements(sqlite.insert),
    "postgresql": _store_statements(postgresql.insert),
}
_RESPONSE_FIELDS = tuple(column.key for column in SURVEY_RESPONSE.c)


def answer_own(
    session: Session,
    *,
    response_id: int,
    person_id: int,
    index: int,
    choice: int | None,
    now: datetime,
    message_id: int | None,
) -> ResponseView | None:
    """Store the person's answer to question `index` (choice None = skip) and move on.

    Returns the response as it is now, or None when this is not the person's own chat
    survey (the caller then takes the general path, which refuses or handles it).
    Raises AlreadySubmitted, StaleStep, InvalidAnswer like storage.surveys.responses.answer.
    """
    connection = session.connection()
    row = connection.execute(_LOCK_RESPONSE, {"response_id": response_id}).first()
    if row is None or row.channel != Channel.CHAT.value or row.owner_id != person_id:
        return None
    if row.submitted_at is not None:
        raise AlreadySubmitted(row.submitted_at)
    if index != row.position:
        raise StaleStep(row.position)
    questionnaire = questionnaire_version(session, row.questionnaire_id, row.questionnaire_version)
    items = items_for_phase(questionnaire, row.phase)
    answers: dict[str, str | None] = {
        item_id: value
        for item_id, value in connection.execute(_ANSWERS, {"response_id": response_id})
    }
    if index >= len(items):
        raise StaleStep(row.position)
    item = items[index]
    value = None if choice is None else choice_value(item, choice)
    if value is not None:
        if item.type == ItemType.TEXT and len(value) > (item.max_length or 0):
            raise AnswerTooLong(item.max_length or 0)
        if not item.is_valid_answer(value):
            raise InvalidAnswer(item.id)
    back_to_summary = all(i.id in answers for i in items)
    position = len(items) if back_to_summary else index + 1
    connection.execute(
        _STORE[connection.dialect.name],
        {"response_id": response_id, "item_id": item.id, "value": value, "answered_at": now},
    )
    connection.execute(_MOVE, {"response_id": response_id, "position": position})
    answers[item.id] = value
    response = SurveyResponse(**{key: getattr(row, key) for key in _RESPONSE_FIELDS})
    response.position = position
    kept = (
        row.dialog_id is not None
        and row.dialog_step == "form"
        and row.awaits_text
        and not row.other_awaits_text
        and row.dialog_data == {"response_id": response_id}
        and (message_id is None or row.dialog_message_id == message_id)
    )
    if not kept:
        # The form moved to another message, or another dialog took the typed text.
        save_dialog(
            session,
            person_id=person_id,
            kind=FORM_DIALOG,
            step="form",
            data={"response_id": response_id},
            awaits_text=True,
            message_id=message_id,
        )
    return ResponseView(response, questionnaire, items, answers)
