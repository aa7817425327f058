"""Consultation rules without Telegram: drafts, audiences, answers, closing, erasure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.data_export import render_html
from evaluation.options import ReportOptions
from evaluation.report import build_report
from storage.activities.organising import Actor
from storage.consultations.answers import (
    Answerer,
    BadAnswer,
    choose,
    consultation_answers_of,
    move_to,
    write_free_text,
)
from storage.consultations.answers import write_free_text as write
from storage.consultations.drafts import (
    ConsultationInvalid,
    Fault,
    Step,
    answer,
    layout,
    localized,
    parse_options,
    parse_translation,
)
from storage.consultations.results import free_text_answers, results
from storage.consultations.running import (
    ConsultationNotOpen,
    NotInAudience,
    NotYourConsultation,
    advance_consultations,
    audience_ids,
    close_now,
    create_consultation,
    next_change_at,
)
from storage.db import read_only, transaction
from storage.models import (
    Consultation,
    ConsultationResponse,
    ConsultationState,
    ParticipantCode,
    PendingSend,
    Programme,
)
from storage.people.without_telegram import create_proxy_participant
from storage.privacy.erasure import erase_person, erasure_preview
from storage.privacy.my_data import person_data
from tests.support.animator import Scene, make_scene
from tests.support.signup import make_people, make_person, make_programme
from translations import translator

ZONE = ZoneInfo("Europe/Warsaw")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def draft(**extra: Any) -> dict[str, Any]:
    """A complete single-question draft, open today until Friday, for the programme."""
    base: dict[str, Any] = {
        "kind": "poll",
        "questions": [
            {
                "text": "Kiedy spotkania?",
                "multiple": False,
                "options": ["Rano", "Po południu", "Wieczorem"],
            }
        ],
        "opens": "2026-11-23",
        "closes": "2026-11-27",
        "audience": "programme",
        "show_results": True,
    }
    base.update(extra)
    return base


@pytest.fixture
def scene(engine: Engine) -> Scene:
    return make_scene(engine, NOW, places=3, people=5)


def _create(engine: Engine, scene: Scene, **extra: Any) -> int:
    with transaction(engine) as session:
        found = create_consultation(
            session,
            draft=draft(**extra),
            programme_id=scene.programme_id,
            actor=scene.actor,
            now=NOW,
            zone=ZONE,
        )
        assert found.id is not None
        return found.id


def _sends(engine: Engine, kind: str) -> list[PendingSend]:
    with read_only(engine) as session:
        return list(session.exec(select(PendingSend).where(PendingSend.kind == kind)))


# ---------------------------------------------------------------- drafts


def test_a_draft_walks_from_kind_to_preview_and_refuses_bad_answers() -> None:
    d: dict[str, Any] = {}
    d, step = answer(d, Step.KIND, "survey", now=NOW, zone=ZONE)
    assert step == Step.TITLE
    with pytest.raises(ConsultationInvalid) as bad:
        answer(d, Step.TITLE, "Potrzeby\u202e mieszkańców", now=NOW, zone=ZONE)
    assert bad.value.fault == Fault.CONTROL
    with pytest.raises(ConsultationInvalid) as long:
        answer(d, Step.TITLE, "x" * 10_000, now=NOW, zone=ZONE)
    assert long.value.fault == Fault.TOO_LONG
    d, step = answer(d, Step.TITLE, "Potrzeby mieszkańców", now=NOW, zone=ZONE)
    d, step = answer(d, Step.QUESTION, "Co Cię interesuje?", now=NOW, zone=ZONE)
    d, step = answer(d, Step.MODE, "n", now=NOW, zone=ZONE)
    d, step = answer(d, Step.OPTIONS, "1. Gimnastyka\n2) Komputer\n- Wycieczki", now=NOW, zone=ZONE)
    assert step == Step.MORE
    assert d["questions"][0] == {
        "text": "Co Cię interesuje?",
        "multiple": True,
        "options": ["Gimnastyka", "Komputer", "Wycieczki"],
    }
    d, step = answer(d, Step.MORE, "f", now=NOW, zone=ZONE)
    d, step = answer(d, Step.FREE, "Czego brakuje na osiedlu?", now=NOW, zone=ZONE)
    assert step == Step.OPENS
    with pytest.raises(ConsultationInvalid) as past:
        answer(d, Step.OPENS, "2026-11-20", now=NOW, zone=ZONE)
    assert past.value.fault == Fault.DATE_PAST
    d, step = answer(d, Step.OPENS, "jutro", now=NOW, zone=ZONE)
    with pytest.raises(ConsultationInvalid) as order:
        answer(d, Step.CLOSES, "23.11", now=NOW, zone=ZONE)
    assert order.value.fault in (Fault.CLOSES_BEFORE_OPENS, Fault.DATE_PAST)
    d, step = answer(d, Step.CLOSES, "30.11", now=NOW, zone=ZONE)
    with pytest.raises(ConsultationInvalid):  # only admins ask everyone
        answer(d, Step.AUDIENCE, "everyone", now=NOW, zone=ZONE)
    d, step = answer(d, Step.AUDIENCE, "programme", now=NOW, zone=ZONE)
    d, step = answer(d, Step.RESULTS, "y", now=NOW, zone=ZONE)
    assert step == Step.PREVIEW and d["show_results"] is True


def test_options_need_two_to_ten_distinct_lines() -> None:
    with pytest.raises(ConsultationInvalid) as one:
        parse_options("Tak")
    assert one.value.fault == Fault.TOO_FEW_OPTIONS
    with pytest.raises(ConsultationInvalid) as many:
        parse_options("\n".join(f"Opcja {i}" for i in range(11)))
    assert many.value.fault == Fault.TOO_MANY_OPTIONS
    with pytest.raises(ConsultationInvalid) as twice:
        parse_options("Tak\ntak")
    assert twice.value.fault == Fault.SAME_OPTION_TWICE
    assert parse_options("Tak 👍\n\nNie") == ["Tak 👍", "Nie"]


# ---------------------------------------------------------------- audience and opening


def test_opening_today_invites_the_programme_once(engine: Engine, scene: Scene) -> None:
    with transaction(engine) as session:
        outsider = make_person(session, telegram_id=7777, programme=make_programme(session))
        assert outsider.id is not None
    cid = _create(engine, scene)
    invited = sorted(s.person_id or 0 for s in _sends(engine, "consultation"))
    assert invited == sorted(scene.placed + scene.reserve)
    with transaction(engine) as session:
        assert advance_consultations(session, now=NOW + timedelta(hours=1)).opened == []
    assert len(_sends(engine, "consultation")) == 5
    with read_only(engine) as session:
        c = session.get(Consultation, cid)
        assert c is not None and c.state == ConsultationState.OPEN


def test_a_later_opening_waits_for_the_schedule(engine: Engine, scene: Scene) -> None:
    cid = _create(
        engine, scene, opens="2026-11-25", audience="activity", activity_id=scene.activity_id
    )
    assert _sends(engine, "consultation") == []
    with read_only(engine) as session:
        assert next_change_at(session) == datetime(2026, 11, 24, 23, 0, tzinfo=UTC)
    with transaction(engine) as session:
        done = advance_consultations(session, now=datetime(2026, 11, 24, 23, 0, tzinfo=UTC))
    assert done.opened == [cid]
    # Only people holding a place in the activity, not the reserve list.
    assert sorted(s.person_id or 0 for s in _sends(engine, "consultation")) == sorted(scene.placed)


def test_everyone_and_other_programmes_activities_are_refused(engine: Engine, scene: Scene) -> None:
    with transaction(engine) as session, pytest.raises(NotYourConsultation):
        create_consultation(
            session,
            draft=draft(audience="everyone"),
            programme_id=scene.programme_id,
            actor=scene.actor,
            now=NOW,
            zone=ZONE,
        )
    with transaction(engine) as session, pytest.raises(NotYourConsultation):
        other = make_programme(session)
        assert other.id is not None
        create_consultation(
            session, draft=draft(), programme_id=other.id, actor=scene.actor, now=NOW, zone=ZONE
        )


def test_audience_everyone_reaches_all_programmes(engine: Engine, scene: Scene) -> None:
    with transaction(engine) as session:
        make_person(session, telegram_id=7777, programme=make_programme(session))
        probe = Consultation(
            programme_id=scene.programme_id,
            author_id=scene.animator_id,
            title="x",
            audience="everyone",
            opens_at=NOW,
            closes_at=NOW,
        )
        # Five residents, the animator and the outsider.
        assert len(audience_ids(session, probe, reachable=True)) == 7


# ---------------------------------------------------------------- answering


def test_answer_change_and_close(engine: Engine, scene: Scene) -> None:
    cid = _create(engine, scene)
    krystyna, jan = scene.placed[0], scene.placed[1]
    with transaction(engine) as session:
        sheet = choose(
            session, consultation_id=cid, who=Answerer(krystyna), question=0, option=0, now=NOW
        )
        assert sheet.finished and sheet.choices == {0: (0,)}
        # Changing the answer replaces it.
        sheet = choose(
            session, consultation_id=cid, who=Answerer(krystyna), question=0, option=2, now=NOW
        )
        choose(session, consultation_id=cid, who=Answerer(jan), question=0, option=2, now=NOW)
        with pytest.raises(BadAnswer):
            choose(session, consultation_id=cid, who=Answerer(jan), question=0, option=9, now=NOW)
        with pytest.raises(BadAnswer):
            choose(session, consultation_id=cid, who=Answerer(jan), question=3, option=0, now=NOW)
    with read_only(engine) as session:
        counted = results(session, consultation_id=cid)
    assert counted.respondents == 2 and counted.questions[0].counts == (0, 0, 2)
    with transaction(engine) as session:
        queued = close_now(
            session, consultation_id=cid, actor=scene.actor, now=NOW + timedelta(hours=1)
        )
    assert queued == 2
    assert sorted(s.person_id or 0 for s in _sends(engine, "consultation_results")) == sorted(
        [krystyna, jan]
    )
    with transaction(engine) as session, pytest.raises(ConsultationNotOpen):
        choose(
            session,
            consultation_id=cid,
            who=Answerer(krystyna),
            question=0,
            option=1,
            now=NOW + timedelta(hours=2),
        )


def test_a_consultation_not_open_yet_can_be_withdrawn(engine: Engine, scene: Scene) -> None:
    cid = _create(engine, scene, opens="2026-11-25")
    with transaction(engine) as session:
        assert close_now(session, consultation_id=cid, actor=scene.actor, now=NOW) == 0
        assert advance_consultations(session, now=NOW + timedelta(days=3)).opened == []
        with pytest.raises(ConsultationNotOpen):
            close_now(session, consultation_id=cid, actor=scene.actor, now=NOW)
    assert _sends(engine, "consultation") == []


def test_closing_at_the_date_and_not_twice(engine: Engine, scene: Scene) -> None:
    cid = _create(engine, scene, show_results=False)
    end = datetime(2026, 11, 27, 23, 0, tzinfo=UTC)  # Friday ends at midnight in Warsaw
    with transaction(engine) as session:
        assert advance_consultations(session, now=end - timedelta(seconds=1)).closed == []
        assert advance_consultations(session, now=end).closed == [cid]
        assert advance_consultations(session, now=end).closed == []
    assert _sends(engine, "consultation_results") == []


def test_multiple_choice_toggles_and_done_moves_on(engine: Engine, scene: Scene) -> None:
    questions = [
        {"text": "Co?", "multiple": True, "options": ["A", "B", "C"]},
        {"text": "Kiedy?", "multiple": False, "options": ["Rano", "Wieczór"]},
    ]
    cid = _create(
        engine, scene, kind="survey", title="Potrzeby", questions=questions, free="Coś jeszcze?"
    )
    who = Answerer(scene.placed[0])
    with transaction(engine) as session:
        choose(session, consultation_id=cid, who=who, question=0, option=0, now=NOW)
        choose(session, consultation_id=cid, who=who, question=0, option=2, now=NOW)
        sheet = choose(session, consultation_id=cid, who=who, question=0, option=0, now=NOW)
        assert sheet.choices[0] == (2,) and sheet.position == 0
        sheet = move_to(session, consultation_id=cid, who=who, position=1, now=NOW)
        sheet = choose(session, consultation_id=cid, who=who, question=1, option=1, now=NOW)
        assert sheet.at_free_question
        with pytest.raises(ConsultationInvalid):
            write_free_text(session, consultation_id=cid, who=who, text="z" * 10_000, now=NOW)
        sheet = write_free_text(
            session, consultation_id=cid, who=who, text="Ławki przy bloku", now=NOW
        )
        assert sheet.finished
    with read_only(engine) as session:
        assert free_text_answers(session, consultation_id=cid, actor=scene.actor) == [
            "Ławki przy bloku"
        ]
        outsider = Actor(person_id=1)
        with pytest.raises(NotYourConsultation):
            free_text_answers(session, consultation_id=cid, actor=outsider)


def test_people_outside_the_audience_cannot_answer(engine: Engine, scene: Scene) -> None:
    cid = _create(engine, scene, audience="activity", activity_id=scene.activity_id)
    with transaction(engine) as session, pytest.raises(NotInAudience):
        choose(
            session,
            consultation_id=cid,
            who=Answerer(scene.reserve[0]),
            question=0,
            option=0,
            now=NOW,
        )


def test_paper_answers_are_marked_and_only_for_people_without_telegram(
    engine: Engine, scene: Scene
) -> None:
    cid = _create(engine, scene)
    with transaction(engine) as session:
        paper = create_proxy_participant(
            session,
            programme_id=scene.programme_id,
            display_name="Pani Halina",
            created_by_id=scene.animator_id,
        )
        assert paper.id is not None
        paper_id = paper.id
    with transaction(engine) as session:
        choose(
            session,
            consultation_id=cid,
            who=Answerer(paper_id, paper_by=scene.actor),
            question=0,
            option=1,
            now=NOW,
        )
        with pytest.raises(LookupError):  # a resident with Telegram answers for themselves
            choose(
                session,
                consultation_id=cid,
                who=Answerer(scene.placed[0], paper_by=scene.actor),
                question=0,
                option=1,
                now=NOW,
            )
    with read_only(engine) as session:
        counted = results(session, consultation_id=cid)
        row = session.exec(select(ConsultationResponse)).one()
    assert counted.on_paper == 1 and row.channel == "paper"
    assert row.entered_by_id == scene.animator_id


# ---------------------------------------------------------------- erasure and access


@pytest.mark.parametrize("keep", [True, False])
def test_erasure_keeps_choices_under_the_code_or_deletes_them(
    engine: Engine, scene: Scene, keep: bool
) -> None:
    with transaction(engine) as session:
        programme = session.get(Programme, scene.programme_id)
        assert programme is not None
        programme.keep_answers_on_erasure = keep
        session.add(programme)
    cid = _create(engine, scene, kind="survey", title="Potrzeby", free="Coś jeszcze?")
    who = Answerer(scene.placed[0])
    with transaction(engine) as session:
        choose(session, consultation_id=cid, who=who, question=0, option=1, now=NOW)
        write_free_text(session, consultation_id=cid, who=who, text="Mieszkam pod 7", now=NOW)
    with read_only(engine) as session:
        mine = person_data(session, person_id=who.person_id, now=NOW)
        record = mine.consultations[0]
        assert record.answers == (("Kiedy spotkania?", ("Po południu",)),)
        assert record.free_text == "Mieszkam pod 7"
        assert "Po południu" in str(mine.to_json())
        page = render_html(mine, translator("uk"))
        assert "Ваші відповіді в консультаціях" in page and "Mieszkam pod 7" in page
    with read_only(engine) as session:
        preview = erasure_preview(session, person_id=who.person_id, now=NOW)
    assert preview.answers == ("kept" if keep else "deleted")
    with transaction(engine) as session:
        report = erase_person(session, person_id=who.person_id, now=NOW)
    assert (report.consultation_answers_kept, report.consultation_answers_deleted) == (
        (1, 0) if keep else (0, 1)
    )
    with read_only(engine) as session:
        rows = list(session.exec(select(ConsultationResponse)))
        codes = list(session.exec(select(ParticipantCode)))
    if keep:
        assert len(rows) == 1 and rows[0].free_text is None and rows[0].choices == {"0": [1]}
        assert all(code.person_id is None for code in codes)
    else:
        assert rows == [] and codes == []
    with read_only(engine) as session:
        assert consultation_answers_of(session, person_id=who.person_id) == []


# ---------------------------------------------------------------- the evaluator's sheet


def test_the_workbook_sheet_counts_people_and_hides_small_options(engine: Engine) -> None:

    scene = make_scene(engine, NOW, places=3, people=3)
    others = make_people(engine, 9, programme_id=scene.programme_id, first_telegram_id=20_000)
    cid = _create(engine, scene, kind="survey", title="Potrzeby", free="Coś jeszcze?")
    with transaction(engine) as session:
        for n, person_id in enumerate(scene.placed + others):
            # 9 say "Rano", 2 "Po południu", 1 "Wieczorem".
            option = 0 if n < 9 else (1 if n < 11 else 2)
            choose(
                session,
                consultation_id=cid,
                who=Answerer(person_id),
                question=0,
                option=option,
                now=NOW,
            )
        write(session, consultation_id=cid, who=Answerer(others[0]), text="Sekretny tekst", now=NOW)
        close_now(session, consultation_id=cid, actor=scene.actor, now=NOW + timedelta(days=1))
    with read_only(engine) as session:
        programme = session.get(Programme, scene.programme_id)
        assert programme is not None
        report = build_report(
            session,
            programme=programme,
            now=NOW + timedelta(days=2),
            options=ReportOptions(year=2026),
        )
    sheet = next(s for s in report.sheets if s.key == "consultations")
    rows = [[c.value for c in row] for row in sheet.rows]
    assert ["2026", 1, 12, 0] in [r[:4] for r in rows]
    options = {r[0]: r[1] for r in rows if r and r[0] in ("Rano", "Po południu", "Wieczorem")}
    assert options["Rano"] == 9
    assert str(options["Po południu"]) == "<5" and str(options["Wieczorem"]) == "<5"
    assert "Sekretny tekst" not in str(rows)


def test_an_answer_tap_takes_few_statements(engine: Engine, scene: Scene) -> None:

    cid = _create(engine, scene)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(" ".join(str(args[2]).split()[:4]))

    who = Answerer(scene.placed[0])
    event.listen(engine, "before_cursor_execute", count)
    try:
        with transaction(engine) as session:
            choose(session, consultation_id=cid, who=who, question=0, option=0, now=NOW)
        first = len(statements)
        statements.clear()
        with transaction(engine) as session:
            choose(session, consultation_id=cid, who=who, question=0, option=1, now=NOW)
        again = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # BEGIN, the consultation, the audience, the code (created on the first tap, in a
    # savepoint), its lock, the person's row, its insert or update.
    assert first <= 11, statements
    assert again <= 7, statements
    print(f"statements per tap: first {first}, later {again}")


def test_a_translation_keeps_the_layout_of_the_original() -> None:

    d = draft(kind="survey", title="Potrzeby", free="Coś jeszcze?")
    assert layout(d) == "Potrzeby\n\nKiedy spotkania?\nRano\nPo południu\nWieczorem\n\nCoś jeszcze?"
    with pytest.raises(ConsultationInvalid) as shape:
        parse_translation(d, "Needs\n\nWhen?\nMorning\nAfternoon")
    assert shape.value.fault == Fault.TRANSLATION_SHAPE
    with pytest.raises(ConsultationInvalid) as control:
        parse_translation(d, "Needs\n\nWhen?\nMorning\nAfter\u202enoon\nEvening\n\nMore?")
    assert control.value.fault == Fault.CONTROL
    english = parse_translation(d, "Needs\r\n\r\nWhen?\nMorning\n Afternoon \nEvening\n\n\nMore?")
    title, questions, free = localized(
        "Potrzeby", d["questions"], "Coś jeszcze?", {"en": english}, "en"
    )
    assert (title, free) == ("Needs", "More?")
    assert questions[0]["options"] == ["Morning", "Afternoon", "Evening"]
    assert questions[0]["multiple"] is False
    assert localized("Potrzeby", d["questions"], None, {"en": english}, "uk")[0] == "Potrzeby"
