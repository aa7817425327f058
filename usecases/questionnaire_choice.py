"""Choosing or sending a programme's self-assessment questionnaire."""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from schedules.survey_followups import FinalSurveyOpening, open_final_survey
from storage.dialogs import close_dialog, get_dialog, save_dialog
from storage.models import Dialog
from storage.people.staff_access import StaffAction, StaffActor
from storage.programmes.editions import programme_for
from storage.programmes.surveys import (
    QuestionnaireSummary,
    ResponseCounts,
    choose_questionnaire,
    questionnaire_problems,
    response_counts,
    summary,
)
from storage.surveys.questionnaire_files import questionnaire_cache
from storage.surveys.questionnaires import Problem, QuestionnaireError
from storage.surveys.versions import questionnaire_path
from usecases.programme_settings import Stale, programme_name_of

SURVEY_FILE = "programme_survey_file"


def questionnaire_screen(
    session: Session,
    *,
    actor: StaffActor,
    programme_id: int,
    person_id: int,
    surveys_dir: str | None,
) -> tuple[str, str, datetime | None, ResponseCounts, QuestionnaireSummary | None]:
    """The programme's questionnaire screen: current file, the others shipped, answers so far."""
    programme = programme_for(
        session, actor=actor, action=StaffAction.RUN_PROGRAMME, programme_id=programme_id
    )
    close_dialog(session, person_id=person_id, kind=SURVEY_FILE)
    path = questionnaire_path(programme, surveys_dir)
    try:
        current: QuestionnaireSummary | None = summary(questionnaire_cache.get(path))
    except QuestionnaireError:
        current = None
    counts = response_counts(session, actor=actor, programme_id=programme_id)
    return programme.name, path.name, programme.final_survey_opened_at, counts, current


def choose_programme_questionnaire(
    session: Session,
    *,
    actor: StaffActor,
    programme_id: int,
    path: Path,
    person_id: int,
    nonce: str | None,
    now: datetime,
) -> tuple[str, QuestionnaireSummary]:
    """Set the programme's questionnaire (a confirmed upload or a shipped file)."""
    if nonce is not None:
        dialog = get_dialog(session, person_id=person_id, kind=SURVEY_FILE)
        if (
            dialog is None
            or dialog.data.get("nonce") != nonce
            or dialog.data.get("pid") != programme_id
        ):
            raise Stale(nonce)
        path = Path(str(dialog.data["path"]))
        close_dialog(session, person_id=person_id, kind=SURVEY_FILE)
    q = choose_questionnaire(session, actor=actor, programme_id=programme_id, path=path, now=now)
    return programme_name_of(session, actor=actor, programme_id=programme_id), summary(q)


def wait_for_questionnaire_file(
    session: Session, *, actor: StaffActor, programme_id: int, person_id: int
) -> str:
    """Wait for the staff member to send a questionnaire file; returns the programme's name."""
    name = programme_name_of(session, actor=actor, programme_id=programme_id)
    save_dialog(
        session,
        person_id=person_id,
        kind=SURVEY_FILE,
        step="file",
        data={"pid": programme_id},
        awaits_text=True,
    )
    return name


def check_sent_questionnaire(
    session: Session, *, actor: StaffActor, dialog: Dialog, path: Path
) -> tuple[QuestionnaireSummary | None, list[Problem], str | None]:
    """Check a sent questionnaire file; if sound, keep it for confirmation with a nonce."""
    programme_id = int(dialog.data["pid"])
    programme_for(session, actor=actor, action=StaffAction.RUN_PROGRAMME, programme_id=programme_id)
    q, problems = questionnaire_problems(session, path)
    if problems or q is None:
        return None, problems, None
    nonce = secrets.token_hex(4)
    save_dialog(
        session,
        person_id=dialog.person_id,
        kind=SURVEY_FILE,
        step="confirm",
        data={"pid": programme_id, "path": str(path), "nonce": nonce},
        awaits_text=True,
    )
    return summary(q), [], nonce


def open_final_survey_as_coordinator(
    session: Session, *, actor: StaffActor, programme_id: int, person_id: int | None, now: datetime
) -> FinalSurveyOpening:
    """Open the programme's final survey, for one who may run the programme."""
    programme = programme_for(
        session, actor=actor, action=StaffAction.RUN_PROGRAMME, programme_id=programme_id, lock=True
    )
    return open_final_survey(session, programme=programme, now=now, actor_id=person_id)
