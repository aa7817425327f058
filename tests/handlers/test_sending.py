"""The Telegram side of sending: the pacer in PTB, and how each Bot API answer is read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.app import build_application
from bot.context import PalApplication, Services
from bot.dispatch import SENDER
from bot.sending import PacingRateLimiter, TelegramSender
from bot.settings import Settings
from schedules.clock import FrozenClock
from schedules.messages import Button, OutgoingMessage, SendOutcome
from schedules.pacing import Lane
from storage.db import transaction
from storage.models import Person
from tests.support.recording import RecordingRequest
from tests.support.signup import make_person


class FlakyRequest(RecordingRequest):
    """Answers the queued failures first, one per call of the method."""

    def __init__(self) -> None:
        super().__init__()
        self.queued: dict[str, list[tuple[int, dict[str, Any]]]] = {}

    async def do_request(
        self, url: str, method: str, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        if self.queued.get(api_method):
            self.fail_with[api_method] = self.queued[api_method].pop(0)
        return await super().do_request(url, method, *args, **kwargs)


def _error(status: int, description: str, **parameters: Any) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return status, body


@pytest.fixture
async def flaky_app(
    settings: Settings, engine: Engine, clock: FrozenClock
) -> AsyncIterator[tuple[PalApplication, FlakyRequest]]:
    request = FlakyRequest()
    application = build_application(
        settings, request=request, get_updates_request=request, with_updater=False, clock=clock
    )
    await application.initialize()
    yield application, request
    await application.shutdown()
    services: Services = application.bot_data["services"]
    services.db.close()


def _sender(app: PalApplication) -> TelegramSender:
    services: Services = app.bot_data["services"]
    sender = services.extras[SENDER]
    assert isinstance(sender, TelegramSender)
    return sender


async def test_every_call_is_paced_and_outbox_sends_are_marked_bulk(
    flaky_app: tuple[PalApplication, FlakyRequest],
) -> None:
    app, request = flaky_app
    limiter = app.bot.rate_limiter
    assert isinstance(limiter, PacingRateLimiter)
    message = OutgoingMessage("Dzień dobry", buttons=((Button("✅ Będę", "rem:y:1"),),))
    result = await _sender(app).send(601, message, bulk=True)
    assert result.outcome is SendOutcome.DELIVERED and result.message_id
    (call,) = request.calls_to("sendMessage")
    assert call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "✅ Będę", "callback_data": "rem:y:1"}]]
    }
    # A bulk send to chat 601 now keeps that chat spaced; a reply to it would not wait.
    state = limiter.pacer.state
    assert state.chat_delay(601, limiter.pacer._clock()) > 0.9
    assert state.delay(Lane.INTERACTIVE, 601, limiter.pacer._clock()) == 0


async def test_server_errors_are_retried_and_a_refusal_is_a_failure(
    flaky_app: tuple[PalApplication, FlakyRequest],
) -> None:
    app, request = flaky_app
    request.queued["sendMessage"] = [_error(502, "Bad Gateway"), _error(500, "Internal")]
    result = await _sender(app).send(602, OutgoingMessage("x"), bulk=True)
    assert result.outcome is SendOutcome.DELIVERED
    assert len(request.calls_to("sendMessage")) == 3
    request.queued["sendMessage"] = [_error(400, "Bad Request: message is too long")]
    refused = await _sender(app).send(603, OutgoingMessage("x"), bulk=True)
    assert (refused.outcome, refused.error) == (
        SendOutcome.FAILED,
        "BadRequest: Message is too long",
    )


async def test_a_long_flood_wait_is_handed_back_to_the_outbox(
    flaky_app: tuple[PalApplication, FlakyRequest],
) -> None:
    app, request = flaky_app
    request.queued["sendMessage"] = [
        _error(429, "Too Many Requests: retry after 120", retry_after=120)
    ]
    result = await _sender(app).send(604, OutgoingMessage("x"), bulk=True)
    assert (result.outcome, result.retry_after) == (SendOutcome.RETRY_LATER, 120)


async def test_blocked_means_unreachable_and_the_person_is_marked(
    flaky_app: tuple[PalApplication, FlakyRequest], engine: Engine, clock: FrozenClock
) -> None:
    app, request = flaky_app
    with transaction(engine) as session:
        make_person(session, telegram_id=605, name="Marek")
    request.queued["sendMessage"] = [_error(403, "Forbidden: bot was blocked by the user")]
    result = await _sender(app).send(605, OutgoingMessage("x"), bulk=True)
    assert result.outcome is SendOutcome.UNREACHABLE
    with Session(engine) as session:
        person = session.exec(select(Person).where(Person.telegram_id == 605)).one()
        assert person.unreachable_at == clock.now()


async def test_photos_and_files_go_with_their_text(
    flaky_app: tuple[PalApplication, FlakyRequest],
) -> None:
    app, request = flaky_app
    photo = OutgoingMessage("Zebranie w czwartek", photo_file_id="AgAD-photo")
    assert (await _sender(app).send(606, photo, bulk=True, broadcast=True)).outcome is (
        SendOutcome.DELIVERED
    )
    (call,) = request.calls_to("sendPhoto")
    assert (call.params["photo"], call.params["caption"]) == ("AgAD-photo", "Zebranie w czwartek")
    files = OutgoingMessage("Plik", attachments=(("plan.csv", b"a;b\n"),))
    assert (await _sender(app).send(606, files, bulk=True)).outcome is SendOutcome.DELIVERED
    (document,) = request.calls_to("sendDocument")
    assert document.params["caption"] == "Plik"


async def test_the_pacer_can_be_turned_off(settings: Settings, clock: FrozenClock) -> None:
    request = RecordingRequest()
    off = settings.model_copy(update={"rate_limit": False})
    application = build_application(
        off, request=request, get_updates_request=request, with_updater=False, clock=clock
    )
    assert application.bot.rate_limiter is None
    await application.initialize()
    services: Services = application.bot_data["services"]
    sender = services.extras[SENDER]
    assert (await sender.send(607, OutgoingMessage("x"), bulk=True)).outcome is (
        SendOutcome.DELIVERED
    )
    await application.shutdown()
    services.db.close()
