"""/admin programme screens through the real Application: Anna (administrator) renames a
programme, sets its dates and reminder times, archives it, copies an edition, chooses a
questionnaire (shipped, or a YAML file sent in the chat), opens the final survey, reads the
audit trail and gets a data file; every change waits for "Yes"; a resident and an animator
get polite refusals and change nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.settings import Settings, load_settings
from schedules.clock import FrozenClock
from storage.db import read_only, transaction
from storage.models import Activity, AuditEntry, Dialog, Person, Programme, RoleGrant
from storage.surveys.questionnaires import SurveyPhase
from tests.conftest import TEST_TOKEN
from tests.support.chat import ChatUser
from tests.support.documents import FileRecordingRequest, send_document
from tests.support.recording import RecordingRequest
from tests.support.signup import make_activity, make_person, make_programme
from tests.support.surveys import answered_survey, default_data

ANNA, EWA, KRYSTYNA = 7001, 7002, 7004
WARSAW = ZoneInfo("Europe/Warsaw")

NOT_STAFF = "To jest tylko dla administratorów i koordynatorów programów."


@pytest.fixture
def rec() -> RecordingRequest:
    """The offline Bot API, with files people send."""
    return FileRecordingRequest()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Anna is an administrator; questionnaires sent in the chat are kept under tmp_path."""
    return load_settings(
        _env_file=None,
        token=TEST_TOKEN,
        database_url=db_url,
        admin_ids=str(ANNA),
        surveys_dir=str(tmp_path / "surveys"),
    )


@pytest.fixture
def programme_id(engine: Engine) -> int:
    """A programme with a Tuesday activity; Anna, Ewa (its animator) and Krystyna (a
    resident) have finished /start."""
    with transaction(engine) as session:
        programme = make_programme(session, name="PAL Barwinek 2026")
        make_activity(
            session, programme=programme, starts_at=datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
        )
        make_person(session, telegram_id=ANNA, name="Anna", language="en")
        make_person(session, telegram_id=EWA, name="Ewa", programme=programme)
        make_person(session, telegram_id=KRYSTYNA, name="Krystyna", programme=programme)
        assert programme.id is not None
        session.add(RoleGrant(telegram_id=EWA, role="animator", programme_id=programme.id))
        return programme.id


def _programme(engine: Engine, programme_id: int) -> Programme:
    with read_only(engine) as session:
        found = session.get(Programme, programme_id)
        assert found is not None
        return found


def _actions(engine: Engine) -> list[str]:
    with read_only(engine) as session:
        return [e.action for e in session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))]


async def _open(anna: ChatUser) -> None:
    await anna.send("/admin")
    await anna.press("PAL Barwinek")
    await anna.press("Programme: dates, settings, surveys")


