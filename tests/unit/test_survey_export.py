"""The check export: one row per participant and phase, codes only, scores computed."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import Engine

from schedules.clock import FrozenClock
from storage.db import read_only, transaction
from storage.people.without_telegram import create_proxy_participant
from storage.surveys.export import submitted_responses, write_csv
from storage.surveys.questionnaire_files import load_questionnaire
from storage.surveys.questionnaires import SurveyPhase, default_questionnaire_path
from storage.surveys.responses import Channel, start_or_resume
from tests.support.signup import make_person, make_programme
from tests.support.surveys import answered_survey, small_questionnaire, write_yaml

BEFORE = {
    "se_cope": "2",
    "se_learn": "3",
    "se_nothing_to_offer": "4",  # 2,3,2 → 2.333
    "mo_plans": "2",
    "mo_go_out": None,
    "mo_hard_to_start": "5",  # 2,1 → 1.5
    "co_talk_strangers": "1",
    "co_ask_help": None,
    "co_unsure": None,  # 1 of 3 → none
    "be_neighbours": "3",
    "be_have_a_say": "3",
    "be_outsider": "3",
}  # 3
AFTER = {
    **{k: "4" for k in BEFORE},
    "se_nothing_to_offer": "1",
    "ch_self": "5",
    "ch_people": "4",
    "ch_neighbourhood": None,
}


def export(engine: Engine, programme_id: int) -> list[dict[str, str]]:
    with read_only(engine) as session:
        responses = submitted_responses(session, programme_id=programme_id)
    out = io.StringIO()
    write_csv(responses, out, fallback=load_questionnaire(default_questionnaire_path()))
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def test_matched_pair_is_scored_with_reverse_items_and_the_minimum_rule(
    engine: Engine, clock: FrozenClock
) -> None:
    with transaction(engine) as session:
        programme = make_programme(session)
        krystyna = make_person(
            session, telegram_id=8801, name="Krystyna Nowak", programme=programme
        )
        answered_survey(
            session,
            person=krystyna,
            programme=programme,
            phase=SurveyPhase.INITIAL,
            values=BEFORE,
            now=clock.now(),
        )
        answered_survey(
            session,
            person=krystyna,
            programme=programme,
            phase=SurveyPhase.FINAL,
            values=AFTER,
            now=clock.now() + timedelta(days=90),
        )
        # Started but never submitted: not exported.
        jan = make_person(session, telegram_id=8802, name="Jan", programme=programme)
        assert jan.id is not None
        start_or_resume(
            session,
            person_id=jan.id,
            programme=programme,
            phase=SurveyPhase.INITIAL,
            channel=Channel.CHAT,
            now=clock.now(),
        )
        programme_id = programme.id or 0
    rows = export(engine, programme_id)
    assert [r["phase"] for r in rows] == ["initial", "final"]
    assert rows[0]["participant_code"] == rows[1]["participant_code"]
    before, after = rows
    assert (
        before["score:self_esteem"],
        before["score:motivation"],
        before["score:contacts"],
        before["score:belonging"],
    ) == ("2.333", "1.5", "", "3")
    assert (after["score:self_esteem"], after["score:contacts"]) == ("4.333", "3.333")
    assert before["item:se_nothing_to_offer"] == "4"  # raw answer, not the reversed score
    assert before["item:mo_go_out"] == ""  # skipped
    assert before["item:ch_self"] == "" and after["item:ch_self"] == "5"
    text = "\n".join(",".join(r.values()) for r in rows) + ",".join(rows[0])
    assert "Krystyna" not in text and "8801" not in text


def test_free_text_columns_are_marked_and_formulas_neutralised(
    engine: Engine, clock: FrozenClock, tmp_path: Path
) -> None:
    path = write_yaml(tmp_path / "small.yaml", small_questionnaire())
    with transaction(engine) as session:
        programme = make_programme(session)
        programme.survey_path = str(path)
        animator = make_person(session, telegram_id=9900, name="Animatorka")
        assert animator.id is not None and programme.id is not None
        zofia = create_proxy_participant(
            session, display_name="Zofia", created_by_id=animator.id, programme_id=programme.id
        )
        answered_survey(
            session,
            person=zofia,
            programme=programme,
            phase=SurveyPhase.FINAL,
            values={
                "q_cope": "5",
                "q_alone": "1",
                "q_heard": "friend",
                "q_comment": "=HYPERLINK(1)",
            },
            now=clock.now(),
            channel=Channel.PROXY,
            entered_by_id=animator.id,
        )
        programme_id = programme.id
    (row,) = export(engine, programme_id)
    assert row["item:q_comment (free text)"] == "'=HYPERLINK(1)"
    assert row["item:q_heard"] == "friend"
    assert row["channel"] == "proxy"
    assert row["score:wellbeing"] == "5"


def test_empty_programme_exports_a_header(engine: Engine) -> None:
    with transaction(engine) as session:
        programme_id = make_programme(session).id or 0
    out = io.StringIO()
    with read_only(engine) as session:
        count = write_csv(
            submitted_responses(session, programme_id=programme_id),
            out,
            fallback=load_questionnaire(default_questionnaire_path()),
        )
    header = out.getvalue().splitlines()[0].split(",")
    assert count == 0
    assert header[:2] == ["participant_code", "phase"]
    assert "score:belonging" in header and "item:ch_self" in header
