"""`palbot run` start-up faults end with one line naming the cause and a distinct exit code."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.startup import ExitCode
from tests.e2e.botapi import BotProcess, FakeBotApi, bot_env

pytestmark = [pytest.mark.e2e]

# The token the README's first command uses.
PLACEHOLDER_TOKEN = "123456:your-token"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _run_until_exit(env: dict[str, str], tmp_path: Path) -> tuple[int, list[str]]:
    proc = BotProcess(env, tmp_path, ["run"], log_path=tmp_path / "run.log")
    proc.start()
    code = await proc.wait_exit(timeout=60)
    return code, proc.log_text().strip().splitlines()


async def test_a_token_telegram_refuses(
    api: FakeBotApi, db_file: str, store: Engine, tmp_path: Path
) -> None:
    env = bot_env(api, token=PLACEHOLDER_TOKEN, PALBOT_DATABASE_URL=db_file)
    code, lines = await _run_until_exit(env, tmp_path)
    assert code == ExitCode.TOKEN_REFUSED, lines
    assert lines == [
        "palbot: Telegram refused the bot token (401 Unauthorized); check "
        "PALBOT_TOKEN (the token @BotFather gave you)"
    ]
    assert PLACEHOLDER_TOKEN.split(":")[1] not in "\n".join(lines)


async def test_an_unreachable_bot_api(db_file: str, store: Engine, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    env = {"PALBOT_API_URL": url, "PALBOT_TOKEN": PLACEHOLDER_TOKEN, "PALBOT_DATABASE_URL": db_file}
    code, lines = await _run_until_exit(env, tmp_path)
    assert code == ExitCode.BOT_API_UNREACHABLE, lines
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"palbot: cannot reach the Bot API at {url} (")
    assert lines[0].endswith("check PALBOT_API_URL and the network route to it")
    assert "your-token" not in lines[0]


async def test_a_database_that_is_down(api: FakeBotApi, tmp_path: Path) -> None:
    database = f"postgresql+psycopg://palbot:s3cret@127.0.0.1:{_closed_port()}/palbot"
    code, lines = await _run_until_exit(bot_env(api, PALBOT_DATABASE_URL=database), tmp_path)
    assert code == ExitCode.DATABASE_UNAVAILABLE, lines
    assert len(lines) == 1, lines
    assert lines[0].startswith("palbot: cannot open the database postgresql+psycopg://palbot:***@")
    assert "Connection refused" in lines[0] and "s3cret" not in lines[0]
    assert lines[0].endswith("check PALBOT_DATABASE_URL and that the database server is running")
    assert api.method_count("getMe") == 0  # the database is checked first


async def test_a_healthy_start_still_serves(
    api: FakeBotApi, db_file: str, store: Engine, tmp_path: Path
) -> None:
    env = bot_env(api, PALBOT_DATABASE_URL=db_file, PALBOT_LOG_LEVEL="WARNING")
    async with BotProcess(env, tmp_path, ["run"]) as proc:
        await proc.wait_ready(api, timeout=30)
        await api.user(4242).ask("/start", "Wybierz język")
        assert await proc.terminate() == 0, proc.log_tail()
    assert "Traceback" not in proc.log_text() and "Unclosed" not in proc.log_text()


async def test_a_bot_api_that_never_answers(
    api: FakeBotApi, db_file: str, store: Engine, tmp_path: Path
) -> None:
    api.pause()  # accepts connections, answers nothing
    try:
        code, lines = await _run_until_exit(bot_env(api, PALBOT_DATABASE_URL=db_file), tmp_path)
    finally:
        api.resume()
    assert code == ExitCode.BOT_API_UNREACHABLE, lines
    assert lines == [
        f"palbot: no answer from the Bot API at {api.base_url} within 10 s; check "
        "PALBOT_API_URL and the network route to it"
    ]
