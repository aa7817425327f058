"""Submitted responses, scored, keyed by participant code only — for the check export
(`palbot export-responses`) and for the evaluation package.

No names and no Telegram ids ever leave through here: a row carries the participant code,
the phase and channel, and the answers and scores of the questionnaire version that
response was given to.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

from sqlmodel import Session, col, select

from storage.models import ParticipantCode, SurveyAnswer, SurveyResponse
from storage.surveys.questionnaires import ItemType, Questionnaire, SurveyPhase, score_subscales
from storage.surveys.versions import questionnaire_of

FREE_TEXT_MARK = " (free text)"
_PHASE_ORDER = {SurveyPhase.INITIAL.value: 0, SurveyPhase.FINAL.value: 1}


@dataclass(frozen=True)
class ScoredResponse:
    """One submitted response: pseudonymous, with raw answers and subscale scores."""

    code: str
    phase: SurveyPhase
    channel: str
    questionnaire: Questionnaire
    answers: dict[str, str | None]
    scores: dict[str, float | None]
    started_at: datetime
    submitted_at: datetime


def submitted_responses(session: Session, *, programme_id: int) -> list[ScoredResponse]:
    """Every submitted response of a programme, by participant code, initial before final."""
    rows = session.exec(
        select(SurveyResponse, ParticipantCode.code)
        .join(ParticipantCode, col(ParticipantCode.id) == col(SurveyResponse.participant_code_id))
        .where(
            SurveyResponse.programme_id == programme_id,
            col(SurveyResponse.submitted_at).is_not(None),
        )
    ).all()
    response_ids = [response.id for response, _ in rows]
    answers: dict[int, dict[str, str | None]] = {}
    if response_ids:
        for answer in session.exec(
            select(SurveyAnswer).where(col(SurveyAnswer.response_id).in_(response_ids))
        ):
            answers.setdefault(answer.response_id, {})[answer.item_id] = answer.value
    out: list[ScoredResponse] = []
    for response, code in rows:
        assert response.id is not None and response.submitted_at is not None
        q = questionnaire_of(session, response)
        given = answers.get(response.id, {})
        out.append(
            ScoredResponse(
                code=code,
                phase=SurveyPhase(response.phase),
                channel=response.channel,
                questionnaire=q,
                answers=given,
                scores=score_subscales(q, given),
                started_at=response.started_at,
                submitted_at=response.submitted_at,
            )
        )
    out.sort(key=lambda r: (r.code, _PHASE_ORDER[r.phase.value]))
    return out


def _format_score(value: float | None) -> str:
    return "" if value is None else f"{round(value, 3):g}"


def _cell(value: str | None) -> str:
    # Free text typed by residents must not run as a spreadsheet formula (CSV injection).
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value or ""


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def export_header(
    responses: Sequence[ScoredResponse], fallback: Questionnaire
) -> tuple[list[str], list[str], list[str]]:
    """(header, item ids, subscale ids): items and subscales of every version, in order."""
    versions = [fallback] if not responses else []
    seen_versions: set[tuple[str, str]] = set()
    for r in responses:
        key = (r.questionnaire.id, r.questionnaire.version)
        if key not in seen_versions:
            seen_versions.add(key)
            versions.append(r.questionnaire)
    item_ids: list[str] = []
    free_text: set[str] = set()
    subscale_ids: list[str] = []
    for q in versions:
        for item in q.items:
            if item.id not in item_ids:
                item_ids.append(item.id)
            if item.type == ItemType.TEXT:
                free_text.add(item.id)
        for subscale in q.subscales:
            if subscale.id not in subscale_ids:
                subscale_ids.append(subscale.id)
    header = [
        "participant_code",
        "phase",
        "questionnaire_id",
        "questionnaire_version",
        "channel",
        "started_at_utc",
        "submitted_at_utc",
    ]
    header += [f"item:{i}{FREE_TEXT_MARK if i in free_text else ''}" for i in item_ids]
    header += [f"score:{s}" for s in subscale_ids]
    return header, item_ids, subscale_ids


def write_csv(responses: Sequence[ScoredResponse], out: TextIO, *, fallback: Questionnaire) -> int:
    """Write one row per participant and phase; returns how many rows."""
    header, item_ids, subscale_ids = export_header(responses, fallback)
    writer = csv.writer(out)
    writer.writerow(header)
    for r in responses:
        asked = {item.id for item in r.questionnaire.items if item.asked_in(r.phase)}
        writer.writerow(
            [
                r.code,
                r.phase.value,
                r.questionnaire.id,
                r.questionnaire.version,
                r.channel,
                _utc(r.started_at),
                _utc(r.submitted_at),
            ]
            + [_cell(r.answers.get(i)) if i in asked else "" for i in item_ids]
            + [_format_score(r.scores.get(s)) for s in subscale_ids]
        )
    return len(responses)
