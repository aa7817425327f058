"""/admin, one programme: its dates, name, settings, archive and a copy as a new edition.

Callback data starts with `prg:` — `prg:o:<p>` (the programme screen), `prg:e:<p>:<field>`
(type a new value; then `prg:y:<p>:<nonce>` confirms it, `prg:x:<p>` cancels),
`prg:b:<p>:<choice>:<value>` then `prg:bc:<p>:<choice>:<value>` (a choice by button,
confirmed), `prg:arch` (archived programmes). No role is checked here: every screen and
press asks storage.staff_access.may_act in the transaction that reads or acts, so the
programme coordinator role gets these screens by one line there.
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlmodel import Session
from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot.context import PalApplication, PalContext
from bot.i18n import Translator
from bot.keyboards import inline
from handlers.activities import show_screen
from handlers.admin import not_allowed_text, staff_actor
from handlers.common import answer, too_long
from handlers.dialogs import on_text
from storage.date_input import NotUnderstood, parse_date
from storage.dialogs import close_dialog, get_dialog, save_dialog
from storage.models import Dialog
from storage.programme_editions import (
    EditionPlan,
    EditionRefusal,
    EditionRefused,
    archived_programmes,
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
from storage.programme_settings import (
    ProgrammeSettings,
    Setting,
    SettingRefused,
    canonical_offsets,
    canonical_quiet_hours,
    canonical_retention,
    offsets_label,
    programme_settings,
    set_setting,
)
from storage.reminders import default_offsets
from storage.staff_access import NotAllowed, StaffAction, StaffActor

log = logging.getLogger(__name__)
Handler = Callable[[Update, PalContext], Awaitable[None]]
H = TypeVar("H", bound=Handler)
EDIT = "programme_edit"
Rows = list[list[tuple[str, str]]]
# Typed fields: what each changes and which action allows it.
FIELDS = {"name": StaffAction.EDIT_PROGRAMMES, "start": StaffAction.RUN_PROGRAMME,
          "end": StaffAction.RUN_PROGRAMME, "rem": StaffAction.RUN_PROGRAMME,
          "quiet": StaffAction.RUN_PROGRAMME, "ret": StaffAction.RUN_PROGRAMME,
          "copy": StaffAction.EDIT_PROGRAMMES}
# Button choices: (setting, allowed values).
CHOICES = {"fu": Setting.FOLLOWUPS, "ka": Setting.KEEP_ANSWERS, "rem": Setting.REMINDERS,
           "quiet": Setting.QUIET_HOURS, "ar": "archived"}


class Stale(Exception):
    """A confirmation whose dialog is gone or was replaced."""


def staff_screen(handler: H) -> H:
    """People who finished /start; refusals for anyone storage does not allow."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: PalContext) -> None:
        if not context.viewer.is_onboarded or context.viewer.person is None:
            await answer(update, context, context.t._("First, let's get you set up: send /start."))
            return
        try:
            await handler(update, context)
        except NotAllowed:
            log.info("programme screen refused user_id=%s", context.viewer.telegram_id)
            await answer(update, context, not_allowed_text(context.t), alert=True)

    return guarded  # type: ignore[return-value]


def arg(context: PalContext, group: int = 1) -> str:
    """A group of the pressed button's pattern."""
    assert context.matches is not None
    return str(context.matches[0].group(group))


def day_text(t: Translator, moment: datetime | date | None) -> str:
    """`29 marca 2027`, or “not set”."""
    if moment is None:
        return t._("not set")
    day = moment.astimezone(t.zone).date() if isinstance(moment, datetime) else moment
    return format_date(day, "d MMMM y", locale=t.locale)


def offsets_text(t: Translator, raw: str | None) -> str:
    """`48h, 3h` or the default with “(default)”."""
    if raw is None:
        label = offsets_label(default_offsets())
        return t._("{value} (default)").format(value=label.replace(",", ", "))
    return raw.replace(",", ", ")


def quiet_text(t: Translator, raw: str | None) -> str:
    """Quiet hours as shown: `21:00–08:00`, none, or the default."""
    if raw is None:
        return t._("the default of this chat")
    return t._("none") if raw == "off" else raw.replace("-", "–")


