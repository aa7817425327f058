"""Several `palbot run --webhook` processes behind one address, fed by the fake Bot API.

    FakeBotApi --WebhookDelivery--> RoundRobinForwarder --> palbot #1, palbot #2, …

Used by the multi-process end-to-end tests and by tests/bench/bench_webhook.py.
"""
# ruff: noqa: ASYNC109  # waiters take timeout= like pytest helpers, not asyncio.timeout

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from types import TracebackType
from typing import Self

import aiohttp

from tests.e2e.botapi import BotProcess, FakeBotApi, bot_env
from tests.e2e.botapi.webhook_delivery import WebhookDelivery
from tests.e2e.forwarder import RoundRobinForwarder

SECRET = "e2e-webhook-secret-0123456789"
PUBLIC_URL = "https://pal.example.org/tg"


def free_port() -> int:
    """A TCP port nothing listens on right now (on the loopback)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class WebhookCluster:
    """`count` webhook processes on one database, reachable through one forwarder."""

    def __init__(
        self,
        api: FakeBotApi,
        database_url: str,
        workdir: Path,
        *,
        count: int = 2,
        extra_env: dict[str, str] | None = None,
        max_connections: int = 40,
    ) -> None:
        self.api = api
        self.database_url = database_url
        self.workdir = workdir
        self.ports = [free_port() for _ in range(count)]
        self.env = bot_env(
            api,
            **{
                "PALBOT_DATABASE_URL": database_url,
                "PALBOT_WEBHOOK_SECRET": SECRET,
                "PALBOT_LOG_LEVEL": "INFO",
                **(extra_env or {}),
            },
        )
        self.processes = [
            BotProcess(self.env, workdir, self.args(port), log_path=workdir / f"palbot-{n + 1}.log")
            for n, port in enumerate(self.ports)
        ]
        self.forwarder = RoundRobinForwarder([f"http://127.0.0.1:{p}" for p in self.ports])
        self.delivery: WebhookDelivery | None = None
        self.max_connections = max_connections

    @staticmethod
    def args(port: int) -> list[str]:
        """The command line of one process."""
        return ["run", "--webhook", "--listen", f"127.0.0.1:{port}", "--public-url", PUBLIC_URL]

    async def __aenter__(self) -> Self:
        """Start every process, wait until each is healthy, then start delivering."""
        for process in self.processes:
            process.start()
        await asyncio.gather(*(self.wait_healthy(n) for n in range(len(self.processes))))
        await self.forwarder.__aenter__()
        self.delivery = WebhookDelivery(
            self.api, f"{self.forwarder.url}/tg", SECRET, max_connections=self.max_connections
        )
        await self.delivery.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop delivering, then stop every process (SIGTERM; SIGKILL if it hangs)."""
        if self.delivery is not None:
            await self.delivery.stop()
        await self.forwarder.__aexit__(exc_type, exc, tb)
        for process in self.processes:
            if process.running:
                try:
                    await process.terminate(timeout=20)
                except Exception:
                    process.kill()

    async def health(self, n: int) -> tuple[int, dict[str, object]]:
        """Status and body of process n's /healthz."""
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as http,
            http.get(f"http://127.0.0.1:{self.ports[n]}/healthz") as response,
        ):
            return response.status, await response.json()

    async def wait_healthy(self, n: int, timeout: float = 45.0) -> None:
        """Wait until process n answers /healthz with 200."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        process = self.processes[n]
        while loop.time() < deadline:
            if not process.running:
                raise RuntimeError(f"process {n + 1} exited\n{process.log_tail()}")
            try:
                status, _ = await self.health(n)
                if status == 200:
                    return
            except (TimeoutError, aiohttp.ClientError):
                pass
            await asyncio.sleep(0.2)
        raise TimeoutError(f"process {n + 1} not healthy in {timeout} s\n{process.log_tail()}")

    def logs(self) -> str:
        """Everything every process wrote."""
        return "\n".join(p.log_text() for p in self.processes)
