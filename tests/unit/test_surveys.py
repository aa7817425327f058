"""Survey responses: codes, answers as they happen, stale steps, one submission per phase,
and the rule that a changed questionnaire needs a new version number."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from schedules.clock import FrozenClock
from storage.db import transaction
from storage.models import ParticipantCode, Programme, SurveyAnswer, SurveyResponse, SurveyVersion
from storage.people.participant_codes import CODE_ALPHABET, new_code, participant_code
from storage.surveys.questionnaire_files import load_questionnaire, questionnaire_cache
from storage.surveys.questionnaires import SurveyPhase
from storage.surveys.responses import (
    AlreadySubmitted,
    AnswerTooLong,
    Channel,
    InvalidAnswer,
    NotFinished,
    StaleStep,
    answer,
    back,
    choice_value,
    go_to,
    load_view,
    start_or_resume,
    submit,
    to_summary,
)
from storage.surveys.versions import SurveyUnavailable, current_questionnaire, version_conflict
from tests.support.signup import make_person, make_programme
from tests.support.surveys import default_data, small_questionnaire, write_yaml


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    questionnaire_cache.clear()


def start(
    session: Session,
    clock: FrozenClock,
    *,
    survey_path: Path | None = None,
    phase: SurveyPhase = SurveyPhase.INITIAL,
) -> int:
    programme = make_programme(session)
    if survey_path is not None:
        programme.survey_path = str(survey_path)
    person = make_person(session, telegram_id=700, programme=programme)
    assert person.id is not None
    response = start_or_resume(
        session,
        person_id=person.id,
        programme=programme,
        phase=phase,
        channel=Channel.CHAT,
        now=clock.now(),
    )
    assert response.id is not None
    return response.id


# ------------------------------------------------------------------ participant codes


def test_codes_are_random_unambiguous_and_stable(engine: Engine) -> None:
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == 8 and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert not set("01IOL") & set(CODE_ALPHABET)
    with transaction(engine) as session:
        pal_a, pal_b = make_programme(session), make_programme(session)
        krystyna = make_person(session, telegram_id=1, programme=pal_a)
        assert krystyna.id is not None and pal_a.id is not None and pal_b.id is not None
        first = participant_code(session, person_id=krystyna.id, programme_id=pal_a.id).code
        again = participant_code(session, person_id=krystyna.id, programme_id=pal_a.id).code
        other = participant_code(session, person_id=krystyna.id, programme_id=pal_b.id).code
    assert first == again != other
    with transaction(engine) as session:
        assert len(session.exec(select(ParticipantCode)).all()) == 2


# ------------------------------------------------------------------ the steps


def test_answers_are_stored_as_they_happen_and_move_the_position(
    engine: Engine, clock: FrozenClock
) -> None:
    with transaction(engine) as session:
        rid = start(session, clock)
    with transaction(engine) as session:
        v = answer(session, response_id=rid, index=0, value="4", now=clock.now())
        assert v.response.position == 1 and v.answers == {"se_cope": "4"}
    clock.advance(timedelta(minutes=1))
    with transaction(engine) as session:
        answer(session, response_id=rid, index=1, value=None, now=clock.now())  # skipped
    with transaction(engine) as session:
        rows = {a.item_id: a for a in session.exec(select(SurveyAnswer))}
        response = session.get(SurveyResponse, rid)
        assert response is not None and response.position == 2
        assert response.submitted_at is None  # nothing counts yet
    assert rows["se_cope"].value == "4" and rows["se_learn"].value is None
    assert rows["se_learn"].answered_at - rows["se_cope"].answered_at == timedelta(minutes=1)


def test_a_stale_or_repeated_step_changes_nothing(engine: Engine, clock: FrozenClock) -> None:
    with transaction(engine) as session:
        rid = start(session, clock)
        answer(session, response_id=rid, index=0, value="4", now=clock.now())
    with transaction(engine) as session, pytest.raises(StaleStep) as stale:
        answer(session, response_id=rid, index=0, value="1", now=clock.now())  # double tap
    assert stale.value.position == 1
    with transaction(engine) as session, pytest.raises(StaleStep):
        back(session, response_id=rid, index=5)
    with transaction(engine) as session:
        assert load_view(session, response_id=rid).answers == {"se_cope": "4"}


@pytest.mark.parametrize("value", ["0", "6", "abc", "", "4 "])
def test_values_a_question_does_not_accept_are_refused(
    engine: Engine, clock: FrozenClock, value: str
) -> None:
    with transaction(engine) as session:
        rid = start(session, clock)
    with transaction(engine) as session, pytest.raises(InvalidAnswer):
        answer(session, response_id=rid, index=0, value=value, now=clock.now())


def test_choice_numbers_map_to_stored_values(engine: Engine, clock: FrozenClock) -> None:
    with transaction(engine) as session:
        rid = start(session, clock)
        item = load_view(session, response_id=rid).items[0]
    assert choice_value(item, 1) == "1" and choice_value(item, 5) == "5"
    for bad in (0, 6, -1):
        with pytest.raises(InvalidAnswer):
            choice_value(item, bad)


def test_back_keeps_answers_and_stops_at_the_first_question(
    engine: Engine, clock: FrozenClock
) -> None:
    with transaction(engine) as session:
        rid = start(session, clock)
        answer(session, response_id=rid, index=0, value="2", now=clock.now())
        v = back(session, response_id=rid, index=1)
        assert v.response.position == 0 and v.answers == {"se_cope": "2"}
        assert back(session, response_id=rid, index=0).response.position == 0


def _to_summary(session: Session, rid: int, clock: FrozenClock) -> None:
    total = load_view(session, response_id=rid).total
    for index in range(total):
        answer(session, response_id=rid, index=index, value="3", now=clock.now())


def test_change_an_answer_from_the_summary_returns_there(
    engine: Engine, clock: FrozenClock
) -> None:
    with transaction(engine) as session:
        rid = start(session, clock)
        _to_summary(session, rid, clock)
        assert load_view(session, response_id=rid).at_summary
        with pytest.raises(InvalidAnswer):
            go_to(session, response_id=rid, index=99)  # a forged question number
    with transaction(engine) as session:
        v = go_to(session, response_id=rid, index=4)
        assert v.response.position == 4
        v = answer(session, response_id=rid, index=4, value="5", now=clock.now())
        assert v.at_summary and v.answers["mo_go_out"] == "5"
        go_to(session, response_id=rid, index=2)
        assert to_summary(session, response_id=rid, index=2).at_summary


def test_go_to_is_only_possible_from_the_summary(engine: Engine, clock: FrozenClock) -> None:
    with transaction(engine) as session:
        rid = start(session, clock)
    with transaction(engine) as session, pytest.raises(StaleStep):
        go_to(session, response_id=rid, index=0)
    with transaction(engine) as session, pytest.raises(StaleStep):
        to_summary(session, response_id=rid, index=0)  # questions not all reached


def test_submit_is_once_and_needs_the_summary(engine: Engine, clock: FrozenClock) -> None:
    with transaction(engine) as session:
        rid = start(session, clock)
    with transaction(engine) as session, pytest.raises(NotFinished):
        submit(session, response_id=rid, now=clock.now())
    with transaction(engine) as session:
        _to_summary(session, rid, clock)
        first = clock.now()
        submit(session, response_id=rid, now=first)
    clock.advance(timedelta(days=2))
    with transaction(engine) as session, pytest.raises(AlreadySubmitted) as again:
        submit(session, response_id=rid, now=clock.now())
    assert again.value.submitted_at == first
    with transaction(engine) as session, pytest.raises(AlreadySubmitted):
        answer(session, response_id=rid, index=0, value="1", now=clock.now())


def test_one_submission_per_phase_per_programme(engine: Engine, clock: FrozenClock) -> None:
    with transaction(engine) as session:
        rid = start(session, clock)
        _to_summary(session, rid, clock)
        submit(session, response_id=rid, now=clock.now())
        response = session.get(SurveyResponse, rid)
        assert response is not None
        code = session.get(ParticipantCode, response.participant_code_id)
        assert code is not None and code.person_id is not None
        person_id, programme_id = code.person_id, response.programme_id
    with transaction(engine) as session:
        programme = session.get(Programme, programme_id)
        assert programme is not None
        with pytest.raises(AlreadySubmitted) as refused:
            start_or_resume(
                session,
                person_id=person_id,
                programme=programme,
                phase=SurveyPhase.INITIAL,
                channel=Channel.CHAT,
                now=clock.now(),
            )
        assert refused.value.submitted_at == clock.now()
        final = start_or_resume(
            session,
            person_id=person_id,
            programme=programme,
            phase=SurveyPhase.FINAL,
            channel=Channel.CHAT,
            now=clock.now(),
        )
        assert final.id != rid
        # Resuming gives the same response back, never a second one.
        assert (
            start_or_resume(
                session,
                person_id=person_id,
                programme=programme,
                phase=SurveyPhase.FINAL,
                channel=Channel.CHAT,
                now=clock.now(),
            ).id
            == final.id
        )


def test_text_answers_are_trimmed_and_limited(
    engine: Engine, clock: FrozenClock, tmp_path: Path
) -> None:
    path = write_yaml(tmp_path / "small.yaml", small_questionnaire())
    with transaction(engine) as session:
        rid = start(session, clock, survey_path=path, phase=SurveyPhase.FINAL)
        for index, value in enumerate(["4", "2", "friend"]):
            answer(session, response_id=rid, index=index, value=value, now=clock.now())
        with pytest.raises(AnswerTooLong) as long_one:
            answer(session, response_id=rid, index=3, value="x" * 21, now=clock.now())
        assert long_one.value.max_length == 20
        v = answer(session, response_id=rid, index=3, value="  Dziękuję 👍 שלום  ", now=clock.now())
        assert v.answers["q_comment"] == "Dziękuję 👍 שלום" and v.at_summary


# ------------------------------------------------------------------ versions


def test_a_changed_file_with_the_same_version_is_refused(
    engine: Engine, clock: FrozenClock, tmp_path: Path
) -> None:
    data = default_data()
    path = write_yaml(tmp_path / "ours.yaml", data)
    with transaction(engine) as session:
        rid = start(session, clock, survey_path=path)
        stored = session.exec(select(SurveyVersion)).one()
        assert stored.definition["id"] == "pal_self_assessment"
    # Someone fixes a typo but forgets the version.
    data["items"][0]["text"]["pl"] = "Radzę sobie z codziennymi sprawami!"
    write_yaml(path, data)
    questionnaire_cache.clear()
    with transaction(engine) as session:
        programme = load_view(session, response_id=rid).response

        prog = session.get(Programme, programme.programme_id)
        assert prog is not None

        edited = load_questionnaire(path)
        assert version_conflict(session, edited) is not None
        # New responses keep getting the stored version, not the edited one.
        used = current_questionnaire(session, prog)
        assert used.item("se_cope").text.pl == "Radzę sobie z codziennymi sprawami."
    data["version"] = "2"
    write_yaml(path, data)
    questionnaire_cache.clear()
    with transaction(engine) as session:
        assert version_conflict(session, load_questionnaire(path)) is None
        prog = session.get(Programme, prog.id)
        assert prog is not None
        assert current_questionnaire(session, prog).version == "2"
        # The response started on version 1 is still shown with version 1.
        assert load_view(session, response_id=rid).questionnaire.version == "1"


def test_an_unloadable_questionnaire_is_a_typed_refusal(
    engine: Engine, clock: FrozenClock, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: [", encoding="utf-8")
    with transaction(engine) as session, pytest.raises(SurveyUnavailable):
        start(session, clock, survey_path=broken)
