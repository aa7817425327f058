"""`palbot run` starts without openpyxl: it loads only when someone sends a spreadsheet,
asks for a template or a report (storage/activity_sheets.py, evaluation)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import json, sys
from bot.cli import build_parser
from bot.app import build_application
from bot.settings import load_settings
build_parser()
build_application(load_settings(_env_file=None, token="1:x", database_url="sqlite://"),
                  with_updater=False)
print(json.dumps(sorted(m for m in ("openpyxl", "matplotlib") if m in sys.modules)))
"""


def test_building_the_bot_loads_no_spreadsheet_library(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
