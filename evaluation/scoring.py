"""Scoring many responses at once, with the rules of storage.surveys.questionnaires.

Item scores come from `storage.surveys.questionnaires.item_score` itself (one lookup table per
item and version, built by calling it for every valid answer), so reverse scoring is
exactly the chat's. Subscale scores apply the same rule as `score_subscale` — the share
of the subscale's items answered must reach `min_answered` (with its 1e-9 tolerance);
`mean` averages the answered items, `sum` adds them — but on a matrix of all responses
of one questionnaire version, because calling it per response costs seconds for
thousands of responses. tests/unit/test_evaluation_scoring.py checks the two agree.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

import numpy as np
from sqlalchemy import ColumnElement, and_, select, true
from sqlmodel import Session, col

from evaluation.source import TimeColumn, fetch
from evaluation.stats import FloatArray
from storage.models import SurveyAnswer, SurveyResponse
from storage.surveys.questionnaires import (
    ItemType,
    Questionnaire,
    Subscale,
    from_definition,
    item_score,
)
from storage.surveys.versions import stored_version

log = logging.getLogger(__name__)
# score_subscale's tolerance: 0.8 of 5 items is met by 4 answers despite float rounding.
SHARE_TOLERANCE = 1e-9


def in_period(column: TimeColumn, bounds: tuple[datetime, datetime] | None) -> ColumnElement[bool]:
    """SQL: the instant lies in [start, end), or always true without bounds."""
    if bounds is None:
        return true()
    return and_(column >= bounds[0], column < bounds[1])


class Scorers:
    """Questionnaire versions by (id, version), loaded once, and a tally of bad data."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._versions: dict[tuple[str, str], Questionnaire | None] = {}
        self._item_tables: dict[tuple[str, str, str], dict[str, float | None] | None] = {}
        self.unreadable = 0

    def version(self, qid: str, version: str) -> Questionnaire | None:
        """The stored definition of a version (None if it was never stored)."""
        key = (qid, version)
        if key not in self._versions:
            stored = stored_version(self._session, qid, version)
            self._versions[key] = from_definition(stored.definition) if stored else None
            if stored is None:
                log.warning("no stored definition for questionnaire %s version %s", qid, version)
        return self._versions[key]

    def item_scores(self, q: Questionnaire, item_id: str) -> dict[str, float | None] | None:
        """Every valid raw answer of an item → its score (reverse applied), via item_score.

        None for items the version does not have and for free text, which is never read.
        """
        key = (q.id, q.version, item_id)
        if key not in self._item_tables:
            try:
                item = q.item(item_id)
            except KeyError:
                self._item_tables[key] = None
                return None
            self._item_tables[key] = (
                None
                if item.type == ItemType.TEXT
                else {raw: item_score(item, raw) for raw, _ in item.choices("pl")}
            )
        return self._item_tables[key]


@dataclass
class PhaseScores:
    """One phase's submitted responses: participant code, item and subscale scores."""

    codes: list[int]
    items: FloatArray
    subscales: FloatArray


def subscale_scores(subscale: Subscale, columns: dict[str, int], items: FloatArray) -> FloatArray:
    """The subscale's score for every row of an item-score matrix (NaN = not scored)."""
    present = [columns[i] for i in subscale.items if i in columns]
    block = items[:, present] if present else np.full((items.shape[0], 1), np.nan)
    answered = (~np.isnan(block)).sum(axis=1)
    total = np.nansum(block, axis=1)
    enough = (answered > 0) & (
        answered / len(subscale.items) >= subscale.min_answered - SHARE_TOLERANCE
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        score = total if subscale.scoring == "sum" else total / answered
    return np.where(enough, score, np.nan)


def load_phase(
    session: Session,
    scorers: Scorers,
    *,
    programme_id: int,
    phase: str,
    item_ids: Sequence[str],
    subscale_ids: Sequence[str],
    readable: Sequence[str],
    bounds: tuple[datetime, datetime] | None,
) -> PhaseScores:
    """Score every submitted response of one phase, streaming its answers in order."""
    where = (
        col(SurveyResponse.programme_id) == programme_id,
        col(SurveyResponse.phase) == phase,
        col(SurveyResponse.submitted_at).is_not(None),
        in_period(col(SurveyResponse.submitted_at), bounds),
    )
    meta = {
        int(rid): (int(code), qid, ver)
        for rid, code, qid, ver in fetch(
            session,
            (
                select(
                    col(SurveyResponse.id),
                    col(SurveyResponse.participant_code_id),
                    col(SurveyResponse.questionnaire_id),
                    col(SurveyResponse.questionnaire_version),
                ).where(*where)
            ),
        )
    }
    columns = {item_id: i for i, item_id in enumerate(readable)}
    matrix = np.full((len(meta), len(readable)), np.nan)
    rows = {rid: row for row, rid in enumerate(meta)}
    stream = fetch(
        session,
        (
            select(
                col(SurveyAnswer.response_id), col(SurveyAnswer.item_id), col(SurveyAnswer.value)
            )
            .join(SurveyResponse, col(SurveyResponse.id) == col(SurveyAnswer.response_id))
            .where(*where, col(SurveyAnswer.item_id).in_(list(readable)))
            .order_by(col(SurveyAnswer.response_id))
            .execution_options(yield_per=20_000)
        ),
    )
    for rid, group in groupby(stream, key=lambda r: int(r[0])):
        if rid not in rows:
            continue
        _, qid, ver = meta[rid]
        q = scorers.version(qid, ver)
        if q is not None:
            fill_row(
                scorers,
                q,
                ((item_id, raw) for _, item_id, raw in group),
                matrix[rows[rid]],
                columns,
            )
    subscales = subscale_matrix(
        scorers, [(qid, ver) for _, qid, ver in meta.values()], matrix, columns, subscale_ids
    )
    picked = np.full((len(meta), len(item_ids)), np.nan)
    for position, item_id in enumerate(item_ids):
        if item_id in columns:
            picked[:, position] = matrix[:, columns[item_id]]
    return PhaseScores([code for code, _, _ in meta.values()], picked, subscales)


def subscale_matrix(
    scorers: Scorers,
    versions: Sequence[tuple[str, str]],
    items: FloatArray,
    columns: dict[str, int],
    subscale_ids: Sequence[str],
) -> FloatArray:
    """Subscale scores of every row, each row scored by its own questionnaire version."""
    out = np.full((len(versions), len(subscale_ids)), np.nan)
    keys = np.array([f"{qid}\x00{ver}" for qid, ver in versions], dtype=object)
    for key in sorted(set(keys.tolist())):
        qid, ver = key.split("\x00")
        q = scorers.version(qid, ver)
        if q is None:
            continue
        mask = keys == key
        by_id = {s.id: s for s in q.subscales}
        for position, subscale_id in enumerate(subscale_ids):
            if subscale_id in by_id:
                out[mask, position] = subscale_scores(by_id[subscale_id], columns, items[mask])
    return out


def fill_row(
    scorers: Scorers,
    q: Questionnaire,
    answers: Iterable[tuple[str, str | None]],
    row: FloatArray,
    columns: dict[str, int],
) -> None:
    """Put each answer's item score (reverse applied) into `row`; count unreadable ones."""
    for item_id, raw in answers:
        table = scorers.item_scores(q, item_id)
        if table is None or raw is None:
            continue
        if raw not in table:
            # Corrupted or edited data must not be scored silently: count it, skip it.
            scorers.unreadable += 1
            continue
        score = table[raw]
        if score is not None:
            row[columns[item_id]] = score
