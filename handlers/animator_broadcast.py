"""Announcements: compose, choose the audience, preview, confirm, watch them go out.

The draft is the animator's `Dialog` (kind `animator_broadcast`), so typing the text,
a restart, and pressing Send can happen in any process. Sending hands one pending send
per recipient to the outbox (storage.broadcasts); the dispatcher delivers them and the
progress watcher (schedules.broadcast) edits the progress message until the report.

Callback data: `anb:new[:<activity>]`, `anb:aud`, `anb:au:<audience>`,
`anb:aa:<places|reserve>:<activity>`, `anb:lk`, `anb:lk:<activity|0>`, `anb:tr:<uk|en>`,
`anb:urg`, `anb:txt`, `anb:send`, `anb:cancel`, `anb:stop:<broadcast>`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session
from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

import schedules.broadcast
from bot.context import PalApplication, PalContext
from bot.i18n import LANGUAGE_NAMES, Translator
from bot.keyboards import inline
from handlers.animator_common import (
    Rows,
    activity_label,
    actor_of,
    animator_only,
    menu_button,
    refuse_stale,
    screen,
)
from handlers.common import answer
from handlers.dialogs import on_text
from handlers.fallback import on_other_message
from schedules.broadcast import BroadcastProgress, progress_text
from storage.broadcasts import (
    ACTIVITY_AUDIENCES,
    Audience,
    BroadcastDraft,
    BroadcastEmpty,
    BroadcastNotFound,
    BroadcastTooLong,
    cancel_broadcast,
    check_length,
    progress,
    recipients,
    start_broadcast,
    text_limit,
)
from storage.dialogs import close_dialog, get_dialog, save_dialog
from storage.models import Activity, Dialog, Role
from storage.organising import Actor, NotYourActivity, managed_activities, managed_activity

log = logging.getLogger(__name__)
KIND = "animator_broadcast"
TEXT, READY = "text", "ready"
TRANSLATION_STEPS = {"tr_uk": "uk", "tr_en": "en"}
PROGRESS = "broadcast_progress"


@dataclass
class Compose:
    """The announcement being written, as stored in the dialog."""

    step: str = TEXT
    text: str = ""
    photo: str | None = None
    translations: dict[str, str] = field(default_factory=dict)
    audience: str | None = None
    audience_activity: int | None = None
    link: int | None = None
    urgent: bool = False

    @classmethod
    def of(cls, dialog: Dialog) -> Compose:
        """Read a stored dialog."""
        d = dialog.data
        return cls(dialog.step, d.get("text", ""), d.get("photo"), dict(d.get("translations", {})),
                   d.get("audience"), d.get("audience_activity"), d.get("link"),
                   bool(d.get("urgent", False)))

    def data(self) -> dict[str, Any]:
        """What is stored."""
        return {"text": self.text, "photo": self.photo, "translations": self.translations,
                "audience": self.audience, "audience_activity": self.audience_activity,
                "link": self.link, "urgent": self.urgent}

    def draft(self) -> BroadcastDraft:
        """The rules' view of it."""
        return BroadcastDraft(
            text=self.text, audience=Audience(self.audience or Audience.PROGRAMME),
            audience_activity_id=self.audience_activity, photo_file_id=self.photo,
            link_activity_id=self.link, translations=self.translations, urgent=self.urgent)


# ---------------------------------------------------------------- storage work


def _save(session: Session, person_id: int, compose: Compose) -> Compose:
    save_dialog(session, person_id=person_id, kind=KIND, step=compose.step,
                data=compose.data(), awaits_text=compose.step != READY)
    return compose


def _current(session: Session, *, person_id: int) -> Compose | None:
    dialog = get_dialog(session, person_id=person_id, kind=KIND)
    return Compose.of(dialog) if dialog is not None else None


def _begin(session: Session, *, actor: Actor, activity_id: int | None) -> Compose:
    compose = Compose()
    if activity_id is not None:
        managed_activity(session, activity_id=activity_id, actor=actor)
        compose.link = activity_id
        compose.audience = Audience.PLACES.value
        compose.audience_activity = activity_id
    return _save(session, actor.person_id, compose)


