"""Row-level export (only with `--row-level`): one row per submitted response, keyed by
the random participant code, with closed answers and subscale scores, and a codebook.

No names, Telegram ids or free-text answers: text items are neither fetched nor listed.
"""

from __future__ import annotations

from datetime import datetime
from itertools import groupby

import numpy as np
from sqlalchemy import select
from sqlmodel import Session, col

from evaluation.prepost import PrePost
from evaluation.scoring import Scorers, fill_row, in_period, subscale_matrix
from evaluation.source import fetch
from evaluation.tables import Cell, Sheet, Style, number, text
from storage.models import ParticipantCode, Programme, SurveyAnswer, SurveyResponse
from storage.surveys.questionnaires import Item, ItemType, Questionnaire
from storage.surveys.responses import Channel
from translations import Translator


def _closed_items(prepost: PrePost, scorers: Scorers) -> list[Item]:
    """Items with closed answers of every version used, the report's own order first."""
    seen: dict[str, Item] = {}
    versions: list[Questionnaire] = [prepost.questionnaire] if prepost.questionnaire else []
    for use in prepost.versions:
        q = scorers.version(use.questionnaire_id, use.version)
        if q is not None:
            versions.append(q)
    for q in versions:
        for item in q.items:
            if item.type != ItemType.TEXT and item.id not in seen:
                seen[item.id] = item
    return list(seen.values())


def _subscale_ids(prepost: PrePost, scorers: Scorers) -> list[str]:
    ids: list[str] = (
        [s.id for s in prepost.questionnaire.subscales] if prepost.questionnaire else []
    )
    for use in prepost.versions:
        q = scorers.version(use.questionnaire_id, use.version)
        for subscale in q.subscales if q else ():
            if subscale.id not in ids:
                ids.append(subscale.id)
    return ids


def responses_sheet(
    session: Session,
    t: Translator,
    programme: Programme,
    prepost: PrePost,
    bounds: tuple[datetime, datetime] | None,
) -> Sheet:
    """Pseudonymised responses: code, phase, channel, month, answers, subscale scores."""
    scorers = Scorers(session)
    items = _closed_items(prepost, scorers)
    subscales = _subscale_ids(prepost, scorers)
    sheet = Sheet("responses", t._("Responses"))
    header = [
        "participant_code",
        "phase",
        "channel",
        "questionnaire_id",
        "questionnaire_version",
        "submitted_month",
        *(f"item_{i.id}" for i in items),
        *(f"score_{s}" for s in subscales),
    ]
    sheet.add(*(text(h, Style.HEADER) for h in header))
    sheet.frozen_rows, sheet.frozen_columns = 1, 2
    sheet.widths = {0: 16, 1: 10, 2: 10, 3: 22, 4: 10, 5: 12}
    where = (
        col(SurveyResponse.programme_id) == programme.id,
        col(SurveyResponse.submitted_at).is_not(None),
        in_period(col(SurveyResponse.submitted_at), bounds),
    )
    meta = list(
        fetch(
            session,
            (
                select(
                    col(SurveyResponse.id),
                    col(ParticipantCode.code),
                    col(SurveyResponse.phase),
                    col(SurveyResponse.channel),
                    col(SurveyResponse.questionnaire_id),
                    col(SurveyResponse.questionnaire_version),
                    col(SurveyResponse.submitted_at),
                )
                .join(
                    ParticipantCode,
                    col(ParticipantCode.id) == col(SurveyResponse.participant_code_id),
                )
                .where(*where)
                .order_by(col(ParticipantCode.code), col(SurveyResponse.phase).desc())
            ),
        )
    )
    answers: dict[int, dict[str, str | None]] = {}
    stream = fetch(
        session,
        (
            select(
                col(SurveyAnswer.response_id), col(SurveyAnswer.item_id), col(SurveyAnswer.value)
            )
            .join(SurveyResponse, col(SurveyResponse.id) == col(SurveyAnswer.response_id))
            .where(*where, col(SurveyAnswer.item_id).in_([i.id for i in items]))
            .order_by(col(SurveyAnswer.response_id))
            .execution_options(yield_per=20_000)
        ),
    )
    for rid, group in groupby(stream, key=lambda r: r[0]):
        answers[rid] = {item_id: value for _, item_id, value in group}
    columns = {item.id: i for i, item in enumerate(items)}
    matrix = np.full((len(meta), len(items)), np.nan)
    for row, (rid, _, _, _, qid, version, _) in enumerate(meta):
        q = scorers.version(qid, version)
        if q is not None:
            fill_row(scorers, q, answers.get(rid, {}).items(), matrix[row], columns)
    scores = subscale_matrix(scorers, [(m[4], m[5]) for m in meta], matrix, columns, subscales)
    for row, (rid, code, phase, channel, qid, version, submitted) in enumerate(meta):
        given = answers.get(rid, {})
        local = t.local(submitted)
        cells: list[Cell] = [
            text(code),
            text(phase),
            text(channel),
            text(qid),
            text(version),
            text(f"{local.year}-{local.month:02d}"),
        ]
        for item in items:
            raw = given.get(item.id)
            if raw is not None and item.type == ItemType.LIKERT and raw.isdigit():
                cells.append(Cell(int(raw), Style.COUNT))
            else:
                cells.append(text(raw))
        cells += [number(None if np.isnan(v) else float(v)) for v in scores[row]]
        sheet.add(*cells)
    return sheet