def retention_text(t: Translator, view: ProgrammeSettings) -> str:
    """When identities are erased and what happens to survey answers."""
    if view.retention_months is None:
        when = t._("never automatically")
    else:
        when = t.ngettext("{n} month after the end", "{n} months after the end",
                          view.retention_months).format(n=view.retention_months)
        if view.erase_on is not None:
            when += " (" + day_text(t, view.erase_on) + ")"
    answers = (t._("survey answers stay under the code") if view.keep_answers
               else t._("survey answers are deleted"))
    return f"{when}; {answers}"


def programme_text(t: Translator, view: ProgrammeSettings) -> str:
    """The programme screen's text."""
    lines = [t._("⚙️ Programme “{name}”").format(name=view.name)]
    if view.archived:
        lines.append(t._("🗄 Archived: residents and staff screens no longer show it; its "
                         "data and reports stay."))
    lines += [
        t._("Start: {date}").format(date=day_text(t, view.starts_at)),
        t._("End: {date}").format(date=day_text(t, view.ends_at)),
        t.ngettext("{n} activity planned", "{n} activities planned",
                   view.activities).format(n=view.activities),
        t._("Reminders before an activity: {value}").format(
            value=offsets_text(t, view.reminder_offsets)),
        t._("Quiet hours (no messages): {value}").format(value=quiet_text(t, view.quiet_hours)),
        t._("Survey reminders: {value}").format(
            value=t._("on") if view.survey_followups else t._("off")),
        t._("Names and Telegram ids erased: {value}").format(value=retention_text(t, view)),
    ]
    return "\n".join(lines)


def programme_buttons(t: Translator, view: ProgrammeSettings) -> Rows:
    """The programme screen's buttons."""
    p = view.programme_id
    follow = "off" if view.survey_followups else "on"
    keep = "delete" if view.keep_answers else "keep"
    return [
        [(t._("✏️ Name"), f"prg:e:{p}:name"), (t._("📅 Start"), f"prg:e:{p}:start"),
         (t._("📅 End"), f"prg:e:{p}:end")],
        [(t._("⏰ Reminder times"), f"prg:e:{p}:rem"), (t._("🌙 Quiet hours"), f"prg:e:{p}:quiet")],
        [(t._("🔕 Survey reminders off") if view.survey_followups
          else t._("🔔 Survey reminders on"), f"prg:b:{p}:fu:{follow}")],
        [(t._("🗓 Erase after…"), f"prg:e:{p}:ret"),
         (t._("Answers: delete on erasure") if view.keep_answers
          else t._("Answers: keep on erasure"), f"prg:b:{p}:ka:{keep}")],
        [(t._("📋 Questionnaire and surveys"), f"prg:s:{p}")],
        [(t._("📜 Audit trail"), f"prg:au:{p}:0"),
         (t._("📄 Data of a person without Telegram"), f"prg:pd:{p}")],
        [(t._("📑 Copy as a new edition"), f"prg:e:{p}:copy")],
        [(t._("🗄 Restore from the archive") if view.archived else t._("🗄 Archive"),
          f"prg:b:{p}:ar:{'off' if view.archived else 'on'}")],
        [(t._("👥 Team"), f"adm:p:{p}"), (t._("↩️ Administration"), "adm:menu")],
    ]


async def show_programme(update: Update, context: PalContext, programme_id: int, *,
                         toast: str | None = None, new_message: bool = False) -> None:
    """Read and show the programme screen."""
    view = await context.db.read(programme_settings, actor=staff_actor(context),
                                 programme_id=programme_id)
    await render_programme(update, context, view, toast=toast, new_message=new_message)


async def render_programme(update: Update, context: PalContext, view: ProgrammeSettings, *,
                           toast: str | None = None, new_message: bool = False) -> None:
    """Show a programme screen already read."""
    t = context.t
    await show_screen(update, context, programme_text(t, view),
                      inline(programme_buttons(t, view)), toast=toast, new_message=new_message)


@staff_screen
async def on_programme(update: Update, context: PalContext) -> None:
    """`prg:o:<p>`: the programme screen."""
    await show_programme(update, context, int(arg(context)))