def _change(session: Session, /, *, person_id: int, **changes: Any) -> Compose:
    compose = _current(session, person_id=person_id)
    if compose is None:
        raise LookupError("no announcement being written")
    for name, value in changes.items():
        setattr(compose, name, value)
    return _save(session, person_id, compose)


@dataclass(frozen=True)
class Overview:
    """The numbers the ready screen shows."""

    compose: Compose
    count: int
    audience_title: str | None
    link_title: str | None


def _overview(session: Session, *, actor: Actor) -> Overview:
    compose = _current(session, person_id=actor.person_id)
    if compose is None or actor.programme_id is None:
        raise LookupError("no announcement being written")
    audience = Audience(compose.audience or Audience.PROGRAMME)
    count = len(recipients(session, programme_id=actor.programme_id, audience=audience,
                           activity_id=compose.audience_activity, author_id=actor.person_id))
    audience_activity = (session.get(Activity, compose.audience_activity)
                         if compose.audience_activity else None)
    link = session.get(Activity, compose.link) if compose.link else None
    return Overview(compose, count, audience_activity.title if audience_activity else None,
                    link.title if link else None)


def _counts(session: Session, *, actor: Actor) -> dict[str, int]:
    assert actor.programme_id is not None
    return {a.value: len(recipients(session, programme_id=actor.programme_id, audience=a,
                                    author_id=actor.person_id))
            for a in (Audience.PROGRAMME, Audience.NO_INITIAL, Audience.NO_FINAL)}


def _start(session: Session, *, actor: Actor, chat_id: int, message_id: int,
           now: datetime) -> tuple[int, int]:
    """Start sending and close the draft, together; returns (broadcast id, recipients)."""
    compose = _current(session, person_id=actor.person_id)
    if compose is None or compose.step != READY or actor.programme_id is None:
        raise LookupError("no announcement ready")
    broadcast = start_broadcast(session, draft=compose.draft(), programme_id=actor.programme_id,
                                actor=actor, progress_chat_id=chat_id, now=now,
                                progress_message_id=message_id)
    close_dialog(session, person_id=actor.person_id, kind=KIND)
    assert broadcast.id is not None
    return broadcast.id, progress(session, broadcast_id=broadcast.id).total


# ---------------------------------------------------------------- screens


def audience_text(t: Translator, audience: str | None, activity_title: str | None) -> str:
    """Who an announcement goes to, in words."""
    if audience == Audience.PLACES:
        return t._("people with a place in {title}").format(title=activity_title or "—")
    if audience == Audience.RESERVE:
        return t._("the reserve list of {title}").format(title=activity_title or "—")
    if audience == Audience.NO_INITIAL:
        return t._("residents who have not answered the initial survey")
    if audience == Audience.NO_FINAL:
        return t._("residents who have not answered the final survey")
    return t._("everyone in the programme")


def _ask_text(t: Translator, compose: Compose) -> str:
    if compose.photo is not None:
        return t._("Now type the text to go under the photo (up to {limit} characters).").format(
            limit=t.number(text_limit(with_photo=True)))
    return t._("📣 New announcement. Type the text (up to {limit} characters), or send a photo "
               "with a caption (up to {caption} characters).").format(
                   limit=t.number(text_limit(with_photo=False)),
                   caption=t.number(text_limit(with_photo=True)))


def _too_long(t: Translator, error: BroadcastTooLong) -> str:
    return t._("This text is {length} characters long; Telegram allows at most {limit}. "
               "Please shorten it and send it again.").format(
                   length=t.number(error.length), limit=t.number(error.limit))


async def _send_preview(context: PalContext, chat_id: int, compose: Compose,
                        link_title: str | None) -> None:
    """The announcement exactly as residents will get it."""
    markup = (inline([[(f"📅 {link_title[:50]}", f"act:{compose.link}")]])
              if compose.link and link_title else None)
    if compose.photo:
        await context.bot.send_photo(chat_id, compose.photo, caption=compose.text,
                                     reply_markup=markup)
    else:
        await context.bot.send_message(chat_id, compose.text, reply_markup=markup)


