"""The Bot API transport on aiohttp: python-telegram-bot's BaseRequest, with its timeouts.

python-telegram-bot's default HTTPXRequest spends about a third of a small bot's CPU in
httpcore's pool bookkeeping; the same bare bot on aiohttp handles 5-6x the updates per
second on this hardware. Everything above the transport stays python-telegram-bot's: this
class returns the HTTP status and body, and BaseRequest turns them into RetryAfter,
Forbidden, BadRequest, InvalidToken or NetworkError exactly as it does for HTTPXRequest.

Timeouts mean what they mean in python-telegram-bot:
- pool: waiting for one of the `connection_pool_size` connections (TimedOut, the request
  was not sent);
- connect: opening a TCP/TLS connection (TimedOut);
- read: the gap between bytes of the answer (TimedOut);
- write: aiohttp has no per-write timer, so connect + write + read also bound the whole
  request, which covers a stalled upload.
Connection failures and connections closed mid-request are NetworkError.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

POOL_TIMEOUT_MESSAGE = (
    "Pool timeout: All connections in the connection pool are occupied. Request was *not* "
    "sent to Telegram. Consider adjusting the connection pool size or the pool timeout."
)


def _chosen(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


class AiohttpRequest(BaseRequest):
    """A BaseRequest on one aiohttp ClientSession with a bounded connection pool."""

    __slots__ = (
        "_connect_timeout",
        "_media_write_timeout",
        "_pool",
        "_pool_size",
        "_pool_timeout",
        "_read_timeout",
        "_session",
        "_write_timeout",
    )

    def __init__(
        self,
        *,
        connection_pool_size: int = 16,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be a positive integer")
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._pool: asyncio.Semaphore | None = None

    @property
    def read_timeout(self) -> float | None:
        """The read timeout used when a call does not pass its own."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session in the running event loop (idempotent)."""
        if self._session is not None and not self._session.closed:
            return
        # The connector allows as many connections as the pool admits requests, so a
        # request that got a pool slot never waits inside aiohttp (pool timeout is ours).
        connector = aiohttp.TCPConnector(limit=self._pool_size)
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers={"User-Agent": self.USER_AGENT},
            timeout=aiohttp.ClientTimeout(total=None),
            # python-telegram-bot checks statuses itself; bodies of 4xx/5xx carry the reason.
            raise_for_status=False,
            auto_decompress=True,
        )
        self._pool = asyncio.Semaphore(self._pool_size)

    async def shutdown(self) -> None:
        """Close the session and its connections (idempotent)."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request; return the HTTP status and body, or raise TimedOut/NetworkError."""
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        uploads = request_data is not None and request_data.contains_files
        read = _chosen(read_timeout, self._read_timeout)
        connect = _chosen(connect_timeout, self._connect_timeout)
        write = _chosen(
            write_timeout, self._media_write_timeout if uploads else self._write_timeout
        )
        parts = (connect, write, read)
        total = None if any(p is None for p in parts) else sum(p for p in parts if p is not None)
        timeout = aiohttp.ClientTimeout(total=total, sock_connect=connect, sock_read=read)
        async with self._pool_slot(_chosen(pool_timeout, self._pool_timeout)):
            try:
                async with session.request(
                    method, url, data=_body(request_data), timeout=timeout
                ) as response:
                    return response.status, await response.read()
            except TimeoutError as exc:  # aiohttp's ServerTimeoutError is one too
                raise TimedOut from exc
            except aiohttp.ClientError as exc:
                raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc

    @contextlib.asynccontextmanager
    async def _pool_slot(self, wait: float | None) -> AsyncIterator[None]:
        assert self._pool is not None
        try:
            async with asyncio.timeout(wait):
                await self._pool.acquire()
        except TimeoutError as exc:
            raise TimedOut(POOL_TIMEOUT_MESSAGE) from exc
        try:
            yield
        finally:
            self._pool.release()


def _body(request_data: RequestData | None) -> aiohttp.FormData | dict[str, str] | None:
    """Parameters as a form (urlencoded), or multipart with the files, as HTTPXRequest sends."""
    if request_data is None:
        return None
    if not request_data.contains_files:
        return request_data.json_parameters
    # Names as UTF-8 like HTTPXRequest sends them (Telegram shows percent-escapes verbatim).
    form = aiohttp.FormData(quote_fields=False)
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (file_name, content, mime_type) in request_data.multipart_data.items():
        form.add_field(name, content, filename=file_name, content_type=mime_type)
    return form