def prompt(t: Translator, field: str, view: ProgrammeSettings) -> str:
    """What to type for a field, with its current value."""
    texts = {
        "name": lambda: t._("Type the new name of “{name}” (up to 200 characters):").format(
            name=view.name),
        "start": lambda: t._("Start now: {date}. Type the first day, e.g. 12.01.2027:").format(
            date=day_text(t, view.starts_at)),
        "end": lambda: t._("End now: {date}. Type the last day, e.g. 30.06.2027. Erasure "
                           "after the retention period counts from it:").format(
            date=day_text(t, view.ends_at)),
        "rem": lambda: t._("Reminders now: {value}. Type how long before an activity to "
                           "remind, e.g. “24h, 2h” (up to 4, from 15m to 336h):").format(
            value=offsets_text(t, view.reminder_offsets)),
        "quiet": lambda: t._("Quiet hours now: {value}. Type them like “21:00-08:00”, or "
                             "“off” for none:").format(value=quiet_text(t, view.quiet_hours)),
        "ret": lambda: t._("Now: {value}. Type the number of months after the end after "
                           "which names and Telegram ids are erased (1–120), or “off”:").format(
            value=retention_text(t, view)),
        "copy": lambda: t._("A new edition of “{name}”: the same activities, moved by whole "
                            "weeks (same weekday and time, places and venue), without "
                            "sign-ups. Type its first day, e.g. 11.01.2027:").format(
            name=view.name),
    }
    return texts[field]()


def _begin(session: Session, *, actor: StaffActor, programme_id: int, field: str,
           person_id: int) -> ProgrammeSettings:
    programme_for(session, actor=actor, action=FIELDS[field], programme_id=programme_id)
    save_dialog(session, person_id=person_id, kind=EDIT, step=field,
                data={"pid": programme_id, "field": field}, awaits_text=True)
    return programme_settings(session, actor=actor, programme_id=programme_id)


@staff_screen
async def on_edit(update: Update, context: PalContext) -> None:
    """`prg:e:<p>:<field>`: ask for the new value (the next text message)."""
    t = context.t
    person = context.viewer.person
    assert person is not None and person.id is not None
    programme_id, field = int(arg(context)), arg(context, 2)
    view = await context.db.write(_begin, actor=staff_actor(context), programme_id=programme_id,
                                  field=field, person_id=person.id)
    rows: Rows = []
    if field in ("rem", "quiet"):
        rows.append([(t._("Use the default of this chat"),
                      f"prg:b:{programme_id}:{field}:default")])
    rows.append([(t._("✖️ Cancel"), f"prg:x:{programme_id}")])
    await show_screen(update, context, prompt(t, field, view), inline(rows))


def refusal_text(t: Translator, reason: str) -> str:
    """Why a typed value was refused, and what to type instead."""
    texts = {
        EditionRefusal.NAME_LENGTH: lambda: t._("The name must have 1 to 200 characters. "
                                                "Type it again:"),
        EditionRefusal.NAME_CHARACTERS: lambda: t._("The name contains characters that cannot "
                                                    "be shown. Type it again:"),
        EditionRefusal.NAME_TAKEN: lambda: t._("A programme with this name already exists. "
                                               "Type another name:"),
        EditionRefusal.DATE_PAST: lambda: t._("That day has already passed. Type a day from "
                                              "today on:"),
        EditionRefusal.END_BEFORE_START: lambda: t._("The end cannot be before the start. "
                                                     "Type another day:"),
        EditionRefusal.NOT_AFTER_SOURCE: lambda: t._("The new edition must start after this "
                                                     "one. Type a later day:"),
        "date": lambda: t._("I did not understand the date. Type it like 12.01.2027:"),
        "offsets_format": lambda: t._("Type times like “24h, 2h” (h: hours, m: minutes):"),
        "offsets_count": lambda: t._("Type from 1 to 4 times, e.g. “24h, 2h”:"),
        "offsets_range": lambda: t._("Each time must be from 15m to 336h (14 days). "
                                     "Type them again:"),
        "quiet_format": lambda: t._("Type quiet hours like “21:00-08:00”, or “off”:"),
        "retention_range": lambda: t._("Type a number of months from 1 to 120, or “off”:"),
    }
    return texts.get(reason, texts["date"])()


