"""The new-activity wizard's rules: every step validated, earlier answers kept, publish."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from schedules.clock import FrozenClock
from storage.activities.draft_questions import DraftInvalid, Problem, Step
from storage.activities.drafts import (
    answer,
    moments,
    next_step,
    previous_step,
    series_dates,
    validate_complete,
)
from storage.activities.listing import upcoming_activities
from storage.activities.wizard import known_categories, publish, recent_venues
from storage.db import transaction
from storage.models import Activity, AuditEntry
from tests.support.signup import make_activity, make_person, make_programme

WARSAW = ZoneInfo("Europe/Warsaw")


def _fill(now: datetime, **overrides: str) -> dict[str, Any]:
    answers = {
        Step.TITLE: "Warsztaty ceramiki",
        Step.CATEGORY: "warsztaty",
        Step.DATE: "jutro",
        Step.START: "17:00",
        Step.END: "90 min",
        Step.REPEAT: "once",
        Step.VENUE: "Klub Sąsiedzki",
        Step.PLACES: "12",
        Step.DEADLINE: "none",
        Step.DESCRIPTION: "Glina i farby na miejscu.",
    }
    for key, value in overrides.items():
        answers[Step(key)] = value
    draft: dict[str, Any] = {}
    for step, text in answers.items():
        draft = answer(draft, step, text, now=now, zone=WARSAW)
    return draft


def _refused(draft: dict[str, Any], step: Step, text: str, now: datetime) -> DraftInvalid:
    before = dict(draft)
    with pytest.raises(DraftInvalid) as caught:
        answer(draft, step, text, now=now, zone=WARSAW)
    assert draft == before, "a refused answer must leave the draft as it was"
    return caught.value


def test_a_full_draft_describes_start_end_and_deadline(clock: FrozenClock) -> None:
    draft = _fill(clock.now(), l="1d")
    assert draft["date"] == "2026-11-24"
    assert draft["start"] == "17:00"
    assert draft["minutes"] == 90
    assert next_step(draft) == Step.PREVIEW
    # 17:00 in Warsaw in November is 16:00 UTC.
    assert draft["deadline"] == {"before_minutes": 1440}


@pytest.mark.parametrize(
    ("step", "text", "problem"),
    [
        (Step.TITLE, "   ", Problem.EMPTY),
        (Step.TITLE, "x" * 101, Problem.TOO_LONG),
        (Step.TITLE, "Warsztaty\x00", Problem.CONTROL),
        (Step.TITLE, "Warsztaty\u202e", Problem.CONTROL),
        (Step.CATEGORY, "", Problem.EMPTY),
        (Step.DATE, "kiedyś", Problem.DATE_NOT_UNDERSTOOD),
        (Step.DATE, "1.1.2026", Problem.DATE_PAST),
        (Step.DATE, "1.1.2030", Problem.DATE_TOO_FAR),
        (Step.START, "wieczorem", Problem.TIME_NOT_UNDERSTOOD),
        (Step.START, "25:00", Problem.TIME_NOT_UNDERSTOOD),
        (Step.END, "długo", Problem.END_NOT_UNDERSTOOD),
        (Step.END, "16:00", Problem.END_NOT_AFTER_START),
        (Step.END, "17:00", Problem.END_NOT_AFTER_START),
        (Step.END, "14 h", Problem.END_TOO_LATE),
        (Step.VENUE, "\n", Problem.EMPTY),
        (Step.PLACES, "dużo", Problem.PLACES_NOT_NUMBER),
        (Step.PLACES, "0", Problem.PLACES_RANGE),
        (Step.PLACES, "501", Problem.PLACES_RANGE),
        (Step.PLACES, "-3", Problem.PLACES_NOT_NUMBER),
        (Step.DEADLINE, "kiedy chcesz", Problem.DEADLINE_NOT_UNDERSTOOD),
        (Step.DEADLINE, "jutro 18:00", Problem.DEADLINE_NOT_BEFORE_START),
        (Step.DEADLINE, "dziś 8:00", Problem.DEADLINE_PAST),
        (Step.DESCRIPTION, "a" * 2001, Problem.TOO_LONG),
    ],
)
def test_each_step_refuses_bad_answers_and_keeps_the_draft(
    clock: FrozenClock, step: Step, text: str, problem: Problem
) -> None:
    draft = _fill(clock.now())
    assert _refused(draft, step, text, clock.now()).problem == problem


def test_today_with_a_start_time_already_passed_is_refused(clock: FrozenClock) -> None:
    # 09:00 UTC is 10:00 in Warsaw.
    draft = _fill(clock.now())
    draft = answer(draft, Step.DATE, "dziś", now=clock.now(), zone=WARSAW)
    error = _refused(draft, Step.START, "9:30", clock.now())
    assert error.problem == Problem.START_PAST
    assert answer(draft, Step.START, "10:30", now=clock.now(), zone=WARSAW)["start"] == "10:30"


def test_moving_the_date_earlier_than_a_typed_deadline_is_refused(clock: FrozenClock) -> None:
    draft = _fill(clock.now(), d="5.12", l="3.12 12:00")
    error = _refused(draft, Step.DATE, "2.12", clock.now())
    assert error.problem == Problem.DEADLINE_NOT_BEFORE_START


def test_a_relative_deadline_moves_with_the_date(clock: FrozenClock) -> None:
    draft = _fill(clock.now(), d="5.12", l="2d")
    moved = answer(draft, Step.DATE, "10.12", now=clock.now(), zone=WARSAW)
    assert moved["deadline"] == {"before_minutes": 2880}


def test_two_days_before_a_start_tomorrow_is_already_past(clock: FrozenClock) -> None:
    draft = _fill(clock.now())
    assert _refused(draft, Step.DEADLINE, "2d", clock.now()).problem == Problem.DEADLINE_PAST


def test_places_accept_a_number_with_a_word(clock: FrozenClock) -> None:
    draft = _fill(clock.now())
    assert answer(draft, Step.PLACES, "20 miejsc", now=clock.now(), zone=WARSAW)["places"] == 20
    assert answer(draft, Step.PLACES, "500", now=clock.now(), zone=WARSAW)["places"] == 500


def test_description_keeps_line_breaks_title_does_not(clock: FrozenClock) -> None:
    draft = _fill(clock.now(), t="Spacer\nz kijami", x="Zbiórka przy bramie.\nWeź wodę.")
    assert draft["title"] == "Spacer z kijami"
    assert draft["description"] == "Zbiórka przy bramie.\nWeź wodę."


def test_steps_go_forward_back_and_skip_answered_ones(clock: FrozenClock) -> None:
    assert next_step({}) == Step.TITLE
    draft = answer({}, Step.TITLE, "Spacer", now=clock.now(), zone=WARSAW)
    assert next_step(draft, Step.TITLE) == Step.CATEGORY
    assert previous_step(Step.CATEGORY) == Step.TITLE
    assert previous_step(Step.TITLE) is None
    assert previous_step(Step.PREVIEW) == Step.DESCRIPTION


def test_wall_clock_length_across_the_dst_change(clock: FrozenClock) -> None:
    clock.set(datetime(2027, 3, 20, 9, 0, tzinfo=UTC))
    # Clocks go forward at 02:00 on 28 March 2027: a 1:00–4:00 night walk is 3 wall hours.
    draft = _fill(clock.now(), d="28.03", s="1:00", e="do 4:00", l="none")

    found = moments(draft, WARSAW)
    assert found.ends_at - found.starts_at == timedelta(hours=2)
    assert found.ends_at.astimezone(WARSAW).hour == 4


def test_publish_makes_the_activity_visible_and_audited(engine: Engine, clock: FrozenClock) -> None:
    with transaction(engine) as session:
        programme = make_programme(session, open_until=clock.now() + timedelta(hours=2))
        animator = make_person(session, telegram_id=700, name="Ewa", programme=programme)
        assert programme.id is not None and animator.id is not None
        activity = publish(
            session,
            draft=_fill(clock.now(), l="1h"),
            programme_id=programme.id,
            organiser_id=animator.id,
            now=clock.now(),
            zone=WARSAW,
        )
        assert activity.organiser_id == animator.id
        assert activity.starts_at == datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
        assert activity.ends_at == datetime(2026, 11, 24, 17, 30, tzinfo=UTC)
        assert activity.registration_deadline == datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
        # The programme stays open for sign-ups until its newest activity starts.
        assert programme.signup_open_until == activity.starts_at
        page = upcoming_activities(session, programme_id=programme.id, now=clock.now())
        assert [item.activity.id for item in page.items] == [activity.id]
        entry = session.exec(select(AuditEntry)).one()
        assert (entry.action, entry.actor_id, entry.subject_id) == (
            "activity.created",
            animator.id,
            activity.id,
        )
        assert "Warsztaty" not in str(entry.details)


def test_publish_checks_the_draft_again_when_time_has_passed(
    engine: Engine, clock: FrozenClock
) -> None:
    draft = _fill(clock.now())
    clock.advance(timedelta(days=2))
    with transaction(engine) as session:
        programme = make_programme(session)
        animator = make_person(session, telegram_id=701, programme=programme)
        assert programme.id is not None and animator.id is not None
        with pytest.raises(DraftInvalid) as caught:
            publish(
                session,
                draft=draft,
                programme_id=programme.id,
                organiser_id=animator.id,
                now=clock.now(),
                zone=WARSAW,
            )
        assert caught.value.problem == Problem.START_PAST
    with transaction(engine) as session:
        assert session.exec(select(Activity)).all() == []


def test_publish_refuses_an_incomplete_draft(engine: Engine, clock: FrozenClock) -> None:
    draft = answer({}, Step.TITLE, "Spacer", now=clock.now(), zone=WARSAW)
    with transaction(engine) as session, pytest.raises(DraftInvalid) as caught:
        publish(session, draft=draft, programme_id=1, organiser_id=1, now=clock.now(), zone=WARSAW)
    assert caught.value.problem == Problem.INCOMPLETE


def test_category_and_venue_suggestions(engine: Engine, clock: FrozenClock) -> None:
    with transaction(engine) as session:
        programme = make_programme(session)
        other = make_programme(session)
        start = clock.now() + timedelta(days=3)
        make_activity(
            session, programme=programme, starts_at=start, category="spacer", venue="Park Miejski"
        )
        make_activity(session, programme=programme, starts_at=start, category="warsztaty")
        make_activity(session, programme=programme, starts_at=start, category="warsztaty")
        make_activity(session, programme=other, starts_at=start, category="sport", venue="Hala")
        assert programme.id is not None
        assert known_categories(session, programme_id=programme.id) == ["warsztaty", "spacer"]
        venues = recent_venues(session, programme_id=programme.id)
        assert set(venues) == {"Park Miejski", "Klub Sąsiedzki, ul. Słoneczna 5"}


def test_weekly_repeat_from_a_button_or_typed_with_dates_to_skip(clock: FrozenClock) -> None:
    weekly = _fill(clock.now(), r="w4")
    assert weekly["repeat"] == {"until": "2026-12-15", "skip": []}
    found = series_dates(weekly, WARSAW)
    assert found is not None and len(found.dates) == 4
    typed = _fill(clock.now(), r="do 22.12 oprócz 1.12")
    assert typed["repeat"] == {"until": "2026-12-22", "skip": ["2026-12-01"]}
    assert next_step(typed) == Step.PREVIEW
    assert validate_complete(typed, now=clock.now(), zone=WARSAW).starts_at.day == 24
    assert _fill(clock.now(), r="raz")["repeat"] is None


def test_a_bad_repeat_is_refused_and_changes_nothing(clock: FrozenClock) -> None:
    draft = _fill(clock.now())
    for text, problem in (
        ("kiedyś", Problem.REPEAT_NOT_UNDERSTOOD),
        ("do 25.11", Problem.REPEAT_TOO_SOON),
        ("do 22.12 oprócz 2.12", Problem.REPEAT_SKIP_NOT_A_DATE),
        ("do 24.11.2028", Problem.REPEAT_TOO_MANY),
    ):
        assert _refused(draft, Step.REPEAT, text, clock.now()).problem == problem


def test_a_new_date_keeps_the_repeat_only_while_it_still_makes_a_series(
    clock: FrozenClock,
) -> None:
    draft = _fill(clock.now(), r="do 22.12 oprócz 1.12")
    # A week later: still a series, the skipped Tuesday still one of its dates.
    later = answer(draft, Step.DATE, "1.12", now=clock.now(), zone=WARSAW)
    assert later["repeat"] == {"until": "2026-12-22", "skip": ["2026-12-01"]}
    # Wednesday: the skipped Tuesday is no longer a date of it and goes.
    wednesday = answer(draft, Step.DATE, "25.11", now=clock.now(), zone=WARSAW)
    assert wednesday["repeat"] == {"until": "2026-12-22", "skip": []}
    # Too close to the last date for two dates: the repeat question is asked again.
    late = answer(draft, Step.DATE, "20.12", now=clock.now(), zone=WARSAW)
    assert "repeat" not in late and next_step(late) == Step.REPEAT
