"""Pani Zofia's phone number: in her own data export, never in the evaluator's outputs,
gone once she is erased."""

from __future__ import annotations

import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.cli import main
from bot.data_export import render_html, render_json
from schedules.clock import FrozenClock
from storage.activities.attendance import set_attendance
from storage.activities.organising import Actor
from storage.activities.seats import sign_up
from storage.db import transaction
from storage.models import Registration
from storage.people.without_telegram import create_proxy_participant
from storage.privacy.erasure import erase_proxy_participant
from storage.privacy.my_data import person_data
from tests.support.signup import make_activity, make_person, make_programme
from translations import translator

PHONE = "+48 699 111 222"
NAME = "Pani Zofia Zdziebłowska"


def _xlsx_text(path: Path) -> str:
    with zipfile.ZipFile(path) as book:
        return "\n".join(book.read(name).decode("utf-8", "replace") for name in book.namelist())


@pytest.fixture
def zofia(engine: Engine, clock: FrozenClock) -> tuple[int, int, str, int]:
    """Zofia (no Telegram, a phone) took part in last week's activity: ids and programme."""
    past = clock.now() - timedelta(days=7)
    with transaction(engine) as session:
        programme = make_programme(session, name="PAL Osiedle Słoneczne")
        ewa = make_person(session, telegram_id=900, name="Ewa", programme=programme)
        activity = make_activity(session, programme=programme, starts_at=past)
        assert programme.id and ewa.id and activity.id
        person = create_proxy_participant(
            session, display_name=NAME, created_by_id=ewa.id, programme_id=programme.id, phone=PHONE
        )
        assert person.id
        registration = sign_up(
            session,
            person_id=person.id,
            activity_id=activity.id,
            now=past - timedelta(days=1),
            proxy_by_id=ewa.id,
        ).registration
        assert isinstance(registration, Registration) and registration.id
        set_attendance(
            session,
            activity_id=activity.id,
            registration_id=registration.id,
            attended=True,
            now=past + timedelta(minutes=5),
            actor=Actor.admin(ewa.id, programme.id),
        )
        return person.id, ewa.id, programme.name, programme.id


def test_the_evaluator_never_sees_the_phone(
    zofia: tuple[int, int, str, int],
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, _, programme, _ = zofia
    monkeypatch.setenv("PALBOT_DATABASE_URL", db_url)
    book, sheets = tmp_path / "report.xlsx", tmp_path / "sheets"
    assert (
        main(
            [
                "report",
                "--programme",
                programme,
                "--out",
                str(book),
                "--row-level",
                "--csv",
                str(sheets),
            ]
        )
        == 0
    )
    outputs = [_xlsx_text(book)] + [s.read_text(encoding="utf-8") for s in sheets.glob("*.csv")]
    assert len(outputs) > 1
    for text in outputs:
        assert PHONE not in text and "699 111 222" not in text
        assert "Zdziebłowska" not in text
    capsys.readouterr()
    assert main(["audit", "--since", "2000-01-01", "--json"]) == 0
    assert "699 111 222" not in capsys.readouterr().out


def test_her_data_export_holds_the_phone_until_she_is_erased(
    zofia: tuple[int, int, str, int], engine: Engine, clock: FrozenClock
) -> None:
    person_id, ewa_id, _, programme_id = zofia
    with Session(engine) as session:
        data = person_data(session, person_id=person_id, now=clock.now())
    assert PHONE in render_html(data, translator("pl")) and PHONE in render_json(data)
    with transaction(engine) as session:
        erase_proxy_participant(
            session,
            person_id=person_id,
            animator_id=ewa_id,
            programme_ids={programme_id},
            now=clock.now(),
        )
    with Session(engine) as session:
        data = person_data(session, person_id=person_id, now=clock.now())
    assert "699 111 222" not in render_html(data, translator("pl")) + render_json(data)