def _check_value(session: Session, *, actor: StaffActor, programme_id: int, field: str,
                 text: str, zone: ZoneInfo, now: datetime) -> tuple[str, EditionPlan | None]:
    """The canonical value of a typed answer, or EditionRefused / SettingRefused."""
    programme = programme_for(session, actor=actor, action=FIELDS[field],
                              programme_id=programme_id)
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
        return day.isoformat(), plan_copy(session, actor=actor, programme_id=programme_id,
                                          starts_on=day, name=None, zone=zone, now=now)
    start, end = local_day(programme.starts_at, zone), local_day(programme.ends_at, zone)
    if (field == "end" and start and day < start) or (field == "start" and end and day > end):
        raise EditionRefused(EditionRefusal.END_BEFORE_START)
    return day.isoformat(), None


def _remember(session: Session, *, dialog: Dialog, value: str) -> str:
    nonce = secrets.token_hex(4)
    save_dialog(session, person_id=dialog.person_id, kind=EDIT, step="confirm",
                data={**dialog.data, "value": value, "nonce": nonce})
    return nonce


def confirm_text(t: Translator, field: str, value: str, name: str,
                 plan: EditionPlan | None) -> str:
    """The question before a typed change is made."""
    if plan is not None:
        return t.ngettext(
            "Create the edition “{name}” from {date}? {n} activity is copied, moved by {w} "
            "weeks, without sign-ups.",
            "Create the edition “{name}” from {date}? {n} activities are copied, moved by {w} "
            "weeks, without sign-ups.", plan.activities).format(
            name=plan.name, date=day_text(t, plan.starts_on), n=plan.activities, w=plan.weeks)
    shown = {"start": lambda: day_text(t, date.fromisoformat(value)),
             "end": lambda: day_text(t, date.fromisoformat(value)),
             "rem": lambda: offsets_text(t, None if value == "default" else value),
             "quiet": lambda: quiet_text(t, None if value == "default" else value),
             "ret": lambda: (t._("never automatically") if value == "off" else t.ngettext(
                 "{n} month after the end", "{n} months after the end", int(value)).format(
                 n=int(value))),
             "fu": lambda: t._("on") if value == "on" else t._("off"),
             "ka": lambda: (t._("survey answers stay under the code") if value == "keep"
                            else t._("survey answers are deleted"))}
    labels = {"name": t._("name"), "start": t._("start"), "end": t._("end"),
              "rem": t._("reminders before an activity"), "quiet": t._("quiet hours"),
              "ret": t._("erasure of names and Telegram ids"), "fu": t._("survey reminders"),
              "ka": t._("on erasure")}
    if field == "ar":
        return (t._("Archive “{name}”? Residents will no longer see it among programmes and "
                    "staff screens will hide it; its data and reports stay.") if value == "on"
                else t._("Bring “{name}” back from the archive?")).format(name=name)
    return t._("Change {what} of “{name}” to: {value}?").format(
        what=labels[field], name=name, value=shown.get(field, lambda: value)())


@on_text(EDIT)
async def on_value(update: Update, context: PalContext, dialog: Dialog) -> None:
    """A typed name, date, times or months: checked, then confirmed by a button."""
    message = update.effective_message
    assert message is not None and message.text is not None
    t = context.t
    programme_id, field = int(dialog.data.get("pid", 0)), str(dialog.data.get("field", ""))
    if field not in FIELDS:
        await context.db.write(close_dialog, person_id=dialog.person_id, kind=EDIT)
        return
    if too_long(message.text):
        await message.reply_text(t._("This is too long. Type a short answer, or press "
                                     "“Cancel”."))
        return
    try:
        value, plan = await context.db.read(
            _check_value, actor=staff_actor(context), programme_id=programme_id, field=field,
            text=message.text, zone=context.settings.zone, now=context.services.clock.now())
    except NotAllowed:
        await context.db.write(close_dialog, person_id=dialog.person_id, kind=EDIT)
        await answer(update, context, not_allowed_text(t))
        return
    except (EditionRefused, SettingRefused) as refused:
        reason = refused.reason.value if isinstance(refused, EditionRefused) else refused.reason
        cancel = inline([[(t._("✖️ Cancel"), f"prg:x:{programme_id}")]])
        await message.reply_text(refusal_text(t, reason), reply_markup=cancel)
        return
    nonce = await context.db.write(_remember, dialog=dialog, value=value)
    name = await context.db.read(_name_of, actor=staff_actor(context), programme_id=programme_id)
    await show_screen(update, context, confirm_text(t, field, value, name, plan), inline([
        [(t._("✅ Yes, change it") if plan is None else t._("✅ Yes, create it"),
          f"prg:y:{programme_id}:{nonce}")],
        [(t._("✖️ Cancel"), f"prg:x:{programme_id}")]]))


