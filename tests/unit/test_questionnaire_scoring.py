"""Scoring: reverse items, skipped items, the minimum-answered rule, sum vs mean, and the
De Jong Gierveld scale scored as its manual says."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.surveys.questionnaire_files import load_questionnaire
from storage.surveys.questionnaires import (
    Questionnaire,
    default_questionnaire_path,
    item_score,
    score_subscales,
)
from tests.support.surveys import small_questionnaire

DJG = default_questionnaire_path().parent / "examples" / "dejong_gierveld_6.yaml"


@pytest.fixture
def default() -> Questionnaire:
    return load_questionnaire(default_questionnaire_path())


def test_likert_answer_scores_its_point_and_reverse_items_flip(default: Questionnaire) -> None:
    cope, reverse = default.item("se_cope"), default.item("se_nothing_to_offer")
    assert [item_score(cope, str(x)) for x in range(1, 6)] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert [item_score(reverse, str(x)) for x in range(1, 6)] == [5.0, 4.0, 3.0, 2.0, 1.0]


def test_skipped_and_text_items_have_no_score() -> None:
    q = Questionnaire.model_validate(small_questionnaire())
    assert item_score(q.item("q_cope"), None) is None
    assert item_score(q.item("q_comment"), "dobrze") is None
    assert item_score(q.item("q_heard"), "poster") is None  # options without scores


@pytest.mark.parametrize("raw", ["0", "6", "x", "", "-1", "3.5"])
def test_values_outside_the_scale_are_refused_not_scored(default: Questionnaire, raw: str) -> None:
    with pytest.raises(ValueError):
        item_score(default.item("se_cope"), raw)


def test_subscale_mean_uses_reverse_scores(default: Questionnaire) -> None:
    # self_esteem = se_cope 4, se_learn 5, se_nothing_to_offer 2 (reverse → 4): mean 13/3.
    scores = score_subscales(default, {"se_cope": "4", "se_learn": "5", "se_nothing_to_offer": "2"})
    assert scores["self_esteem"] == pytest.approx(13 / 3)
    assert scores["motivation"] is None  # nothing answered


def test_minimum_answered_share_with_skips(default: Questionnaire) -> None:
    # min_answered 0.66 of 3 items: 2 answers score (mean of those two), 1 does not.
    two = score_subscales(default, {"mo_plans": "5", "mo_go_out": None, "mo_hard_to_start": "1"})
    assert two["motivation"] == pytest.approx(5.0)
    one = score_subscales(default, {"mo_plans": "5", "mo_go_out": None, "mo_hard_to_start": None})
    assert one["motivation"] is None


def test_default_minimum_is_eighty_percent() -> None:
    data = small_questionnaire()
    data["subscales"][0].pop("min_answered")
    q = Questionnaire.model_validate(data)
    assert q.subscales[0].min_answered == 0.8
    assert score_subscales(q, {"q_cope": "4", "q_alone": None})["wellbeing"] is None
    assert score_subscales(q, {"q_cope": "4", "q_alone": "2"})["wellbeing"] == 4.0


def test_sum_is_not_prorated() -> None:
    data = small_questionnaire()
    data["subscales"][0].update(scoring="sum", min_answered=0.5)
    q = Questionnaire.model_validate(data)
    assert score_subscales(q, {"q_cope": "4", "q_alone": "2"})["wellbeing"] == 8.0
    # One of two missing: the plain sum of what was answered, not 4 × 2.
    assert score_subscales(q, {"q_cope": "4"})["wellbeing"] == 4.0


# ------------------------------------------------------------------ De Jong Gierveld


def djg_manual(answers: dict[str, str | None]) -> dict[str, int | None]:
    """The manual's SPSS syntax, transcribed: count 'lonely' answers; missing rules."""
    emotional, social = ("emptiness", "miss_people", "rejected"), ("rely_on", "trust", "close_to")
    lonely = {
        k: (v in ("yes", "more_or_less")) if k in emotional else (v in ("no", "more_or_less"))
        for k, v in answers.items()
        if v is not None
    }

    def missing(keys: tuple[str, ...]) -> int:
        return sum(1 for k in keys if answers.get(k) is None)

    total = None if missing(emotional + social) > 1 else sum(lonely.values())
    emo = None if missing(emotional) > 0 else sum(lonely[k] for k in emotional)
    soc = None if missing(social) > 0 else sum(lonely[k] for k in social)
    return {"overall": total, "emotional": emo, "social": soc}


@pytest.mark.parametrize(
    "answers",
    [
        {
            "emptiness": "yes",
            "rely_on": "yes",
            "trust": "yes",
            "miss_people": "no",
            "close_to": "yes",
            "rejected": "no",
        },
        {
            "emptiness": "more_or_less",
            "rely_on": "more_or_less",
            "trust": "no",
            "miss_people": "yes",
            "close_to": "no",
            "rejected": "more_or_less",
        },
        {
            "emptiness": "no",
            "rely_on": None,
            "trust": "yes",
            "miss_people": "no",
            "close_to": "yes",
            "rejected": "no",
        },
        {
            "emptiness": None,
            "rely_on": None,
            "trust": "no",
            "miss_people": "yes",
            "close_to": "no",
            "rejected": "yes",
        },
    ],
)
def test_de_jong_gierveld_scores_match_the_manual(answers: dict[str, str | None]) -> None:
    q = load_questionnaire(DJG)
    expected = djg_manual(answers)
    got = score_subscales(q, answers)
    assert got == {k: (None if v is None else float(v)) for k, v in expected.items()}


def test_de_jong_gierveld_extremes() -> None:
    q = load_questionnaire(DJG)
    not_lonely = {
        "emptiness": "no",
        "miss_people": "no",
        "rejected": "no",
        "rely_on": "yes",
        "trust": "yes",
        "close_to": "yes",
    }
    lonely = {
        "emptiness": "yes",
        "miss_people": "yes",
        "rejected": "yes",
        "rely_on": "no",
        "trust": "no",
        "close_to": "no",
    }
    assert score_subscales(q, not_lonely) == {"emotional": 0.0, "social": 0.0, "overall": 0.0}
    assert score_subscales(q, lonely) == {"emotional": 3.0, "social": 3.0, "overall": 6.0}


_DJG_ITEMS = ("emptiness", "rely_on", "trust", "miss_people", "close_to", "rejected")


@given(st.tuples(*[st.sampled_from(["yes", "more_or_less", "no", None])] * 6))
def test_de_jong_gierveld_matches_the_manual_for_any_answers(
    values: tuple[str | None, ...],
) -> None:
    q = load_questionnaire(DJG)
    answers = dict(zip(_DJG_ITEMS, values, strict=True))
    expected = djg_manual(answers)
    assert score_subscales(q, answers) == {
        k: (None if v is None else float(v)) for k, v in expected.items()
    }
