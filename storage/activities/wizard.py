"""The new-activity wizard as a dialog: where the animator is, and publishing the draft.

The draft and its position live in the animator's `Dialog` (kind `animator_wizard`) and
change in the same transaction as the answer, so a restart, or another process, goes
on at the same question with every earlier answer. The checks of each answer are in
storage.activities.drafts; this module moves between questions and publishes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.activities.draft_questions import DIALOG_KIND, Step
from storage.activities.drafts import Moments, answer, next_step, validate_complete, weekly_rule
from storage.activities.series import NewSeries, WeeklyRule, create_series
from storage.audit import AuditAction, record
from storage.dialogs import close_dialog, get_dialog, save_dialog
from storage.models import Activity, ActivityStatus, Dialog, Programme

# Answers offered from a list the server keeps (categories, venues) arrive as `#<n>`.
OPTION_PREFIX = "#"


class StaleStep(Exception):
    """A button of a question that is no longer the current one."""


class NoDraft(LookupError):
    """The animator has no draft (finished, cancelled, or never started)."""


@dataclass
class Wizard:
    """The dialog's data in typed form."""

    step: Step
    draft: dict[str, Any] = field(default_factory=dict)
    # Lists behind `#<n>` buttons, fixed when the question was asked.
    options: dict[str, list[str]] = field(default_factory=dict)
    # Came from the preview's "Change…": go back there once answered.
    to_preview: bool = False

    @classmethod
    def of(cls, dialog: Dialog) -> Wizard:
        """Read a stored dialog."""
        data = dialog.data
        return cls(
            Step(dialog.step),
            dict(data.get("draft", {})),
            dict(data.get("options", {})),
            bool(data.get("to_preview", False)),
        )

    def data(self) -> dict[str, Any]:
        """What is stored."""
        return {"draft": self.draft, "options": self.options, "to_preview": self.to_preview}


def _options(session: Session, step: Step, programme_id: int | None, person_id: int) -> list[str]:
    if programme_id is None:
        return []
    if step == Step.CATEGORY:
        return known_categories(session, programme_id=programme_id)
    if step == Step.VENUE:
        return recent_venues(session, programme_id=programme_id, organiser_id=person_id)
    return []


def _save(session: Session, person_id: int, programme_id: int | None, wizard: Wizard) -> Wizard:
    # The buttons' lists are fixed when the question is asked, so `#2` means what was shown.
    wizard.options = {wizard.step.value: _options(session, wizard.step, programme_id, person_id)}
    save_dialog(
        session,
        person_id=person_id,
        kind=DIALOG_KIND,
        step=wizard.step.value,
        data=wizard.data(),
        awaits_text=wizard.step != Step.PREVIEW,
    )
    return wizard


def current_wizard(session: Session, person_id: int) -> Wizard | None:
    """The animator's draft, if one is open."""
    dialog = get_dialog(session, person_id=person_id, kind=DIALOG_KIND)
    return Wizard.of(dialog) if dialog is not None else None


def begin_wizard(
    session: Session, *, person_id: int, programme_id: int | None, restart: bool
) -> tuple[Wizard, bool]:
    """The animator's draft (resumed unless `restart`); True if an earlier one exists."""
    existing = current_wizard(session, person_id)
    if existing is not None and not restart:
        return existing, True
    return _save(session, person_id, programme_id, Wizard(Step.TITLE)), False


def answer_wizard(
    session: Session,
    *,
    person_id: int,
    programme_id: int | None,
    step: Step,
    text: str,
    now: datetime,
    zone: ZoneInfo,
) -> Wizard:
    """Take an answer for `step`; DraftInvalid leaves everything as it was."""
    wizard = current_wizard(session, person_id)
    if wizard is None:
        raise NoDraft(person_id)
    if wizard.step != step:
        raise StaleStep(wizard.step)
    if text.startswith(OPTION_PREFIX) and step in (Step.CATEGORY, Step.VENUE):
        offered = wizard.options.get(step.value, [])
        index = text[len(OPTION_PREFIX) :]
        if not index.isdigit() or int(index) >= len(offered):
            raise StaleStep(wizard.step)
        text = offered[int(index)]
    wizard.draft = answer(wizard.draft, step, text, now=now, zone=zone)
    following = next_step(wizard.draft, after=step)
    if wizard.to_preview and following == Step.PREVIEW:
        wizard.to_preview = False
    wizard.step = following
    return _save(session, person_id, programme_id, wizard)


def move_wizard(
    session: Session,
    *,
    person_id: int,
    programme_id: int | None,
    from_step: Step | None,
    to_step: Step,
    to_preview: bool | None = None,
) -> Wizard:
    """Move to another question (Back, Continue, Change…) keeping every answer."""
    wizard = current_wizard(session, person_id)
    if wizard is None:
        raise NoDraft(person_id)
    if from_step is not None and wizard.step != from_step:
        raise StaleStep(wizard.step)
    wizard.step = to_step
    if to_preview is not None:
        wizard.to_preview = to_preview
    return _save(session, person_id, programme_id, wizard)


@dataclass(frozen=True)
class Published:
    """What Publish created: the activity (a series' first date) and how many dates."""

    activity_id: int
    title: str
    dates: int


