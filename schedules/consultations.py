"""Consultations leaving the bot: the residents' question screens, the opening and
results renderers, and the schedule that opens and closes consultations on time.

The screens are built here, without Telegram, because the first one goes out through
the outbox (rendered in the person's language when it is claimed) and the following ones
are edits made by handlers. The schedule reloads everything from the database on every
tick, so after a restart it simply opens and closes whatever is due.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import Session

from evaluation.disclosure_rules import DisclosureRules, mask_count
from schedules.clock import Clock
from schedules.messages import Button, OutgoingMessage
from storage.consultations.answers import AnswerSheet, current_sheet
from storage.consultations.drafts import localized
from storage.consultations.results import Results, results
from storage.consultations.running import Advanced, advance_consultations, next_change_at
from storage.executor import Database
from storage.models import Consultation, ConsultationState, PendingSend, Person
from translations import Translator

log = logging.getLogger(__name__)

# Residents see the same small-count protection as the evaluators' report.
RESIDENT_RULES = DisclosureRules()


def last_minute(consultation: Consultation) -> datetime:
    """The last minute answers are taken (23:59 of the closing day), for people to read."""
    return consultation.closes_at - timedelta(minutes=1)


def answer_screen(t: Translator, sheet: AnswerSheet, *, prefix: str = "cr") -> OutgoingMessage:
    """The screen for where the person is: a question, the open question, or thanks.

    Buttons are `<prefix>:<id>:<question>:<option>` and `<prefix>:<id>:go:<position>`
    (Done, Skip, Back, Change my answers); staff entering a paper form use the same
    screen with their own prefix.
    """
    c = sheet.consultation
    cid = c.id or 0

    def data(value: str) -> str:
        return f"{prefix}:{cid}:{value}"

    title, questions, free = localized(
        c.title, c.questions, c.free_question, c.translations, t.language
    )
    until = t._("Open until {date}.").format(date=t.date_time(last_minute(c)))
    lines = [t._("🗳 Consultation: {title}").format(title=title)]
    buttons: list[tuple[Button, ...]] = []
    if sheet.finished:
        lines += [
            "",
            t._("Thank you! Your answers are saved."),
            t._("You can change them until {date}.").format(date=t.date_time(last_minute(c))),
        ]
        if c.show_results:
            lines.append(t._("You will get the results when the consultation closes."))
        buttons.append((Button(t._("✏️ Change my answers"), callback_data=data("go:0")),))
        return OutgoingMessage("\n".join(lines), tuple(buttons))
    if sheet.steps > 1:
        lines.append(t._("Question {n} of {total}").format(n=sheet.position + 1, total=sheet.steps))
    if sheet.at_free_question:
        lines += ["", str(free), "", t._("Write your answer in a message, or press “Skip”.")]
        if sheet.free_text:
            lines.append(t._("Your answer so far: {text}").format(text=sheet.free_text))
        buttons.append((Button(t._("Skip ▶"), callback_data=data(f"go:{sheet.steps}")),))
    else:
        question = questions[sheet.position]
        chosen = set(sheet.choices.get(sheet.position, ()))
        lines += ["", str(question["text"]), ""]
        lines.append(
            t._("Choose any answers, then press “Done”.")
            if question["multiple"]
            else t._("Choose one answer.")
        )
        for index, option in enumerate(question["options"]):
            mark = "✅ " if index in chosen else ""
            buttons.append(
                (Button(f"{mark}{option}", callback_data=data(f"{sheet.position}:{index}")),)
            )
        if question["multiple"]:
            buttons.append((Button(t._("Done ▶"), callback_data=data(f"go:{sheet.position + 1}")),))
    if sheet.position > 0:
        buttons.append((Button(t._("⬅️ Back"), callback_data=data(f"go:{sheet.position - 1}")),))
    lines += ["", until]
    return OutgoingMessage("\n".join(lines), tuple(buttons))


def results_lines(t: Translator, found: Results, *, exact: bool) -> list[str]:
    """Each question with its options' counts. Residents (`exact` False) read the texts in
    their language where the staff gave them, and small counts as `<5`; staff the original
    texts and exact counts."""
    lines = [
        t.ngettext("{n} person answered.", "{n} people answered.", found.respondents).format(
            n=t.number(found.respondents)
        )
    ]
    c = found.consultation
    texts = (
        c.questions
        if exact
        else localized(c.title, c.questions, c.free_question, c.translations, t.language)[1]
    )
    for question, shown_as in zip(found.questions, texts, strict=True):
        lines += ["", f"❓ {shown_as['text']}"]
        if question.multiple:
            lines.append(t._("(more than one answer could be chosen)"))
        for option, n in zip(shown_as["options"], question.counts, strict=True):
            shown = n if exact else mask_count(RESIDENT_RULES, n)
            lines.append(f"• {option}: {shown}")
    return lines


def render_opening(
    session: Session, send: PendingSend, person: Person, t: Translator
) -> OutgoingMessage | None:
    """The first question, in the person's language; dropped once the consultation closed."""
    consultation = session.get(Consultation, send.payload.get("consultation_id", 0))
    if consultation is None or consultation.state != ConsultationState.OPEN or person.id is None:
        return None
    sheet = current_sheet(session, consultation=consultation, person_id=person.id)
    screen = answer_screen(t, sheet)
    intro = t._("The programme team asks for your opinion. Answering is voluntary.")
    return OutgoingMessage(f"{intro}\n\n{screen.text}", screen.buttons)


def render_results(
    session: Session, send: PendingSend, person: Person, t: Translator
) -> OutgoingMessage | None:
    """The results, once the consultation closed, to those who answered."""
    consultation = session.get(Consultation, send.payload.get("consultation_id", 0))
    if consultation is None or consultation.id is None or not consultation.show_results:
        return None
    found = results(session, consultation_id=consultation.id)
    title = localized(
        consultation.title,
        consultation.questions,
        consultation.free_question,
        consultation.translations,
        t.language,
    )[0]
    head = t._("🗳 Results of the consultation: {title}").format(title=title)
    lines = [head, *results_lines(t, found, exact=False), "", t._("Thank you for taking part!")]
    return OutgoingMessage("\n".join(lines))


class ConsultationSchedule:
    """Opens and closes consultations when due; one per process, safe with several."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def tick(self) -> Advanced:
        """Open and close whatever is due now (claimed by a state change, so once)."""
        done = await self._db.write(advance_consultations, now=self._clock.now())
        if done.opened or done.closed:
            log.info(
                "consultations opened=%s closed=%s sends=%s", done.opened, done.closed, done.queued
            )
        return done

    async def next_at(self) -> datetime | None:
        """When the next consultation opens or closes."""
        return await self._db.read(next_change_at)
