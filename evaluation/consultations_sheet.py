"""The "Consultations" sheet: per year, how many consultations and how many people took
part (the annual report's indicator), then each question's answers.

Every count of people goes into the report's one suppression grid (evaluation.disclosure),
so small counts are hidden here exactly as everywhere else. Written answers to the open
question never appear: they stay with the programme's staff in the chat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from evaluation.disclosure import Disclosed, SuppressionGrid
from evaluation.options import ReportOptions
from evaluation.sheets import legend
from evaluation.tables import Sheet, Style, count, number, text
from storage.consultations.results import Results, consultations_between, participant_codes_between
from storage.models import Consultation
from translations import Translator


@dataclass(frozen=True)
class ConsultationYear:
    """One calendar year's consultations and the people who answered any of them."""

    year: str
    consultations: tuple[tuple[Consultation, Results], ...]
    people: int
    on_paper: int


def consultation_years(
    session: Session, *, programme_id: int, zone: ZoneInfo, year: int | None
) -> list[ConsultationYear]:
    """The programme's opened consultations grouped by the (local) year they opened."""
    start = datetime(year, 1, 1, tzinfo=zone) if year else None
    end = datetime(year + 1, 1, 1, tzinfo=zone) if year else None
    found = consultations_between(session, programme_id=programme_id, start=start, end=end)
    years = sorted({c.opens_at.astimezone(zone).year for c, _ in found})
    if year is not None:
        years = [year]
    out = []
    for y in years:
        first, after = datetime(y, 1, 1, tzinfo=zone), datetime(y + 1, 1, 1, tzinfo=zone)
        codes = participant_codes_between(
            session, programme_id=programme_id, start=first, end=after
        )
        paper = codes.get("paper", set())
        people = codes.get("chat", set()) | paper
        out.append(
            ConsultationYear(
                str(y),
                tuple((c, r) for c, r in found if first <= c.opens_at < after),
                len(people),
                len(paper),
            )
        )
    return out


def register_consultations(grid: SuppressionGrid, years: list[ConsultationYear]) -> None:
    """Put every count of people (and the consultations' number) in the report's grid."""
    for y in years:
        grid.add(("cons", y.year, "consultations"), len(y.consultations), people=False)
        total = grid.add(("cons", y.year, "people"), y.people)
        grid.relate(
            total,
            [
                grid.add(("cons", y.year, "chat"), y.people - y.on_paper),
                grid.add(("cons", y.year, "paper"), y.on_paper),
            ],
        )
        for consultation, found in y.consultations:
            cid = consultation.id
            grid.add(("consr", cid), found.respondents)
            for qi, question in enumerate(found.questions):
                answered = grid.add(("consq", cid, qi, "answered"), question.answered)
                parts = [
                    grid.add(("consq", cid, qi, oi), n) for oi, n in enumerate(question.counts)
                ]
                if not question.multiple:
                    # One answer each: the options add up to those who answered.
                    grid.relate(answered, parts)


def consultations_sheet(
    t: Translator,
    name: str,
    years: list[ConsultationYear],
    disclosed: Disclosed,
    options: ReportOptions,
) -> Sheet:
    """The sheet itself, laid out from disclosure-controlled values."""
    sheet = Sheet("consultations", t._("Consultations"))
    sheet.widths = {0: 60, 1: 12, 2: 12}
    sheet.add(
        text(t._("Consultations with residents: {programme}").format(programme=name), Style.TITLE)
    )
    sheet.add(
        text(
            t._(
                "Answers are counted under pseudonymous codes. Written answers to open "
                "questions are not part of this report."
            ),
            Style.NOTE,
        )
    )
    if not years:
        sheet.add(text(t._("No consultation was held in this period."), Style.NOTE))
        return sheet
    sheet.blank()
    sheet.add(
        text(t._("Year"), Style.HEADER),
        text(t._("Consultations"), Style.HEADER),
        text(t._("People who took part"), Style.HEADER),
        text(t._("Of them on paper"), Style.HEADER),
    )
    for y in years:
        sheet.add(
            text(y.year),
            count(len(y.consultations)),
            count(disclosed[("cons", y.year, "people")]),
            count(disclosed[("cons", y.year, "paper")]),
        )
    for y in years:
        for consultation, found in y.consultations:
            _consultation(t, sheet, consultation, found, disclosed)
    sheet.blank()
    for line in legend(t, options.rules):
        sheet.add(text(line, Style.NOTE))
    return sheet


def _consultation(
    t: Translator, sheet: Sheet, consultation: Consultation, found: Results, disclosed: Disclosed
) -> None:
    cid = consultation.id
    sheet.blank()
    sheet.add(
        text(
            f"{consultation.title} ({t.date(consultation.opens_at)} – "
            f"{t.date(consultation.closes_at)})",
            Style.SECTION,
        )
    )
    sheet.add(text(t._("People who answered")), count(disclosed[("consr", cid)]))
    for qi, question in enumerate(found.questions):
        sheet.blank()
        mode = t._("several answers possible") if question.multiple else t._("one answer")
        sheet.add(text(f"{question.text} ({mode})", Style.SUBTITLE))
        sheet.add(
            text(t._("Answer"), Style.HEADER),
            text(t._("People"), Style.HEADER),
            text(t._("Share (%)"), Style.HEADER),
        )
        answered = ("consq", cid, qi, "answered")
        for oi, option in enumerate(question.options):
            key = ("consq", cid, qi, oi)
            sheet.add(
                text(option),
                count(disclosed[key]),
                number(disclosed.percentage(key, [answered]), Style.PERCENT),
            )
        sheet.add(text(t._("Answered this question"), Style.SECTION), count(disclosed[answered]))
