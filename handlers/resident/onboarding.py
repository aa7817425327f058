"""First steps on /start: language, the information notice, a display name, a programme.

The step lives in `Person.onboarding_step`, written with the answer that moves it, so
a restart (or another process) continues where the person is. Of the Telegram profile
only the id and the chosen language are stored.

Callback data: `lang:<pl|uk|en>` (also used by /language), `ob:ok` (notice read),
`prog:<id>` (programme chosen).
"""

from __future__ import annotations

import dataclasses
import logging
import re

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.context import PalApplication, PalContext, Viewer
from bot.keyboards import inline, main_menu
from handlers.admin.invitations import is_invitation, open_link
from handlers.common import answer, caller_of, show_main_menu, speak_as, too_long
from handlers.resident.activities import (
    programme_choice,
    send_details,
    show_activities,
    show_details,
    show_screen,
)
from storage.access import Actor
from storage.activities.resident_views import open_programme_choices
from storage.models import Person
from storage.models.people import OnboardingStep
from storage.people.onboarding import (
    InvalidDisplayName,
    NameProblem,
    ProgrammeAlreadyChosen,
    ProgrammeNotOpen,
    WrongStep,
    accept_notice,
    finish_without_programme,
)
from translations import LANGUAGE_NAMES, Translator, translator
from usecases.onboarding import (
    choose_language,
    name_and_payload,
    programme_and_payload,
)
from usecases.onboarding import start as start_onboarding

log = logging.getLogger(__name__)
# Text typed before onboarding is done is read here, ahead of every feature's handlers.
ONBOARDING_TEXT_GROUP = -1
_DEEP_LINK = re.compile(r"^act_(\d{1,12})$")


def language_keyboard() -> InlineKeyboardMarkup:
    """Polski / Українська / English."""
    return inline([[(name, f"lang:{code}") for code, name in LANGUAGE_NAMES.items()]])


def notice_text(t: Translator, context: PalContext) -> str:
    """The information notice: who, what is kept and why, voluntary, how to see or delete."""
    settings = context.settings
    controller = settings.controller_name or t._("the municipal social welfare centre")
    parts = [
        t._("ℹ️ About your personal data"),
        t._("This chat is run by {controller} for the Local Activity Programme (PAL).").format(
            controller=controller
        ),
        t._(
            "We keep only what is needed to organise activities and to evaluate the "
            "programme: your Telegram number (to send you messages), your language, the "
            "name you give us, your sign-ups and your survey answers. People who evaluate "
            "the programme see codes, never names."
        ),
        t._("Taking part and the surveys are voluntary and never affect benefits."),
        t._(
            "To see your data send /mydata, to delete it send /forgetme. "
            "More about your data: /privacy."
        ),
    ]
    if settings.dpo_contact:
        parts.append(t._("Data protection officer: {contact}").format(contact=settings.dpo_contact))
    return "\n\n".join(parts)


def _t(context: PalContext, person: Person) -> Translator:
    return translator(person.language, context.settings.timezone)


def _remember(context: PalContext, person: Person) -> None:
    # Later steps of this update speak the person's new language.
    context.viewer_ = dataclasses.replace(context.viewer, person=person, language=person.language)


async def show_step(
    update: Update,
    context: PalContext,
    person: Person,
    *,
    new_message: bool = False,
    note: str | None = None,
) -> None:
    """Show the step the person is at (again), optionally after a short note."""
    t = _t(context, person)
    step = person.onboarding_step
    text: str
    markup: InlineKeyboardMarkup | None = None
    if step == OnboardingStep.LANGUAGE:
        text = t._(
            "Hello! This is the chat of the Local Activity Programme (PAL). Choose your language:"
        )
        markup = language_keyboard()
    elif step == OnboardingStep.NOTICE:
        text = notice_text(t, context)
        markup = inline([[(t._("Continue ➡️"), "ob:ok")]])
    elif step == OnboardingStep.NAME:
        text = t._(
            "What name should the animators see? Type your first name or a "
            "nickname (up to 60 characters)."
        )
    elif step == OnboardingStep.PROGRAMME:
        programmes = await context.db.read(open_programme_choices, now=context.services.clock.now())
        if not programmes:
            # Every programme closed while the person was typing: finish without one.
            assert person.id is not None
            done = await context.db.write(finish_without_programme, person_id=person.id)
            await finish(update, context, done, None)
            return
        text = t._("Which programme do you take part in? Choose one:")
        markup = programme_choice(t, programmes)
    else:
        # Already done (a stale onboarding button): just the menu.
        if update.callback_query is not None:
            await answer(update, context, t._("You have already done this step."))
        await show_main_menu(update, context)
        return
    if note:
        text = f"{note}\n\n{text}"
    await show_screen(update, context, text, markup, new_message=new_message)


