"""The matrix scoring of evaluation.scoring gives exactly what storage.surveys.questionnaires'
score_subscales gives response by response (reverse items, skips, minimum answered)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from sqlalchemy.engine import Engine

from evaluation.scoring import Scorers, fill_row, subscale_matrix
from evaluation.source import report_session
from storage.db import transaction
from storage.surveys.questionnaire_files import load_questionnaire
from storage.surveys.questionnaires import (
    ItemType,
    Questionnaire,
    default_questionnaire_path,
    score_subscales,
)
from tests.support.evaluation import TEST_DEFINITION, remember_version, small_questionnaire


def _random_answers(q: Questionnaire, rng: random.Random) -> dict[str, str | None]:
    answers: dict[str, str | None] = {}
    for item in q.items:
        if item.type == ItemType.TEXT:
            answers[item.id] = "wolny tekst"
            continue
        choices = [value for value, _ in item.choices("pl")]
        roll = rng.random()
        if roll < 0.15:
            answers[item.id] = None  # skipped
        elif roll < 0.2:
            continue  # never reached
        else:
            answers[item.id] = rng.choice(choices)
    return answers


@pytest.mark.parametrize("which", ["default", "small"])
def test_matrix_scores_equal_score_subscales(engine: Engine, which: str) -> None:
    q = (
        load_questionnaire(default_questionnaire_path())
        if which == "default"
        else small_questionnaire()
    )
    with transaction(engine) as session:
        remember_version(session, q.definition() if which == "default" else TEST_DEFINITION)
    rng = random.Random(42)
    rows = [_random_answers(q, rng) for _ in range(400)]
    readable = [i.id for i in q.items if i.type != ItemType.TEXT]
    columns = {item_id: i for i, item_id in enumerate(readable)}
    subscale_ids = [s.id for s in q.subscales]
    with report_session(engine) as session:
        scorers = Scorers(session)
        matrix = np.full((len(rows), len(readable)), np.nan)
        for index, answers in enumerate(rows):
            fill_row(scorers, q, answers.items(), matrix[index], columns)
        ours = subscale_matrix(
            scorers, [(q.id, q.version)] * len(rows), matrix, columns, subscale_ids
        )
    for index, answers in enumerate(rows):
        theirs = score_subscales(q, answers)
        for position, subscale_id in enumerate(subscale_ids):
            expected = theirs[subscale_id]
            got = ours[index, position]
            if expected is None:
                assert np.isnan(got), (answers, subscale_id)
            else:
                assert got == pytest.approx(expected, rel=1e-12), (answers, subscale_id)
    assert scorers.unreadable == 0


def test_values_outside_the_scale_are_counted_not_scored(engine: Engine) -> None:
    q = small_questionnaire()
    with transaction(engine) as session:
        remember_version(session)
    with report_session(engine) as session:
        scorers = Scorers(session)
        row = np.full(3, np.nan)
        fill_row(
            scorers,
            q,
            [("se1", "7"), ("se2", "2"), ("note", "tekst")],
            row,
            {"se1": 0, "se2": 1, "se3": 2},
        )
    assert scorers.unreadable == 1
    assert np.isnan(row[0]) and row[1] == 4.0  # se2 is reverse-worded: 6 − 2