def _ready_screen(t: Translator, view: Overview) -> tuple[str, InlineKeyboardMarkup]:
    c = view.compose
    languages = ", ".join(LANGUAGE_NAMES[code] for code in sorted(c.translations))
    lines = [t._("⬆️ This is how the announcement will look."),
             t._("Recipients: {n} — {who}.").format(
                 n=t.number(view.count), who=audience_text(t, c.audience, view.audience_title))]
    if languages:
        lines.append(t._("Also written in: {languages}. Everyone else gets the text above.")
                     .format(languages=languages))
    lines.append(t._("⚠️ Urgent: sent even during quiet hours.") if c.urgent
                 else t._("Not urgent: during quiet hours it waits until the morning."))
    rows: Rows = []
    if view.count:
        rows.append([(t.ngettext("✅ Send to {n} person", "✅ Send to {n} people", view.count)
                      .format(n=t.number(view.count)), "anb:send")])
    rows.append([(t._("👥 Change the audience"), "anb:aud"), (t._("✏️ Change the text"), "anb:txt")])
    for code in ("uk", "en"):
        label = (t._("🌐 Change the text in {language}") if code in c.translations
                 else t._("🌐 Add the text in {language}")).format(language=LANGUAGE_NAMES[code])
        rows.append([(label, f"anb:tr:{code}")])
    rows.append([(t._("🔗 Button to an activity"), "anb:lk"),
                 (t._("⚠️ Urgent: off") if c.urgent else t._("⚠️ Mark as urgent"), "anb:urg")])
    rows.append([(t._("✖ Cancel"), "anb:cancel")])
    if not view.count:
        lines.append(t._("Nobody is in this audience right now. Choose another one."))
    return "\n".join(lines), inline(rows)


async def show_ready(update: Update, context: PalContext, *, preview: bool = True) -> None:
    """The preview (as residents will see it), then what and to whom, with Send."""
    t = context.t
    chat = update.effective_chat
    assert chat is not None
    try:
        view = await context.db.read(_overview, actor=actor_of(context))
    except LookupError:
        await _stale(update, context)
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    if preview:
        await _send_preview(context, chat.id, view.compose, view.link_title)
    text, markup = _ready_screen(t, view)
    await context.bot.send_message(chat.id, text, reply_markup=markup)


async def _stale(update: Update, context: PalContext) -> None:
    await answer(update, context,
                 context.t._("This button is no longer active. Open the menu again."))


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
        await answer(update, context, t._("Join a programme first: send /activities."))
        return
    assert context.matches is not None
    raw = context.matches[0].group(1)
    try:
        compose = await context.db.write(_begin, actor=actor,
                                         activity_id=int(raw) if raw else None)
    except NotYourActivity:
        await refuse_stale(update, context)
        return
    # screen() answers the press; a second answer is refused by Telegram (BadRequest).
    await screen(update, context, _ask_text(t, compose),
                 inline([[(t._("✖ Cancel"), "anb:cancel")]]), new_message=True)


async def _take_text(update: Update, context: PalContext, compose: Compose, text: str,
                     photo: str | None) -> None:
    t = context.t
    actor = actor_of(context)
    if compose.step in TRANSLATION_STEPS:
        language = TRANSLATION_STEPS[compose.step]
        try:
            check_length(text, with_photo=compose.photo is not None, language=language)
        except BroadcastTooLong as exc:
            await answer(update, context, _too_long(t, exc))
            return
        translations = {**compose.translations, language: text}
        await context.db.write(_change, person_id=actor.person_id, translations=translations,
                               step=READY)
        await show_ready(update, context)
        return
    with_photo = photo or compose.photo
    try:
        check_length(text, with_photo=with_photo is not None)
    except BroadcastTooLong as exc:
        await answer(update, context, _too_long(t, exc))
        return
    # A translation longer than a caption stops fitting once a photo is added.
    for language, translated in compose.translations.items():
        try:
            check_length(translated, with_photo=with_photo is not None, language=language)
        except BroadcastTooLong as exc:
            await answer(update, context, _too_long(t, exc) + "\n" + t._(
                "(the text in {language})").format(language=LANGUAGE_NAMES[language]))
            return
    if not text.strip():
        await context.db.write(_change, person_id=actor.person_id, photo=with_photo, step=TEXT)
        await answer(update, context, _ask_text(t, Compose(photo=with_photo)))
        return
    changed = await context.db.write(_change, person_id=actor.person_id, text=text,
                                     photo=with_photo, step=READY)
    await _after_text(update, context, changed)


