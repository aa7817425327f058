"""Changing a programme's name, dates and settings from the chat, one step at a time."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from storage.date_input import NotUnderstood, parse_date
from storage.dialogs import close_dialog, get_dialog, save_dialog
from storage.models import Dialog
from storage.people.staff_access import StaffAction, StaffActor
from storage.programmes.editions import (
    EditionPlan,
    EditionRefusal,
    EditionRefused,
    check_day,
    clean_programme_name,
    copy_edition,
    local_day,
    plan_copy,
    programme_for,
    rename_programme,
    set_archived,
    set_end_date,
    set_start_date,
)
from storage.programmes.settings import (
    ProgrammeSettings,
    Setting,
    SettingRefused,
    canonical_offsets,
    canonical_quiet_hours,
    canonical_retention,
    programme_settings,
    set_setting,
)

EDIT = "programme_edit"


# Typed fields: what each changes and which action allows it.
FIELDS = {
    "name": StaffAction.EDIT_PROGRAMMES,
    "start": StaffAction.RUN_PROGRAMME,
    "end": StaffAction.RUN_PROGRAMME,
    "rem": StaffAction.RUN_PROGRAMME,
    "quiet": StaffAction.RUN_PROGRAMME,
    "ret": StaffAction.RUN_PROGRAMME,
    "copy": StaffAction.EDIT_PROGRAMMES,
}


# Button choices: (setting, allowed values).
CHOICES = {
    "fu": Setting.FOLLOWUPS,
    "ka": Setting.KEEP_ANSWERS,
    "rem": Setting.REMINDERS,
    "quiet": Setting.QUIET_HOURS,
    "ar": "archived",
}


class Stale(Exception):
    """A confirmation whose dialog is gone or was replaced."""


def begin_edit(
    session: Session, *, actor: StaffActor, programme_id: int, field: str, person_id: int
) -> ProgrammeSettings:
    """Start typing a new value for one setting; returns the settings screen."""
    programme_for(session, actor=actor, action=FIELDS[field], programme_id=programme_id)
    save_dialog(
        session,
        person_id=person_id,
        kind=EDIT,
        step=field,
        data={"pid": programme_id, "field": field},
        awaits_text=True,
    )
    return programme_settings(session, actor=actor, programme_id=programme_id)


def check_edit_value(
    session: Session,
    *,
    actor: StaffActor,
    programme_id: int,
    field: str,
    text: str,
    zone: ZoneInfo,
    now: datetime,
) -> tuple[str, EditionPlan | None]:
    """The canonical value of a typed answer, or EditionRefused / SettingRefused."""
    programme = programme_for(session, actor=actor, action=FIELDS[field], programme_id=programme_id)
    today = now.astimezone(zone).date()
    if field == "name":
        return clean_programme_name(session, text, except_id=programme_id), None
    if field == "rem":
        return canonical_offsets(text), None
    if field == "quiet":
        return canonical_quiet_hours(text), None
    if field == "ret":
        return canonical_retention(text), None
    try:
        day = check_day(parse_date(text, today=today), today=today)
    except NotUnderstood:
        raise SettingRefused("date") from None
    if field == "copy":
        return day.isoformat(), plan_copy(
            session,
            actor=actor,
            programme_id=programme_id,
            starts_on=day,
            name=None,
            zone=zone,
            now=now,
        )
    start, end = local_day(programme.starts_at, zone), local_day(programme.ends_at, zone)
    if (field == "end" and start and day < start) or (field == "start" and end and day > end):
        raise EditionRefused(EditionRefusal.END_BEFORE_START)
    return day.isoformat(), None


def remember_edit_value(session: Session, *, dialog: Dialog, value: str) -> str:
    """Keep the typed value until it is confirmed; returns the confirmation's nonce."""
    nonce = secrets.token_hex(4)
    save_dialog(
        session,
        person_id=dialog.person_id,
        kind=EDIT,
        step="confirm",
        data={**dialog.data, "value": value, "nonce": nonce},
    )
    return nonce


def programme_name_of(session: Session, *, actor: StaffActor, programme_id: int) -> str:
    """The name of a programme the staff member may run."""
    return checked_programme_name(
        session, actor=actor, programme_id=programme_id, action=StaffAction.RUN_PROGRAMME
    )


def apply_edit(
    session: Session,
    *,
    actor: StaffActor,
    person_id: int,
    programme_id: int,
    nonce: str,
    zone: ZoneInfo,
    now: datetime,
) -> ProgrammeSettings:
    """Apply the confirmed typed value; Stale if the confirmation is not the current one."""
    programme_for(session, actor=actor, action=StaffAction.RUN_PROGRAMME, programme_id=programme_id)
    dialog = get_dialog(session, person_id=person_id, kind=EDIT)
    if (
        dialog is None
        or dialog.step != "confirm"
        or dialog.data.get("nonce") != nonce
        or dialog.data.get("pid") != programme_id
    ):
        raise Stale(nonce)
    field, value = str(dialog.data["field"]), str(dialog.data["value"])
    shown = programme_id
    if field == "name":
        rename_programme(session, actor=actor, programme_id=programme_id, name=value, now=now)
    elif field in ("start", "end"):
        setter = set_start_date if field == "start" else set_end_date
        setter(
            session,
            actor=actor,
            programme_id=programme_id,
            day=date.fromisoformat(value),
            zone=zone,
            now=now,
        )
    elif field == "copy":
        edition, _ = copy_edition(
            session,
            actor=actor,
            programme_id=programme_id,
            starts_on=date.fromisoformat(value),
            name=None,
            zone=zone,
            now=now,
        )
        assert edition.id is not None
        shown = edition.id
    else:
        setting = {
            "rem": Setting.REMINDERS,
            "quiet": Setting.QUIET_HOURS,
            "ret": Setting.RETENTION,
        }[field]
        set_setting(
            session, actor=actor, programme_id=programme_id, setting=setting, value=value, now=now
        )
    close_dialog(session, person_id=person_id, kind=EDIT)
    return programme_settings(session, actor=actor, programme_id=shown)


def checked_programme_name(
    session: Session, *, actor: StaffActor, programme_id: int, action: StaffAction
) -> str:
    """The programme's name if the staff member may take `action` in it."""
    return programme_for(session, actor=actor, action=action, programme_id=programme_id).name


def apply_edit_choice(
    session: Session,
    *,
    actor: StaffActor,
    person_id: int,
    programme_id: int,
    choice: str,
    value: str,
    now: datetime,
) -> ProgrammeSettings:
    """Apply a setting chosen with a button (archive, survey reminders, answers kept)."""
    if choice == "ar":
        set_archived(
            session, actor=actor, programme_id=programme_id, archived=value == "on", now=now
        )
    else:
        set_setting(
            session,
            actor=actor,
            programme_id=programme_id,
            setting=CHOICES[choice],
            value=value,
            now=now,
        )
    close_dialog(session, person_id=person_id, kind=EDIT)
    return programme_settings(session, actor=actor, programme_id=programme_id)
