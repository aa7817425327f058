"""The /mydata files: everything stored about a person, for them (HTML) and machines (JSON).

Telegram-free, so the command line produces the same files for people without Telegram.
"""

from __future__ import annotations

import json
from html import escape

from storage.privacy.my_data import PersonData, RegistrationRecord, SendRecord
from translations import Translator


def _status(t: Translator, record: RegistrationRecord) -> str:
    if record.status == "confirmed":
        return t._("you have a place")
    if record.status == "reserve":
        if record.reserve_position is not None:
            return t._("on the reserve list (position {position})").format(
                position=record.reserve_position
            )
        return t._("on the reserve list")
    return t._("sign-up cancelled")


def _send_kind(t: Translator, kind: str) -> str:
    names = {
        "reminder": t._("Reminder before an activity"),
        "promotion": t._("Notice that a place became yours"),
        "change": t._("Notice of a change to an activity"),
        "survey_invite": t._("Invitation to a survey"),
        "survey_followup": t._("Reminder to answer a survey"),
        "broadcast": t._("Announcement from the animators"),
        "consultation": t._("Consultation question"),
        "consultation_results": t._("Consultation results"),
        "place_offer": t._("Offer of a freed place"),
        "offer_expired": t._("Notice that the time to take a place ran out"),
        "call_list": t._("List of people to phone (for animators)"),
    }
    return names.get(kind, kind)


def _yes_no(t: Translator, value: bool) -> str:
    return t._("✔ yes") if value else t._("✘ no")


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _sends(t: Translator, records: tuple[SendRecord, ...]) -> list[list[str]]:
    return [
        [_send_kind(t, r.kind), t.date_time(r.sent_at or r.due_at), r.activity_title or "—"]
        for r in records
    ]


def render_html(data: PersonData, t: Translator) -> str:
    """A self-contained page a person can open on a phone and read."""
    lang = t.language
    none = t._("Nothing stored.")
    profile = [
        [t._("Name the animators see"), data.display_name or "—"],
        [t._("Your Telegram id"), str(data.telegram_id) if data.telegram_id is not None else "—"],
        [t._("Language of the chat"), data.language],
        [t._("Your programme"), data.programme or "—"],
        [t._("First steps finished"), _yes_no(t, data.onboarding_finished)],
        [t._("Phone number"), data.phone or "—"],
        [t._("Registered by an animator"), _yes_no(t, data.registered_by_animator)],
        [t._("Paper information notice signed"), _yes_no(t, data.paper_notice_signed)],
        [t._("In the chat since"), t.date_time(data.created_at)],
    ]
    for name, joined_at, left_at in data.other_programmes:
        since = t._("joined on {date}").format(date=t.date(joined_at))
        if left_at is not None:
            since += ", " + t._("left on {date}").format(date=t.date(left_at))
        profile.append([t._("Another programme"), f"{name} ({since})"])
    if data.roles:
        profile.append([t._("Roles in the programme team"), ", ".join(data.roles)])
    if data.unreachable_since is not None:
        profile.append(
            [t._("Messages could not be delivered since"), t.date_time(data.unreachable_since)]
        )
    title = t._("Your data in the PAL chat")
    prepared = t._("Prepared on {date}. This is everything the chat stores about you.").format(
        date=t.date_time(data.generated_at)
    )
    sections = [
        _tag("h1", title),
        _tag("p", prepared),
        _tag("h2", t._("Your profile")),
        _table([t._("What is stored"), t._("Value stored")], profile),
        _tag("h2", t._("Your sign-ups")),
    ]
    if data.registrations:
        cancelled = t._("called off")
        sections.append(
            _table(
                [
                    t._("Activity title"),
                    t._("Date and time"),
                    t._("Venue of the activity"),
                    t._("Your status"),
                    t._("Signed up on"),
                    t._("Signed up by an animator"),
                ],
                [
                    [
                        f"{r.title} ({cancelled})" if r.activity_cancelled else r.title,
                        t.date_time(r.starts_at),
                        r.venue,
                        _status(t, r),
                        t.date_time(r.created_at),
                        _yes_no(t, r.signed_up_by_animator),
                    ]
                    for r in data.registrations
                ],
            )
        )
    else:
        sections.append(_tag("p", none))
    sections.append(_tag("h2", t._("Your attendance")))
    if data.attendance:
        sections.append(
            _table(
                [t._("Activity title"), t._("Date and time"), t._("You were present")],
                [
                    [r.title, t.date_time(r.starts_at), _yes_no(t, r.attended)]
                    for r in data.attendance
                ],
            )
        )
    else:
        sections.append(_tag("p", none))
    sections.append(_tag("h2", t._("Your survey answers")))
    if not data.responses:
        sections.append(_tag("p", none))
    for response in data.responses:
        phase = (
            t._("Your initial survey") if response.phase == "initial" else t._("Your final survey")
        )
        state = (
            t._("answers sent on {date}").format(date=t.date_time(response.submitted_at))
            if response.submitted_at
            else t._("not sent (unfinished)")
        )
        sections.append(_tag("h3", f"{phase} — {response.programme} ({state})"))
        sections.append(
            _tag("p", t._("Your code in reports: {code}").format(code=response.participant_code))
        )
        sections.append(
            _table(
                [t._("Question asked"), t._("What you answered")],
                [
                    [
                        a.question.get(lang) or a.item_id,
                        a.label.get(lang) or a.value or t._("(question skipped)"),
                    ]
                    for a in response.answers
                ],
            )
        )
    sections += _consultations(t, data, none)
    sections += _offers(t, data)
    columns = [t._("Kind of message"), t._("Date and time"), t._("Activity title")]
    sections.append(_tag("h2", t._("Messages waiting to be sent")))
    sections.append(
        _table(columns, _sends(t, data.pending_messages))
        if data.pending_messages
        else _tag("p", none)
    )
    sections.append(_tag("h2", t._("Messages sent to you")))
    sections.append(
        _table(columns, _sends(t, data.sent_messages)) if data.sent_messages else _tag("p", none)
    )
    if data.open_dialogs:
        sections.append(_tag("h2", t._("Unfinished steps in the chat")))
        sections.append(
            _table(
                [t._("What is stored"), t._("Last step on")],
                [[str(d["kind"]), t.date_time(d["updated_at"])] for d in data.open_dialogs],
            )
        )
    sections.append(_tag("p", t._("To delete your data, send /forgetme in the chat.")))
    style = (
        "body{font-family:sans-serif;max-width:48rem;margin:1rem auto;padding:0 1rem;"
        "line-height:1.5}table{border-collapse:collapse;width:100%;margin-bottom:1rem}"
        "td,th{border:1px solid #999;padding:.3rem .5rem;text-align:left;"
        "vertical-align:top}th{background:#eee}"
    )
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{style}</style>"
        f"</head><body>{''.join(sections)}</body></html>"
    )