@on_text(KIND)
async def on_typed(update: Update, context: PalContext, dialog: Dialog) -> None:
    """The announcement's text (or a translation of it)."""
    message = update.effective_message
    assert message is not None and message.text is not None
    if not context.viewer.can(Role.ANIMATOR):
        await answer(update, context, context.t._("This is only for the programme team."))
        return
    await _take_text(update, context, Compose.of(dialog), message.text, None)


async def on_photo(update: Update, context: PalContext) -> None:
    """A photo: the announcement's picture if one is being written, else not understood."""
    message = update.effective_message
    person = context.viewer.person
    if (message is None or not message.photo or person is None or person.id is None
            or not context.viewer.can(Role.ANIMATOR)):
        await on_other_message(update, context)
        return
    compose = await context.db.read(_current, person_id=person.id)
    if compose is None or compose.step != TEXT:
        await on_other_message(update, context)
        return
    await _take_text(update, context, compose, message.caption or "", message.photo[-1].file_id)


async def show_audiences(update: Update, context: PalContext) -> None:
    """Who should get it: the whole programme, an activity's people, survey non-responders."""
    t = context.t
    actor = actor_of(context)
    assert actor.programme_id is not None
    counts = await context.db.read(_counts, actor=actor)

    def n(audience: Audience) -> str:
        return t.number(counts[audience.value])

    rows: Rows = [
        [(t._("Everyone in the programme ({n})").format(n=n(Audience.PROGRAMME)),
          "anb:au:programme")],
        [(t._("People with a place in an activity…"), "anb:au:places")],
        [(t._("The reserve list of an activity…"), "anb:au:reserve")],
        [(t._("No initial survey yet ({n})").format(n=n(Audience.NO_INITIAL)),
          "anb:au:no_initial")],
        [(t._("No final survey yet ({n})").format(n=n(Audience.NO_FINAL)), "anb:au:no_final")],
        [(t._("✖ Cancel"), "anb:cancel")],
    ]
    await screen(update, context, t._("Who should get the announcement?"), inline(rows),
                 new_message=update.callback_query is None)


@animator_only
async def on_audiences(update: Update, context: PalContext) -> None:
    """`anb:aud`: choose the audience again."""
    person_id = actor_of(context).person_id
    if await context.db.read(_current, person_id=person_id) is None:
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
        items = await context.db.read(managed_activities, actor=actor,
                                      now=context.services.clock.now())
        upcoming = [i for i in items if i.activity.ends_at > context.services.clock.now()]
        rows: Rows = [[(activity_label(t, i.activity), f"anb:aa:{audience.value}:{i.activity.id}")]
                      for i in upcoming]
        rows.append([(t._("⬅️ Back"), "anb:aud")])
        await screen(update, context, t._("Which activity?") if upcoming else t._(
            "You have no upcoming activities."), inline(rows))
        return
    try:
        await context.db.write(_change, person_id=actor.person_id, audience=audience.value,
                               audience_activity=None)
    except LookupError:
        await _stale(update, context)
        return
    await _after_audience(update, context)


async def _after_audience(update: Update, context: PalContext) -> None:
    compose = await context.db.read(_current, person_id=actor_of(context).person_id)
    if compose is None:
        await _stale(update, context)
    elif not compose.text:
        await answer(update, context, _ask_text(context.t, compose))
    else:
        await show_ready(update, context)


def _set_activity_audience(session: Session, *, actor: Actor, audience: str,
                           activity_id: int) -> Compose:
    managed_activity(session, activity_id=activity_id, actor=actor)
    return _change(session, person_id=actor.person_id, audience=audience,
                   audience_activity=activity_id)


@animator_only
async def on_audience_activity(update: Update, context: PalContext) -> None:
    """`anb:aa:<places|reserve>:<activity>`: that activity's places or reserve list."""
    assert context.matches is not None
    audience, activity_id = context.matches[0].group(1), int(context.matches[0].group(2))
    try:
        await context.db.write(_set_activity_audience, actor=actor_of(context),
                               audience=audience, activity_id=activity_id)
    except NotYourActivity:
        await refuse_stale(update, context)
        return
    except LookupError:
        await _stale(update, context)
        return
    await _after_audience(update, context)


