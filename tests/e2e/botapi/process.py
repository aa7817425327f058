"""Run the real bot as a subprocess against the fake Bot API server."""
# ruff: noqa: ASYNC109  # waiters take timeout= like pytest helpers, not asyncio.timeout

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Self

from .models import ExpectationError
from .server import DEFAULT_TOKEN

if TYPE_CHECKING:
    from .server import FakeBotApi

__all__ = ["REPO_ROOT", "BotProcess", "bot_env"]

REPO_ROOT = Path(__file__).resolve().parents[3]


def bot_env(api: FakeBotApi, token: str | None = None, **extra: str) -> dict[str, str]:
    """Return env vars pointing the bot at api (PALBOT_API_URL, PALBOT_TOKEN, plus extra)."""

    return {
        "PALBOT_API_URL": api.base_url,
        "PALBOT_TOKEN": token or api.token or DEFAULT_TOKEN,
        **extra,
    }


class BotProcess:
    """The bot as a child process ([python, -m, bot, *args]) with output captured to a log file."""

    def __init__(
        self,
        env: Mapping[str, str],
        cwd: str | os.PathLike[str],
        args: Sequence[str] = ("run",),
        *,
        log_path: str | os.PathLike[str] | None = None,
        inherit_env: bool = True,
        command: Sequence[str] | None = None,
    ) -> None:
        self.env = {**(os.environ if inherit_env else {}), "PYTHONUNBUFFERED": "1", **env}
        # Make the repository's packages importable whatever cwd is (e.g. a tmp dir).
        paths = [str(REPO_ROOT), *filter(None, [self.env.get("PYTHONPATH")])]
        self.env["PYTHONPATH"] = os.pathsep.join(paths)
        self.cwd = Path(cwd)
        self.command = (
            list(command) if command is not None else [sys.executable, "-m", "bot", *args]
        )
        if log_path is None:
            fd, name = tempfile.mkstemp(prefix="palbot-", suffix=".log")
            os.close(fd)
            log_path = name
        self.log_path = Path(log_path)
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.started_at = 0.0

    def start(self) -> Self:
        """Start the process in its own process group; output is appended to log_path."""
        if self.running:
            raise RuntimeError("bot process already running")
        self._close_log()
        self._log = self.log_path.open("ab")  # kept open while the child runs
        self.started_at = time.time()
        self._proc = subprocess.Popen(
            self.command,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    @property
    def pid(self) -> int | None:
        """Return the process id, if started."""
        return self._proc.pid if self._proc else None

    @property
    def returncode(self) -> int | None:
        """Return the exit code, or None while running / before start."""
        return self._proc.poll() if self._proc else None

    @property
    def running(self) -> bool:
        """Return whether the process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def kill(self) -> int | None:
        """Send SIGKILL to the process group and reap it; return the exit code."""
        return self._signal_and_wait(signal.SIGKILL, timeout=10.0)

    async def terminate(self, timeout: float = 15.0) -> int:
        """Send SIGTERM and wait without blocking the loop (the bot still talks to the server)."""
        proc = self._proc
        if proc is None:
            raise RuntimeError("bot process was never started")
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                await self.wait_exit(timeout)
            except ExpectationError:
                self.kill()
                raise ExpectationError(
                    f"bot did not exit within {timeout} s after SIGTERM\n{self.log_tail()}"
                ) from None
        self._close_log()
        return proc.returncode

    def terminate_sync(self, timeout: float = 15.0) -> int | None:
        """Send SIGTERM and block until exit; only for a server running in another process."""
        code = self._signal_and_wait(signal.SIGTERM, timeout=timeout)
        if self.running:
            self.kill()
            raise TimeoutError(
                f"bot did not exit within {timeout} s after SIGTERM\n{self.log_tail()}"
            )
        return code

    def _signal_and_wait(self, sig: signal.Signals, timeout: float) -> int | None:
        """Signal this process's group and wait for the process."""
        proc = self._proc
        if proc is None:
            return None
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                return None
        self._close_log()
        return proc.returncode

    async def wait_exit(self, timeout: float = 15.0) -> int:
        """Wait (without blocking the event loop) until the process exits; return its code."""
        deadline = time.monotonic() + timeout
        while self._proc is not None and self._proc.poll() is None:
            if time.monotonic() > deadline:
                raise ExpectationError(f"bot still running after {timeout} s")
            await asyncio.sleep(0.05)
        if self._proc is None:
            raise RuntimeError("bot process was never started")
        return self._proc.returncode

    async def wait_ready(self, api: FakeBotApi, timeout: float = 30.0) -> None:
        """Wait until the bot called getMe and getUpdates on api since start()."""

        def ready() -> bool:
            if self._proc is not None and self._proc.poll() is not None:
                code = self._proc.returncode
                raise RuntimeError(f"bot exited with code {code} before polling\n{self.log_tail()}")
            return all(
                (api.last_call_time(m) or 0.0) >= self.started_at for m in ("getMe", "getUpdates")
            )

        try:
            await api.wait_until(ready, timeout, description="bot called getMe and getUpdates")
        except ExpectationError as exc:
            raise ExpectationError(f"{exc}\n{self.log_tail()}") from None

    def log_text(self) -> str:
        """Return everything the process wrote to stdout/stderr so far."""
        if self._log is not None:
            self._log.flush()
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        """Return the last lines of the log, labelled, for failure messages."""
        tail = self.log_text().splitlines()[-lines:]
        return f"--- bot log ({self.log_path}) ---\n" + "\n".join(tail)

    def _close_log(self) -> None:
        """Close our handle on the log file."""
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Self:
        """Start the process."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Kill the process if it is still running."""
        if self.running:
            self.kill()
        self._close_log()

    async def __aenter__(self) -> Self:
        """Start the process."""
        return self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Kill the process if it is still running."""
        self.__exit__(exc_type, exc, tb)
