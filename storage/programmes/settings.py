"""A programme's own settings: reminder times, quiet hours, survey follow-ups, retention.

One code path for `palbot set-retention` and the /admin screens: the CLI calls the
`apply_*` functions directly (an operator at the shell), the chat calls the `set_*`
functions, which first ask storage.people.staff_access and add an audit row with the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlmodel import Session

from storage.audit import AuditAction, record
from storage.models import Programme
from storage.people.staff_access import StaffAction, StaffActor
from storage.privacy.retention import add_months, programme_end
from storage.programmes.defaults import BUILT_IN_OFFSETS, defaults_of
from storage.programmes.editions import programme_activity_count, programme_for
from storage.setting_values import parse_offsets, parse_quiet_hours

MAX_OFFSETS = 4
MAX_OFFSET = timedelta(days=14)
MIN_OFFSET = timedelta(minutes=15)
MAX_RETENTION_MONTHS = 120


class SettingRefused(ValueError):
    """A typed setting the programme cannot take; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _unit(offset: timedelta) -> str:
    seconds = int(offset.total_seconds())
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def offsets_label(offsets: tuple[timedelta, ...]) -> str:
    """`24h,2h` for offsets (largest first), as stored and typed."""
    return ",".join(_unit(o) for o in offsets)


def canonical_offsets(raw: str) -> str:
    """`2h, 24h` -> `24h,2h`; 1 to 4 offsets, each from 15 minutes to 14 days."""
    try:
        offsets = parse_offsets(raw)
    except ValueError:
        raise SettingRefused("offsets_format") from None
    if not 1 <= len(offsets) <= MAX_OFFSETS:
        raise SettingRefused("offsets_count")
    if any(not MIN_OFFSET <= o <= MAX_OFFSET for o in offsets):
        raise SettingRefused("offsets_range")
    return offsets_label(offsets)


def canonical_quiet_hours(raw: str) -> str:
    """`21:00-8:00` -> `21:00-08:00`; `off` for none."""
    try:
        hours = parse_quiet_hours(raw)
    except ValueError:
        raise SettingRefused("quiet_format") from None
    if hours is None:
        return "off"
    return f"{hours[0]:%H:%M}-{hours[1]:%H:%M}"


def canonical_retention(raw: str) -> str:
    """A number of months from 1 to 120, or `off` (no automatic erasure)."""
    text = raw.strip().lower()
    if text in {"off", "wył", "wyłącz", "nie", "ні", "вимк", "no"}:
        return "off"
    if not text.isdigit() or not 1 <= int(text) <= MAX_RETENTION_MONTHS:
        raise SettingRefused("retention_range")
    return str(int(text))


def apply_retention(
    programme: Programme,
    *,
    months: int | Literal["unchanged"] | None,
    keep_answers: bool | None = None,
) -> None:
    """Change retention months (None: off) and/or what happens to survey answers on
    erasure (None: unchanged). Shared by the CLI and the chat."""
    if months != "unchanged":
        if months is not None and not 1 <= months <= MAX_RETENTION_MONTHS:
            raise SettingRefused("retention_range")
        programme.retention_months = months
    if keep_answers is not None:
        programme.keep_answers_on_erasure = keep_answers


def erasure_date(session: Session, programme: Programme) -> datetime | None:
    """When identities of this programme will be erased, if that is known."""
    end = programme_end(session, programme)
    if programme.retention_months is None or end is None:
        return None
    return add_months(end, programme.retention_months)


class Setting:
    """Names of the settings in audit rows and dialogs."""

    REMINDERS = "reminder_offsets"
    QUIET_HOURS = "quiet_hours"
    FOLLOWUPS = "survey_followups"
    RETENTION = "retention_months"
    KEEP_ANSWERS = "keep_answers_on_erasure"


def set_setting(
    session: Session,
    *,
    actor: StaffActor,
    programme_id: int,
    setting: str,
    value: str,
    now: datetime,
) -> Programme:
    """Set one programme setting from its canonical text (validated again); audited.

    `value`: offsets (`24h,2h` or `default`), quiet hours (`21:00-08:00`, `off` or
    `default`), follow-ups (`on`/`off`), retention (months or `off`), answers on
    erasure (`keep`/`delete`).
    """
    programme = programme_for(
        session, actor=actor, action=StaffAction.RUN_PROGRAMME, programme_id=programme_id, lock=True
    )
    if setting == Setting.REMINDERS:
        programme.reminder_offsets = None if value == "default" else canonical_offsets(value)
    elif setting == Setting.QUIET_HOURS:
        programme.quiet_hours = None if value == "default" else canonical_quiet_hours(value)
    elif setting == Setting.FOLLOWUPS and value in {"on", "off"}:
        programme.survey_followups = value == "on"
    elif setting == Setting.RETENTION:
        clean = canonical_retention(value)
        apply_retention(programme, months=None if clean == "off" else int(clean))
    elif setting == Setting.KEEP_ANSWERS and value in {"keep", "delete"}:
        apply_retention(programme, months="unchanged", keep_answers=value == "keep")
    else:
        raise SettingRefused("unknown")
    session.add(programme)
    record(
        session,
        actor_id=actor.person_id,
        action=AuditAction.PROGRAMME_SETTING_SET,
        subject_type="programme",
        subject_id=programme_id,
        details={"field": setting},
        at=now,
    )
    return programme


@dataclass(frozen=True)
class ProgrammeSettings:
    """What the programme screen shows."""

    programme_id: int
    name: str
    starts_at: datetime | None
    ends_at: datetime | None
    archived: bool
    activities: int
    reminder_offsets: str | None
    quiet_hours: str | None
    survey_followups: bool
    retention_months: int | None
    keep_answers: bool
    erase_on: datetime | None
    survey_path: str | None
    final_opened_at: datetime | None
    # Whether the viewer may rename, copy and archive it (administrators, not coordinators).
    editable: bool = False
    # The deployment's reminder offsets, shown where the programme sets none.
    default_reminder_offsets: tuple[timedelta, ...] = BUILT_IN_OFFSETS


def programme_settings(
    session: Session, *, actor: StaffActor, programme_id: int
) -> ProgrammeSettings:
    """A programme and its settings, for those who may run it."""
    programme = programme_for(
        session, actor=actor, action=StaffAction.RUN_PROGRAMME, programme_id=programme_id
    )
    return ProgrammeSettings(
        programme_id,
        programme.name,
        programme.starts_at,
        programme.ends_at,
        programme.archived_at is not None,
        programme_activity_count(session, programme_id),
        programme.reminder_offsets,
        programme.quiet_hours,
        programme.survey_followups,
        programme.retention_months,
        programme.keep_answers_on_erasure,
        erasure_date(session, programme),
        programme.survey_path,
        programme.final_survey_opened_at,
        editable=actor.may(session, StaffAction.EDIT_PROGRAMMES, programme_id),
        default_reminder_offsets=defaults_of(session).reminder_offsets,
    )