@animator_only
async def on_link_list(update: Update, context: PalContext) -> None:
    """`anb:lk`: which activity the announcement's button opens."""
    t = context.t
    items = await context.db.read(managed_activities, actor=actor_of(context),
                                  now=context.services.clock.now())
    now = context.services.clock.now()
    rows: Rows = [[(activity_label(t, i.activity), f"anb:lk:{i.activity.id}")]
                  for i in items if i.activity.starts_at > now]
    rows.append([(t._("No button"), "anb:lk:0")])
    await screen(update, context, t._("Add a button that opens an activity, so people can sign "
                                      "up at once:"), inline(rows))


def _set_link(session: Session, *, actor: Actor, activity_id: int) -> Compose:
    if activity_id:
        activity = session.get(Activity, activity_id)
        if activity is None or activity.programme_id != actor.programme_id:
            raise NotYourActivity(activity_id)
    return _change(session, person_id=actor.person_id, link=activity_id or None)


@animator_only
async def on_link(update: Update, context: PalContext) -> None:
    """`anb:lk:<activity|0>`: set or remove the button."""
    assert context.matches is not None
    try:
        await context.db.write(_set_link, actor=actor_of(context),
                               activity_id=int(context.matches[0].group(1)))
    except NotYourActivity:
        await refuse_stale(update, context)
        return
    except LookupError:
        await _stale(update, context)
        return
    await show_ready(update, context)


@animator_only
async def on_translation(update: Update, context: PalContext) -> None:
    """`anb:tr:<uk|en>`: type the text in another language."""
    t = context.t
    assert context.matches is not None
    code = context.matches[0].group(1)
    try:
        await context.db.write(_change, person_id=actor_of(context).person_id, step=f"tr_{code}")
    except LookupError:
        await _stale(update, context)
        return
    await screen(update, context, t._("Type the announcement in {language}. People who chose "
                                      "that language get it instead of the main text.").format(
                                          language=LANGUAGE_NAMES[code]),
                 inline([[(t._("✖ Cancel"), "anb:cancel")]]), new_message=True)


@animator_only
async def on_urgent(update: Update, context: PalContext) -> None:
    """`anb:urg`: urgent announcements ignore quiet hours."""
    person_id = actor_of(context).person_id
    compose = await context.db.read(_current, person_id=person_id)
    if compose is None or compose.step != READY:
        await _stale(update, context)
        return
    await context.db.write(_change, person_id=person_id, urgent=not compose.urgent)
    await show_ready(update, context, preview=False)


@animator_only
async def on_retype(update: Update, context: PalContext) -> None:
    """`anb:txt`: type the main text again (the photo, audience and button stay)."""
    t = context.t
    try:
        compose = await context.db.write(_change, person_id=actor_of(context).person_id,
                                         step=TEXT)
    except LookupError:
        await _stale(update, context)
        return
    await screen(update, context, _ask_text(t, compose),
                 inline([[(t._("✖ Cancel"), "anb:cancel")]]), new_message=True)


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
            _start, actor=actor, chat_id=chat.id, message_id=query.message.message_id,
            now=context.services.clock.now())
    except (LookupError, NotYourActivity):
        await answer(update, context, t._("This announcement was already sent or cancelled."),
                     alert=True)
        return
    except BroadcastEmpty:
        await answer(update, context, t._("Nobody is in this audience right now. Choose "
                                          "another one."), alert=True)
        return
    except BroadcastTooLong as exc:
        await answer(update, context, _too_long(t, exc), alert=True)
        return
    log.info("broadcast started broadcast_id=%s recipients=%s by person_id=%s", broadcast_id,
             count, actor.person_id)
    await screen(
        update, context,
        t._("📣 Sending the announcement: {done} / {total}").format(
            done=t.number(0), total=t.number(count)),
        inline([[(t._("⏹ Stop sending"), f"anb:stop:{broadcast_id}")]]))


