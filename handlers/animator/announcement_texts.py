"""Texts and buttons of the announcement screens (the handlers are in animator_broadcast)."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from bot.keyboards import inline
from handlers.animator.common import Rows
from storage.messaging.broadcast_compose import Compose, Overview
from storage.messaging.broadcasts import Audience, BroadcastTooLong, text_limit
from translations import LANGUAGE_NAMES, Translator


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


def ask_text(t: Translator, compose: Compose) -> str:
    """Ask for the text (under the photo, if one was sent)."""
    if compose.photo is not None:
        return t._("Now type the text to go under the photo (up to {limit} characters).").format(
            limit=t.number(text_limit(with_photo=True))
        )
    return t._(
        "📣 New announcement. Type the text (up to {limit} characters), or send a photo "
        "with a caption (up to {caption} characters)."
    ).format(
        limit=t.number(text_limit(with_photo=False)), caption=t.number(text_limit(with_photo=True))
    )


def too_long_text(t: Translator, error: BroadcastTooLong) -> str:
    """The refusal of an over-long text, with its length and Telegram's limit."""
    return t._(
        "This text is {length} characters long; Telegram allows at most {limit}. "
        "Please shorten it and send it again."
    ).format(length=t.number(error.length), limit=t.number(error.limit))


def ready_screen(t: Translator, view: Overview) -> tuple[str, InlineKeyboardMarkup]:
    """What goes to whom, with Send and the ways to change it."""
    c = view.compose
    languages = ", ".join(LANGUAGE_NAMES[code] for code in sorted(c.translations))
    lines = [
        t._("⬆️ This is how the announcement will look."),
        t._("Recipients: {n} — {who}.").format(
            n=t.number(view.count), who=audience_text(t, c.audience, view.audience_title)
        ),
    ]
    if languages:
        lines.append(
            t._("Also written in: {languages}. Everyone else gets the text above.").format(
                languages=languages
            )
        )
    lines.append(
        t._("⚠️ Urgent: sent even during quiet hours.")
        if c.urgent
        else t._("Not urgent: during quiet hours it waits until the morning.")
    )
    rows: Rows = []
    if view.count:
        rows.append(
            [
                (
                    t.ngettext("✅ Send to {n} person", "✅ Send to {n} people", view.count).format(
                        n=t.number(view.count)
                    ),
                    "anb:send",
                )
            ]
        )
    rows.append([(t._("👥 Change the audience"), "anb:aud"), (t._("✏️ Change the text"), "anb:txt")])
    for code in ("uk", "en"):
        label = (
            t._("🌐 Change the text in {language}")
            if code in c.translations
            else t._("🌐 Add the text in {language}")
        ).format(language=LANGUAGE_NAMES[code])
        rows.append([(label, f"anb:tr:{code}")])
    rows.append(
        [
            (t._("🔗 Button to an activity"), "anb:lk"),
            (t._("⚠️ Urgent: off") if c.urgent else t._("⚠️ Mark as urgent"), "anb:urg"),
        ]
    )
    rows.append([(t._("✖ Cancel"), "anb:cancel")])
    if not view.count:
        lines.append(t._("Nobody is in this audience right now. Choose another one."))
    return "\n".join(lines), inline(rows)