async def test_rename_dates_and_reminder_times_are_confirmed(
    chat_user: Callable[..., ChatUser], engine: Engine, programme_id: int
) -> None:
    anna = chat_user(ANNA, language_code="en")
    await _open(anna)
    assert anna.last.text.startswith("⚙️ Programme “PAL Barwinek 2026”")
    assert "1 activity planned" in anna.last.text
    await anna.press("Name")
    await anna.send("x" * 10_000)
    assert anna.last.text.startswith("This is too long.")
    await anna.send("PAL Barwinek 2027")
    assert anna.last.text == "Change name of “PAL Barwinek 2026” to: PAL Barwinek 2027?"
    assert _programme(engine, programme_id).name == "PAL Barwinek 2026"  # not yet
    confirm = dict(anna.last.buttons())["✅ Yes, change it"]
    await anna.press("Yes, change it")
    assert anna.alerts()[-1] == "Saved."
    assert _programme(engine, programme_id).name == "PAL Barwinek 2027"
    await anna.press_data(confirm)  # the same confirmation again: stale
    assert anna.alerts()[-1] == "This button is no longer active. Open the menu again."

    await anna.press("Reminder times")
    assert "Reminders now: " in anna.last.text and "(default)" in anna.last.text
    for bad in ("🙂🙂", "soon please"):
        await anna.send(bad)
        assert anna.last.text == "Type times like “24h, 2h” (h: hours, m: minutes):"
    await anna.send("30d")
    assert anna.last.text.startswith("Each time must be from 15m to 336h")
    await anna.send("2h, 24h")
    assert anna.last.text == (
        "Change reminders before an activity of “PAL Barwinek 2027” to: 24h, 2h?"
    )
    await anna.press("Cancel")
    assert anna.alerts()[-1] == "Nothing changed."
    assert _programme(engine, programme_id).reminder_offsets is None
    await anna.press("Reminder times")
    await anna.send("2h, 24h")
    await anna.press("Yes, change it")
    assert _programme(engine, programme_id).reminder_offsets == "24h,2h"
    assert "Reminders before an activity: 24h, 2h" in anna.last.text

    await anna.press("Quiet hours")
    await anna.send("21-8")
    assert anna.last.text == "Type quiet hours like “21:00-08:00”, or “off”:"
    await anna.send("21:30-7:00")
    await anna.press("Yes, change it")
    assert _programme(engine, programme_id).quiet_hours == "21:30-07:00"

    await anna.press("📅 End")
    await anna.send("01.01.2020")
    assert anna.last.text == "That day has already passed. Type a day from today on:"
    await anna.send("not a date at all")
    assert anna.last.text == "I did not understand the date. Type it like 12.01.2027:"
    await anna.send("30.06.2027")
    assert anna.last.text == "Change end of “PAL Barwinek 2027” to: 30 June 2027?"
    await anna.press("Yes, change it")
    await anna.press("📅 Start")
    await anna.send("01.07.2027")
    assert anna.last.text == "The end cannot be before the start. Type another day:"
    await anna.send("11.01.2027")
    await anna.press("Yes, change it")
    programme = _programme(engine, programme_id)
    assert programme.ends_at is not None and programme.starts_at is not None
    assert programme.starts_at.astimezone(WARSAW).date().isoformat() == "2027-01-11"
    assert "End: 30 June 2027" in anna.last.text
    assert _actions(engine) == [
        "programme.renamed",
        "programme.setting_set",
        "programme.setting_set",
        "programme.dates_set",
        "programme.dates_set",
    ]


async def test_follow_ups_retention_archive_and_a_new_edition(
    chat_user: Callable[..., ChatUser], engine: Engine, programme_id: int
) -> None:
    with transaction(engine) as session:
        row = session.exec(select(Person).where(Person.telegram_id == ANNA)).one()
        row.language = "pl"  # Anna reads Polish in this test
        session.add(row)
    anna = chat_user(ANNA, language_code="pl")
    await anna.send("/admin")
    await anna.press("PAL Barwinek")
    await anna.press("Program: daty, ustawienia, ankiety")
    await anna.press("Wyłącz przypomnienia o ankietach")
    assert anna.last.text.startswith("Zmienić przypomnienia o ankietach programu")
    assert _programme(engine, programme_id).survey_followups is True
    await anna.press("Tak, zmień")
    assert _programme(engine, programme_id).survey_followups is False
    await anna.press("Usuwanie danych po")
    await anna.send("0")
    assert anna.last.text == "Wpisz liczbę miesięcy od 1 do 120 albo „off”:"
    await anna.send("24")
    assert anna.last.text.endswith("na: 24 miesiące po zakończeniu?")
    await anna.press("Tak, zmień")
    assert _programme(engine, programme_id).retention_months == 24

    await anna.press("Kopiuj jako nową edycję")
    await anna.send("04.01.2027")
    assert anna.last.text == (
        "Utworzyć edycję „PAL Barwinek 2027” od 4 stycznia 2027? Zostanie "
        "skopiowane 1 wydarzenie, przesunięte o tygodnie: 6, bez zapisów."
    )
    await anna.press("Tak, utwórz")
    assert anna.last.text.startswith("⚙️ Program „PAL Barwinek 2027”")
    with read_only(engine) as session:
        edition = session.exec(select(Programme).where(Programme.name == "PAL Barwinek 2027")).one()
        copied = session.exec(select(Activity).where(Activity.programme_id == edition.id)).one()
        assert edition.retention_months == 24 and edition.survey_followups is False
    local = copied.starts_at.astimezone(WARSAW)
    assert (local.weekday(), local.time(), local.date().isoformat()) == (
        1,
        time(17, 0),
        "2027-01-05",
    )

    await anna.send("/admin")
    await anna.press("PAL Barwinek 2026")
    await anna.press("Program: daty, ustawienia, ankiety")
    await anna.press("Przenieś do archiwum")
    assert anna.last.text.startswith("Przenieść „PAL Barwinek 2026” do archiwum?")
    await anna.press("Tak, zmień")
    assert _programme(engine, programme_id).archived_at is not None
    await anna.send("/admin")
    assert anna.last.buttons()[0][0] == "PAL Barwinek 2027"
    await anna.press("Programy w archiwum")
    await anna.press("PAL Barwinek 2026")
    await anna.press("Przywróć z archiwum")
    await anna.press("Tak, zmień")
    assert _programme(engine, programme_id).archived_at is None
    assert _actions(engine) == [
        "programme.setting_set",
        "programme.setting_set",
        "programme.copied",
        "programme.archived",
        "programme.restored",
    ]