def _name_of(session: Session, *, actor: StaffActor, programme_id: int) -> str:
    return programme_for(session, actor=actor, action=StaffAction.RUN_PROGRAMME,
                         programme_id=programme_id).name


def _apply(session: Session, *, actor: StaffActor, person_id: int, programme_id: int,
           nonce: str, zone: ZoneInfo, now: datetime) -> ProgrammeSettings:
    programme_for(session, actor=actor, action=StaffAction.RUN_PROGRAMME,
                  programme_id=programme_id)
    dialog = get_dialog(session, person_id=person_id, kind=EDIT)
    if (dialog is None or dialog.step != "confirm" or dialog.data.get("nonce") != nonce
            or dialog.data.get("pid") != programme_id):
        raise Stale(nonce)
    field, value = str(dialog.data["field"]), str(dialog.data["value"])
    shown = programme_id
    if field == "name":
        rename_programme(session, actor=actor, programme_id=programme_id, name=value, now=now)
    elif field in ("start", "end"):
        setter = set_start_date if field == "start" else set_end_date
        setter(session, actor=actor, programme_id=programme_id, day=date.fromisoformat(value),
               zone=zone, now=now)
    elif field == "copy":
        edition, _ = copy_edition(session, actor=actor, programme_id=programme_id,
                                  starts_on=date.fromisoformat(value), name=None, zone=zone,
                                  now=now)
        assert edition.id is not None
        shown = edition.id
    else:
        setting = {"rem": Setting.REMINDERS, "quiet": Setting.QUIET_HOURS,
                   "ret": Setting.RETENTION}[field]
        set_setting(session, actor=actor, programme_id=programme_id, setting=setting,
                    value=value, now=now)
    close_dialog(session, person_id=person_id, kind=EDIT)
    return programme_settings(session, actor=actor, programme_id=shown)


async def stale(update: Update, context: PalContext) -> None:
    """The polite answer to an old or replaced button."""
    await answer(update, context, context.t._(
        "This button is no longer active. Open the menu again."), alert=True)


@staff_screen
async def on_confirm(update: Update, context: PalContext) -> None:
    """`prg:y:<p>:<nonce>`: make the typed change (audited)."""
    t = context.t
    person = context.viewer.person
    assert person is not None and person.id is not None
    try:
        view = await context.db.write(
            _apply, actor=staff_actor(context), person_id=person.id,
            programme_id=int(arg(context)), nonce=arg(context, 2), zone=context.settings.zone,
            now=context.services.clock.now())
    except Stale:
        await stale(update, context)
        return
    except (EditionRefused, SettingRefused) as refused:
        reason = refused.reason.value if isinstance(refused, EditionRefused) else refused.reason
        await answer(update, context, refusal_text(t, reason), alert=True)
        return
    log.info("programme changed by user_id=%s", context.viewer.telegram_id)
    await render_programme(update, context, view, toast=t._("Saved."))


@staff_screen
async def on_cancel(update: Update, context: PalContext) -> None:
    """`prg:x:<p>`: no change after all."""
    person = context.viewer.person
    assert person is not None and person.id is not None
    await context.db.write(close_dialog, person_id=person.id, kind=EDIT)
    await show_programme(update, context, int(arg(context)), toast=context.t._("Nothing changed."))


