"""A programme's questionnaire: the shipped ones, a file sent in, choosing one, counts.

One code path for `palbot check-surveys` / `palbot set-survey` and the /admin screens:
`questionnaire_problems` checks a file (every problem with its line, plus a changed file
under a version that already has responses) and `use_questionnaire` records the choice,
refusing a different questionnaire once surveys were answered unless forced.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from pathlib import Path

from sqlmodel import Session, col, func, select

from storage.audit import AuditAction, record
from storage.models import ParticipantCode, Programme, SurveyResponse
from storage.people.staff_access import StaffAction, StaffActor
from storage.programmes.editions import programme_for
from storage.surveys.questionnaire_files import MAX_FILE_BYTES, check_file
from storage.surveys.questionnaires import (
    Problem,
    Questionnaire,
    SurveyPhase,
    default_questionnaire_path,
    items_for_phase,
)
from storage.surveys.versions import version_conflict


class OtherQuestionnaireAnswered(Exception):
    """Surveys of this programme were answered with another questionnaire."""

    def __init__(self, questionnaire_id: str) -> None:
        super().__init__(questionnaire_id)
        self.questionnaire_id = questionnaire_id


def shipped_questionnaires() -> list[Path]:
    """The questionnaires shipped with the bot: the default first, then the examples."""
    examples = Path(str(files("bot").joinpath("surveys", "examples")))
    return [default_questionnaire_path(), *sorted(examples.glob("*.yaml"))]


def questionnaire_problems(
    session: Session | None, path: Path
) -> tuple[Questionnaire | None, list[Problem]]:
    """A file's problems, including a content change under a version that has responses."""
    q, problems = check_file(path)  # read and checked once: every start does this
    if q is None:
        return None, problems
    if session is not None:
        conflict = version_conflict(session, q)
        if conflict:
            return q, [Problem(str(path), "version", conflict)]
    return q, []


def answered_with_other(session: Session, programme: Programme, q: Questionnaire) -> str | None:
    """The id of another questionnaire this programme's surveys were answered with."""
    return session.exec(
        select(SurveyResponse.questionnaire_id).where(
            SurveyResponse.programme_id == programme.id,
            col(SurveyResponse.submitted_at).is_not(None),
            SurveyResponse.questionnaire_id != q.id,
        )
    ).first()


def use_questionnaire(
    session: Session,
    *,
    programme: Programme,
    path: Path | None,
    questionnaire: Questionnaire,
    force: bool = False,
) -> None:
    """Record the programme's questionnaire file (None: the default); shared by the CLI
    and the chat. OtherQuestionnaireAnswered unless forced."""
    other = answered_with_other(session, programme, questionnaire)
    if other is not None and not force:
        raise OtherQuestionnaireAnswered(other)
    programme.survey_path = None if path is None else str(path)
    session.add(programme)


def choose_questionnaire(
    session: Session, *, actor: StaffActor, programme_id: int, path: Path, now: datetime
) -> Questionnaire:
    """From the chat: check the file again and make it the programme's; audited.

    QuestionnaireError-like problems raise InvalidQuestionnaire; another questionnaire
    already answered raises OtherQuestionnaireAnswered (the chat never forces).
    """
    programme = programme_for(
        session, actor=actor, action=StaffAction.RUN_PROGRAMME, programme_id=programme_id, lock=True
    )
    q, problems = questionnaire_problems(session, path)
    if problems or q is None:
        raise InvalidQuestionnaire(problems)
    default = path == default_questionnaire_path()
    use_questionnaire(session, programme=programme, path=None if default else path, questionnaire=q)
    record(
        session,
        actor_id=actor.person_id,
        action=AuditAction.QUESTIONNAIRE_CHOSEN,
        subject_type="programme",
        subject_id=programme_id,
        details={"questionnaire": q.id, "version": q.version},
        at=now,
    )
    return q


class InvalidQuestionnaire(ValueError):
    """The file has problems; `problems` lists them with their lines."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


class FileTooLarge(ValueError):
    """A questionnaire file over the size limit."""


def keep_sent_file(content: bytes, *, folder: Path) -> Path:
    """Store a questionnaire sent in the chat under a name from its content (so the same
    file is kept once and never overwritten by another) and return its path."""
    if len(content) > MAX_FILE_BYTES:
        raise FileTooLarge(len(content))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"sent-{hashlib.sha256(content).hexdigest()[:16]}.yaml"
    if not path.exists():
        partial = path.with_suffix(".part")
        partial.write_bytes(content)
        partial.replace(path)
    return path


@dataclass(frozen=True)
class QuestionnaireSummary:
    """What a questionnaire asks: id, version, questions per phase."""

    questionnaire_id: str
    version: str
    initial_items: int
    final_items: int


def summary(q: Questionnaire) -> QuestionnaireSummary:
    """The short description shown before a questionnaire is chosen."""
    return QuestionnaireSummary(
        q.id,
        q.version,
        len(items_for_phase(q, SurveyPhase.INITIAL)),
        len(items_for_phase(q, SurveyPhase.FINAL)),
    )


@dataclass(frozen=True)
class ResponseCounts:
    """Submitted surveys of a programme and how many participants have both."""

    initial: int
    final: int
    pairs: int
    started: int


def response_counts(session: Session, *, actor: StaffActor, programme_id: int) -> ResponseCounts:
    """Submitted initial and final surveys, matched pairs, and surveys begun but not sent."""
    programme_for(session, actor=actor, action=StaffAction.RUN_PROGRAMME, programme_id=programme_id)
    rows = session.exec(
        select(SurveyResponse.phase, col(SurveyResponse.submitted_at).is_not(None), func.count())
        .where(SurveyResponse.programme_id == programme_id)
        .group_by(SurveyResponse.phase, col(SurveyResponse.submitted_at).is_not(None))
    ).all()
    submitted = {phase: int(n) for phase, done, n in rows if done}
    started = sum(int(n) for _, done, n in rows if not done)
    final_codes = select(SurveyResponse.participant_code_id).where(
        SurveyResponse.programme_id == programme_id,
        SurveyResponse.phase == SurveyPhase.FINAL.value,
        col(SurveyResponse.submitted_at).is_not(None),
    )
    pairs = session.exec(
        select(func.count())
        .select_from(SurveyResponse)
        .join(ParticipantCode, col(ParticipantCode.id) == col(SurveyResponse.participant_code_id))
        .where(
            SurveyResponse.programme_id == programme_id,
            SurveyResponse.phase == SurveyPhase.INITIAL.value,
            col(SurveyResponse.submitted_at).is_not(None),
            col(SurveyResponse.participant_code_id).in_(final_codes),
        )
    ).one()
    return ResponseCounts(
        submitted.get(SurveyPhase.INITIAL.value, 0),
        submitted.get(SurveyPhase.FINAL.value, 0),
        int(pairs),
        started,
    )
