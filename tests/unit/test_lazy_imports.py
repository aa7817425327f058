"""`palbot run` leaves the report, poster, QR and webhook-server libraries unloaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = (
    "numpy",
    "scipy",
    "matplotlib",
    "openpyxl",
    "reportlab",
    "icalendar",
    "qrcode",
    "PIL",
    "aiohttp.web",  # the webhook server, not needed for long polling
)

# Everything `palbot run` loads before serving, in a fresh interpreter.
_RUN_PATH = """
import json, sys
from bot.cli import build_parser
build_parser().parse_args(["run"])
import bot.background, bot.cli.run, bot.cli.surveys, bot.startup, bot.webhook
from bot.app import build_application
from bot.settings import load_settings
settings = load_settings(_env_file=None, token="123456:lazy", database_url=sys.argv[1])
build_application(settings)
loaded = lambda: sorted(m for m in {HEAVY} if m in sys.modules)
at_start = loaded()
from evaluation import on_demand
on_demand.disclosure_rules(min_count=5, min_n_for_statistics=10)
print(json.dumps({{"at_start": at_start, "after_report_code": loaded()}}))
"""


def test_palbot_run_leaves_the_report_libraries_unloaded(tmp_path: Path) -> None:
    code = _RUN_PATH.format(HEAVY=repr(HEAVY))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")]
        ),
    }
    done = subprocess.run(
        [sys.executable, "-c", code, f"sqlite:///{tmp_path / 'db.sqlite3'}"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["at_start"] == []
    # The check would see them: the report code does load them when used.
    assert {"numpy", "scipy"} <= set(result["after_report_code"])


# `palbot run`'s database step, in a fresh interpreter, on the database in argv[1].
_OPEN_DATABASE = """
import json, sys
from bot.cli.common import open_database
from bot.settings import load_settings
from storage.migrate import is_up_to_date
settings = load_settings(_env_file=None, token="123456:lazy", database_url=sys.argv[1])
engine = open_database(settings)
alembic_at_start = "alembic" in sys.modules
print(json.dumps({"alembic": alembic_at_start, "up_to_date": is_up_to_date(engine)}))
"""


def _open_database(url: str, cwd: Path) -> dict[str, bool]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")]
        ),
    }
    done = subprocess.run(
        [sys.executable, "-c", _OPEN_DATABASE, url],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, bool] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_alembic_is_loaded_only_when_there_is_a_migration_to_run(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    # A new database: alembic creates the schema.
    assert _open_database(url, tmp_path) == {"alembic": True, "up_to_date": True}
    # The next start finds it at the newest revision without alembic.
    assert _open_database(url, tmp_path) == {"alembic": False, "up_to_date": True}
