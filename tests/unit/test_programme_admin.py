"""Programmes and editions, and a programme's settings, as storage rules (no Telegram)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from storage.audit import record
from storage.db import read_only, transaction
from storage.messaging.reminders import offsets_for
from storage.models import Activity, AuditEntry, Person, Programme, Registration
from storage.people.onboarding import open_programmes
from storage.people.staff_access import NotAllowed, StaffAction, StaffActor, programmes_for
from storage.programmes.defaults import BUILT_IN_OFFSETS
from storage.programmes.editions import (
    EditionRefusal,
    EditionRefused,
    archived_programmes,
    copy_edition,
    plan_copy,
    rename_programme,
    set_archived,
    set_end_date,
    set_start_date,
    shift_by_weeks,
    suggested_name,
)
from storage.programmes.records import audit_page, data_for_staff, people_without_telegram
from storage.programmes.settings import (
    Setting,
    SettingRefused,
    canonical_offsets,
    canonical_quiet_hours,
    canonical_retention,
    programme_settings,
    set_setting,
)
from storage.programmes.surveys import (
    InvalidQuestionnaire,
    OtherQuestionnaireAnswered,
    choose_questionnaire,
    response_counts,
    shipped_questionnaires,
)
from storage.surveys.questionnaire_files import load_questionnaire
from storage.surveys.questionnaires import SurveyPhase, default_questionnaire_path
from tests.support.series import make_series
from tests.support.signup import make_activity, make_person, make_programme
from tests.support.surveys import answered_survey, changed

WARSAW = ZoneInfo("Europe/Warsaw")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ADMIN_TG, RESIDENT_TG = 100, 400


def _setup(engine: Engine) -> tuple[StaffActor, StaffActor, int]:
    """An administrator, a resident (as a would-be actor) and a programme."""
    with transaction(engine) as session:
        programme = make_programme(session, name="PAL Barwinek 2026")
        admin = make_person(session, telegram_id=ADMIN_TG, name="Anna")
        resident = make_person(session, telegram_id=RESIDENT_TG, programme=programme)
        assert programme.id is not None
        return (
            StaffActor(ADMIN_TG, admin.id, frozenset({ADMIN_TG})),
            StaffActor(RESIDENT_TG, resident.id, frozenset({ADMIN_TG})),
            programme.id,
        )


def _actions(engine: Engine) -> list[str]:
    with read_only(engine) as session:
        return [e.action for e in session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))]


def _programme(engine: Engine, programme_id: int) -> Programme:
    with read_only(engine) as session:
        found = session.get(Programme, programme_id)
        assert found is not None
        return found


def test_rename_checks_the_name_and_is_audited(engine: Engine) -> None:
    admin, resident, pid = _setup(engine)
    with transaction(engine) as session:
        make_programme(session, name="PAL Stare Miasto")
    for bad, reason in (
        ("", EditionRefusal.NAME_LENGTH),
        ("x" * 10_000, EditionRefusal.NAME_LENGTH),
        ("PAL\u0007", EditionRefusal.NAME_CHARACTERS),
        ("PAL  Stare Miasto", EditionRefusal.NAME_TAKEN),
    ):
        with pytest.raises(EditionRefused) as refused, transaction(engine) as session:
            rename_programme(session, actor=admin, programme_id=pid, name=bad, now=NOW)
        assert refused.value.reason is reason, bad
    with pytest.raises(NotAllowed), transaction(engine) as session:
        rename_programme(session, actor=resident, programme_id=pid, name="Mine", now=NOW)
    with transaction(engine) as session:
        rename_programme(session, actor=admin, programme_id=pid, name=" PAL  Barwinek 🌳 ", now=NOW)
    assert _programme(engine, pid).name == "PAL Barwinek 🌳"
    assert _actions(engine) == ["programme.renamed"]


def test_dates_are_local_days_not_in_the_past_and_in_order(engine: Engine) -> None:
    admin, resident, pid = _setup(engine)
    with pytest.raises(EditionRefused) as refused, transaction(engine) as session:
        set_end_date(
            session, actor=admin, programme_id=pid, day=date(2026, 11, 22), zone=WARSAW, now=NOW
        )
    assert refused.value.reason is EditionRefusal.DATE_PAST
    with transaction(engine) as session:
        set_start_date(
            session, actor=admin, programme_id=pid, day=date(2027, 1, 11), zone=WARSAW, now=NOW
        )
        set_end_date(
            session, actor=admin, programme_id=pid, day=date(2027, 6, 30), zone=WARSAW, now=NOW
        )
    with pytest.raises(EditionRefused) as refused, transaction(engine) as session:
        set_end_date(
            session, actor=admin, programme_id=pid, day=date(2027, 1, 10), zone=WARSAW, now=NOW
        )
    assert refused.value.reason is EditionRefusal.END_BEFORE_START
    with pytest.raises(NotAllowed), transaction(engine) as session:
        set_end_date(
            session, actor=resident, programme_id=pid, day=date(2027, 7, 1), zone=WARSAW, now=NOW
        )
    programme = _programme(engine, pid)
    assert programme.starts_at == datetime(2027, 1, 10, 23, 0, tzinfo=UTC)  # 00:00 in Warsaw
    assert programme.ends_at == datetime(2027, 6, 30, 21, 59, tzinfo=UTC)  # 23:59 CEST
    assert _actions(engine) == ["programme.dates_set", "programme.dates_set"]


def test_archive_hides_from_choices_and_keeps_data(engine: Engine) -> None:
    admin, resident, pid = _setup(engine)
    with transaction(engine) as session:
        other = make_programme(session, name="PAL Stare Miasto")
        make_activity(
            session,
            programme=session.get(Programme, pid) or other,
            starts_at=NOW + timedelta(days=3),
        )
    with transaction(engine) as session:
        set_archived(session, actor=admin, programme_id=pid, archived=True, now=NOW)
        set_archived(session, actor=admin, programme_id=pid, archived=True, now=NOW)  # no-op
    with read_only(engine) as session:
        assert [p.name for p in open_programmes(session, now=NOW)] == ["PAL Stare Miasto"]
        assert [
            name
            for _, name in programmes_for(
                session, telegram_id=ADMIN_TG, admin_ids={ADMIN_TG}, action=StaffAction.MANAGE_STAFF
            )
        ] == ["PAL Stare Miasto"]
        assert archived_programmes(session, actor=admin) == [(pid, "PAL Barwinek 2026")]
        # Its activities, people and settings stay.
        assert session.exec(select(Activity).where(Activity.programme_id == pid)).all()
        assert session.exec(select(Person).where(Person.programme_id == pid)).all()
    with pytest.raises(NotAllowed), read_only(engine) as session:
        archived_programmes(session, actor=resident)
    with pytest.raises(NotAllowed), transaction(engine) as session:
        set_archived(session, actor=resident, programme_id=pid, archived=False, now=NOW)
    with transaction(engine) as session:
        set_archived(session, actor=admin, programme_id=pid, archived=False, now=NOW)
    with read_only(engine) as session:
        assert len(open_programmes(session, now=NOW)) == 2
    assert _actions(engine) == ["programme.archived", "programme.restored"]


def test_suggested_name_replaces_or_adds_the_year() -> None:
    assert suggested_name("PAL Barwinek 2026", 2027) == "PAL Barwinek 2027"
    assert suggested_name("PAL 2026 – edycja jesienna", 2027) == "PAL 2027 – edycja jesienna"
    assert suggested_name("PAL Barwinek", 2027) == "PAL Barwinek 2027"


def test_shift_keeps_weekday_and_wall_clock_across_dst() -> None:
    # Tuesday 17 March 2026, 17:00 CET; 3 weeks later is 7 April, 17:00 CEST.
    start = datetime(2026, 3, 17, 16, 0, tzinfo=UTC)
    moved = shift_by_weeks(start, 3, WARSAW)
    assert moved.astimezone(WARSAW).replace(tzinfo=None) == datetime(2026, 4, 7, 17, 0)
    assert moved == datetime(2026, 4, 7, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize("database", ["engine", "postgres_engine"])
def test_copy_edition_shifts_by_whole_weeks_and_copies_no_sign_ups(
    database: str, request: pytest.FixtureRequest
) -> None:
    engine: Engine = request.getfixturevalue(database)
    admin, resident, pid = _setup(engine)
    with transaction(engine) as session:
        source = session.get(Programme, pid)
        assert source is not None
        source.reminder_offsets, source.quiet_hours, source.retention_months = "48h,3h", "off", 24
        source.ends_at = datetime(2026, 12, 18, 22, 59, tzinfo=UTC)
        # Tuesday 24 Nov 2026 17:00 and Wednesday 2 Dec 2026 10:30, winter time (CET).
        tuesday = make_activity(
            session,
            programme=source,
            starts_at=datetime(2026, 11, 24, 16, 0, tzinfo=UTC),
            places=12,
            deadline=datetime(2026, 11, 23, 16, 0, tzinfo=UTC),
        )
        wednesday = make_activity(
            session,
            programme=source,
            title="Komputer dla seniorów",
            starts_at=datetime(2026, 12, 2, 9, 30, tzinfo=UTC),
        )
        cancelled = make_activity(
            session,
            programme=source,
            title="Odwołane",
            starts_at=datetime(2026, 12, 3, 9, 0, tzinfo=UTC),
        )
        cancelled.status = "cancelled"
        person = make_person(session, telegram_id=555, programme=source)
        assert tuesday.id is not None and person.id is not None
        session.add(Registration(activity_id=tuesday.id, person_id=person.id, status="confirmed"))
        assert wednesday.id is not None
    # The new edition starts on Monday 29 March 2027, the day after the change to summer
    # time: the copies keep their local times (17:00, 10:30), not their UTC instants.
    with read_only(engine) as session:
        plan = plan_copy(
            session,
            actor=admin,
            programme_id=pid,
            starts_on=date(2027, 3, 29),
            name=None,
            zone=WARSAW,
            now=NOW,
        )
    assert plan.name == "PAL Barwinek 2027" and plan.activities == 2
    with pytest.raises(NotAllowed), transaction(engine) as session:
        copy_edition(
            session,
            actor=resident,
            programme_id=pid,
            starts_on=date(2027, 3, 29),
            name=None,
            zone=WARSAW,
            now=NOW,
        )
    with transaction(engine) as session:
        edition, done = copy_edition(
            session,
            actor=admin,
            programme_id=pid,
            starts_on=date(2027, 3, 29),
            name=None,
            zone=WARSAW,
            now=NOW,
        )
        new_id = edition.id
    assert done.weeks == plan.weeks
    with read_only(engine) as session:
        copied = session.get(Programme, new_id)
        assert copied is not None
        assert (copied.reminder_offsets, copied.quiet_hours, copied.retention_months) == (
            "48h,3h",
            "off",
            24,
        )
        assert copied.starts_at is not None
        assert copied.starts_at.astimezone(WARSAW).date() == date(2027, 3, 29)
        rows = session.exec(
            select(Activity)
            .where(Activity.programme_id == new_id)
            .order_by(col(Activity.starts_at))
        ).all()
        assert [a.title for a in rows] == ["Warsztaty rękodzieła", "Komputer dla seniorów"]
        first, second = rows
        local = first.starts_at.astimezone(WARSAW)
        assert (local.weekday(), local.time()) == (1, time(17, 0))  # Tuesday 17:00, summer
        assert local.date() >= date(2027, 3, 29)
        assert first.ends_at - first.starts_at == timedelta(hours=2)
        assert first.places == 12 and first.venue == tuesday.venue
        assert first.registration_deadline is not None
        assert first.registration_deadline.astimezone(WARSAW).time() == time(17, 0)
        second_local = second.starts_at.astimezone(WARSAW)
        assert (second_local.weekday(), second_local.time()) == (2, time(10, 30))
        assert (second_local.date() - date(2026, 12, 2)).days % 7 == 0
        ids = [a.id for a in rows]
        assert not session.exec(
            select(Registration).where(col(Registration.activity_id).in_(ids))
        ).all()
    assert _actions(engine) == ["programme.copied"]
    # The same name again is refused; a start before the source is too.
    with pytest.raises(EditionRefused) as refused, read_only(engine) as session:
        plan_copy(
            session,
            actor=admin,
            programme_id=pid,
            starts_on=date(2027, 3, 29),
            name=None,
            zone=WARSAW,
            now=NOW,
        )
    assert refused.value.reason is EditionRefusal.NAME_TAKEN
    with pytest.raises(EditionRefused) as refused, read_only(engine) as session:
        plan_copy(
            session,
            actor=admin,
            programme_id=pid,
            starts_on=date(2026, 11, 23),
            name="X",
            zone=WARSAW,
            now=NOW,
        )
    assert refused.value.reason is EditionRefusal.NOT_AFTER_SOURCE


@pytest.mark.parametrize("database", ["engine", "postgres_engine"])
def test_setters_validate_and_audit(database: str, request: pytest.FixtureRequest) -> None:
    engine: Engine = request.getfixturevalue(database)
    admin, resident, pid = _setup(engine)
    assert canonical_offsets("2h, 24h") == "24h,2h"
    assert canonical_offsets("90m") == "90m"
    assert canonical_quiet_hours("21:00-8:00") == "21:00-08:00"
    assert canonical_quiet_hours("off") == "off"
    assert canonical_retention("024") == "24"
    for bad in ("", "soon", "24h,2h,1h,30m,15m", "5m", "30d", "🙂", "x" * 10_000):
        with pytest.raises(SettingRefused):
            canonical_offsets(bad)
    for bad in ("21-8", "25:00-08:00", "08:00-08:00"):
        with pytest.raises(SettingRefused):
            canonical_quiet_hours(bad)
    for bad in ("0", "121", "dwa"):
        with pytest.raises(SettingRefused):
            canonical_retention(bad)
    with pytest.raises(NotAllowed), transaction(engine) as session:
        set_setting(
            session,
            actor=resident,
            programme_id=pid,
            setting=Setting.REMINDERS,
            value="24h",
            now=NOW,
        )
    with pytest.raises(SettingRefused), transaction(engine) as session:
        set_setting(
            session,
            actor=admin,
            programme_id=pid,
            setting=Setting.REMINDERS,
            value="never",
            now=NOW,
        )
    with transaction(engine) as session:
        for setting, value in (
            (Setting.REMINDERS, "3h, 48h"),
            (Setting.QUIET_HOURS, "22:00-07:00"),
            (Setting.FOLLOWUPS, "off"),
            (Setting.RETENTION, "36"),
            (Setting.KEEP_ANSWERS, "delete"),
        ):
            set_setting(
                session, actor=admin, programme_id=pid, setting=setting, value=value, now=NOW
            )
    programme = _programme(engine, pid)
    assert (
        programme.reminder_offsets,
        programme.quiet_hours,
        programme.survey_followups,
        programme.retention_months,
        programme.keep_answers_on_erasure,
    ) == ("48h,3h", "22:00-07:00", False, 36, False)
    assert offsets_for(programme, BUILT_IN_OFFSETS) == (timedelta(hours=48), timedelta(hours=3))
    with transaction(engine) as session:
        set_setting(
            session, actor=admin, programme_id=pid, setting=Setting.RETENTION, value="off", now=NOW
        )
        set_setting(
            session,
            actor=admin,
            programme_id=pid,
            setting=Setting.REMINDERS,
            value="default",
            now=NOW,
        )
    programme = _programme(engine, pid)
    assert programme.retention_months is None and programme.reminder_offsets is None
    with read_only(engine) as session:
        view = programme_settings(session, actor=admin, programme_id=pid)
        assert view.name == "PAL Barwinek 2026" and view.activities == 0
    with read_only(engine) as session:
        fields = [e.details["field"] for e in session.exec(select(AuditEntry))]
    assert fields == [
        Setting.REMINDERS,
        Setting.QUIET_HOURS,
        Setting.FOLLOWUPS,
        Setting.RETENTION,
        Setting.KEEP_ANSWERS,
        Setting.RETENTION,
        Setting.REMINDERS,
    ]


def test_questionnaire_choice_counts_and_refusals(engine: Engine, tmp_path: Path) -> None:
    admin, resident, pid = _setup(engine)
    shipped = shipped_questionnaires()
    assert shipped[0] == default_questionnaire_path() and len(shipped) >= 2
    broken = changed(tmp_path, lambda d: d["items"][0]["text"].pop("pl"))
    with pytest.raises(InvalidQuestionnaire) as invalid, transaction(engine) as session:
        choose_questionnaire(session, actor=admin, programme_id=pid, path=broken, now=NOW)
    assert any(p.line and "items[0].text" in p.location for p in invalid.value.problems)
    with pytest.raises(NotAllowed), transaction(engine) as session:
        choose_questionnaire(session, actor=resident, programme_id=pid, path=shipped[1], now=NOW)
    with transaction(engine) as session:
        q = choose_questionnaire(session, actor=admin, programme_id=pid, path=shipped[1], now=NOW)
    assert _programme(engine, pid).survey_path == str(shipped[1])
    with transaction(engine) as session:
        choose_questionnaire(session, actor=admin, programme_id=pid, path=shipped[0], now=NOW)
    assert _programme(engine, pid).survey_path is None  # the default is "none chosen"
    assert q.id
    with transaction(engine) as session:
        programme = session.get(Programme, pid)
        assert programme is not None
        for n in range(3):
            person = make_person(session, telegram_id=900 + n, programme=programme)
            answered_survey(
                session,
                person=person,
                programme=programme,
                phase=SurveyPhase.INITIAL,
                values={},
                now=NOW,
            )
            if n == 0:
                answered_survey(
                    session,
                    person=person,
                    programme=programme,
                    phase=SurveyPhase.FINAL,
                    values={},
                    now=NOW,
                )
    with read_only(engine) as session:
        counts = response_counts(session, actor=admin, programme_id=pid)
    assert (counts.initial, counts.final, counts.pairs) == (3, 1, 1)
    with pytest.raises(NotAllowed), read_only(engine) as session:
        response_counts(session, actor=resident, programme_id=pid)
    # Answered with the default questionnaire: another one would break the comparison.
    other = next(
        path
        for path in shipped[1:]
        if load_questionnaire(path).id != load_questionnaire(shipped[0]).id
    )
    with pytest.raises(OtherQuestionnaireAnswered), transaction(engine) as session:
        choose_questionnaire(session, actor=admin, programme_id=pid, path=other, now=NOW)
    assert _programme(engine, pid).survey_path is None
    assert _actions(engine)[:2] == ["survey.questionnaire_chosen", "survey.questionnaire_chosen"]


@pytest.mark.parametrize("database", ["engine", "postgres_engine"])
def test_audit_pages_and_data_files(database: str, request: pytest.FixtureRequest) -> None:
    engine: Engine = request.getfixturevalue(database)
    admin, resident, pid = _setup(engine)
    with transaction(engine) as session:
        programme = session.get(Programme, pid)
        assert programme is not None
        paper = Person(display_name="Helena", programme_id=pid, created_by_id=admin.person_id)
        session.add(paper)
        session.flush()
        for n in range(12):
            record(
                session,
                actor_id=admin.person_id,
                action="programme.setting_set",
                subject_type="programme",
                subject_id=pid,
                details={"n": n},
                at=NOW + timedelta(minutes=n),
            )
        record(
            session,
            actor_id=None,
            action="programme.created",
            subject_type="programme",
            subject_id=pid + 1000,
            at=NOW,
        )
        record(
            session,
            actor_id=None,
            action="staff.removed",
            subject_type="person",
            subject_id=1,
            details={"programme_id": pid + 1000, "role": "animator"},
            at=NOW - timedelta(minutes=2),
        )
        record(
            session,
            actor_id=None,
            action="invitation.created",
            subject_type="invitation",
            subject_id=1,
            details={"programme_id": pid, "role": "animator"},
            at=NOW - timedelta(minutes=1),
        )
        paper_id = paper.id
    assert paper_id is not None
    with read_only(engine) as session:
        first = audit_page(session, actor=admin, programme_id=pid, page=0)
        second = audit_page(session, actor=admin, programme_id=pid, page=1)
        everything = audit_page(session, actor=admin, programme_id=None, page=1)
        assert [e.details["n"] for e in first.entries] == list(range(11, 1, -1))
        assert first.has_older and not second.has_older
        assert [e.details.get("n") for e in second.entries] == [1, 0, None]
        assert second.entries[-1].action == "invitation.created"
        assert len(everything.entries) == 5
        assert people_without_telegram(session, actor=admin, programme_id=pid) == [
            (paper_id, "Helena")
        ]
    for who, programme_id in ((resident, pid), (admin, pid + 1)):
        with pytest.raises(NotAllowed), read_only(engine) as session:
            audit_page(session, actor=who, programme_id=programme_id, page=0)
    with pytest.raises(NotAllowed), transaction(engine) as session:
        data_for_staff(
            session, actor=admin, programme_id=pid, person_id=resident.person_id or 0, now=NOW
        )  # a Telegram user gets their own file with /mydata
    with transaction(engine) as session:
        data = data_for_staff(session, actor=admin, programme_id=pid, person_id=paper_id, now=NOW)
    assert data.display_name == "Helena"
    assert _actions(engine)[-1] == "person.data_exported"


def _statements(engine: Engine) -> list[int]:
    counter = [0]

    def count(*_: object) -> None:
        counter[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    return counter


@pytest.mark.parametrize("activities", [3, 60])
def test_statements_per_copy_and_screen_do_not_grow_with_the_template(
    engine: Engine, activities: int
) -> None:
    admin, _, pid = _setup(engine)
    with transaction(engine) as session:
        programme = session.get(Programme, pid)
        assert programme is not None
        for i in range(activities):
            make_activity(
                session, programme=programme, starts_at=NOW + timedelta(days=1 + i, hours=i % 4)
            )
    counter = _statements(engine)
    with read_only(engine) as session:
        programme_settings(session, actor=admin, programme_id=pid)
    assert counter[0] <= 6  # begin, the programme, the access check, the count
    counter[0] = 0
    with transaction(engine) as session:
        copy_edition(
            session,
            actor=admin,
            programme_id=pid,
            starts_on=date(2027, 11, 23),
            name=None,
            zone=WARSAW,
            now=NOW,
        )
    assert counter[0] <= 16  # the same for 3 and for 60 activities: one executemany


def test_copying_an_edition_starts_its_weekly_series_again_with_next_years_holidays(
    engine: Engine,
) -> None:
    admin, _, pid = _setup(engine)
    # Mondays from 2 March to 27 April 2026: Easter Monday (6 April) is skipped.
    with transaction(engine) as session:
        _, dates = make_series(
            session,
            programme_id=pid,
            first_day=date(2026, 3, 2),
            last_day=date(2026, 4, 27),
            now=datetime(2026, 2, 1, tzinfo=UTC),
        )
        assert date(2026, 4, 6) not in [a.starts_at.astimezone(WARSAW).date() for a in dates]
        dates[2].status = "cancelled"  # this year only
        make_activity(session, programme=_programme(engine, pid), starts_at=NOW + timedelta(1))
    # 52 weeks later: Mondays 1 March to 26 April 2027; Easter Monday is 29 March 2027.
    with read_only(engine) as session:
        plan = plan_copy(
            session,
            actor=admin,
            programme_id=pid,
            starts_on=date(2027, 3, 1),
            name=None,
            zone=WARSAW,
            now=NOW,
        )
    assert plan.activities == 1 + 8
    with transaction(engine) as session:
        edition, _ = copy_edition(
            session,
            actor=admin,
            programme_id=pid,
            starts_on=date(2027, 3, 1),
            name=None,
            zone=WARSAW,
            now=NOW,
        )
        new_id = edition.id
    with read_only(engine) as session:
        copied = session.exec(
            select(Activity)
            .where(Activity.programme_id == new_id, col(Activity.series_id).is_not(None))
            .order_by(col(Activity.starts_at))
        ).all()
    days = [a.starts_at.astimezone(WARSAW).date() for a in copied]
    assert len(days) == 8 and date(2027, 3, 29) not in days and date(2027, 3, 15) in days
    assert all(a.starts_at.astimezone(WARSAW).time() == time(17) for a in copied)
    assert len({a.series_id for a in copied}) == 1
    assert copied[0].series_id not in {a.series_id for a in dates}
