"""Paper surveys: an animator enters the answers of a resident without Telegram.

/paper lists the programme's participants without Telegram (and adds one) → pick a
person → pick the phase → the same form as residents answer (handlers/surveys/residents.py),
in the animator's own chat, stored with channel `proxy` and who entered it.

Callback data: `pp:list`, `pp:prog:<programme>`, `pp:who:<person>`,
`pp:go:<person>:<i|f>`, `pp:new:<programme>`, `pp:nt:<0|1>`. Every press re-checks the
role and that the person belongs to one of the animator's programmes.
"""

from __future__ import annotations

import logging
from datetime import datetime

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.context import PalApplication, PalContext
from bot.keyboards import inline, shorten
from handlers.common import answer, requires_onboarding, requires_role
from handlers.dialogs import on_text
from handlers.surveys.form import LETTER_PHASE, PHASE_LETTER, form_screen, phase_title
from handlers.surveys.steps import actor_of, refusal_text, show
from storage.access import Action, may
from storage.dialogs import save_dialog
from storage.models import Dialog, Role
from storage.people.onboarding import InvalidDisplayName, NameProblem, validate_display_name
from storage.people.without_telegram import (
    ProxyNotFound,
)
from storage.surveys.questionnaires import SurveyPhase
from storage.surveys.responses import SurveyError
from translations import Translator
from usecases.paper_surveys import (
    KIND_NEW,
    ProgrammeList,
    begin_new_person,
    create_paper_person,
    paper_list,
    paper_person,
    start_paper,
)

log = logging.getLogger(__name__)


def _mark(submitted: datetime | None, started: bool) -> str:
    if submitted is not None:
        return "✅"
    return "⏸" if started else "—"


def _list_screen(t: Translator, listing: ProgrammeList) -> tuple[str, list[list[tuple[str, str]]]]:
    if listing.chosen is None:
        if not listing.programmes:
            return t._("There are no programmes yet."), []
        rows = [[(shorten(p.name, 40), f"pp:prog:{p.id}")] for p in listing.programmes]
        return t._("📝 Paper surveys: choose the programme."), rows
    text = t._(
        "📝 Paper surveys in “{programme}”. Choose the person whose paper survey you want to enter."
    ).format(programme=listing.chosen.name)
    if not listing.people:
        text += "\n\n" + t._("No one without Telegram has been added yet.")
    else:
        text += "\n\n" + t._(
            "Marks after each name: the initial survey, then the final "
            "survey (✅ entered, ⏸ started, — not yet)."
        )
    rows = [
        [
            (
                f"{shorten(p.name, 30)} · {_mark(p.initial, p.initial_started)} "
                f"{_mark(p.final, p.final_started)}",
                f"pp:who:{p.person_id}",
            )
        ]
        for p in listing.people
    ]
    rows.append([(t._("➕ Add a person without Telegram"), f"pp:new:{listing.chosen.id}")])
    return text, rows


@requires_onboarding
@requires_role(Role.ANIMATOR)
async def paper_command(update: Update, context: PalContext) -> None:
    """/paper and `pp:list`: the animator's people without Telegram."""
    listing = await context.db.read(paper_list, actor=actor_of(context), programme_id=None)
    text, rows = _list_screen(context.t, listing)
    await show(update, context, text, inline(rows) if rows else None)


@requires_onboarding
@requires_role(Role.ANIMATOR)
async def on_programme(update: Update, context: PalContext) -> None:
    """`pp:prog:<id>`: the people of one programme."""
    assert context.matches is not None
    programme_id = int(context.matches[0].group(1))
    listing = await context.db.read(paper_list, actor=actor_of(context), programme_id=programme_id)
    if listing.chosen is None:
        await answer(update, context, refusal_text(context, SurveyError(programme_id)))
        return
    text, rows = _list_screen(context.t, listing)
    await show(update, context, text, inline(rows))


@requires_onboarding
@requires_role(Role.ANIMATOR)
async def on_person(update: Update, context: PalContext) -> None:
    """`pp:who:<id>`: which paper survey to enter for this person."""
    assert context.matches is not None
    t = context.t
    try:
        person, row = await context.db.read(
            paper_person, actor=actor_of(context), person_id=int(context.matches[0].group(1))
        )
    except ProxyNotFound as exc:
        await answer(update, context, refusal_text(context, SurveyError(str(exc))))
        return
    lines = [
        t._("Which paper survey of {name} do you want to enter?").format(name=person.display_name)
    ]
    rows = []
    for phase, submitted in ((SurveyPhase.INITIAL, row.initial), (SurveyPhase.FINAL, row.final)):
        label = phase_title(t, phase)
        if submitted is not None:
            lines.append(
                t._("{survey}: entered on {date}.").format(survey=label, date=t.date(submitted))
            )
            continue
        rows.append([(label, f"pp:go:{person.id}:{PHASE_LETTER[phase]}")])
    rows.append([(t._("↩️ Back to the list"), f"pp:prog:{person.programme_id}")])
    await show(update, context, "\n".join(lines), inline(rows))


