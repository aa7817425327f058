"""Announcements: compose, choose the audience, preview, confirm, watch them go out.

The draft is the animator's `Dialog` (kind `animator_broadcast`), so typing the text,
a restart, and pressing Send can happen in any process. Sending hands one pending send
per recipient to the outbox (storage.messaging.broadcasts); the dispatcher delivers them and the
progress watcher (schedules.broadcast) edits the progress message until the report.

Callback data: `anb:new[:<activity>]`, `anb:aud`, `anb:au:<audience>`,
`anb:aa:<places|reserve>:<activity>`, `anb:lk`, `anb:lk:<activity|0>`, `anb:tr:<uk|en>`,
`anb:urg`, `anb:txt`, `anb:send`, `anb:cancel`, `anb:stop:<broadcast>`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot.broadcast_progress import start_progress
from bot.context import PalApplication, PalContext
from bot.keyboards import inline
from handlers.animator.announcement_texts import (
    ask_text,
    ready_screen,
    too_long_text,
)
from handlers.animator.common import (
    Rows,
    activity_label,
    actor_of,
    animator_only,
    menu_button,
    refuse_no_programme,
    refuse_stale,
    screen,
)
from handlers.common import answer
from handlers.dialogs import on_text
from handlers.fallback import on_other_message
from schedules.broadcast import progress_text
from storage.activities.organising import NotYourActivity, managed_activities
from storage.dialogs import close_dialog
from storage.messaging.broadcast_compose import (
    KIND,
    READY,
    TEXT,
    TRANSLATION_STEPS,
    Compose,
    audience_counts,
    begin_compose,
    change_compose,
    compose_overview,
    current_compose,
    send_compose,
    set_activity_audience,
    set_link,
)
from storage.messaging.broadcasts import (
    ACTIVITY_AUDIENCES,
    Audience,
    BroadcastEmpty,
    BroadcastNotFound,
    BroadcastTooLong,
    cancel_broadcast,
    check_length,
)
from storage.models import Dialog, Role
from storage.text_rule import forbidden_character
from translations import LANGUAGE_NAMES

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- screens


async def _send_preview(
    context: PalContext, chat_id: int, compose: Compose, link_title: str | None
) -> None:
    """The announcement exactly as residents will get it."""
    markup = (
        inline([[(f"📅 {link_title[:50]}", f"act:{compose.link}")]])
        if compose.link and link_title
        else None
    )
    if compose.photo:
        await context.bot.send_photo(
            chat_id, compose.photo, caption=compose.text, reply_markup=markup
        )
    else:
        await context.bot.send_message(chat_id, compose.text, reply_markup=markup)


async def show_ready(update: Update, context: PalContext, *, preview: bool = True) -> None:
    """The preview (as residents will see it), then what and to whom, with Send."""
    t = context.t
    chat = update.effective_chat
    assert chat is not None
    try:
        view = await context.db.read(compose_overview, actor=actor_of(context))
    except LookupError:
        await _stale(update, context)
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    if preview:
        await _send_preview(context, chat.id, view.compose, view.link_title)
    text, markup = ready_screen(t, view)
    await context.bot.send_message(chat.id, text, reply_markup=markup)


async def _stale(update: Update, context: PalContext) -> None:
    await answer(
        update, context, context.t._("This button is no longer active. Open the menu again.")
    )


async def _changed(
    update: Update, context: PalContext, fn: Callable[..., Compose], **kwargs: Any
) -> bool:
    """Change the draft; False (and a refusal said) if it or the activity is not there."""
    try:
        await context.db.write(fn, **kwargs)
    except NotYourActivity:
        await refuse_stale(update, context)
        return False
    except LookupError:
        await _stale(update, context)
        return False
    return True


async def _after_text(update: Update, context: PalContext, compose: Compose) -> None:
    if compose.audience is None:
        await show_audiences(update, context)
    else:
        await show_ready(update, context)


# ---------------------------------------------------------------- handlers


@animator_only
async def on_new(update: Update, context: PalContext) -> None:
    """`anb:new[:<activity>]`: start writing an announcement."""
    t = context.t
    actor = actor_of(context)
    if actor.programme_id is None:
        await refuse_no_programme(update, context)
        return
    assert context.matches is not None
    raw = context.matches[0].group(1)
    try:
        compose = await context.db.write(
            begin_compose, actor=actor, activity_id=int(raw) if raw else None
        )
    except NotYourActivity:
        await refuse_stale(update, context)
        return
    # screen() answers the press; a second answer is refused by Telegram (BadRequest).
    await screen(
        update,
        context,
        ask_text(t, compose),
        inline([[(t._("✖ Cancel"), "anb:cancel")]]),
        new_message=True,
    )


async def _take_text(
    update: Update, context: PalContext, compose: Compose, text: str, photo: str | None
) -> None:
    t = context.t
    actor = actor_of(context)
    if forbidden_character(text, multiline=True) is not None:
        await answer(
            update,
            context,
            t._(
                "The announcement has invisible or special control characters (often from "
                "copying). Please type or paste it again without them."
            ),
        )
        return
    if compose.step in TRANSLATION_STEPS:
        language = TRANSLATION_STEPS[compose.step]
        try:
            check_length(text, with_photo=compose.photo is not None, language=language)
        except BroadcastTooLong as exc:
            await answer(update, context, too_long_text(t, exc))
            return
        translations = {**compose.translations, language: text}
        await context.db.write(
            change_compose, person_id=actor.person_id, translations=translations, step=READY
        )
        await show_ready(update, context)
        return
    with_photo = photo or compose.photo
    try:
        check_length(text, with_photo=with_photo is not None)
    except BroadcastTooLong as exc:
        await answer(update, context, too_long_text(t, exc))
        return
    # A translation longer than a caption stops fitting once a photo is added.
    for language, translated in compose.translations.items():
        try:
            check_length(translated, with_photo=with_photo is not None, language=language)
        except BroadcastTooLong as exc:
            await answer(
                update,
                context,
                too_long_text(t, exc)
                + "\n"
                + t._("(the text in {language})").format(language=LANGUAGE_NAMES[language]),
            )
            return
    if not text.strip():
        await context.db.write(
            change_compose, person_id=actor.person_id, photo=with_photo, step=TEXT
        )
        await answer(update, context, ask_text(t, Compose(photo=with_photo)))
        return
    changed = await context.db.write(
        change_compose, person_id=actor.person_id, text=text, photo=with_photo, step=READY
    )
    await _after_text(update, context, changed)


@on_text(KIND, role=Role.ANIMATOR)
async def on_typed(update: Update, context: PalContext, dialog: Dialog) -> None:
    """The announcement's text (or a translation of it)."""
    message = update.effective_message
    assert message is not None and message.text is not None
    await _take_text(update, context, Compose.of(dialog), message.text, None)


