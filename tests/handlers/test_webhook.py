"""Webhook mode in-process: secret token, health report, graceful shutdown."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from telegram.error import NetworkError, RetryAfter, TimedOut

from bot.app import build_application
from bot.cli import main
from bot.context import PalApplication
from bot.settings import Settings
from bot.webhook import (
    ALLOWED_UPDATES,
    SECRET_HEADER,
    WebhookConfig,
    WebhookServer,
    parse_listen,
    register_webhook,
    serve,
    webhook_url,
)
from schedules.clock import FrozenClock
from storage.db import make_engine
from storage.executor import Database
from tests.support.recording import RecordingRequest

SECRET = "s3cret-token_for-tests"
_ids = itertools.count(1)


class SlowRequest(RecordingRequest):
    """The offline Bot API, slow to answer sendMessage (an update still in flight)."""

    delay = 0.0

    async def do_request(
        self, url: str, method: str, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        """Answer after `delay` seconds for sends."""
        if url.endswith("/sendMessage") and self.delay:
            await asyncio.sleep(self.delay)
        return await super().do_request(url, method, *args, **kwargs)


def _text_update(user_id: int, text: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": next(_ids),
        "date": 1_780_000_000,
        "text": text,
        "chat": {"id": user_id, "type": "private", "first_name": "Olena"},
        "from": {"id": user_id, "is_bot": False, "first_name": "Olena", "language_code": "en"},
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return {"update_id": next(_ids), "message": message}


@asynccontextmanager
async def running(
    application: PalApplication, *, set_webhook: bool = True
) -> AsyncIterator[tuple[str, asyncio.Event, asyncio.Task[None]]]:
    """Serve `application` on a free port; yields (base URL, stop event, serve task)."""
    config = WebhookConfig(
        host="127.0.0.1",
        port=0,
        public_url="https://bot.example.org/tg",
        secret=SECRET,
        set_webhook=set_webhook,
        health_timeout=2.0,
    )
    stop = asyncio.Event()
    bound: asyncio.Future[WebhookServer] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve(application, config, stop, ready=bound.set_result))
    server = await asyncio.wait_for(bound, 10)
    try:
        yield f"http://127.0.0.1:{server.bound_port}", stop, task
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


@pytest.fixture
def make_app(settings: Settings, clock: FrozenClock) -> Callable[..., PalApplication]:
    """Build an application on the offline Bot API (not yet initialised)."""

    def make(request: RecordingRequest, database: Database | None = None) -> PalApplication:
        return build_application(
            settings,
            request=request,
            get_updates_request=request,
            with_updater=False,
            clock=clock,
            database=database,
        )

    return make


async def test_update_with_the_secret_is_handled(
    make_app: Callable[..., PalApplication], engine: object
) -> None:
    rec = RecordingRequest()
    async with running(make_app(rec)) as (base, _, _), aiohttp.ClientSession() as http:
        response = await http.post(
            f"{base}/tg", json=_text_update(701, "/nonsense"), headers={SECRET_HEADER: SECRET}
        )
        assert response.status == 200
        for _ in range(100):
            if rec.calls_to("sendMessage"):
                break
            await asyncio.sleep(0.05)
    [sent] = rec.calls_to("sendMessage")
    assert sent.params["text"] == "I don't know that command. Send /help."
    [registered] = rec.calls_to("setWebhook")
    assert registered.params["url"] == "https://bot.example.org/tg"
    assert registered.params["secret_token"] == SECRET
    assert registered.params["allowed_updates"] == ALLOWED_UPDATES


@pytest.mark.parametrize("headers", [{}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET + "x"}])
async def test_update_without_the_right_secret_is_refused(
    make_app: Callable[..., PalApplication], engine: object, headers: dict[str, str]
) -> None:
    rec = RecordingRequest()
    async with running(make_app(rec)) as (base, _, _), aiohttp.ClientSession() as http:
        response = await http.post(
            f"{base}/tg", json=_text_update(702, "/nonsense"), headers=headers
        )
        assert response.status == 403
        await asyncio.sleep(0.2)
    assert rec.calls_to("sendMessage") == []


async def test_malformed_body_is_a_bad_request(
    make_app: Callable[..., PalApplication], engine: object
) -> None:
    async with running(make_app(RecordingRequest())) as (base, _, _), aiohttp.ClientSession() as h:
        for body in (b"not json", b"[1, 2]"):
            response = await h.post(f"{base}/tg", data=body, headers={SECRET_HEADER: SECRET})
            assert response.status == 400


async def test_health_reports_database_and_bot_api(
    make_app: Callable[..., PalApplication], engine: object
) -> None:
    rec = RecordingRequest()
    async with (
        running(make_app(rec), set_webhook=False) as (base, _, _),
        aiohttp.ClientSession() as http,
    ):
        healthy = await http.get(f"{base}/healthz")
        assert healthy.status == 200
        report = await healthy.json()
        assert report["database"] == "ok"
        assert report["bot_api"] == "ok"
        rec.fail_with["getMe"] = (
            502,
            {"ok": False, "error_code": 502, "description": "Bad Gateway"},
        )
        sick = await http.get(f"{base}/healthz")
        assert sick.status == 503
        assert (await sick.json())["bot_api"] == "unreachable"


async def test_health_reports_an_unreachable_database(
    make_app: Callable[..., PalApplication],
) -> None:
    # Nothing listens on port 9 of the loopback: connections are refused at once.
    database = Database(make_engine("postgresql+psycopg://palbot@127.0.0.1:9/none"))
    async with (
        running(make_app(RecordingRequest(), database), set_webhook=False) as (base, _, _),
        aiohttp.ClientSession() as http,
    ):
        response = await http.get(f"{base}/healthz")
        assert response.status == 503
        report = await response.json()
        assert report == {
            "status": "unavailable",
            "database": "unreachable",
            "bot_api": "ok",
            "accepting_updates": True,
            "queued_updates": 0,
        }


async def test_shutdown_finishes_updates_in_flight_then_refuses_new_ones(
    make_app: Callable[..., PalApplication], engine: object
) -> None:
    rec = SlowRequest()
    async with (
        running(make_app(rec), set_webhook=False) as (base, stop, task),
        aiohttp.ClientSession() as http,
    ):
        rec.delay = 1.0
        updates = [_text_update(710 + n, "/nonsense") for n in range(5)]
        for update in updates:
            response = await http.post(f"{base}/tg", json=update, headers={SECRET_HEADER: SECRET})
            assert response.status == 200
        stop.set()  # as SIGTERM does
        await asyncio.wait_for(task, 20)
        with pytest.raises(aiohttp.ClientConnectionError):
            await http.post(
                f"{base}/tg", json=_text_update(799, "/x"), headers={SECRET_HEADER: SECRET}
            )
    # Every update accepted before the stop was answered, none was dropped.
    answered = {int(c.params["chat_id"]) for c in rec.calls_to("sendMessage")}
    assert answered == {710, 711, 712, 713, 714}


def test_listen_and_url_parsing() -> None:
    assert parse_listen("0.0.0.0:8080") == ("0.0.0.0", 8080)
    assert parse_listen("[::1]:8443") == ("::1", 8443)
    assert parse_listen("8081") == ("127.0.0.1", 8081)
    with pytest.raises(ValueError):
        parse_listen("localhost:http")
    assert webhook_url("https://bot.example.org") == "https://bot.example.org/telegram"
    assert webhook_url("https://bot.example.org/pal/") == "https://bot.example.org/pal"
    with pytest.raises(ValueError):
        webhook_url("bot.example.org/pal")


def test_webhook_mode_needs_a_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    monkeypatch.setenv("PALBOT_TOKEN", "123456:TEST-token")
    monkeypatch.setenv("PALBOT_DATABASE_URL", db_url)
    code = main(["run", "--webhook", "--public-url", "https://bot.example.org/tg"])
    assert code == 2
    assert "PALBOT_WEBHOOK_SECRET" in capsys.readouterr().err


class _FlakyBot:
    """A bot whose setWebhook fails as told before it succeeds."""

    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.calls = 0

    async def set_webhook(self, **_kwargs: Any) -> bool:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return True


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The backoff's sleeps, recorded instead of slept."""
    slept: list[float] = []

    async def no_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", no_sleep)
    return slept


_CONFIG = WebhookConfig(
    host="127.0.0.1", port=8443, public_url="https://pal.example/tg", secret="s" * 32
)


async def test_webhook_registration_waits_as_told_and_backs_off(waits: list[float]) -> None:
    bot = _FlakyBot([RetryAfter(3), NetworkError("down"), TimedOut()])
    await register_webhook(SimpleNamespace(bot=bot), _CONFIG)  # type: ignore[arg-type]
    assert bot.calls == 4
    # A flood wait as Telegram said, then 2 s and 3 s for the next failures.
    assert waits == [3.0, 2.0, 3.0]


async def test_webhook_registration_gives_up_with_one_clear_error(waits: list[float]) -> None:
    bot = _FlakyBot([NetworkError("down")] * 9)
    with pytest.raises(RuntimeError, match="could not register the webhook"):
        await register_webhook(SimpleNamespace(bot=bot), _CONFIG)  # type: ignore[arg-type]
    assert bot.calls == 5 and len(waits) == 4
