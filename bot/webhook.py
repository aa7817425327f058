"""Webhook mode: Telegram POSTs updates to us, and several processes can share one address.

A small aiohttp server (python-telegram-bot's "custom webhook" pattern) puts each update
on the Application's queue. It checks Telegram's secret token on every request, answers
`/healthz` for load balancers and process managers, and shuts down gracefully: it stops
accepting, lets the Application finish the updates it already has, then stops.

Nothing a handler needs lives in this process's memory (dialogs, places and pending sends
are rows in the database), so any process may receive any update.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

# Requests and responses only: aiohttp's server (aiohttp.web) is imported when a server
# starts, since importing it reads the system's MIME types and costs about 2 MB, and
# long polling (the default) never serves HTTP.
from aiohttp.web_request import Request
from aiohttp.web_response import Response, json_response
from sqlalchemy import text
from sqlmodel import Session
from telegram import Update
from telegram.error import RetryAfter, TelegramError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    RetryError,
    retry_if_exception_type,
    stop_after_attempt,
)

from bot.context import PalApplication, Services
from bot.lifecycle import running

if TYPE_CHECKING:
    from aiohttp import web

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_PATH = "/telegram"
HEALTH_PATH = "/healthz"
# The update types the bot asks for, in both polling and webhook mode.
ALLOWED_UPDATES: list[str] = list(Update.ALL_TYPES)
# Telegram opens at most this many connections at once to one webhook (its default);
# each process handles updates concurrently anyway, so more would only queue.
MAX_CONNECTIONS = 40
# Updates are small; this is far above any real one and bounds memory per request.
MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class WebhookConfig:
    """Where to listen, the public URL Telegram calls, and the shared secret."""

    host: str
    port: int
    public_url: str
    secret: str
    set_webhook: bool = True
    health_timeout: float = 5.0
    shutdown_timeout: float = 30.0

    @property
    def path(self) -> str:
        """The local path updates arrive at: the public URL's path."""
        return urlsplit(self.public_url).path


def parse_listen(value: str) -> tuple[str, int]:
    """`0.0.0.0:8080`, `[::1]:8080` or `8080` into (host, port); ValueError if malformed."""
    host, sep, port_text = value.rpartition(":")
    if not sep:
        host, port_text = "127.0.0.1", value
    host = host.strip("[]") or "0.0.0.0"
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"'{value}' is not HOST:PORT (e.g. 127.0.0.1:8080)")
    return host, int(port_text)


