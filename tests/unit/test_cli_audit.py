"""`palbot audit --since DATE` prints who did what, with ids only."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from storage.audit import AuditAction, record
from storage.db import make_engine, transaction
from storage.migrate import upgrade_to_latest


@pytest.fixture
def db(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("PALBOT_DATABASE_URL", url)
    engine = make_engine(url)
    upgrade_to_latest(engine)
    with transaction(engine) as session:
        record(
            session,
            actor_id=None,
            action=AuditAction.ACTIVITY_CREATED,
            subject_type="activity",
            subject_id=1,
            at=datetime(2026, 11, 20, 12, tzinfo=UTC),
        )
        record(
            session,
            actor_id=None,
            action=AuditAction.ATTENDANCE_SET,
            subject_type="registration",
            subject_id=7,
            details={"activity_id": 1, "person_id": 3, "attended": True},
            at=datetime(2026, 11, 30, 16, 5, tzinfo=UTC),
        )
        record(
            session,
            actor_id=None,
            action=AuditAction.BROADCAST_STARTED,
            subject_type="broadcast",
            subject_id=2,
            details={"recipients": 120},
            at=datetime(2026, 12, 1, 9, tzinfo=UTC),
        )
    engine.dispose()
    return url


def test_since_a_date_in_local_time(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--since", "2026-11-30"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("2026-11-30 17:05:00  actor=-  attendance.set  registration:7")
    assert '"attended": true' in lines[0]
    assert "broadcast.started  broadcast:2" in lines[1]
    assert lines[-1] == "2 entries since 2026-11-30 00:00 (Europe/Warsaw)"


def test_filters_and_json(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "audit",
                "--since",
                "2026-11-01 00:00",
                "--until",
                "2026-12-01",
                "--action",
                "activity.created",
                "--json",
            ]
        )
        == 0
    )
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["action"], r["subject_id"]) for r in rows] == [("activity.created", 1)]


def test_a_bad_date_is_explained(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["audit", "--since", "wczoraj"])
    assert exited.value.code == 2
    assert "is not a date like 2026-11-30" in capsys.readouterr().err
