"""`palbot change-activity`, `cancel-activity`, and a bad PALBOT_REMINDER_OFFSETS."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.cli import main
from schedules.clock import FrozenClock
from storage.models import Activity, ActivityStatus, SendKind, SendState
from tests.support.reminders import make_scene, sends

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def scene_id(
    engine: Engine, db_url: str, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> int:
    """An activity next year (the CLI uses the real clock) with two people signed up."""
    monkeypatch.setenv("PALBOT_DATABASE_URL", db_url)
    scene = make_scene(
        engine,
        starts_at=clock.now() + timedelta(days=400),
        places=1,
        people=[("Jan", 702, "pl"), ("Olena", 701, "uk")],
        now=clock.now(),
    )
    return scene.activity_id


def test_change_activity_moves_it_and_queues_notices(
    engine: Engine, scene_id: int, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "change-activity",
            str(scene_id),
            "--starts-at",
            "2028-01-10 17:30",
            "--venue",
            "Dom Kultury, ul. Lipowa 1",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert out == (
        f"activity {scene_id} now starts 2028-01-10 17:30 (Europe/Warsaw) "
        "at Dom Kultury, ul. Lipowa 1\n2 people will be told\n"
    )
    with Session(engine) as session:
        activity = session.get(Activity, scene_id)
        assert activity is not None and activity.starts_at.isoformat() == (
            "2028-01-10T16:30:00+00:00"
        )
    assert len(sends(engine, SendKind.CHANGE, SendState.PENDING)) == 2


def test_cancel_activity_tells_everyone_and_refuses_a_second_time(
    engine: Engine, scene_id: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cancel-activity", str(scene_id)]) == 0
    assert capsys.readouterr().out == f"activity {scene_id} cancelled; 2 people will be told\n"
    with Session(engine) as session:
        activity = session.get(Activity, scene_id)
        assert activity is not None and activity.status == ActivityStatus.CANCELLED
    assert main(["cancel-activity", str(scene_id)]) == 1
    assert capsys.readouterr().err == (
        f"palbot: activity {scene_id} not changed: the activity is already cancelled\n"
    )


@pytest.mark.parametrize(
    ("argv", "message", "code"),
    [
        (
            ["--starts-at", "jutro"],
            "palbot: 'jutro' is not a date and time like 2026-12-01 17:00\n",
            2,
        ),
        (["--starts-at", "2020-01-01 10:00"], "not changed: the new start is not in the future", 1),
        ([], "not changed: nothing to change", 1),
    ],
)
def test_bad_changes_say_why(
    scene_id: int, capsys: pytest.CaptureFixture[str], argv: list[str], message: str, code: int
) -> None:
    assert main(["change-activity", str(scene_id), *argv]) == code
    assert message in capsys.readouterr().err


def test_unknown_activity(scene_id: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cancel-activity", "999"]) == 1
    assert capsys.readouterr().err == "palbot: activity 999 not changed: no such activity\n"


def test_malformed_reminder_offsets_stop_palbot_run_with_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PALBOT_")}
    env.update(
        PALBOT_TOKEN="123456:TEST-token",
        PALBOT_REMINDER_OFFSETS="24h,2x",
        PALBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}",
        PYTHONPATH=str(REPO),
    )
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr == (
        "palbot: setting problem: PALBOT_REMINDER_OFFSETS: '2x' is not a "
        "duration like 24h, 90m, 2d or 30s\n"
    )