async def on_photo(update: Update, context: PalContext) -> None:
    """A photo: the announcement's picture if one is being written, else not understood."""
    message = update.effective_message
    person = context.viewer.person
    if (
        message is None
        or not message.photo
        or person is None
        or person.id is None
        or not context.viewer.access.acts_anywhere(Role.ANIMATOR)
    ):
        await on_other_message(update, context)
        return
    compose = await context.db.read(current_compose, person_id=person.id)
    if compose is None or compose.step != TEXT:
        await on_other_message(update, context)
        return
    await _take_text(update, context, compose, message.caption or "", message.photo[-1].file_id)


async def show_audiences(update: Update, context: PalContext) -> None:
    """Who should get it: the whole programme, an activity's people, survey non-responders."""
    t = context.t
    actor = actor_of(context)
    assert actor.programme_id is not None
    counts = await context.db.read(audience_counts, actor=actor)

    def n(audience: Audience) -> str:
        return t.number(counts[audience.value])

    rows: Rows = [
        [
            (
                t._("Everyone in the programme ({n})").format(n=n(Audience.PROGRAMME)),
                "anb:au:programme",
            )
        ],
        [(t._("People with a place in an activity…"), "anb:au:places")],
        [(t._("The reserve list of an activity…"), "anb:au:reserve")],
        [
            (
                t._("No initial survey yet ({n})").format(n=n(Audience.NO_INITIAL)),
                "anb:au:no_initial",
            )
        ],
        [(t._("No final survey yet ({n})").format(n=n(Audience.NO_FINAL)), "anb:au:no_final")],
        [(t._("✖ Cancel"), "anb:cancel")],
    ]
    await screen(
        update,
        context,
        t._("Who should get the announcement?"),
        inline(rows),
        new_message=update.callback_query is None,
    )


@animator_only
async def on_audiences(update: Update, context: PalContext) -> None:
    """`anb:aud`: choose the audience again."""
    person_id = actor_of(context).person_id
    if await context.db.read(current_compose, person_id=person_id) is None:
        await _stale(update, context)
        return
    await show_audiences(update, context)