def codebook_sheet(t: Translator, prepost: PrePost) -> Sheet:
    """What every column of the responses sheet means and which values it takes."""
    sheet = Sheet("codebook", t._("Codebook"))
    sheet.add(
        *(
            text(h, Style.HEADER)
            for h in (
                t._("Column"),
                t._("Meaning"),
                t._("Values"),
                t._("Reverse-worded"),
                t._("Subscale"),
                t._("Asked in"),
            )
        )
    )
    sheet.frozen_rows = 1
    sheet.widths = {0: 26, 1: 70, 2: 70, 3: 14, 4: 22, 5: 16}
    fixed = (
        (
            "participant_code",
            t._(
                "Random code of one person in this programme; evaluators cannot link it to a name."
            ),
        ),
        ("phase", t._("initial = initial survey, final = final survey.")),
        (
            "channel",
            t._(
                "{chat} = answered in the chat, {proxy} = entered by an animator from "
                "a paper survey."
            ).format(chat=Channel.CHAT.value, proxy=Channel.PROXY.value),
        ),
        ("questionnaire_id", t._("Which questionnaire the response was given to.")),
        ("questionnaire_version", t._("Its version.")),
        ("submitted_month", t._("Month the survey was submitted (local time).")),
    )
    for column, meaning in fixed:
        sheet.add(text(column), text(meaning))
    q = prepost.questionnaire
    if q is None:
        return sheet
    member = {item_id: s.id for s in q.subscales for item_id in s.items}
    phases = {
        "both": t._("both surveys"),
        "initial": t._("initial survey"),
        "final": t._("final survey"),
    }
    for item in q.items:
        if item.type == ItemType.TEXT:
            continue
        values = "; ".join(
            f"{value} = {label.split(' — ', 1)[-1]}" for value, label in item.choices(t.language)
        )
        sheet.add(
            text(f"item_{item.id}"),
            text(item.text.get(t.language)),
            text(values),
            text(t._("yes") if item.reverse else t._("no")),
            text(member.get(item.id)),
            text(phases[item.phase.value]),
        )
    for subscale in q.subscales:
        template = (
            t._(
                "Mean of {items}; scored when at least {share}% of them are answered; "
                "reverse-worded items turned round."
            )
            if subscale.scoring == "mean"
            else t._(
                "Sum of {items}; scored when at least {share}% of them are answered; "
                "reverse-worded items turned round."
            )
        )
        rule = template.format(
            items=", ".join(subscale.items), share=round(100 * subscale.min_answered)
        )
        sheet.add(text(f"score_{subscale.id}"), text(subscale.label(t.language)), text(rule))
    return sheet
