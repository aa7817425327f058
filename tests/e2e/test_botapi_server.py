"""The fake Bot API server speaks Telegram's HTTP API well enough for python-telegram-bot."""

from __future__ import annotations

import asyncio
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonCommands,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.e2e.botapi import (
    BotProcess,
    ExpectationError,
    FakeBotApi,
    FakeBotApiClient,
    RateLimit,
    bot_env,
)

pytestmark = pytest.mark.asyncio

TOKEN = "123456:TEST"


def _keyboard(*labels: str) -> InlineKeyboardMarkup:
    """Return a one-row inline keyboard whose callback_data is the lowercased label."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t, callback_data=t.lower()) for t in labels]]
    )


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    """A fake Bot API server on a free port."""
    async with FakeBotApi(token=TOKEN) as server:
        yield server


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    """A python-telegram-bot client pointed at the fake server."""
    async with Bot(TOKEN, base_url=api.bot_base_url, base_file_url=api.file_base_url) as client:
        yield client


async def test_get_me_and_wrong_token(api: FakeBotApi, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (123456, True, "pal_test_bot")
    stranger = Bot("999:WRONG", base_url=api.bot_base_url)
    with pytest.raises(InvalidToken):
        await stranger.initialize()


async def test_unknown_method_is_404(api: FakeBotApi, bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTeleportation", api_kwargs={"chat_id": 1})
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{api.bot_base_url}{TOKEN}/sendTeleportation", json={}) as resp,
    ):
        assert resp.status == 404
        assert await resp.json() == {
            "ok": False,
            "error_code": 404,
            "description": "Not Found: method not found",
        }


async def test_user_text_has_command_entity_and_offset_confirms(api: FakeBotApi, bot: Bot) -> None:
    first = api.user_sends_text(42, "/start act_5", first_name="Harry", language_code="en")
    api.user_sends_text(42, "hello")
    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [first, first + 1]
    msg = updates[0].message
    assert msg is not None and msg.from_user is not None
    assert (msg.chat.id, msg.chat.type, msg.from_user.language_code) == (42, "private", "en")
    assert msg.parse_entities() == {msg.entities[0]: "/start"}
    assert updates[1].message is not None and updates[1].message.entities == ()
    # Without an offset nothing is confirmed; with one, earlier updates are gone.
    assert len(await bot.get_updates()) == 2
    assert await bot.get_updates(offset=updates[-1].update_id + 1) == ()
    assert api.pending_updates() == []


async def test_long_poll_returns_as_soon_as_an_update_arrives(api: FakeBotApi, bot: Bot) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await api.wait_for_method("getUpdates")
    assert not poll.done()
    api.user_sends_text(7, "ping")
    updates = await poll
    assert [u.effective_message.text for u in updates if u.effective_message] == ["ping"]
    assert time.monotonic() - started < 2
    # An empty long poll waits for its timeout (JSON body, fractional seconds allowed here).
    async with aiohttp.ClientSession() as http:
        started = time.monotonic()
        body = {"offset": updates[0].update_id + 1, "timeout": 0.3}
        async with http.post(f"{api.bot_base_url}{TOKEN}/getUpdates", json=body) as resp:
            assert await resp.json() == {"ok": True, "result": []}
        assert 0.25 < time.monotonic() - started < 2


async def test_send_press_answer_edit_delete_round_trip(api: FakeBotApi, bot: Bot) -> None:
    sent = await bot.send_message(
        5, "<b>Pick</b> one", parse_mode="HTML", reply_markup=_keyboard("Yes", "No")
    )
    assert (sent.chat.id, sent.text, sent.message_id) == (5, "Pick one", 1)
    assert sent.reply_markup == _keyboard("Yes", "No")
    last = api.last_message(5)
    assert last is not None and last.raw_text == "<b>Pick</b> one"

    api.user_presses_button(5, "No")
    (update,) = await bot.get_updates()
    query = update.callback_query
    assert query is not None and query.message is not None
    assert (query.data, query.from_user.id, query.message.message_id) == ("no", 5, 1)
    assert await bot.answer_callback_query(query.id, text="Noted") is True
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query.id)
    [answer] = api.answered_callbacks(5)
    assert (answer.data, answer.text, answer.message_id) == ("no", "Noted", 1)

    edited = await bot.edit_message_text("You said no", chat_id=5, message_id=1)
    assert isinstance(edited, type(sent)) and edited.edit_date is not None
    assert api.message(5, 1).buttons == []  # editing text without reply_markup drops the keyboard
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("You said no", chat_id=5, message_id=1)
    await bot.edit_message_reply_markup(chat_id=5, message_id=1, reply_markup=_keyboard("Undo"))
    assert api.message(5, 1).button_texts == ["Undo"]
    assert await bot.delete_message(5, 1) is True
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(5, 1)

    events = api.events(5)
    assert [(e.kind, e.method) for e in events] == [
        ("send", "sendMessage"),
        ("edit", "editMessageText"),
        ("edit", "editMessageReplyMarkup"),
        ("delete", "deleteMessage"),
    ]
    assert [e.message.text for e in events[:2]] == ["Pick one", "You said no"]
    assert events[0].time <= events[1].time
    assert api.last_message(5) is None and api.messages(5)[0].deleted


async def test_telegram_style_validation_errors(api: FakeBotApi, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities: Unsupported start tag"):
        await bot.send_message(1, "line<br>break", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)Character '.' is reserved"):
        await bot.send_message(1, "Done.", parse_mode="MarkdownV2")
    msg = await bot.send_message(1, r"*Done*\. 1 \< 2", parse_mode="MarkdownV2")
    assert msg.text == "Done. 1 < 2"
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(1, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(1, "hi", reply_markup=_keyboard("y" * 65))
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("nope", chat_id=1, message_id=99)


async def test_documents_upload_get_file_and_download(api: FakeBotApi, bot: Bot) -> None:
    content = b"name;hours\nAla;3\n"
    msg = await bot.send_document(9, content, filename="raport.csv", caption="Raport")
    assert msg.document is not None and msg.caption == "Raport"
    assert (msg.document.file_name, msg.document.file_size) == ("raport.csv", len(content))
    file = await bot.get_file(msg.document.file_id)
    assert bytes(await file.download_as_bytearray()) == content
    again = await bot.send_document(9, msg.document.file_id)
    assert again.document is not None and again.document.file_id == msg.document.file_id
    photo = await bot.send_photo(9, b"\x89PNG fake", filename="qr.png")
    assert photo.photo and photo.photo[-1].file_size == 9
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_document(9, "no-such-file-id")
    [doc, _, png] = api.documents(9)
    assert (doc.file_name, doc.data, png.kind) == ("raport.csv", content, "photo")
    # A user can upload too; the bot downloads it via getFile.
    api.user_sends_document(9, b"a,b\n", "import.csv")
    (update,) = await bot.get_updates()
    assert update.message is not None and update.message.document is not None
    user_file = await update.message.document.get_file()
    assert bytes(await user_file.download_as_bytearray()) == b"a,b\n"


async def test_user_helper_cursor_documents_and_settle(api: FakeBotApi, bot: Bot) -> None:
    await bot.send_message(3, "old news")
    ala = api.user(3, first_name="Ala")
    await ala.expect_nothing(within=0.05)  # history before the helper existed is already seen
    ala.send_document(b"x;y\n", "dane.csv")
    (update,) = await bot.get_updates()
    assert update.message is not None and update.message.document is not None
    assert update.message.from_user is not None and update.message.from_user.first_name == "Ala"
    await bot.send_message(3, "Przetwarzam...")
    await bot.send_document(3, b"report", filename="wynik.xlsx")
    doc_msg = await ala.expect_document("wynik")
    assert ala.file_bytes(doc_msg) == b"report"
    await bot.get_updates(offset=update.update_id + 1)
    await ala.settle(quiet=0.05)
    assert [m.body for m in ala.messages] == ["old news", "Przetwarzam...", ""]
    marker = api.mark(3)
    await bot.edit_message_text("Gotowe", chat_id=3, message_id=3)
    assert (await api.wait_for_message(3, "Gotowe", after_event_index=marker)).edits == 1
    await api.wait_until(lambda: api.method_count("editMessageText") == 1, timeout=1)


async def test_rate_limit_per_chat_and_global(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # RetryAfter.retry_after as timedelta, no warning
    limits = RateLimit(global_limit=3, per_chat_burst=1)
    async with (
        FakeBotApi(token=TOKEN, rate_limit=limits) as api,
        Bot(TOKEN, base_url=api.bot_base_url) as bot,
    ):
        await bot.send_message(1, "a")
        with pytest.raises(RetryAfter) as per_chat:
            await bot.send_message(1, "b")
        assert per_chat.value.retry_after.total_seconds() == 1  # type: ignore[union-attr]
        await bot.send_message(2, "c")
        await bot.send_message(3, "d")
        with pytest.raises(RetryAfter):  # 3 sends in the last second: global limit
            await bot.send_message(4, "e")
        stats = api.stats()
        assert (stats["sends_accepted"], stats["rate_limited"]) == (3, 2)
        assert stats["methods"]["sendMessage"] == 5
        assert stats["statuses"] == {"200": 4, "429": 2}  # getMe + 3 sends
        assert (
            len(stats["chats"]["1"]["send_times"]) == 1 and stats["chats"]["1"]["rate_limited"] == 1
        )
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{api.bot_base_url}{TOKEN}/sendMessage", data={"chat_id": "1", "text": "f"}
            ) as resp,
        ):
            body = await resp.json()
        assert resp.status == 429 and body["parameters"]["retry_after"] >= 1
        assert (
            body["description"]
            == f"Too Many Requests: retry after {body['parameters']['retry_after']}"
        )


async def test_blocked_user_gets_forbidden(api: FakeBotApi, bot: Bot) -> None:
    api.user_sends_text(77, "/start")
    await bot.send_message(77, "hi")
    api.user_blocks_bot(77)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(77, "still there?")
    updates = await bot.get_updates()
    member = updates[-1].my_chat_member
    assert member is not None and member.new_chat_member.status == "kicked"
    api.user_unblocks_bot(77, send_update=False)
    await bot.send_message(77, "welcome back")


async def test_fault_injection(api: FakeBotApi, bot: Bot) -> None:
    api.fail_next("sendMessage", status=502)
    with pytest.raises(NetworkError, match=r"(?i)Bad Gateway"):
        await bot.send_message(1, "a")
    api.fail_next("*", status=500, count=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match=r"(?i)Internal Server Error"):
            await bot.get_me()
    api.fail_next("sendMessage", status=400, description="Bad Request: chat not found")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(1, "b")
    await bot.send_message(1, "c")  # faults are used up

    api.pause()
    pending = asyncio.create_task(bot.send_message(1, "while down"))
    await asyncio.sleep(0.2)
    assert not pending.done() and api.messages(1)[-1].text == "c"
    api.resume()
    assert (await pending).text == "while down"

    api.set_latency(0.2)
    started = time.monotonic()
    await bot.get_me()
    assert time.monotonic() - started >= 0.2


async def test_commands_menu_button_and_webhook(api: FakeBotApi, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("help", "Pomoc")])
    await bot.set_my_commands([BotCommand("start", "Start")], language_code="en")
    await bot.set_my_commands([BotCommand("admin", "Admin")], scope=BotCommandScopeChat(5))
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
    assert api.commands_for("en") == [("start", "Start")]
    assert api.commands_for(scope={"type": "chat", "chat_id": 5}) == [("admin", "Admin")]
    assert len(api.commands()) == 3
    await bot.delete_my_commands(language_code="en")
    assert api.commands_for("en") is None and await bot.get_my_commands(language_code="en") == ()
    with pytest.raises(BadRequest):
        await bot.set_my_commands([BotCommand("Bad Name", "x")])

    await bot.set_chat_menu_button(chat_id=5, menu_button=MenuButtonCommands())
    assert api.menu_button(5) == {"type": "commands"}
    assert await bot.get_chat_menu_button(5) == MenuButtonCommands()

    await bot.set_webhook("https://example.invalid/hook")
    assert (await bot.get_webhook_info()).url == "https://example.invalid/hook"
    with pytest.raises(Conflict):
        await bot.get_updates()
    api.user_sends_text(1, "dropped")
    await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates() == ()
    assert await bot.close() is True and await bot.log_out() is True


async def test_http_control_endpoints(api: FakeBotApi, bot: Bot) -> None:
    client = FakeBotApiClient(api.base_url)
    update_id = await asyncio.to_thread(client.send_text, 11, "/start")
    (update,) = await bot.get_updates()
    assert update.update_id == update_id
    await bot.send_message(11, "Wybierz", reply_markup=_keyboard("Polski"))
    waited = await asyncio.to_thread(client.wait_message, 11, "Wybierz", timeout=2)
    assert waited["message"]["buttons"][0]["text"] == "Polski"
    await asyncio.to_thread(client.press_button, 11, "Pol")
    updates = await bot.get_updates(offset=update_id + 1)
    assert updates[0].callback_query is not None and updates[0].callback_query.data == "polski"
    messages = await asyncio.to_thread(client.messages, 11)
    assert [m["text"] for m in messages] == ["Wybierz"]
    assert [e["kind"] for e in await asyncio.to_thread(client.events, 11)] == ["send"]
    await asyncio.to_thread(client.fail_next, "sendMessage", 500)
    with pytest.raises(NetworkError):
        await bot.send_message(11, "x")
    stats = await asyncio.to_thread(client.stats)
    assert stats["sends_accepted"] == 1 and stats["methods"]["sendMessage"] == 2
    await asyncio.to_thread(client.block, 11)
    with pytest.raises(Forbidden):
        await bot.send_message(11, "x")


def _build_app(api: FakeBotApi) -> Application:  # type: ignore[type-arg]
    """Return a small Application: /start asks for a language, buttons edit, text echoes."""

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(
            "Wybierz język / Choose language", reply_markup=_keyboard("Polski", "English")
        )

    async def choose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("OK")
        await query.edit_message_text(f"Język: {query.data}")

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(api.bot_base_url)
        .base_file_url(api.file_base_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(choose))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    return app


async def test_application_polling_conversation(api: FakeBotApi) -> None:
    app = _build_app(api)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=5)
        try:
            harry = api.user(1001, first_name="Harry")
            msg = await harry.ask("/start", "Wybierz język")
            assert msg.button_texts == ["Polski", "English"]
            harry.press("Polski")
            assert (await harry.expect_answer()).text == "OK"
            edited = await harry.expect_edit("Język: polski", message=msg)
            assert edited.buttons == []
            assert (await harry.ask("hello", "echo:")).text == "echo: hello"
            await harry.expect_nothing(within=0.2)
            with pytest.raises(ExpectationError, match=r"(?i)echo: nothing"):
                await harry.expect("echo: nothing", timeout=0.1)
        finally:
            await app.updater.stop()
            await app.stop()


_STUB_BOT = """
    import os
    from telegram.ext import ApplicationBuilder, MessageHandler, filters

    async def echo(update, context):
        await update.effective_message.reply_text("stub: " + update.effective_message.text)

    base = os.environ["PALBOT_API_URL"]
    app = (
        ApplicationBuilder().token(os.environ["PALBOT_TOKEN"])
        .base_url(base + "/bot").base_file_url(base + "/file/bot").build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    print("stub bot polling", flush=True)
    app.run_polling(poll_interval=0.0, timeout=2)
"""


async def test_bot_process_helper_with_stub_bot(api: FakeBotApi, tmp_path: Path) -> None:
    script = tmp_path / "stub_bot.py"
    script.write_text(textwrap.dedent(_STUB_BOT))
    proc = BotProcess(bot_env(api), tmp_path, command=[sys.executable, str(script)])
    async with proc:
        await proc.wait_ready(api, timeout=20)
        harry = api.user(5)
        assert (await harry.ask("hi")).text == "stub: hi"
        assert await proc.terminate() == 0
    assert "stub bot polling" in proc.log_text()


@pytest.mark.e2e
async def test_real_bot_starts_polling_and_stops_on_sigterm(
    api: FakeBotApi, tmp_path: Path
) -> None:
    env = bot_env(api, PALBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'palbot.sqlite3'}")
    async with BotProcess(env, tmp_path, ["run"]) as proc:
        await proc.wait_ready(api, timeout=30)
        assert proc.running
        assert await proc.terminate() == 0, proc.log_tail()
