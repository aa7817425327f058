"""No log call carries a Telegram identity: logs outlive erasure, person ids do not.

The end-to-end log scan (tests/e2e/test_log_privacy.py) follows one resident's journey;
this reads every log call in the product, so a staff screen added later is covered too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "handlers", "storage", "schedules", "evaluation", "usecases", "translations")
LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical"}
# Names that hold a Telegram user or chat id (a private chat's id is the user's id).
TELEGRAM_IDS = {"telegram_id", "chat_id", "user_id", "from_user", "effective_user"}


def _log_calls_with_telegram_ids(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in LOG_METHODS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "log"
        ):
            continue
        for argument in [*node.args[1:], *(k.value for k in node.keywords)]:
            for part in ast.walk(argument):
                name = (
                    part.attr
                    if isinstance(part, ast.Attribute)
                    else part.id
                    if isinstance(part, ast.Name)
                    else None
                )
                if name in TELEGRAM_IDS:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} logs {name}")
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_no_log_call_carries_a_telegram_id(package: str) -> None:
    folder = ROOT / package
    if not folder.exists():
        pytest.skip(f"{package}/ is not in this checkout")
    offenders = [
        hit for path in sorted(folder.rglob("*.py")) for hit in _log_calls_with_telegram_ids(path)
    ]
    assert offenders == []
