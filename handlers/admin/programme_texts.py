"""Texts and buttons of the programme screens (handlers.admin.programmes)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from babel.dates import format_date

from storage.programmes.editions import EditionPlan, EditionRefusal
from storage.programmes.settings import ProgrammeSettings, offsets_label
from translations import Translator

Rows = list[list[tuple[str, str]]]


def day_text(t: Translator, moment: datetime | date | None) -> str:
    """`29 marca 2027`, or “not set”."""
    if moment is None:
        return t._("not set")
    day = moment.astimezone(t.zone).date() if isinstance(moment, datetime) else moment
    return format_date(day, "d MMMM y", locale=t.locale)


def offsets_text(t: Translator, raw: str | None, default: Sequence[timedelta]) -> str:
    """`48h, 3h` or the default with “(default)”."""
    if raw is None:
        label = offsets_label(tuple(default))
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
        when = t.ngettext(
            "{n} month after the end", "{n} months after the end", view.retention_months
        ).format(n=view.retention_months)
        if view.erase_on is not None:
            when += " (" + day_text(t, view.erase_on) + ")"
    answers = (
        t._("survey answers stay under the code")
        if view.keep_answers
        else t._("survey answers are deleted")
    )
    return f"{when}; {answers}"


def programme_text(t: Translator, view: ProgrammeSettings) -> str:
    """The programme screen's text."""
    lines = [t._("⚙️ Programme “{name}”").format(name=view.name)]
    if view.archived:
        lines.append(
            t._(
                "🗄 Archived: residents and staff screens no longer show it; its "
                "data and reports stay."
            )
        )
    lines += [
        t._("Start: {date}").format(date=day_text(t, view.starts_at)),
        t._("End: {date}").format(date=day_text(t, view.ends_at)),
        t.ngettext("{n} activity planned", "{n} activities planned", view.activities).format(
            n=view.activities
        ),
        t._("Reminders before an activity: {value}").format(
            value=offsets_text(t, view.reminder_offsets, view.default_reminder_offsets)
        ),
        t._("Quiet hours (no messages): {value}").format(value=quiet_text(t, view.quiet_hours)),
        t._("Survey reminders: {value}").format(
            value=t._("on") if view.survey_followups else t._("off")
        ),
        t._("Names and Telegram ids erased: {value}").format(value=retention_text(t, view)),
    ]
    return "\n".join(lines)


def programme_buttons(t: Translator, view: ProgrammeSettings) -> Rows:
    """The programme screen's buttons."""
    p = view.programme_id
    follow = "off" if view.survey_followups else "on"
    keep = "delete" if view.keep_answers else "keep"
    dates = [(t._("📅 Start"), f"prg:e:{p}:start"), (t._("📅 End"), f"prg:e:{p}:end")]
    # Renaming, copying and archiving are administrators' (EDIT_PROGRAMMES); coordinators
    # get no buttons that would only be refused.
    edit: Rows = (
        [
            [(t._("📑 Copy as a new edition"), f"prg:e:{p}:copy")],
            [
                (
                    t._("🗄 Restore from the archive") if view.archived else t._("🗄 Archive"),
                    f"prg:b:{p}:ar:{'off' if view.archived else 'on'}",
                )
            ],
        ]
        if view.editable
        else []
    )
    return [
        [(t._("✏️ Name"), f"prg:e:{p}:name"), *dates] if view.editable else dates,
        [(t._("⏰ Reminder times"), f"prg:e:{p}:rem"), (t._("🌙 Quiet hours"), f"prg:e:{p}:quiet")],
        [
            (
                t._("🔕 Survey reminders off")
                if view.survey_followups
                else t._("🔔 Survey reminders on"),
                f"prg:b:{p}:fu:{follow}",
            )
        ],
        [
            (t._("🗓 Erase after…"), f"prg:e:{p}:ret"),
            (
                t._("Answers: delete on erasure")
                if view.keep_answers
                else t._("Answers: keep on erasure"),
                f"prg:b:{p}:ka:{keep}",
            ),
        ],
        [(t._("📋 Questionnaire and surveys"), f"prg:s:{p}")],
        [
            (t._("📜 Audit trail"), f"prg:au:{p}:0"),
            (t._("📄 Data of a person without Telegram"), f"prg:pd:{p}"),
        ],
        *edit,
        [(t._("👥 Team"), f"adm:p:{p}"), (t._("↩️ Administration"), "adm:menu")],
    ]