async def finish(update: Update, context: PalContext, person: Person, payload: str | None) -> None:
    """The main menu, then the activity from a deep link, else the programme's activities.

    The list comes at once so that a new resident's next tap is an activity: /start,
    language, the notice, the name, (the programme,) the activity and "Sign up".
    """
    _remember(context, person)
    t = context.t
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(
        chat.id,
        t._("Thank you, {name}! You are all set. Choose below what you would like to do.").format(
            name=person.display_name or ""
        ),
        reply_markup=main_menu(t, context.viewer.roles),
    )
    match = _DEEP_LINK.match(payload or "")
    if match:
        await send_details(update, context, int(match.group(1)), new_message=True)
    elif person.programme_id is not None:
        await show_activities(update, context, new_message=True)


async def start(update: Update, context: PalContext) -> None:
    """/start [act_<id>|inv_<token>]: begin (or resume) onboarding, or show the main menu."""
    raw = context.args[0] if context.args else None
    if is_invitation(raw):
        # A staff invitation link: handlers.admin.invitations shows and accepts it.
        await open_link(update, context, str(raw))
        return
    payload = raw if raw and _DEEP_LINK.match(raw) else None
    match = _DEEP_LINK.match(payload or "")
    outcome = await context.db.write(
        start_onboarding,
        caller=caller_of(update, context),
        payload=payload,
        activity_id=int(match.group(1)) if match else None,
        now=context.services.clock.now(),
    )
    resident = outcome.resident
    speak_as(context, resident)
    if outcome.details is not None:
        await show_details(update, context, outcome.details, new_message=True)
        return
    chat = update.effective_chat
    if resident.is_onboarded and chat is not None:
        t = context.t
        await context.bot.send_message(
            chat.id,
            t._("What would you like to do? Choose below."),
            reply_markup=main_menu(t, resident.roles),
        )
        return
    person = outcome.person
    assert person is not None and person.id is not None
    # Later steps of this update (a programme closing meanwhile) read the viewer.
    context.viewer_ = Viewer(
        resident.telegram_id,
        person,
        resident.roles,
        person.language,
        resident.access,
        Actor(person_id=person.id, access=resident.access, home_programme_id=person.programme_id),
    )
    log.info(
        "start person_id=%s new=%s step=%s", person.id, outcome.created, person.onboarding_step
    )
    await show_step(update, context, person, new_message=True)


async def on_language(update: Update, context: PalContext) -> None:
    """`lang:<code>`: the first step, or /language at any later time."""
    assert context.matches is not None
    code = context.matches[0].group(1)
    person = await context.db.write(
        choose_language, telegram_id=context.viewer.telegram_id, language=code
    )
    _remember(context, person)
    if not person.is_onboarded:
        await show_step(update, context, person)
        return
    t = context.t
    await show_screen(update, context, t._("Done. From now on I will write in English."), None)
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(
        chat.id,
        t._("What would you like to do? Choose below."),
        reply_markup=main_menu(t, context.viewer.roles),
    )


async def on_notice_read(update: Update, context: PalContext) -> None:
    """`ob:ok`: the notice was read; ask for the display name."""
    person = context.viewer.person
    if person is None:
        await answer(update, context, context.t._("First, let's get you set up: send /start."))
        return
    if person.is_onboarded:
        await answer(update, context, context.t._("You have already done this step."))
        return
    assert person.id is not None
    try:
        person = await context.db.write(accept_notice, person_id=person.id)
    except WrongStep:
        await show_step(update, context, person, new_message=True)
        return
    query = update.callback_query
    if query is not None:
        try:
            # Keep the notice on screen for reference, without its button.
            await query.edit_message_reply_markup(None)
        except BadRequest:
            log.debug("could not remove the notice button")
    await show_step(update, context, person, new_message=True)


