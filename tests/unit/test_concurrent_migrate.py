"""Several `palbot run` processes starting together on one PostgreSQL database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from storage.db import make_engine
from storage.migrate import is_up_to_date

ROOT = Path(__file__).resolve().parents[2]
_MIGRATE = (
    "import sys; from storage.db import make_engine; "
    "from storage.migrate import upgrade_to_latest; upgrade_to_latest(make_engine(sys.argv[1]))"
)


def test_processes_migrating_at_once_take_turns(postgres_url: str) -> None:
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _MIGRATE, postgres_url],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    failures = [p.communicate(timeout=60)[1] for p in processes if p.wait(timeout=60) != 0]
    assert failures == []
    engine = make_engine(postgres_url)
    assert is_up_to_date(engine)
    engine.dispose()
