"""Surveys on paper: the people without Telegram of a programme and entering their answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from storage.access import Action, programmes_for
from storage.dialogs import close_dialog, get_dialog, save_dialog
from storage.models import Person, Programme
from storage.people.without_telegram import (
    create_proxy_participant,
    proxy_participant,
    proxy_participants,
)
from storage.surveys.questionnaires import SurveyPhase
from storage.surveys.responses import Channel, find_response, start_or_resume, view
from usecases.survey_steps import Actor, Step, keep_dialog

KIND_NEW = "paper_new"


def paper_programmes(session: Session, actor: Actor) -> list[Programme]:
    """The open programmes the staff member may enter paper surveys in, by name."""
    scope = programmes_for(actor.access, Action.WORK_IN_PROGRAMME)
    query = (
        select(Programme).where(col(Programme.archived_at).is_(None)).order_by(col(Programme.name))
    )
    if scope is not None:
        query = query.where(col(Programme.id).in_(sorted(scope)))
    return list(session.exec(query))


@dataclass(frozen=True)
class PersonRow:
    """A participant without Telegram and how far their paper surveys are."""

    person_id: int
    name: str
    initial: datetime | None
    final: datetime | None
    initial_started: bool
    final_started: bool


@dataclass(frozen=True)
class ProgrammeList:
    """The animator's programmes, or the people of the one chosen."""

    programmes: list[Programme]
    chosen: Programme | None
    people: list[PersonRow]


def paper_people_of(session: Session, programme_id: int) -> list[PersonRow]:
    """The programme's people without Telegram, each with their surveys' state."""
    rows = []
    for person in proxy_participants(session, programme_id=programme_id):
        assert person.id is not None
        initial, final = (
            find_response(session, person_id=person.id, programme_id=programme_id, phase=phase)
            for phase in SurveyPhase
        )
        rows.append(
            PersonRow(
                person_id=person.id,
                name=person.display_name or "?",
                initial=initial.submitted_at if initial is not None else None,
                final=final.submitted_at if final is not None else None,
                initial_started=initial is not None,
                final_started=final is not None,
            )
        )
    return rows


def paper_list(session: Session, *, actor: Actor, programme_id: int | None) -> ProgrammeList:
    """The programmes to choose from, the chosen one and its people without Telegram."""
    programmes = paper_programmes(session, actor)
    chosen = None
    if programme_id is not None:
        chosen = next((p for p in programmes if p.id == programme_id), None)
    elif len(programmes) == 1:
        chosen = programmes[0]
    people = paper_people_of(session, chosen.id) if chosen is not None and chosen.id else []
    return ProgrammeList(programmes, chosen, people)


def paper_person(session: Session, *, actor: Actor, person_id: int) -> tuple[Person, PersonRow]:
    """A person without Telegram the staff member may act for, with their surveys' state."""
    allowed = {p.id for p in paper_programmes(session, actor) if p.id is not None}
    person = proxy_participant(session, person_id=person_id, programme_ids=allowed)
    assert person.programme_id is not None
    row = next(r for r in paper_people_of(session, person.programme_id) if r.person_id == person_id)
    return person, row


def start_paper(
    session: Session,
    *,
    actor: Actor,
    person_id: int,
    phase: SurveyPhase,
    now: datetime,
    message_id: int | None,
    surveys_dir: str | None,
) -> Step:
    """Start or resume a person's survey on paper and return its first open step."""
    allowed = {p.id for p in paper_programmes(session, actor) if p.id is not None}
    person = proxy_participant(session, person_id=person_id, programme_ids=allowed)
    programme = session.get(Programme, person.programme_id)
    assert programme is not None
    # Paper answers are transcribed whenever they arrive: both phases stay open here.
    response = start_or_resume(
        session,
        person_id=person_id,
        programme=programme,
        phase=phase,
        channel=Channel.PROXY,
        now=now,
        entered_by_id=actor.person_id,
        surveys_dir=surveys_dir,
    )
    step = Step(view(session, response), person.display_name or "?")
    keep_dialog(session, actor, step, message_id)
    return step


def begin_new_person(
    session: Session, *, actor: Actor, programme_id: int, message_id: int | None
) -> bool:
    """Ask for the name of a new person without Telegram; False outside the actor's programmes."""
    if programme_id not in {p.id for p in paper_programmes(session, actor)}:
        return False
    save_dialog(
        session,
        person_id=actor.person_id,
        kind=KIND_NEW,
        step="name",
        data={"programme_id": programme_id},
        awaits_text=True,
        message_id=message_id,
    )
    return True


def create_paper_person(session: Session, *, actor: Actor, signed: bool) -> Person | None:
    """Create the person the dialog collected (name and notice read); None if it is stale."""
    dialog = get_dialog(session, person_id=actor.person_id, kind=KIND_NEW)
    if dialog is None or dialog.step != "notice":
        return None
    programme_id, name = dialog.data.get("programme_id"), dialog.data.get("name")
    close_dialog(session, person_id=actor.person_id, kind=KIND_NEW)
    if not isinstance(programme_id, int) or not isinstance(name, str):
        return None
    if programme_id not in {p.id for p in paper_programmes(session, actor)}:
        return None
    return create_proxy_participant(
        session,
        display_name=name,
        created_by_id=actor.person_id,
        programme_id=programme_id,
        paper_notice_signed=signed,
    )
