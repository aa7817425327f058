"""The aiohttp Bot API transport over real HTTP to the local Bot API server, faults included."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.request import HTTPXRequest

from bot.aiohttp_request import AiohttpRequest
from bot.settings import load_settings
from bot.transport import bot_api_request
from tests.e2e.botapi import FakeBotApi
from tests.e2e.botapi.models import BotMessage
from tests.e2e.conftest import E2E_TOKEN
from tests.support.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.e2e]

CHAT = 5001


def _bot(base_url: str, request: AiohttpRequest, token: str = E2E_TOKEN) -> Bot:
    return Bot(
        token,
        base_url=f"{base_url}/bot",
        base_file_url=f"{base_url}/file/bot",
        request=request,
        get_updates_request=AiohttpRequest(connection_pool_size=1),
    )


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    """A bare python-telegram-bot Bot on the aiohttp transport, initialised."""
    async with _bot(api.base_url, AiohttpRequest(read_timeout=2, connection_pool_size=4)) as b:
        yield b


def _last(api: FakeBotApi) -> BotMessage:
    message = api.last_message(CHAT)
    assert message is not None
    return message


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_messages_buttons_and_edits(api: FakeBotApi, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Zapisz się 📌", callback_data="su:1")]])
    sent = await bot.send_message(CHAT, "Warsztaty — zażółć gęślą jaźń", reply_markup=keyboard)
    assert _last(api).text == "Warsztaty — zażółć gęślą jaźń"
    assert _last(api).button_texts == ["Zapisz się 📌"]
    await bot.edit_message_text("Zapisano", chat_id=CHAT, message_id=sent.message_id)
    assert _last(api).text == "Zapisano"


async def test_a_document_upload_and_download(api: FakeBotApi, bot: Bot) -> None:
    content = "Lista obecności;Łódź\n".encode() * 2000 + bytes(range(256))
    sent = await bot.send_document(
        CHAT, InputFile(content, filename="obecność.csv"), caption="Lista"
    )
    stored = api.documents(CHAT)[-1]
    assert (stored.data, stored.file_name) == (content, "obecność.csv")
    assert sent.document is not None and sent.caption == "Lista"
    downloaded = await (await bot.get_file(sent.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == content


async def test_telegram_errors_come_through_the_usual_parsing(
    api: FakeBotApi, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # RetryAfter.retry_after as timedelta, no warning
    api.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(CHAT, "x")
    assert flood.value.retry_after == timedelta(seconds=7)
    api.fail_next("sendMessage", 403, description="Forbidden: bot was blocked by the user")
    with pytest.raises(Forbidden, match="blocked"):
        await bot.send_message(CHAT, "x")
    api.fail_next("sendMessage", 400, description="Bad Request: chat not found")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(CHAT, "x")
    for status in (500, 502):
        api.fail_next("sendMessage", status)
        with pytest.raises(NetworkError) as caught:
            await bot.send_message(CHAT, "x")
        assert not isinstance(caught.value, TimedOut)
    await bot.send_message(CHAT, "after the faults")  # the connection is still usable
    assert _last(api).text == "after the faults"


async def test_a_token_telegram_refuses(api: FakeBotApi) -> None:
    async with contextlib.AsyncExitStack() as stack:
        bot = _bot(api.base_url, AiohttpRequest(), token="999:refused")
        with pytest.raises(InvalidToken):
            await stack.enter_async_context(bot)


async def test_a_server_that_is_down_at_start() -> None:
    bot = _bot(f"http://127.0.0.1:{_closed_port()}", AiohttpRequest(connect_timeout=2))
    with pytest.raises(NetworkError) as caught:
        await bot.initialize()  # getMe
    assert not isinstance(caught.value, TimedOut)
    assert "aiohttp.ClientConnectorError" in str(caught.value)
    await bot.shutdown()


async def test_connections_closed_by_the_server(api: FakeBotApi) -> None:
    with TcpProxy("127.0.0.1", api.port) as proxy:
        async with _bot(f"http://127.0.0.1:{proxy.port}", AiohttpRequest()) as bot:
            await bot.send_message(CHAT, "before")  # opens a connection that is reused
            proxy.cut()
            with pytest.raises(NetworkError) as caught:
                await bot.send_message(CHAT, "while cut")
            assert not isinstance(caught.value, TimedOut)
            proxy.restore()
            await bot.send_message(CHAT, "after")  # a fresh connection, no restart
    assert [m.text for m in api.messages(CHAT)] == ["before", "after"]


async def test_a_connection_closed_mid_request() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()  # the request arrived; no answer, the connection is gone

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError, match="ServerDisconnectedError") as caught:
            await request.post(f"http://127.0.0.1:{port}/bot{E2E_TOKEN}/getMe")
        assert not isinstance(caught.value, TimedOut)
    finally:
        await request.shutdown()
        server.close()
        await server.wait_closed()


async def test_a_slow_server_times_out_on_read(api: FakeBotApi, bot: Bot) -> None:
    api.set_latency(1.0)
    with pytest.raises(TimedOut):
        await bot.send_message(CHAT, "slow", read_timeout=0.2)
    api.set_latency(0)
    await bot.send_message(CHAT, "fast again")


async def test_a_connect_that_hangs_times_out() -> None:
    # A listening socket whose backlog is full and never accepts: new handshakes get no reply.
    with socket.socket() as sock, contextlib.ExitStack() as fillers:
        sock.bind(("127.0.0.1", 0))
        sock.listen(0)
        port = sock.getsockname()[1]
        for _ in range(3):
            filler = fillers.enter_context(socket.socket())
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
        request = AiohttpRequest(connect_timeout=0.3, read_timeout=0.3)
        await request.initialize()
        try:
            with pytest.raises(TimedOut):
                await request.post(f"http://127.0.0.1:{port}/bot{E2E_TOKEN}/getMe")
        finally:
            await request.shutdown()


async def test_a_full_pool_is_a_pool_timeout(api: FakeBotApi) -> None:
    async with _bot(
        api.base_url, AiohttpRequest(connection_pool_size=1, pool_timeout=0.2, read_timeout=10)
    ) as bot:
        api.pause()
        first = asyncio.create_task(bot.send_message(CHAT, "holds the only connection"))
        await asyncio.sleep(0.1)
        with pytest.raises(TimedOut, match="Pool timeout"):
            await bot.send_message(CHAT, "no connection free")
        api.resume()
        await first
    assert [m.text for m in api.messages(CHAT)] == ["holds the only connection"]


async def test_many_concurrent_calls_share_a_small_pool(api: FakeBotApi) -> None:
    async with _bot(api.base_url, AiohttpRequest(connection_pool_size=2, pool_timeout=10)) as bot:
        await asyncio.gather(*(bot.send_message(CHAT + n % 5, f"m{n}") for n in range(60)))
        request = bot.request
        assert isinstance(request, AiohttpRequest)
    assert sum(len(api.messages(CHAT + k)) for k in range(5)) == 60


class _CountingProxy(TcpProxy):
    """A TCP proxy that counts the connections opened through it."""

    accepted = 0

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        await super()._accept(reader, writer)


async def test_connections_are_reused_up_to_the_pool_size(api: FakeBotApi) -> None:
    with _CountingProxy("127.0.0.1", api.port) as proxy:
        async with _bot(
            f"http://127.0.0.1:{proxy.port}",
            AiohttpRequest(connection_pool_size=3, pool_timeout=10),
        ) as bot:
            for n in range(20):
                await bot.send_message(CHAT, f"one by one {n}")
            await asyncio.gather(*(bot.send_message(CHAT, f"at once {n}") for n in range(40)))
    assert 1 <= proxy.accepted <= 3
    assert len(api.messages(CHAT)) == 60


async def test_shutdown_closes_and_initialize_reopens(api: FakeBotApi) -> None:
    request = AiohttpRequest()
    await request.initialize()
    await request.initialize()  # idempotent: the same session
    url = f"{api.bot_base_url}{E2E_TOKEN}/getMe"
    assert await _is_bot(request, url)
    await request.shutdown()
    await request.shutdown()
    with pytest.raises(NetworkError, match="not initialized"):  # as HTTPXRequest does
        await request.post(url)
    await request.initialize()
    assert await _is_bot(request, url)
    await request.shutdown()


async def _is_bot(request: AiohttpRequest, url: str) -> bool:
    me = await request.post(url)
    return isinstance(me, dict) and me["is_bot"] is True


def test_the_transport_is_a_setting() -> None:
    default = load_settings(_env_file=None, token=E2E_TOKEN)
    assert isinstance(bot_api_request(default), AiohttpRequest)
    assert isinstance(bot_api_request(default, for_updates=True), AiohttpRequest)
    httpx = load_settings(_env_file=None, token=E2E_TOKEN, http_client="httpx")
    assert isinstance(bot_api_request(httpx), HTTPXRequest)
