"""The pre/post self-assessment comparison: matched pairs only, per subscale and item.

A matched pair is one participant code with a submitted initial AND a submitted final
survey in the programme. Each response is scored with the exact questionnaire version
it was given to (storage.surveys.questionnaires: reverse items turned round, the subscale
minimum-answered rule); subscales and items are matched across versions by id.
Statistics (see evaluation.stats) are computed only from the disclosure rule's minimum
number of pairs; below it, only counts. Final-only (and initial-only) items are reported
as distributions of answers. Free-text items are never read.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np
from sqlalchemy import func, select
from sqlmodel import Session, col

from evaluation.disclosure import DisclosureRules
from evaluation.scoring import Scorers, in_period, load_phase
from evaluation.source import fetch
from evaluation.stats import (
    Describe,
    FloatArray,
    Interval,
    Shares,
    SignedRank,
    ZeroMethod,
    describe,
    holm,
    mean_change,
    shares,
    signed_rank,
)
from storage.models import Programme, SurveyAnswer, SurveyResponse
from storage.surveys.questionnaires import (
    Item,
    ItemPhase,
    ItemType,
    Questionnaire,
    from_definition,
)
from storage.surveys.versions import SurveyUnavailable, current_questionnaire, stored_version

log = logging.getLogger(__name__)
Label = Callable[[str], str]


@dataclass(frozen=True)
class Comparison:
    """Before/after of one subscale or item over the pairs where both are scored."""

    key: str
    label: Label
    n_pairs: int
    shares: Shares
    # Filled only from the statistics threshold up.
    before: Describe | None = None
    after: Describe | None = None
    change: Interval | None = None
    test: SignedRank | None = None
    p_holm: float | None = None
    reverse: bool = False

    @property
    def has_statistics(self) -> bool:
        """Whether statistics were computed (enough pairs)."""
        return self.before is not None


@dataclass(frozen=True)
class Distribution:
    """Answers to an item asked in one survey only, as counts per answer."""

    item_id: str
    label: Label
    phase: str
    # (stored value, label) in the questionnaire's order.
    options: tuple[tuple[str, Label], ...]
    counts: dict[str, int]
    skipped: int

    @property
    def total(self) -> int:
        """Responses that reached the item (answered or skipped)."""
        return sum(self.counts.get(value, 0) for value, _ in self.options) + self.skipped


@dataclass(frozen=True)
class VersionUse:
    """A questionnaire version and how many submitted responses were given to it."""

    questionnaire_id: str
    version: str
    responses: int


@dataclass
class PrePost:
    """Everything the pre-post and items sheets show, before disclosure formatting."""

    questionnaire: Questionnaire | None
    versions: list[VersionUse] = field(default_factory=list)
    subscales: list[Comparison] = field(default_factory=list)
    items: list[Comparison] = field(default_factory=list)
    distributions: list[Distribution] = field(default_factory=list)
    pairs: int = 0
    unreadable_answers: int = 0
    zero_method: ZeroMethod = "wilcox"


def report_questionnaire(
    session: Session, programme: Programme, versions: list[VersionUse], surveys_dir: str | None
) -> Questionnaire | None:
    """The questionnaire whose subscales and items the report lists.

    The programme's current one if responses were given to it, else the version most
    responses were given to; None if neither can be read.
    """
    current: Questionnaire | None
    try:
        current = current_questionnaire(session, programme, surveys_dir)
    except SurveyUnavailable:
        current = None
    if current is not None and (
        not versions
        or any((v.questionnaire_id, v.version) == (current.id, current.version) for v in versions)
    ):
        return current
    for use in sorted(versions, key=lambda v: -v.responses):
        stored = stored_version(session, use.questionnaire_id, use.version)
        if stored is not None:
            return from_definition(stored.definition)
    return current


def readable_items(scorers: Scorers, versions: list[VersionUse]) -> list[str]:
    """Ids of items with a closed set of answers in any version used: free-text answers
    are never even fetched."""
    return sorted(
        {
            item.id
            for use in versions
            for version in [scorers.version(use.questionnaire_id, use.version)]
            if version
            for item in version.items
            if item.type != ItemType.TEXT
        }
    )


def version_uses(session: Session, programme_id: int) -> list[VersionUse]:
    """Questionnaire versions of the programme's submitted responses, with counts."""
    qid, version = col(SurveyResponse.questionnaire_id), col(SurveyResponse.questionnaire_version)
    rows = fetch(
        session,
        (
            select(qid, version, func.count())
            .where(
                col(SurveyResponse.programme_id) == programme_id,
                col(SurveyResponse.submitted_at).is_not(None),
            )
            .group_by(qid, version)
            .order_by(qid, version)
        ),
    )
    return [VersionUse(q, v, int(n)) for q, v, n in rows]