def name_problem_text(t: Translator, problem: NameProblem) -> str:
    """Why the name was refused and what to type instead."""
    texts = {
        NameProblem.EMPTY: t._("The name cannot be empty."),
        NameProblem.TOO_LONG: t._("That is too long: please type at most 60 characters."),
        NameProblem.LINK: t._("Please type a name without links."),
        NameProblem.MENTION: t._("Please type a name without @ mentions."),
        NameProblem.CONTROL: t._(
            "The name has characters we cannot show. Please type it with ordinary letters."
        ),
        NameProblem.NO_LETTERS: t._("The name needs at least one letter."),
    }
    return texts[problem]


async def on_text_before_done(update: Update, context: PalContext) -> None:
    """Text from someone still onboarding: the display name, or a hint to use buttons."""
    if context.viewer_ is None:
        # A main-menu button: its use case identifies the sender (and asks anyone not set
        # up yet to send /start).
        return
    person = context.viewer.person
    message = update.effective_message
    if person is None or person.is_onboarded or message is None or message.text is None:
        return  # not ours: later groups (features, fallback) handle it
    assert person.id is not None
    t = _t(context, person)
    if person.onboarding_step != OnboardingStep.NAME:
        await show_step(
            update,
            context,
            person,
            new_message=True,
            note=t._("Please use the buttons under the message."),
        )
        raise ApplicationHandlerStop
    try:
        if too_long(message.text):
            raise InvalidDisplayName(NameProblem.TOO_LONG)
        named, payload = await context.db.write(
            name_and_payload,
            person_id=person.id,
            raw=message.text,
            now=context.services.clock.now(),
        )
    except InvalidDisplayName as exc:
        log.info("display name refused problem=%s", exc.problem.value)
        await message.reply_text(
            name_problem_text(t, exc.problem)
            + "\n\n"
            + t._(
                "What name should the animators see? Type your first name or a "
                "nickname (up to 60 characters)."
            )
        )
        raise ApplicationHandlerStop from None
    if named.is_onboarded:
        await finish(update, context, named, payload)
    else:
        await show_step(update, context, named, new_message=True)
    raise ApplicationHandlerStop


async def on_programme(update: Update, context: PalContext) -> None:
    """`prog:<id>`: join a programme (last onboarding step, or later if none was open)."""
    assert context.matches is not None
    t = context.t
    person = context.viewer.person
    if person is None:
        await answer(update, context, t._("First, let's get you set up: send /start."))
        return
    assert person.id is not None
    was_onboarded = person.is_onboarded
    try:
        joined, payload, programme = await context.db.write(
            programme_and_payload,
            person_id=person.id,
            programme_id=int(context.matches[0].group(1)),
            now=context.services.clock.now(),
        )
    except ProgrammeNotOpen:
        await answer(update, context, t._("This programme is no longer taking sign-ups."))
        return
    except ProgrammeAlreadyChosen as chosen:
        log.info("programme choice refused: already in one person_id=%s", person.id)
        await answer(
            update,
            context,
            t._(
                "You already take part in {programme}. To change the programme, please ask "
                "the animators."
            ).format(programme=chosen.programme_name),
            alert=True,
        )
        return
    except WrongStep:
        await show_step(update, context, person, new_message=True)
        return
    _remember(context, joined)
    if was_onboarded:
        await show_activities(update, context)
        return
    name = programme.name if programme else ""
    await show_screen(update, context, t._("Programme: {name}").format(name=name), None)
    await finish(update, context, joined, payload)


def register(app: PalApplication) -> None:
    """Add /start, the onboarding buttons and the onboarding text reader."""
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(on_language, pattern=r"^lang:(pl|uk|en)$"))
    app.add_handler(CallbackQueryHandler(on_notice_read, pattern=r"^ob:ok$"))
    app.add_handler(CallbackQueryHandler(on_programme, pattern=r"^prog:(\d{1,12})$"))
    app.add_handler(
        MessageHandler(filters.TEXT & ~filters.COMMAND, on_text_before_done),
        group=ONBOARDING_TEXT_GROUP,
    )
