"""The new-consultation dialog: where the author is, and publishing the draft.

The draft and its step live in the author's `Dialog` (kind `consultation_draft`) and
change in the same transaction as the answer, so a restart or another process goes on
at the same question. The checks of each answer are in storage.consultations.drafts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from storage.activities.organising import Actor, detached
from storage.consultations.drafts import DIALOG_KIND, TEXT_STEPS, Step, answer, begin_translation
from storage.consultations.running import NotYourConsultation, create_consultation, may_run
from storage.dialogs import close_dialog, get_dialog, save_dialog
from storage.models import Consultation


class StaleStep(Exception):
    """A button of a question that is no longer the current one."""


class NoDraft(LookupError):
    """The author has no draft (published, cancelled, or never started)."""


# Every earlier question, for Back: a survey of 8 questions has about 35 steps.
HISTORY_LIMIT = 60


@dataclass
class ConsultationDraft:
    """The dialog's data in typed form; `history` holds the earlier steps for Back."""

    step: Step
    draft: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)


def current_draft(session: Session, *, person_id: int) -> ConsultationDraft | None:
    """The author's draft, if one is open."""
    dialog = get_dialog(session, person_id=person_id, kind=DIALOG_KIND)
    if dialog is None:
        return None
    return ConsultationDraft(
        Step(dialog.step), dict(dialog.data.get("draft", {})), list(dialog.data.get("history", []))
    )


def _save(session: Session, person_id: int, found: ConsultationDraft) -> ConsultationDraft:
    save_dialog(
        session,
        person_id=person_id,
        kind=DIALOG_KIND,
        step=found.step.value,
        data={"draft": found.draft, "history": found.history[-HISTORY_LIMIT:]},
        awaits_text=found.step in TEXT_STEPS,
    )
    return found


def begin_draft(session: Session, *, actor: Actor) -> ConsultationDraft:
    """Start a new draft (an unfinished one is replaced)."""
    if actor.programme_id is None or not may_run(actor, actor.programme_id):
        raise NotYourConsultation(0)
    return _save(session, actor.person_id, ConsultationDraft(Step.KIND))


def answer_draft(
    session: Session, *, actor: Actor, step: Step, text: str, now: datetime, zone: ZoneInfo
) -> ConsultationDraft:
    """Take an answer for `step`; ConsultationInvalid leaves everything as it was."""
    found = current_draft(session, person_id=actor.person_id)
    if found is None:
        raise NoDraft(actor.person_id)
    if found.step != step:
        raise StaleStep(found.step)
    draft, following = answer(found.draft, step, text, now=now, zone=zone, is_admin=actor.is_admin)
    earlier = [*found.history, {"step": found.step.value, "draft": found.draft}]
    return _save(session, actor.person_id, ConsultationDraft(following, draft, earlier))


def translate_draft(session: Session, *, actor: Actor, language: str) -> ConsultationDraft:
    """From the preview: wait for the staff's own version of every text in `language`."""
    found = current_draft(session, person_id=actor.person_id)
    if found is None:
        raise NoDraft(actor.person_id)
    if found.step != Step.PREVIEW:
        raise StaleStep(found.step)
    earlier = [*found.history, {"step": found.step.value, "draft": found.draft}]
    return _save(
        session,
        actor.person_id,
        ConsultationDraft(Step.TRANSLATION, begin_translation(found.draft, language), earlier),
    )


def back_draft(session: Session, *, actor: Actor, from_step: Step) -> ConsultationDraft:
    """Back to the previous question, with the draft as it was before answering it."""
    found = current_draft(session, person_id=actor.person_id)
    if found is None:
        raise NoDraft(actor.person_id)
    if found.step != from_step or not found.history:
        raise StaleStep(found.step)
    previous = found.history[-1]
    return _save(
        session,
        actor.person_id,
        ConsultationDraft(Step(previous["step"]), dict(previous["draft"]), found.history[:-1]),
    )


def publish_draft(session: Session, *, actor: Actor, now: datetime, zone: ZoneInfo) -> Consultation:
    """Create the consultation and close the dialog, in one transaction."""
    found = current_draft(session, person_id=actor.person_id)
    if found is None:
        raise NoDraft(actor.person_id)
    if found.step != Step.PREVIEW:
        raise StaleStep(found.step)
    if actor.programme_id is None:
        raise NotYourConsultation(0)
    consultation = create_consultation(
        session, draft=found.draft, programme_id=actor.programme_id, actor=actor, now=now, zone=zone
    )
    close_dialog(session, person_id=actor.person_id, kind=DIALOG_KIND)
    return detached(consultation)


def discard_draft(session: Session, *, person_id: int) -> bool:
    """Throw the draft away; returns whether there was one."""
    existed = get_dialog(session, person_id=person_id, kind=DIALOG_KIND) is not None
    close_dialog(session, person_id=person_id, kind=DIALOG_KIND)
    return existed