def _choice_ok(choice: str, value: str) -> bool:
    allowed = {"fu": {"on", "off"}, "ka": {"keep", "delete"}, "ar": {"on", "off"},
               "rem": {"default"}, "quiet": {"default"}}
    return value in allowed.get(choice, set())


@staff_screen
async def on_choice(update: Update, context: PalContext) -> None:
    """`prg:b:<p>:<choice>:<value>`: are you sure?"""
    t = context.t
    programme_id, choice, value = int(arg(context)), arg(context, 2), arg(context, 3)
    if not _choice_ok(choice, value):
        await stale(update, context)
        return
    action = StaffAction.EDIT_PROGRAMMES if choice == "ar" else StaffAction.RUN_PROGRAMME
    name = await context.db.read(_checked_name, actor=staff_actor(context),
                                 programme_id=programme_id, action=action)
    await show_screen(update, context, confirm_text(t, choice, value, name, None), inline([
        [(t._("✅ Yes, change it"), f"prg:bc:{programme_id}:{choice}:{value}")],
        [(t._("✖️ Cancel"), f"prg:x:{programme_id}")]]))


def _checked_name(session: Session, *, actor: StaffActor, programme_id: int,
                  action: StaffAction) -> str:
    return programme_for(session, actor=actor, action=action, programme_id=programme_id).name


def _apply_choice(session: Session, *, actor: StaffActor, person_id: int, programme_id: int,
                  choice: str, value: str, now: datetime) -> ProgrammeSettings:
    if choice == "ar":
        set_archived(session, actor=actor, programme_id=programme_id, archived=value == "on",
                     now=now)
    else:
        set_setting(session, actor=actor, programme_id=programme_id,
                    setting=CHOICES[choice], value=value, now=now)
    close_dialog(session, person_id=person_id, kind=EDIT)
    return programme_settings(session, actor=actor, programme_id=programme_id)


@staff_screen
async def on_choice_confirm(update: Update, context: PalContext) -> None:
    """`prg:bc:<p>:<choice>:<value>`: make the change (audited)."""
    person = context.viewer.person
    assert person is not None and person.id is not None
    programme_id, choice, value = int(arg(context)), arg(context, 2), arg(context, 3)
    if not _choice_ok(choice, value):
        await stale(update, context)
        return
    view = await context.db.write(_apply_choice, actor=staff_actor(context),
                                  person_id=person.id, programme_id=programme_id,
                                  choice=choice, value=value, now=context.services.clock.now())
    await render_programme(update, context, view, toast=context.t._("Saved."))


@staff_screen
async def on_archived(update: Update, context: PalContext) -> None:
    """`prg:arch`: archived programmes, to open or bring back."""
    t = context.t
    found = await context.db.read(archived_programmes, actor=staff_actor(context))
    rows: Rows = [[(f"🗄 {name[:60]}", f"prg:o:{pid}")] for pid, name in found[:40]]
    rows.append([(t._("↩️ Administration"), "adm:menu")])
    await show_screen(update, context, t._("Archived programmes:") if found
                      else t._("No programme is archived."), inline(rows))


def register(app: PalApplication) -> None:
    """Add the programme screens (`prg:` callback data, except surveys and records)."""
    pid = r"(\d{1,12})"
    handlers: list[tuple[Any, str]] = [
        (on_programme, rf"^prg:o:{pid}$"),
        (on_edit, rf"^prg:e:{pid}:(name|start|end|rem|quiet|ret|copy)$"),
        (on_confirm, rf"^prg:y:{pid}:([0-9a-f]{{8}})$"),
        (on_cancel, rf"^prg:x:{pid}$"),
        (on_choice, rf"^prg:b:{pid}:(fu|ka|ar|rem|quiet):(on|off|keep|delete|default)$"),
        (on_choice_confirm, rf"^prg:bc:{pid}:(fu|ka|ar|rem|quiet):(on|off|keep|delete|default)$"),
        (on_archived, r"^prg:arch$"),
    ]
    for callback, pattern in handlers:
        app.add_handler(CallbackQueryHandler(callback, pattern=pattern))