def _yaml(data: dict[str, object]) -> bytes:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode()


async def test_questionnaire_by_file_and_the_final_survey(
    chat_user: Callable[..., ChatUser], engine: Engine, programme_id: int, tmp_path: Path
) -> None:
    anna = chat_user(ANNA, language_code="en")
    await _open(anna)
    await anna.press("Questionnaire and surveys")
    assert "Initial surveys sent: 0" in anna.last.text
    assert "The final survey is not open yet." in anna.last.text
    await anna.press("Send my own questionnaire")
    await anna.send("here it is")
    assert anna.last.text.startswith("Please send the questionnaire as a file")
    broken = default_data()
    broken["id"] = "pal_barwinek"
    del broken["items"][0]["text"]["pl"]
    await send_document(anna, _yaml(broken), "ankieta.yaml")
    assert anna.last.text.startswith("The file has 1 problem:")
    assert "• line " in anna.last.text and "items[0].text" in anna.last.text
    assert _programme(engine, programme_id).survey_path is None
    fixed = default_data()
    fixed["id"] = "pal_barwinek"
    await send_document(anna, _yaml(fixed), "ankieta.yaml")
    assert anna.last.text.startswith("The file is correct: “pal_barwinek” version")
    stale = dict(anna.last.buttons())["✅ Yes, use it"]
    await anna.press("Yes, use it")
    assert anna.last.text.startswith("Done: “PAL Barwinek 2026” now uses “pal_barwinek”")
    stored = _programme(engine, programme_id).survey_path
    assert stored is not None and Path(stored).is_relative_to(tmp_path / "surveys")
    await anna.press_data(stale)
    assert anna.alerts()[-1] == "This button is no longer active. Open the menu again."
    # A shipped one, then back to the default.
    await anna.press("Questionnaire and surveys")
    await anna.press("📋 default")
    assert anna.last.text.startswith("Use “")
    await anna.press("Yes, use it")
    assert _programme(engine, programme_id).survey_path is None

    await anna.press("Questionnaire and surveys")
    await anna.press("Open the final survey")
    assert anna.last.text.startswith("Open the final survey of “PAL Barwinek 2026”?")
    assert _programme(engine, programme_id).final_survey_opened_at is None
    await anna.press("Yes, open it")
    assert anna.last.text.startswith("The final survey is open now.")
    assert _programme(engine, programme_id).final_survey_opened_at is not None
    assert _actions(engine) == [
        "survey.questionnaire_chosen",
        "survey.questionnaire_chosen",
        "survey.final_opened",
    ]


async def test_audit_trail_and_a_data_file(
    chat_user: Callable[..., ChatUser],
    engine: Engine,
    programme_id: int,
    rec: RecordingRequest,
) -> None:
    with transaction(engine) as session:
        anna_id = session.exec(select(Person.id).where(Person.telegram_id == ANNA)).one()
        session.add(
            Person(
                display_name="Helena",
                programme_id=programme_id,
                created_by_id=anna_id,
                onboarding_step="done",
            )
        )
    anna = chat_user(ANNA, language_code="en")
    await _open(anna)
    await anna.press("Survey reminders off")
    await anna.press("Yes, change it")
    await anna.press("Audit trail")
    assert anna.last.text.startswith("📜 Audit trail, newest first (page 1)")
    assert "programme.setting_set · programme #" in anna.last.text
    await anna.press("↩️ Programme")
    await anna.press("Data of a person without Telegram")
    await anna.press("Helena")
    sent = rec.calls_to("sendDocument")
    assert sent and "Everything stored about this person" in str(sent[-1].params["caption"])
    assert _actions(engine)[-1] == "person.data_exported"
    await anna.send("/admin")
    await anna.press("📜 Audit trail")
    assert "person.data_exported" in anna.last.text