def webhook_url(public_url: str) -> str:
    """The URL given to setWebhook: the public URL, with /telegram if it has no path."""
    parts = urlsplit(public_url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValueError(f"'{public_url}' is not an absolute https:// URL")
    if parts.query or parts.fragment:
        raise ValueError("the public URL must not have a query or fragment")
    path = parts.path.rstrip("/") or DEFAULT_PATH
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _select_one(session: Session) -> int:
    return int(session.connection().execute(text("SELECT 1")).scalar_one())


async def database_reachable(services: Services, within: float) -> bool:
    """Whether the database answers `SELECT 1` within `within` seconds."""
    try:
        return await asyncio.wait_for(services.db.read(_select_one), within) == 1
    except Exception as exc:  # any failure means "not reachable" for a health check
        log.warning("health: database unreachable (%s)", type(exc).__name__)
        return False


async def bot_api_reachable(application: PalApplication, within: float) -> bool:
    """Whether the Bot API server answers getMe within `within` seconds."""
    try:
        await asyncio.wait_for(
            application.bot.get_me(read_timeout=within, connect_timeout=within), within + 1
        )
        return True
    except Exception as exc:
        log.warning("health: Bot API unreachable (%s)", type(exc).__name__)
        return False


class WebhookServer:
    """The HTTP side of webhook mode: updates in, health out."""

    def __init__(self, application: PalApplication, config: WebhookConfig) -> None:
        self.application = application
        self.config = config
        self._secret = config.secret.encode()
        self._accepting = False
        self._runner: web.AppRunner | None = None

    @property
    def services(self) -> Services:
        """The application's services."""
        services = self.application.bot_data["services"]
        assert isinstance(services, Services)
        return services

    def web_app(self) -> web.Application:
        """The aiohttp application with the update and health routes."""
        from aiohttp import web  # heavy: the HTTP server, only in webhook mode

        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_post(self.config.path, self._on_update)
        app.router.add_get(HEALTH_PATH, self._on_health)
        return app

    async def start(self) -> None:
        """Bind and start accepting updates."""
        from aiohttp import web  # heavy: the HTTP server, only in webhook mode

        runner = web.AppRunner(
            self.web_app(), access_log=None, shutdown_timeout=self.config.shutdown_timeout
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, self.config.host, self.config.port).start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        self._accepting = True
        log.info(
            "webhook listening on %s:%s%s", self.config.host, self.bound_port, self.config.path
        )

    @property
    def bound_port(self) -> int:
        """The port actually bound (useful when asked for port 0)."""
        if self._runner is None or not self._runner.addresses:
            return self.config.port
        return int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop accepting: new requests are refused, requests in flight finish."""
        self._accepting = False
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def _on_update(self, request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            log.warning("webhook: request without the right secret token refused")
            return Response(status=403, text="forbidden")
        if not self._accepting or not self.application.running:
            # Telegram (or the reverse proxy) retries, possibly on another process.
            return Response(status=503, text="shutting down")
        try:
            payload = await request.json()
            if not isinstance(payload, dict):
                raise ValueError("not an object")
            update = Update.de_json(payload, self.application.bot)
        except (ValueError, KeyError, TypeError, json.JSONDecodeError):
            log.warning("webhook: malformed update refused")
            return Response(status=400, text="bad update")
        log.debug("webhook: update_id=%s queued", update.update_id)
        await self.application.update_queue.put(update)
        return Response(text="ok")

    async def _on_health(self, _request: Request) -> Response:
        timeout = self.config.health_timeout
        database, bot_api = await asyncio.gather(
            database_reachable(self.services, timeout),
            bot_api_reachable(self.application, timeout),
        )
        healthy = database and bot_api and self._accepting
        body = {
            "status": "ok" if healthy else "unavailable",
            "database": "ok" if database else "unreachable",
            "bot_api": "ok" if bot_api else "unreachable",
            "accepting_updates": self._accepting,
            "queued_updates": self.application.update_queue.qsize(),
        }
        return json_response(body, status=200 if healthy else 503)


async def register_webhook(application: PalApplication, config: WebhookConfig) -> None:
    """Tell Telegram where to deliver updates; any process may do it, it is idempotent."""
    try:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(TelegramError),
            stop=stop_after_attempt(5),
            wait=_webhook_wait,
            before_sleep=_log_webhook_retry,
        ):
            with attempt:
                await application.bot.set_webhook(
                    url=config.public_url,
                    secret_token=config.secret,
                    allowed_updates=ALLOWED_UPDATES,
                    max_connections=MAX_CONNECTIONS,
                    drop_pending_updates=False,
                )
    except RetryError:
        raise RuntimeError("could not register the webhook with the Bot API server") from None
    log.info("webhook registered at %s", urlsplit(config.public_url).netloc)


def _webhook_wait(state: RetryCallState) -> float:
    # Several processes starting together may hit setWebhook's flood limit; one of them
    # has set it, so waiting as told and repeating is enough. Else 1 s, 2 s, 3 s…
    exc = state.outcome.exception() if state.outcome is not None else None
    if isinstance(exc, RetryAfter):
        delay = exc.retry_after
        return float(delay if isinstance(delay, int | float) else delay.total_seconds())
    return float(state.attempt_number)


def _log_webhook_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome is not None else None
    log.warning("setWebhook failed (%s), attempt %s", type(exc).__name__, state.attempt_number)


async def serve(
    application: PalApplication,
    config: WebhookConfig,
    stop: asyncio.Event,
    *,
    ready: Callable[[WebhookServer], None] | None = None,
) -> None:
    """Run the bot in webhook mode until `stop` is set, then shut down gracefully."""
    server = WebhookServer(application, config)
    async with running(application):
        try:
            await server.start()
            if config.set_webhook:
                await register_webhook(application, config)
            if ready is not None:
                ready(server)
            await stop.wait()
            log.info("stopping: no new updates; finishing the ones in hand")
        finally:
            await server.stop()


def run_webhook(application: PalApplication, config: WebhookConfig) -> None:
    """Serve in webhook mode until SIGINT or SIGTERM."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await serve(application, config, stop)

    asyncio.run(main())
