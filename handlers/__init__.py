"""Telegram handlers, thin: read input, call one rule, answer with a translated text."""

from __future__ import annotations

from telegram import Update
from telegram.ext import TypeHandler

from bot.context import PalApplication
from handlers import activities, common, fallback, menu, my_activities, onboarding, privacy

# Group -10 runs first for every update: it loads who is speaking and their roles.
IDENTIFY_GROUP = -10


def register(app: PalApplication) -> None:
    """Add every handler, in the order they must be tried."""
    app.add_handler(TypeHandler(Update, common.identify), group=IDENTIFY_GROUP)
    # Feature modules, most specific first. Each adds commands, its callback-data
    # prefixes and the dialog kinds whose free text it consumes.
    # Residents' sign-up: /start and onboarding (its text reader runs in group -1, ahead
    # of everything, only for people still onboarding), activities, /my, menu and /help.
    onboarding.register(app)
    activities.register(app)
    my_activities.register(app)
    menu.register(app)
    # Data rights: /privacy, /mydata, /forgetme (for anyone, onboarded or not), retention.
    privacy.register(app)
    # Animators: /animator and its tools (wizard, changes, attendance and /checkin,
    # participants, announcements, people without Telegram).
    from handlers import animator

    animator.register(app)
    # Surveys: /survey and the form residents and animators' paper entry share, /paper.
    from handlers import paper, surveys

    surveys.register(app)
    paper.register(app)
    # Evaluators: /evaluator — indicators and the before/after comparison as files.
    from handlers import evaluator

    evaluator.register(app)
    # Reminders: "I'm coming" / "I can't come" (rem:y / rem:n), and noticing when a
    # person blocks or unblocks the bot (groups -9 and -8, after identify).
    from handlers import reminders

    reminders.register(app)
    # Staff from the chat: invitation links (opened by /start inv_…, accepted with inv:
    # buttons), /admin (programmes, teams, invitations) and spreadsheets sent as documents.
    from handlers import admin, invitations, spreadsheets

    invitations.register(app)
    admin.register(app)
    # Programmes from /admin (prg: buttons): dates, settings, archive, editions; the
    # questionnaire (its YAML reader goes before the spreadsheets'), surveys and records.
    from handlers import admin_new_programme, admin_programmes, admin_records, admin_surveys

    admin_new_programme.register(app)
    admin_programmes.register(app)
    admin_surveys.register(app)
    admin_records.register(app)
    spreadsheets.register(app)

    # Offers of a freed place: "Take the place" / "Pass" (of:t / of:p), and their expiry.
    from handlers import offers

    offers.register(app)

    # Consultations: staff create and follow them (anc:), residents answer (cr:, /consultations).
    from handlers import consultations

    consultations.register(app)
    # (features register here)
    # Catch-alls: unknown text, commands and buttons. Always last.
    fallback.register(app)
    app.add_error_handler(common.on_error)
