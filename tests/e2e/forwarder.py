"""A tiny round-robin reverse proxy standing in for nginx/Caddy in front of webhook processes.

Each request goes to the next backend; a backend that refuses the connection (stopped,
restarting) is skipped, as `proxy_next_upstream error` does in nginx.
"""

from __future__ import annotations

import itertools
from collections import Counter

import aiohttp
from aiohttp import web

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}


class RoundRobinForwarder:
    """Forward every request to one of `backends` (base URLs), in turn."""

    def __init__(self, backends: list[str], *, host: str = "127.0.0.1") -> None:
        self.backends = backends
        self.host = host
        self.port = 0
        self.served: Counter[str] = Counter()
        self._turn = itertools.cycle(range(len(backends)))
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        """The forwarder's base URL."""
        return f"http://{self.host}:{self.port}"

    async def __aenter__(self) -> RoundRobinForwarder:
        """Start listening on a free port."""
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=30), connector=aiohttp.TCPConnector(limit=0)
        )
        app = web.Application(client_max_size=2 * 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Stop."""
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        for _ in range(len(self.backends)):
            backend = self.backends[next(self._turn)]
            try:
                async with self._session.request(
                    request.method, backend + request.rel_url.path_qs, data=body, headers=headers
                ) as response:
                    payload = await response.read()
                    self.served[backend] += 1
                    return web.Response(
                        status=response.status, body=payload, content_type=response.content_type
                    )
            except aiohttp.ClientConnectorError:
                continue  # that process is down: try the next one
        return web.Response(status=502, text="no backend")
