"""Questionnaire files: loading, every kind of problem with its location, fingerprints."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest

from storage.surveys.questionnaire_files import (
    QuestionnaireCache,
    load_questionnaire,
    translation_gaps,
    validate_file,
)
from storage.surveys.questionnaires import (
    ItemType,
    Questionnaire,
    QuestionnaireError,
    SurveyPhase,
    default_questionnaire_path,
    items_for_phase,
)
from tests.support.surveys import Data, changed, default_data, write_yaml

EXAMPLES = default_questionnaire_path().parent / "examples"


def problems_of(tmp_path: Path, change: Any) -> list[str]:
    return [f"{p.location}: {p.message}" for p in validate_file(changed(tmp_path, change))]


# ------------------------------------------------------------------ the shipped files


def test_default_questionnaire_meets_the_brief() -> None:
    q = load_questionnaire(default_questionnaire_path())
    initial = items_for_phase(q, SurveyPhase.INITIAL)
    final_only = [i for i in items_for_phase(q, SurveyPhase.FINAL) if i not in initial]
    assert 10 <= len(initial) <= 12
    assert sum(i.reverse for i in initial) >= 3
    assert 2 <= len(final_only) <= 3
    assert {s.id for s in q.subscales} == {"self_esteem", "motivation", "contacts", "belonging"}
    agreement = q.scales["agreement5"]
    assert [agreement.label(p, "pl") for p in range(1, 6)] == [
        "Zdecydowanie się nie zgadzam",
        "Raczej się nie zgadzam",
        "Trudno powiedzieć",
        "Raczej się zgadzam",
        "Zdecydowanie się zgadzam",
    ]
    assert [agreement.label(p, "uk") for p in range(1, 6)] == [
        "Зовсім не погоджуюся",
        "Скоріше не погоджуюся",
        "Важко сказати",
        "Скоріше погоджуюся",
        "Повністю погоджуюся",
    ]
    assert [agreement.label(p, "en") for p in range(1, 6)] == [
        "Strongly disagree",
        "Disagree",
        "Hard to say",
        "Agree",
        "Strongly agree",
    ]
    # The change items have their own scale, and every text is in all three languages.
    assert {i.scale for i in final_only} == {"change5"}
    assert translation_gaps(q) == []


def test_de_jong_gierveld_example_is_expressible() -> None:
    q = load_questionnaire(EXAMPLES / "dejong_gierveld_6.yaml")
    assert len(q.items) == 6
    assert all(i.type == ItemType.SINGLE_CHOICE and i.scored for i in q.items)
    assert q.citation is not None and "Research on Aging" in q.citation
    assert q.licence is not None


def test_missing_translations_fall_back_to_polish(tmp_path: Path) -> None:
    def drop_english(data: Data) -> None:
        del data["items"][0]["text"]["en"]
        del data["items"][0]["text"]["uk"]

    q = load_questionnaire(changed(tmp_path, drop_english))
    assert q.items[0].text.get("en") == "Radzę sobie z codziennymi sprawami."
    assert q.items[0].text.get("uk") == q.items[0].text.pl
    assert q.items[0].text.get("de") == q.items[0].text.pl
    assert "items[0].text: no uk, en (Polish is shown)" in translation_gaps(q)


# ------------------------------------------------------------------ problems and locations


def test_missing_polish_text_is_located_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "q.yaml"
    path.write_text(
        'id: x\nversion: 1\ntitle: {pl: "T"}\nintro: {pl: "I"}\n'
        "scales:\n  s:\n    labels: [{pl: a}, {pl: b}, {pl: c}, {pl: d}]\n"
        "items:\n"
        "  - id: a\n    type: likert\n    scale: s\n    text: {pl: A}\n"
        "  - id: b\n    type: likert\n    scale: s\n    text:\n      en: B\n",
        encoding="utf-8",
    )
    (problem,) = validate_file(path)
    assert (problem.location, problem.message, problem.line) == ("items[1].text.pl", "missing", 16)
    assert str(problem) == f"{path}:16: items[1].text.pl: missing"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["items"][3]["text"].pop("pl"), "items[3].text.pl: missing"),
        (lambda d: d["items"][3]["text"].update(pl="   "), "items[3].text.pl: is empty"),
        (
            lambda d: d["items"][0]["text"].update(ua="Привіт"),
            "items[0].text: unknown language 'ua' (use pl, uk or en)",
        ),
        (
            lambda d: d["items"][0].update(colour="red"),
            "items[0].colour: unknown field (check the spelling)",
        ),
        (
            lambda d: d["items"][0].update(id="Bad Id"),
            "items[0].id: use 1–32 lowercase letters, digits or _, starting with a letter",
        ),
        (
            lambda d: d["items"][1].update(id="se_cope"),
            "items[1].id: 'se_cope' is used twice (also items[0])",
        ),
        (
            lambda d: d["items"][0].update(type="slider"),
            "items[0].type: must be one of: 'likert', 'single_choice' or 'text'",
        ),
        (
            lambda d: d["items"][0].pop("scale"),
            "items[0].scale: missing (a likert item needs a scale)",
        ),
        (
            lambda d: d["items"][0].update(scale="agree7"),
            "items[0].scale: unknown scale 'agree7' (defined: agreement5, change5)",
        ),
        (
            lambda d: d["scales"]["agreement5"].update(
                labels=d["scales"]["agreement5"]["labels"][:3]
            ),
            "scales.agreement5.labels: needs at least 4 (found 3)",
        ),
        (
            lambda d: d["scales"]["agreement5"]["labels"].extend([{"pl": "x"}] * 3),
            "scales.agreement5.labels: allows at most 7 (found 8)",
        ),
        (
            lambda d: d["scales"]["agreement5"]["labels"][0].update(pl="x" * 61),
            "scales.agreement5.labels[0].pl: too long (at most 60 characters)",
        ),
        (
            lambda d: d["items"][0].update(type="single_choice", scale=None),
            "items[0].options: missing (a single_choice item needs options)",
        ),
        (
            lambda d: d["items"][0].update(type="text", scale=None),
            "items[0].max_length: missing (a text item needs max_length)",
        ),
        (
            lambda d: d["items"][0].update(type="text", scale=None, max_length=5000),
            "items[0].max_length: must be at most 1000",
        ),
        (
            lambda d: d["items"][2].update(type="text", scale=None, max_length=100),
            "items[2].reverse: only likert items can be reverse-scored",
        ),
        (
            lambda d: d["items"][0].update(max_length=10),
            "items[0].max_length: only text items have max_length",
        ),
        (
            lambda d: d["items"][0].update(reverse="maybe"),
            "items[0].reverse: must be true or false",
        ),
        (
            lambda d: d["items"][0].update(phase="middle"),
            "items[0].phase: must be one of: 'both', 'initial' or 'final'",
        ),
        (
            lambda d: d["subscales"][0]["items"].append("nope"),
            "subscales[0].items[3]: unknown item 'nope'",
        ),
        (
            lambda d: d["subscales"][0]["items"].append("se_cope"),
            "subscales[0].items[3]: 'se_cope' is listed twice",
        ),
        (
            lambda d: d["subscales"][0]["items"].append("ch_self"),
            "subscales[0].items: mixes answer scales (scale agreement5, scale change5); "
            "scores would not be comparable",
        ),
        (
            lambda d: d["subscales"][0].update(scoring="median"),
            "subscales[0].scoring: must be one of: 'mean' or 'sum'",
        ),
        (
            lambda d: d["subscales"][0].update(min_answered=1.5),
            "subscales[0].min_answered: must be at most 1",
        ),
        (
            lambda d: d["subscales"][0].update(min_answered=0),
            "subscales[0].min_answered: must be more than 0",
        ),
        (
            lambda d: d["subscales"][1].update(id="self_esteem"),
            "subscales[1].id: 'self_esteem' is used twice",
        ),
        (
            lambda d: d.update(version="1 beta"),
            "version: use up to 32 letters, digits, dots, _ or - (for example 1, 2 or 2026.1)",
        ),
        (lambda d: d.pop("title"), "title: missing"),
        (lambda d: d.update(items=[]), "items: needs at least 1 (found 0)"),
        (
            lambda d: (
                d.update(
                    items=[i for i in d["items"] if i.get("phase") != "final"],
                )
                or [i.update(phase="initial") for i in d["items"]]
            ),
            "items: no item is asked in the final survey",
        ),
    ],
)
def test_each_problem_is_reported_at_its_place(tmp_path: Path, change: Any, expected: str) -> None:
    assert expected in problems_of(tmp_path, change)


def test_subscale_items_must_share_a_phase(tmp_path: Path) -> None:
    def final_only(data: Data) -> None:
        data["items"][0]["phase"] = "final"

    assert (
        "subscales[0].items: mixes phases (both, final); a subscale must be asked in the "
        "same surveys" in problems_of(tmp_path, final_only)
    )


def test_text_items_cannot_be_in_a_subscale(tmp_path: Path) -> None:
    def comment(data: Data) -> None:
        data["items"].append(
            {"id": "comment", "type": "text", "max_length": 100, "text": {"pl": "Uwagi"}}
        )
        data["subscales"][0]["items"].append("comment")

    assert (
        "subscales[0].items[3]: item 'comment' has no score (text items and single_choice "
        "without scores cannot be scored)"
    ) in problems_of(tmp_path, comment)


def test_choice_options_need_scores_on_all_or_none(tmp_path: Path) -> None:
    def choice(data: Data) -> None:
        data["items"].append(
            {
                "id": "heard",
                "type": "single_choice",
                "text": {"pl": "Skąd?"},
                "options": [
                    {"value": "a", "score": 1, "label": {"pl": "A"}},
                    {"value": "a", "label": {"pl": "B"}},
                ],
            }
        )

    found = problems_of(tmp_path, choice)
    assert (
        "items[15].options[1].score: missing (either every option has a score or none has)" in found
    )
    assert "items[15].options[1].value: 'a' is used twice" in found


def test_unquoted_yes_gets_a_hint(tmp_path: Path) -> None:
    def yes(data: Data) -> None:
        data["items"].append(
            {
                "id": "heard",
                "type": "single_choice",
                "text": {"pl": "Tak?"},
                "options": [
                    {"value": True, "label": {"pl": "Tak"}},
                    {"value": "no", "label": {"pl": "Nie"}},
                ],
            }
        )

    assert any(
        p.startswith("items[15].options[0].value: must be text (YAML reads yes")
        for p in problems_of(tmp_path, yes)
    )


def test_duplicate_yaml_keys_are_problems(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("id: x\nversion: 1\nid: y\n", encoding="utf-8")
    assert [str(p) for p in validate_file(path)] == [f"{path}:3: id: given twice (lines 1 and 3)"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "(file): the file is empty"),
        (
            b"- just\n- a list\n",
            "(file): must be a mapping with id, version, title, intro and items",
        ),
        (b"id: [unclosed\n", "(file): YAML syntax: "),
        (b"id: \xff\xfe\n", "(file): not UTF-8 text; save the file as UTF-8"),
        (b"x: " + b"a" * 300_000, "(file): file is too large"),
    ],
)
def test_unreadable_files_are_problems_not_crashes(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    problems = validate_file(path)
    assert problems and f"{problems[0].location}: {problems[0].message}".startswith(expected)
    with pytest.raises(QuestionnaireError):
        load_questionnaire(path)


def test_missing_file_is_a_problem(tmp_path: Path) -> None:
    assert [p.message for p in validate_file(tmp_path / "nope.yaml")] == ["file not found"]


def test_version_given_as_a_number_is_text() -> None:
    data = default_data()
    data["version"] = 2

    assert Questionnaire.model_validate(data).version == "2"


# ------------------------------------------------------------------ fingerprints


def test_fingerprint_ignores_layout_comments_defaults_and_citation(tmp_path: Path) -> None:
    base = load_questionnaire(default_questionnaire_path()).fingerprint

    def explicit_defaults(data: Data) -> None:
        data["items"][0]["reverse"] = False
        data["items"][0]["phase"] = "both"
        data["citation"] = "Napisane dla PAL."

    assert load_questionnaire(changed(tmp_path, explicit_defaults)).fingerprint == base
    # Same content dumped without the comments and in another layout.
    assert (
        load_questionnaire(write_yaml(tmp_path / "plain.yaml", default_data())).fingerprint == base
    )


def test_fingerprint_changes_with_what_people_see_or_how_it_is_scored(tmp_path: Path) -> None:
    base = load_questionnaire(default_questionnaire_path()).fingerprint

    def typo(data: Data) -> None:
        data["items"][0]["text"]["uk"] += "!"

    def reverse(data: Data) -> None:
        data["items"][0]["reverse"] = True

    assert load_questionnaire(changed(tmp_path, typo, "a.yaml")).fingerprint != base
    assert load_questionnaire(changed(tmp_path, reverse, "b.yaml")).fingerprint != base


# ------------------------------------------------------------------ the cache


def test_cache_reloads_changes_and_keeps_the_last_valid_version(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = QuestionnaireCache()
    data = default_data()
    path = write_yaml(tmp_path / "q.yaml", data)
    first = cache.get(path)
    assert cache.get(path) is first  # unchanged file: no reload

    data["version"] = "2"
    write_yaml(path, data)
    os.utime(path, ns=(1, 1))
    assert cache.get(path).version == "2"

    path.write_text("id: [broken", encoding="utf-8")
    with caplog.at_level(logging.ERROR):
        kept = cache.get(path)
        cache.get(path)
    assert kept.version == "2"
    assert sum("YAML syntax" in r.getMessage() for r in caplog.records) == 1  # logged once


def test_cache_raises_when_a_file_was_never_valid(tmp_path: Path) -> None:
    path = tmp_path / "q.yaml"
    path.write_text("id: x\n", encoding="utf-8")
    with pytest.raises(QuestionnaireError) as caught:
        QuestionnaireCache().get(path)
    assert any(p.location == "version" for p in caught.value.problems)
