"""After erasure, no output of the bot or the command line names the person.

Every export is produced after Wiesława asked to be forgotten and searched for her
name, her Telegram id and her free-text answer: the survey CSV, the evaluator's
workbook (every cell of every sheet, row-level included) and its CSVs, the audit trail,
the retention preview, another person's /mydata, and the animator's participant list.
"""

from __future__ import annotations

import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.cli import main
from bot.data_export import render_html, render_json
from schedules.clock import FrozenClock
from storage.activities.organising import Actor
from storage.activities.participants import participant_list
from storage.activities.seats import sign_up
from storage.db import transaction
from storage.models import Programme
from storage.privacy.erasure import erase_person
from storage.privacy.my_data import person_data
from tests.support.privacy import Resident, resident_with_history
from tests.support.signup import make_activity, make_person
from translations import translator


@pytest.fixture
def story(engine: Engine, clock: FrozenClock) -> tuple[Resident, str, int]:
    """Wiesława with a full history and an animator: (wiesława, programme name, animator)."""
    now = clock.now() - timedelta(days=1)
    with transaction(engine) as session:
        wieslawa = resident_with_history(session, now=now)
        programme = session.get(Programme, wieslawa.programme_id)
        assert programme is not None
        animator = make_person(
            session, telegram_id=555_000_111, name="Animatorka Ewa", programme=programme
        )
        assert animator.id is not None
        # Ewa also signed Wiesława up somewhere on her behalf (an audited proxy act).

        extra = make_activity(
            session,
            programme=programme,
            starts_at=now + timedelta(days=9),
            title="Zumba dla seniorów",
        )
        assert extra.id is not None
        sign_up(
            session,
            person_id=wieslawa.person_id,
            activity_id=extra.id,
            now=now,
            proxy_by_id=animator.id,
        )
        return wieslawa, programme.name, animator.id


def _needles(wieslawa: Resident) -> list[str]:
    return [
        wieslawa.name,
        "Zdziebłowska",
        str(wieslawa.telegram_id),
        wieslawa.free_text,
        "600 700 800",
    ]


def _assert_clean(where: str, text: str, wieslawa: Resident) -> None:
    for needle in _needles(wieslawa):
        assert needle not in text, f"{needle!r} found in {where}"


def _xlsx_text(path: Path) -> str:
    with zipfile.ZipFile(path) as book:
        return "\n".join(book.read(name).decode("utf-8", "replace") for name in book.namelist())


def test_no_output_names_an_erased_person(
    story: tuple[Resident, str, int],
    engine: Engine,
    db_url: str,
    clock: FrozenClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    wieslawa, programme, animator_id = story
    monkeypatch.setenv("PALBOT_DATABASE_URL", db_url)
    before = tmp_path / "before.csv"
    assert main(["export-responses", "--programme", programme, "--out", str(before)]) == 0
    # The search works: before erasure her own words are in the survey export.
    assert wieslawa.free_text in before.read_text(encoding="utf-8")

    with transaction(engine) as session:
        erase_person(session, person_id=wieslawa.person_id, now=clock.now())
    capsys.readouterr()

    after = tmp_path / "after.csv"
    assert main(["export-responses", "--programme", programme, "--out", str(after)]) == 0
    exported = after.read_text(encoding="utf-8")
    _assert_clean("export-responses", exported, wieslawa)
    assert wieslawa.code in exported, "her answers stay under the code"

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
    _assert_clean("evaluator workbook", _xlsx_text(book), wieslawa)
    for sheet in sheets.glob("*.csv"):
        _assert_clean(sheet.name, sheet.read_text(encoding="utf-8"), wieslawa)

    for args in (
        ["audit", "--since", "2000-01-01"],
        ["audit", "--since", "2000-01-01", "--json"],
        ["purge", "--dry-run"],
    ):
        assert main(args) == 0
        _assert_clean(" ".join(args), capsys.readouterr().out, wieslawa)

    with transaction(engine) as session:
        others = person_data(session, person_id=wieslawa.person_id + 1, now=clock.now())
        everyone = participant_list(
            session,
            activity_id=wieslawa.past_activity_id,
            actor=Actor.admin(animator_id, wieslawa.programme_id),
            now=clock.now(),
        )
        mine = person_data(session, person_id=wieslawa.person_id, now=clock.now())
    _assert_clean(
        "another person's /mydata",
        render_html(others, translator("pl")) + render_json(others),
        wieslawa,
    )
    _assert_clean("participant list", repr(everyone), wieslawa)
    # Even her own stub's data file is empty of her.
    _assert_clean("the stub's data", json.dumps(mine.to_json(), ensure_ascii=False), wieslawa)