async def test_a_resident_and_an_animator_are_refused(
    chat_user: Callable[..., ChatUser], engine: Engine, programme_id: int
) -> None:
    before = _programme(engine, programme_id)
    for user_id in (KRYSTYNA, EWA):
        person = chat_user(user_id, language_code="pl")
        await person.send("/admin")
        assert person.last_answer() == NOT_STAFF
        p = programme_id
        for forged in (
            f"prg:o:{p}",
            f"prg:e:{p}:name",
            f"prg:e:{p}:copy",
            f"prg:y:{p}:abcdef12",
            f"prg:b:{p}:ar:on",
            f"prg:bc:{p}:ar:on",
            f"prg:bc:{p}:fu:off",
            f"prg:bc:{p}:rem:default",
            f"prg:s:{p}",
            f"prg:sqy:{p}:0",
            f"prg:sf:{p}",
            f"prg:fsy:{p}",
            f"prg:au:{p}:0",
            "prg:au:0:0",
            f"prg:pd:{p}",
            f"prg:pf:{p}:1",
            "prg:arch",
        ):
            await person.press_data(forged)
            assert person.last_answer() == NOT_STAFF, forged
        await send_document(person, b"id: x\n", "ankieta.yaml")
    assert _actions(engine) == []
    after = _programme(engine, programme_id)
    assert (
        after.name,
        after.archived_at,
        after.survey_followups,
        after.survey_path,
        after.final_survey_opened_at,
    ) == (before.name, None, True, None, None)
    with read_only(engine) as session:
        assert session.exec(select(Dialog)).all() == []


async def test_a_coordinator_gets_the_programme_screens_but_not_programme_edits(
    chat_user: Callable[..., ChatUser],
    engine: Engine,
    programme_id: int,
) -> None:
    """Ewa coordinates this programme: /admin lists it, its team screen leads to its
    settings; renaming, archiving, copying and the all-programmes audit stay with admins."""
    with transaction(engine) as session:
        session.add(RoleGrant(telegram_id=EWA, role="coordinator", programme_id=programme_id))
    ewa = chat_user(EWA, language_code="pl")
    await ewa.send("/admin")
    assert ewa.last.text.startswith("Twoje programy.")
    assert [label for label, _ in ewa.last.buttons()] == ["PAL Barwinek 2026", "↩️ Menu"]
    await ewa.press("PAL Barwinek 2026")
    await ewa.press("Program: daty, ustawienia, ankiety")
    shown = [label for label, _ in ewa.last.buttons()]
    assert not any(word in label for label in shown for word in ("Nazwa", "archiwum", "edycj")), (
        shown
    )
    await ewa.press("Czas przypomnień")
    await ewa.send("48h")
    await ewa.press("Tak, zmień")
    assert _programme(engine, programme_id).reminder_offsets == "48h"
    # Renaming, archiving and copying stay with administrators.
    for forged in (
        f"prg:e:{programme_id}:name",
        f"prg:bc:{programme_id}:ar:on",
        f"prg:e:{programme_id}:copy",
        "prg:au:0:0",
    ):
        await ewa.press_data(forged)
        assert ewa.last_answer() == (
            "Tylko administrator albo koordynator tego programu może to zrobić."
        ), forged
    assert _actions(engine) == ["programme.setting_set"]


async def test_a_questionnaire_change_after_answers_and_an_oversized_file_are_refused(
    chat_user: Callable[..., ChatUser], engine: Engine, programme_id: int, clock: FrozenClock
) -> None:
    with transaction(engine) as session:
        programme = session.get(Programme, programme_id)
        krystyna = session.exec(select(Person).where(Person.telegram_id == KRYSTYNA)).one()
        assert programme is not None
        answered_survey(
            session,
            person=krystyna,
            programme=programme,
            phase=SurveyPhase.INITIAL,
            values={},
            now=clock.now(),
        )
    anna = chat_user(ANNA, language_code="en")
    await _open(anna)
    await anna.press("Questionnaire and surveys")
    assert "Initial surveys sent: 1" in anna.last.text
    await anna.press("📋 dejong")
    await anna.press("Yes, use it")
    assert anna.alerts()[-1].startswith("Surveys of this programme were already answered")
    assert _programme(engine, programme_id).survey_path is None
    await anna.press("Cancel")
    await anna.press("Send my own questionnaire")
    await send_document(anna, b"id: x\n", "big.yaml", declared_size=5_000_000)
    assert anna.last.text == "This file is too large for a questionnaire (at most 256 kB)."
    assert _actions(engine) == []