def publish_wizard(
    session: Session, *, person_id: int, programme_id: int, now: datetime, zone: ZoneInfo
) -> Published:
    """Publish the draft and close the wizard, in one transaction."""
    wizard = current_wizard(session, person_id)
    if wizard is None:
        raise NoDraft(person_id)
    if wizard.step != Step.PREVIEW:
        raise StaleStep(wizard.step)
    activity = publish(
        session,
        draft=wizard.draft,
        programme_id=programme_id,
        organiser_id=person_id,
        now=now,
        zone=zone,
    )
    close_dialog(session, person_id=person_id, kind=DIALOG_KIND)
    assert activity.id is not None
    dates = 1
    if activity.series_id is not None:
        dates = int(
            session.exec(select(func.count()).where(Activity.series_id == activity.series_id)).one()
        )
    return Published(activity.id, activity.title, dates)


def discard_wizard(session: Session, *, person_id: int) -> bool:
    """Throw the draft away; returns whether there was one."""
    existed = get_dialog(session, person_id=person_id, kind=DIALOG_KIND) is not None
    close_dialog(session, person_id=person_id, kind=DIALOG_KIND)
    return existed


def publish(
    session: Session,
    *,
    draft: dict[str, Any],
    programme_id: int,
    organiser_id: int,
    now: datetime,
    zone: ZoneInfo,
) -> Activity:
    """Create the activity (or the weekly series' first date) from a complete draft."""
    found = validate_complete(draft, now=now, zone=zone)
    rule = weekly_rule(draft)
    if rule is not None:
        return _publish_series(
            session,
            draft=draft,
            rule=rule,
            programme_id=programme_id,
            organiser_id=organiser_id,
            found=found,
            now=now,
            zone=zone,
        )
    activity = Activity(
        programme_id=programme_id,
        title=draft["title"],
        category=draft["category"],
        description=draft.get("description") or "",
        venue=draft["venue"],
        starts_at=found.starts_at,
        ends_at=found.ends_at,
        places=int(draft["places"]),
        registration_deadline=found.deadline,
        organiser_id=organiser_id,
        status=ActivityStatus.PUBLISHED,
        created_at=now,
        updated_at=now,
    )
    session.add(activity)
    session.flush()
    _keep_open_until(session, programme_id, found.starts_at)
    record(
        session,
        actor_id=organiser_id,
        action=AuditAction.ACTIVITY_CREATED,
        subject_type="activity",
        subject_id=activity.id,
        details={"programme_id": programme_id, "places": activity.places},
        at=now,
    )
    return activity


def _keep_open_until(session: Session, programme_id: int, last_start: datetime) -> None:
    # Like the import: a programme stays open for sign-ups until its last activity.
    programme = session.get(Programme, programme_id)
    if (
        programme is not None
        and programme.signup_open_until is not None
        and programme.signup_open_until < last_start
    ):
        programme.signup_open_until = last_start
        session.add(programme)


def _publish_series(
    session: Session,
    *,
    draft: dict[str, Any],
    rule: WeeklyRule,
    programme_id: int,
    organiser_id: int,
    found: Moments,
    now: datetime,
    zone: ZoneInfo,
) -> Activity:
    series, dates = create_series(
        session,
        new=NewSeries(
            programme_id=programme_id,
            title=draft["title"],
            category=draft["category"],
            description=draft.get("description") or "",
            venue=draft["venue"],
            places=int(draft["places"]),
            organiser_id=organiser_id,
            # The deadline asked for the first date holds as much before every date.
            deadline_before=found.starts_at - found.deadline if found.deadline else None,
        ),
        rule=rule,
        zone=zone,
        now=now,
    )
    _keep_open_until(session, programme_id, dates[-1].starts_at)
    record(
        session,
        actor_id=organiser_id,
        action=AuditAction.ACTIVITY_CREATED,
        subject_type="series",
        subject_id=series.id,
        details={"programme_id": programme_id, "places": dates[0].places, "dates": len(dates)},
        at=now,
    )
    return dates[0]


def known_categories(session: Session, *, programme_id: int, limit: int = 8) -> list[str]:
    """The programme's categories, most used first, for the category buttons."""
    rows = session.exec(
        select(Activity.category, func.count())
        .where(Activity.programme_id == programme_id)
        .group_by(col(Activity.category))
        .order_by(func.count().desc(), col(Activity.category))
        .limit(limit)
    ).all()
    return [str(category) for category, _ in rows]


def recent_venues(
    session: Session, *, programme_id: int, organiser_id: int | None = None, limit: int = 6
) -> list[str]:
    """Venues used lately in the programme, the animator's own first, for buttons."""
    rows = session.exec(
        select(Activity.venue, Activity.organiser_id, func.max(Activity.created_at))
        .where(Activity.programme_id == programme_id)
        .group_by(col(Activity.venue), col(Activity.organiser_id))
        .order_by(func.max(Activity.created_at).desc())
    ).all()
    own = [v for v, organiser, _ in rows if organiser_id is not None and organiser == organiser_id]
    venues: list[str] = []
    for venue in [*own, *(v for v, _, _ in rows)]:
        if venue not in venues:
            venues.append(venue)
    return venues[:limit]