@animator_only
async def on_audience(update: Update, context: PalContext) -> None:
    """`anb:au:<audience>`: a programme-wide audience, or on to choosing the activity."""
    t = context.t
    assert context.matches is not None
    audience = Audience(context.matches[0].group(1))
    actor = actor_of(context)
    if audience in ACTIVITY_AUDIENCES:
        items = await context.db.read(
            managed_activities, actor=actor, now=context.services.clock.now()
        )
        upcoming = [i for i in items if i.activity.ends_at > context.services.clock.now()]
        rows: Rows = [
            [(activity_label(t, i.activity), f"anb:aa:{audience.value}:{i.activity.id}")]
            for i in upcoming
        ]
        rows.append([(t._("⬅️ Back"), "anb:aud")])
        await screen(
            update,
            context,
            t._("Which activity?") if upcoming else t._("You have no upcoming activities."),
            inline(rows),
        )
        return
    try:
        await context.db.write(
            change_compose,
            person_id=actor.person_id,
            audience=audience.value,
            audience_activity=None,
        )
    except LookupError:
        await _stale(update, context)
        return
    await _after_audience(update, context)


async def _after_audience(update: Update, context: PalContext) -> None:
    compose = await context.db.read(current_compose, person_id=actor_of(context).person_id)
    if compose is None:
        await _stale(update, context)
    elif not compose.text:
        await answer(update, context, ask_text(context.t, compose))
    else:
        await show_ready(update, context)


@animator_only
async def on_audience_activity(update: Update, context: PalContext) -> None:
    """`anb:aa:<places|reserve>:<activity>`: that activity's places or reserve list."""
    assert context.matches is not None
    audience, activity_id = context.matches[0].group(1), int(context.matches[0].group(2))
    if await _changed(
        update,
        context,
        set_activity_audience,
        actor=actor_of(context),
        audience=audience,
        activity_id=activity_id,
    ):
        await _after_audience(update, context)


@animator_only
async def on_link_list(update: Update, context: PalContext) -> None:
    """`anb:lk`: which activity the announcement's button opens."""
    t = context.t
    items = await context.db.read(
        managed_activities, actor=actor_of(context), now=context.services.clock.now()
    )
    now = context.services.clock.now()
    rows: Rows = [
        [(activity_label(t, i.activity), f"anb:lk:{i.activity.id}")]
        for i in items
        if i.activity.starts_at > now
    ]
    rows.append([(t._("No button"), "anb:lk:0")])
    await screen(
        update,
        context,
        t._("Add a button that opens an activity, so people can sign up at once:"),
        inline(rows),
    )


@animator_only
async def on_link(update: Update, context: PalContext) -> None:
    """`anb:lk:<activity|0>`: set or remove the button."""
    assert context.matches is not None
    if await _changed(
        update,
        context,
        set_link,
        actor=actor_of(context),
        activity_id=int(context.matches[0].group(1)),
    ):
        await show_ready(update, context)


@animator_only
async def on_translation(update: Update, context: PalContext) -> None:
    """`anb:tr:<uk|en>`: type the text in another language."""
    t = context.t
    assert context.matches is not None
    code = context.matches[0].group(1)
    try:
        await context.db.write(
            change_compose, person_id=actor_of(context).person_id, step=f"tr_{code}"
        )
    except LookupError:
        await _stale(update, context)
        return
    await screen(
        update,
        context,
        t._(
            "Type the announcement in {language}. People who chose "
            "that language get it instead of the main text."
        ).format(language=LANGUAGE_NAMES[code]),
        inline([[(t._("✖ Cancel"), "anb:cancel")]]),
        new_message=True,
    )


@animator_only
async def on_urgent(update: Update, context: PalContext) -> None:
    """`anb:urg`: urgent announcements ignore quiet hours."""
    person_id = actor_of(context).person_id
    compose = await context.db.read(current_compose, person_id=person_id)
    if compose is None or compose.step != READY:
        await _stale(update, context)
        return
    await context.db.write(change_compose, person_id=person_id, urgent=not compose.urgent)
    await show_ready(update, context, preview=False)


@animator_only
async def on_retype(update: Update, context: PalContext) -> None:
    """`anb:txt`: type the main text again (the photo, audience and button stay)."""
    t = context.t
    try:
        compose = await context.db.write(
            change_compose, person_id=actor_of(context).person_id, step=TEXT
        )
    except LookupError:
        await _stale(update, context)
        return
    await screen(
        update,
        context,
        ask_text(t, compose),
        inline([[(t._("✖ Cancel"), "anb:cancel")]]),
        new_message=True,
    )