@animator_only
async def on_stop(update: Update, context: PalContext) -> None:
    """`anb:stop:<id>`: copies not yet handed to Telegram are withdrawn."""
    t = context.t
    assert context.matches is not None
    broadcast_id = int(context.matches[0].group(1))
    try:
        found = await context.db.write(cancel_broadcast, broadcast_id=broadcast_id,
                                       actor=actor_of(context), now=context.services.clock.now())
    except BroadcastNotFound:
        await refuse_stale(update, context)
        return
    log.info("broadcast stopped broadcast_id=%s by person_id=%s", broadcast_id,
             actor_of(context).person_id)
    await screen(update, context, progress_text(t, found), None,
                 toast=t._("Sending stopped."))


@animator_only
async def on_cancel(update: Update, context: PalContext) -> None:
    """`anb:cancel`: throw the draft away."""
    await context.db.write(close_dialog, person_id=actor_of(context).person_id, kind=KIND)
    t = context.t
    await screen(update, context, t._("The announcement was not sent."),
                 inline([[menu_button(t)]]), new_message=True)
    if update.callback_query is not None:
        await update.callback_query.answer()


# ---------------------------------------------------------------- progress


class ChatProgressView:
    """Edits progress messages through the bot (a schedules.broadcast.ProgressView)."""

    def __init__(self, app: PalApplication) -> None:
        self._app = app

    async def show(self, *, chat_id: int, message_id: int, text: str,
                   stop_label: str | None, stop_data: str | None) -> None:
        """Edit the message; "not modified" and a vanished chat are not errors."""
        markup = inline([[(stop_label, stop_data)]]) if stop_label and stop_data else None
        try:
            await self._app.bot.edit_message_text(text, chat_id=chat_id, message_id=message_id,
                                                  reply_markup=markup)
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise
        except Forbidden:
            log.info("animator chat %s blocked the bot; progress not shown", chat_id)


def progress_watcher(app: PalApplication) -> BroadcastProgress:
    """The application's progress watcher (made on first use)."""
    services = app.bot_data["services"]
    watcher = services.extras.get(PROGRESS)
    if watcher is None:
        settings = services.settings
        watcher = BroadcastProgress(db=services.db, view=ChatProgressView(app),
                                    clock=services.clock, zone_name=settings.timezone,
                                    quiet_hours=settings.quiet_hours)
        services.extras[PROGRESS] = watcher
    assert isinstance(watcher, BroadcastProgress)
    return watcher


async def _start_progress(app: PalApplication) -> None:
    watcher = progress_watcher(app)

    async def tick(_context: Any) -> None:
        try:
            await watcher.tick()
        except Exception:
            log.exception("broadcast progress tick failed")

    if app.job_queue is not None:
        app.job_queue.run_repeating(tick, interval=schedules.broadcast.TICK_SECONDS, first=1.0,
                                    name="broadcast-progress")


def register(app: PalApplication) -> None:
    """Add the announcement buttons, the photo reader and the progress watcher."""
    app.add_handler(CallbackQueryHandler(on_new, pattern=r"^anb:new(?::(\d{1,12}))?$"))
    app.add_handler(CallbackQueryHandler(on_audiences, pattern=r"^anb:aud$"))
    app.add_handler(CallbackQueryHandler(
        on_audience, pattern=r"^anb:au:(programme|places|reserve|no_initial|no_final)$"))
    app.add_handler(CallbackQueryHandler(on_audience_activity,
                                         pattern=r"^anb:aa:(places|reserve):(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_link_list, pattern=r"^anb:lk$"))
    app.add_handler(CallbackQueryHandler(on_link, pattern=r"^anb:lk:(\d{1,12})$"))
    app.add_handler(CallbackQueryHandler(on_translation, pattern=r"^anb:tr:(uk|en)$"))
    app.add_handler(CallbackQueryHandler(on_urgent, pattern=r"^anb:urg$"))
    app.add_handler(CallbackQueryHandler(on_retype, pattern=r"^anb:txt$"))
    app.add_handler(CallbackQueryHandler(on_send, pattern=r"^anb:send$"))
    app.add_handler(CallbackQueryHandler(on_cancel, pattern=r"^anb:cancel$"))
    app.add_handler(CallbackQueryHandler(on_stop, pattern=r"^anb:stop:(\d{1,12})$"))
    app.add_handler(MessageHandler(filters.PHOTO, on_photo))
    app.bot_data["services"].on_start.append(_start_progress)