@requires_onboarding
@requires_role(Role.ANIMATOR)
async def on_start(update: Update, context: PalContext) -> None:
    """`pp:go:<person>:<i|f>`: open (or resume) the paper survey form."""
    assert context.matches is not None and update.callback_query is not None
    message = update.callback_query.message
    try:
        step = await context.db.write(
            start_paper,
            actor=actor_of(context),
            person_id=int(context.matches[0].group(1)),
            phase=LETTER_PHASE[context.matches[0].group(2)],
            now=context.services.clock.now(),
            message_id=message.message_id if message is not None else None,
            surveys_dir=context.settings.surveys_dir,
        )
    except (SurveyError, ProxyNotFound) as exc:
        error = exc if isinstance(exc, SurveyError) else SurveyError(str(exc))
        await answer(update, context, refusal_text(context, error), alert=True)
        return
    log.info(
        "paper survey opened response_id=%s by person_id=%s",
        step.view.response.id,
        step_actor_id(context),
    )
    await show(update, context, *form_screen(context.t, step.view, proxy_name=step.proxy_name))


# ---------------------------------------------------------------- adding a person


@requires_onboarding
@requires_role(Role.ANIMATOR)
async def on_new(update: Update, context: PalContext) -> None:
    """`pp:new:<programme>`: ask for the name of a person without Telegram."""
    assert context.matches is not None and update.callback_query is not None
    message = update.callback_query.message
    ok = await context.db.write(
        begin_new_person,
        actor=actor_of(context),
        programme_id=int(context.matches[0].group(1)),
        message_id=message.message_id if message is not None else None,
    )
    if not ok:
        await answer(update, context, refusal_text(context, SurveyError("programme")))
        return
    await show(
        update,
        context,
        context.t._(
            "Type the name the team knows this person by (at most 60 characters), for example "
            "“Pani Zofia”. Only the team sees it; reports use a code."
        ),
        None,
    )


@on_text(KIND_NEW, role=Role.ANIMATOR)
async def on_new_name(update: Update, context: PalContext, dialog: Dialog) -> None:
    """The typed name: checked, then the question about the paper notice."""
    message = update.effective_message
    assert message is not None and message.text is not None
    t = context.t
    programme_id = dialog.data.get("programme_id")
    if not isinstance(programme_id, int) or not may(
        context.viewer.access, Action.WORK_IN_PROGRAMME, programme_id=programme_id
    ):
        # Re-checked on every step: a grant taken away mid-dialog stops it here.
        await answer(update, context, refusal_text(context, SurveyError("programme")))
        return
    try:
        name = validate_display_name(message.text[:200])
    except InvalidDisplayName as exc:
        problem = (
            t._("That is too long: at most 60 characters.")
            if (exc.problem == NameProblem.TOO_LONG)
            else t._("Please type just a name, without links or special characters.")
        )
        await answer(update, context, problem)
        return
    data = dict(dialog.data)
    data["name"] = name
    await context.db.write(
        save_dialog,
        person_id=dialog.person_id,
        kind=KIND_NEW,
        step="notice",
        data=data,
        awaits_text=False,
    )
    await context.bot.send_message(
        message.chat.id,
        t._("Has {name} received the paper notice “About your personal data”?").format(name=name),
        reply_markup=inline(
            [[(t._("✅ Yes, they have it"), "pp:nt:1"), (t._("❌ Not yet"), "pp:nt:0")]]
        ),
    )


@requires_onboarding
@requires_role(Role.ANIMATOR)
async def on_notice(update: Update, context: PalContext) -> None:
    """`pp:nt:<0|1>`: create the person, then choose their paper survey."""
    assert context.matches is not None
    t = context.t
    person = await context.db.write(
        create_paper_person, actor=actor_of(context), signed=context.matches[0].group(1) == "1"
    )
    if person is None:
        await answer(update, context, refusal_text(context, SurveyError("stale")))
        return
    log.info(
        "proxy participant created person_id=%s by person_id=%s", person.id, step_actor_id(context)
    )
    text = t._("Added: {name}.").format(name=person.display_name)
    if not person.paper_notice_signed:
        text += "\n\n" + t._("Please give them the paper notice “About your personal data”.")
    rows = [
        [(phase_title(t, SurveyPhase.INITIAL), f"pp:go:{person.id}:i")],
        [(phase_title(t, SurveyPhase.FINAL), f"pp:go:{person.id}:f")],
        [(t._("↩️ Back to the list"), f"pp:prog:{person.programme_id}")],
    ]
    await show(update, context, text, inline(rows))


def step_actor_id(context: PalContext) -> int | None:
    """The acting person's internal id for logs (never the Telegram id)."""
    person = context.viewer.person
    return person.id if person is not None else None


def register(app: PalApplication) -> None:
    """Add /paper and its buttons (the form's own buttons are in handlers/surveys/residents.py)."""
    app.add_handler(CommandHandler("paper", paper_command))
    app.add_handler(CallbackQueryHandler(paper_command, pattern=r"^pp:list$"))
    app.add_handler(CallbackQueryHandler(on_programme, pattern=r"^pp:prog:(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_person, pattern=r"^pp:who:(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_start, pattern=r"^pp:go:(\d{1,12}):([if])$"))
    app.add_handler(CallbackQueryHandler(on_new, pattern=r"^pp:new:(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_notice, pattern=r"^pp:nt:([01])$"))