def compare(
    session: Session,
    *,
    programme: Programme,
    rules: DisclosureRules,
    year_bounds: tuple[datetime, datetime] | None = None,
    surveys_dir: str | None = None,
    zero_method: ZeroMethod = "wilcox",
) -> PrePost:
    """The whole comparison for one programme (pairs whose final is in the year, if any)."""
    assert programme.id is not None
    versions = version_uses(session, programme.id)
    q = report_questionnaire(session, programme, versions, surveys_dir)
    result = PrePost(q, versions, zero_method=zero_method)
    if q is None:
        return result
    paired_items = [i for i in q.items if i.phase == ItemPhase.BOTH and i.scored]
    subscale_ids = [s.id for s in q.subscales]
    scorers = Scorers(session)
    readable = readable_items(scorers, versions)
    before, after = (
        load_phase(
            session,
            scorers,
            programme_id=programme.id,
            phase=phase,
            item_ids=[i.id for i in paired_items],
            subscale_ids=subscale_ids,
            readable=readable,
            bounds=year_bounds if phase == "final" else None,
        )
        for phase in ("initial", "final")
    )
    result.unreadable_answers = scorers.unreadable
    common = sorted(set(before.codes) & set(after.codes))
    result.pairs = len(common)
    b_index = {code: row for row, code in enumerate(before.codes)}
    a_index = {code: row for row, code in enumerate(after.codes)}
    b_rows = np.array([b_index[c] for c in common], dtype=int)
    a_rows = np.array([a_index[c] for c in common], dtype=int)
    for position, subscale in enumerate(q.subscales):
        result.subscales.append(
            _compare_one(
                subscale.id,
                subscale.label,
                before.subscales[b_rows, position],
                after.subscales[a_rows, position],
                rules,
                zero_method,
            )
        )
    for position, item in enumerate(paired_items):
        result.items.append(
            replace(
                _compare_one(
                    item.id,
                    item.text.get,
                    before.items[b_rows, position],
                    after.items[a_rows, position],
                    rules,
                    zero_method,
                ),
                reverse=item.reverse,
            )
        )
    _adjust(result.subscales)
    _adjust(result.items)
    result.distributions = _distributions(session, programme.id, q, year_bounds)
    return result


def _compare_one(
    key: str,
    label: Label,
    before: FloatArray,
    after: FloatArray,
    rules: DisclosureRules,
    zero_method: ZeroMethod,
) -> Comparison:
    both = ~np.isnan(before) & ~np.isnan(after)
    b, a = before[both], after[both]
    counts = shares(b, a)
    if not rules.allows_statistics(int(b.size)):
        return Comparison(key, label, int(b.size), counts)
    return Comparison(
        key,
        label,
        int(b.size),
        counts,
        before=describe(b),
        after=describe(a),
        change=mean_change(a - b),
        test=signed_rank(b, a, zero_method=zero_method),
    )


def _adjust(comparisons: list[Comparison]) -> None:
    adjusted = holm([c.test.p_value if c.test else None for c in comparisons])
    for index, p in enumerate(adjusted):
        if p is not None:
            comparisons[index] = replace(comparisons[index], p_holm=p)


def _distributions(
    session: Session,
    programme_id: int,
    q: Questionnaire,
    year_bounds: tuple[datetime, datetime] | None,
) -> list[Distribution]:
    """Counts per answer of items asked in one survey only (never free text)."""
    wanted = [i for i in q.items if i.phase != ItemPhase.BOTH and i.type != ItemType.TEXT]
    if not wanted:
        return []
    phase, item_id, value = (
        col(SurveyResponse.phase),
        col(SurveyAnswer.item_id),
        col(SurveyAnswer.value),
    )
    rows = fetch(
        session,
        (
            select(phase, item_id, value, func.count())
            .join(SurveyResponse, col(SurveyResponse.id) == col(SurveyAnswer.response_id))
            .where(
                col(SurveyResponse.programme_id) == programme_id,
                col(SurveyResponse.submitted_at).is_not(None),
                item_id.in_([i.id for i in wanted]),
                in_period(col(SurveyResponse.submitted_at), year_bounds),
            )
            .group_by(phase, item_id, value)
        ),
    )
    tallies: dict[tuple[str, str], Counter[str | None]] = {}
    for row_phase, row_item, row_value, count in rows:
        tallies.setdefault((row_phase, row_item), Counter())[row_value] += int(count)
    out = []
    for item in wanted:
        tally = tallies.get((item.phase.value, item.id), Counter())
        options = tuple((value, _choice_label(item, value)) for value, _ in item.choices("pl"))
        known = {value for value, _ in options}
        # Answers no longer among the options (an older version) count as not answered.
        skipped = tally.get(None, 0) + sum(n for v, n in tally.items() if v and v not in known)
        out.append(
            Distribution(
                item.id,
                item.text.get,
                item.phase.value,
                options,
                {value: tally.get(value, 0) for value in known},
                skipped,
            )
        )
    return out


def _choice_label(item: Item, value: str) -> Label:
    def label(language: str) -> str:
        return dict(item.choices(language))[value]

    return label