def _consultations(t: Translator, data: PersonData, none: str) -> list[str]:
    """Consultations the person answered (or staff entered from their paper form)."""
    out = [_tag("h2", t._("Your consultation answers"))]
    if not data.consultations:
        return [*out, _tag("p", none)]
    for found in data.consultations:
        paper = t._(" (entered from your paper form)") if found.channel == "paper" else ""
        out.append(_tag("h3", f"{found.title} — {found.programme}{paper}"))
        out.append(
            _tag("p", t._("Your code in reports: {code}").format(code=found.participant_code))
        )
        rows = [
            [question, ", ".join(chosen) or t._("(question skipped)")]
            for question, chosen in found.answers
        ]
        if found.free_question is not None:
            rows.append([found.free_question, found.free_text or t._("(question skipped)")])
        out.append(_table([t._("Question asked"), t._("What you answered")], rows))
    return out


def _offers(t: Translator, data: PersonData) -> list[str]:
    """Places offered from the reserve list; nothing is shown to someone never offered one."""
    if not data.offers:
        return []
    states = {
        "offered": t._("waiting for your answer"),
        "taken": t._("you took the place"),
        "passed": t._("you passed"),
        "expired": t._("the time to answer ran out"),
        "lost": t._("somebody else took it first"),
        "void": t._("no longer valid (the activity changed or the place went)"),
    }
    rows = [
        [
            o.activity_title,
            t.date_time(o.starts_at),
            t.date_time(o.offered_at),
            t.date_time(o.deadline),
            states.get(o.state, o.state),
        ]
        for o in data.offers
    ]
    return [
        _tag("h2", t._("Places offered to you from the reserve list")),
        _table(
            [
                t._("Activity title"),
                t._("Date and time"),
                t._("Offered on"),
                t._("Answer by"),
                t._("What happened"),
            ],
            rows,
        ),
    ]


def _tag(name: str, content: str) -> str:
    return f"<{name}>{escape(content)}</{name}>"


def render_json(data: PersonData) -> str:
    """The same content for machines (UTF-8 JSON, ISO 8601 times in UTC)."""
    return json.dumps(data.to_json(), ensure_ascii=False, indent=2)