def prompt(t: Translator, field: str, view: ProgrammeSettings) -> str:
    """What to type for a field, with its current value."""
    texts = {
        "name": lambda: t._("Type the new name of “{name}” (up to 200 characters):").format(
            name=view.name
        ),
        "start": lambda: t._("Start now: {date}. Type the first day, e.g. 12.01.2027:").format(
            date=day_text(t, view.starts_at)
        ),
        "end": lambda: t._(
            "End now: {date}. Type the last day, e.g. 30.06.2027. Erasure "
            "after the retention period counts from it:"
        ).format(date=day_text(t, view.ends_at)),
        "rem": lambda: t._(
            "Reminders now: {value}. Type how long before an activity to "
            "remind, e.g. “24h, 2h” (up to 4, from 15m to 336h):"
        ).format(value=offsets_text(t, view.reminder_offsets, view.default_reminder_offsets)),
        "quiet": lambda: t._(
            "Quiet hours now: {value}. Type them like “21:00-08:00”, or “off” for none:"
        ).format(value=quiet_text(t, view.quiet_hours)),
        "ret": lambda: t._(
            "Now: {value}. Type the number of months after the end after "
            "which names and Telegram ids are erased (1–120), or “off”:"
        ).format(value=retention_text(t, view)),
        "copy": lambda: t._(
            "A new edition of “{name}”: the same activities, moved by whole "
            "weeks (same weekday and time, places and venue), without "
            "sign-ups. Type its first day, e.g. 11.01.2027:"
        ).format(name=view.name),
    }
    return texts[field]()


def refusal_text(t: Translator, reason: str) -> str:
    """Why a typed value was refused, and what to type instead."""
    texts = {
        EditionRefusal.NAME_LENGTH: lambda: t._(
            "The name must have 1 to 200 characters. Type it again:"
        ),
        EditionRefusal.NAME_CHARACTERS: lambda: t._(
            "The name contains characters that cannot be shown. Type it again:"
        ),
        EditionRefusal.NAME_TAKEN: lambda: t._(
            "A programme with this name already exists. Type another name:"
        ),
        EditionRefusal.DATE_PAST: lambda: t._(
            "That day has already passed. Type a day from today on:"
        ),
        EditionRefusal.END_BEFORE_START: lambda: t._(
            "The end cannot be before the start. Type another day:"
        ),
        EditionRefusal.NOT_AFTER_SOURCE: lambda: t._(
            "The new edition must start after this one. Type a later day:"
        ),
        "date": lambda: t._("I did not understand the date. Type it like 12.01.2027:"),
        "offsets_format": lambda: t._("Type times like “24h, 2h” (h: hours, m: minutes):"),
        "offsets_count": lambda: t._("Type from 1 to 4 times, e.g. “24h, 2h”:"),
        "offsets_range": lambda: t._(
            "Each time must be from 15m to 336h (14 days). Type them again:"
        ),
        "quiet_format": lambda: t._("Type quiet hours like “21:00-08:00”, or “off”:"),
        "retention_range": lambda: t._("Type a number of months from 1 to 120, or “off”:"),
    }
    return texts.get(reason, texts["date"])()


def confirm_text(
    t: Translator,
    field: str,
    value: str,
    name: str,
    plan: EditionPlan | None,
    default_offsets: Sequence[timedelta],
) -> str:
    """The question before a typed change is made."""
    if plan is not None:
        return t.ngettext(
            "Create the edition “{name}” from {date}? {n} activity is copied, moved by {w} "
            "weeks, without sign-ups.",
            "Create the edition “{name}” from {date}? {n} activities are copied, moved by {w} "
            "weeks, without sign-ups.",
            plan.activities,
        ).format(name=plan.name, date=day_text(t, plan.starts_on), n=plan.activities, w=plan.weeks)
    shown = {
        "start": lambda: day_text(t, date.fromisoformat(value)),
        "end": lambda: day_text(t, date.fromisoformat(value)),
        "rem": lambda: offsets_text(t, None if value == "default" else value, default_offsets),
        "quiet": lambda: quiet_text(t, None if value == "default" else value),
        "ret": lambda: (
            t._("never automatically")
            if value == "off"
            else t.ngettext(
                "{n} month after the end", "{n} months after the end", int(value)
            ).format(n=int(value))
        ),
        "fu": lambda: t._("on") if value == "on" else t._("off"),
        "ka": lambda: (
            t._("survey answers stay under the code")
            if value == "keep"
            else t._("survey answers are deleted")
        ),
    }
    labels = {
        "name": t._("name"),
        "start": t._("start"),
        "end": t._("end"),
        "rem": t._("reminders before an activity"),
        "quiet": t._("quiet hours"),
        "ret": t._("erasure of names and Telegram ids"),
        "fu": t._("survey reminders"),
        "ka": t._("on erasure"),
    }
    if field == "ar":
        return (
            t._(
                "Archive “{name}”? Residents will no longer see it among programmes and "
                "staff screens will hide it; its data and reports stay."
            )
            if value == "on"
            else t._("Bring “{name}” back from the archive?")
        ).format(name=name)
    return t._("Change {what} of “{name}” to: {value}?").format(
        what=labels[field], name=name, value=shown.get(field, lambda: value)()
    )