@animator_only
async def on_send(update: Update, context: PalContext) -> None:
    """`anb:send`: create every copy in the outbox at once, then show the progress.

    The pressed message becomes the progress message. The copies are queued first and
    the screen changed after, so the broadcast never waits for the animator's own chat
    (Telegram allows about one message a second there).
    """
    t = context.t
    query = update.callback_query
    chat = update.effective_chat
    assert chat is not None and query is not None and query.message is not None
    actor = actor_of(context)
    try:
        broadcast_id, count = await context.db.write(
            send_compose,
            actor=actor,
            chat_id=chat.id,
            message_id=query.message.message_id,
            now=context.services.clock.now(),
        )
    except (NotYourActivity, BroadcastNotFound):
        # Its audience or its button names an activity this animator may not use.
        await refuse_stale(update, context)
        return
    except LookupError:
        await answer(
            update, context, t._("This announcement was already sent or cancelled."), alert=True
        )
        return
    except BroadcastEmpty:
        await answer(
            update,
            context,
            t._("Nobody is in this audience right now. Choose another one."),
            alert=True,
        )
        return
    except BroadcastTooLong as exc:
        await answer(update, context, too_long_text(t, exc), alert=True)
        return
    log.info(
        "broadcast started broadcast_id=%s recipients=%s by person_id=%s",
        broadcast_id,
        count,
        actor.person_id,
    )
    await screen(
        update,
        context,
        t._("📣 Announcement: sent {done} / {total}").format(
            done=t.number(0), total=t.number(count)
        ),
        inline([[(t._("⏹ Stop sending"), f"anb:stop:{broadcast_id}")]]),
    )


@animator_only
async def on_stop(update: Update, context: PalContext) -> None:
    """`anb:stop:<id>`: copies not yet handed to Telegram are withdrawn."""
    t = context.t
    assert context.matches is not None
    broadcast_id = int(context.matches[0].group(1))
    try:
        found = await context.db.write(
            cancel_broadcast,
            broadcast_id=broadcast_id,
            actor=actor_of(context),
            now=context.services.clock.now(),
        )
    except BroadcastNotFound:
        await refuse_stale(update, context)
        return
    log.info(
        "broadcast stopped broadcast_id=%s by person_id=%s",
        broadcast_id,
        actor_of(context).person_id,
    )
    await screen(update, context, progress_text(t, found), None, toast=t._("Sending stopped."))


@animator_only
async def on_cancel(update: Update, context: PalContext) -> None:
    """`anb:cancel`: throw the draft away."""
    await context.db.write(close_dialog, person_id=actor_of(context).person_id, kind=KIND)
    t = context.t
    await screen(
        update,
        context,
        t._("The announcement was not sent."),
        inline([[menu_button(t)]]),
        new_message=True,
    )


def register(app: PalApplication) -> None:
    """Add the announcement buttons, the photo reader and the progress watcher."""
    app.add_handler(CallbackQueryHandler(on_new, pattern=r"^anb:new(?::(\d{1,12}))?$"))
    app.add_handler(CallbackQueryHandler(on_audiences, pattern=r"^anb:aud$"))
    app.add_handler(
        CallbackQueryHandler(
            on_audience, pattern=r"^anb:au:(programme|places|reserve|no_initial|no_final)$"
        )
    )
    app.add_handler(
        CallbackQueryHandler(on_audience_activity, pattern=r"^anb:aa:(places|reserve):(\d{1,12})$")
    )
    app.add_handler(CallbackQueryHandler(on_link_list, pattern=r"^anb:lk$"))
    app.add_handler(CallbackQueryHandler(on_link, pattern=r"^anb:lk:(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_translation, pattern=r"^anb:tr:(uk|en)$"))
    app.add_handler(CallbackQueryHandler(on_urgent, pattern=r"^anb:urg$"))
    app.add_handler(CallbackQueryHandler(on_retype, pattern=r"^anb:txt$"))
    app.add_handler(CallbackQueryHandler(on_send, pattern=r"^anb:send$"))
    app.add_handler(CallbackQueryHandler(on_cancel, pattern=r"^anb:cancel$"))
    app.add_handler(CallbackQueryHandler(on_stop, pattern=r"^anb:stop:(\d{1,12})$"))
    app.add_handler(MessageHandler(filters.PHOTO, on_photo))
    app.bot_data["services"].on_start.append(start_progress)
