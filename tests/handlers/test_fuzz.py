"""Fuzzing every text input and every button through the real Application, offline.

Whatever a person types, in whatever state, and whatever callback data arrives (old,
forged, garbage), the bot must not crash (no error reaches the error handler), must
answer something, and — for button data that is not a live action — change nothing.
Callback prefixes are read from the registered handlers, so features added later are
fuzzed too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from telegram.ext import CallbackQueryHandler

from bot.context import PalApplication
from schedules.clock import FrozenClock
from storage.db import transaction
from storage.models import Role
from tests.support.animator import grant_where_they_live, make_scene
from tests.support.chat import ChatUser
from tests.support.privacy import all_rows_text
from tests.support.recording import RecordingRequest

FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# What people type: anything, plus the shapes that break parsers most often.
texts = st.one_of(
    st.text(min_size=0, max_size=80),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=4096),
    st.sampled_from(
        [
            "",
            " ",
            "\n",
            "0",
            "-1",
            "99999999999999999999",
            "12.12",
            "31.02.2026",
            "jutro",
            "tomorrow",
            "25:99",
            "1e309",
            "NaN",
            "<b>x</b>",
            "*_`[",
            "👩‍👩‍👧‍👦" * 30,
            "\u202eRTL\u202c",
            "שלום",
            "\x00\x01",
            "a" * 10_000,
            "/start act_999999999",
            "/start act_-1",
            "/start " + "x" * 64,
            "/checkin 0000",
            "/checkin",
            "/survey",
            "/animator",
            "/evaluator",
            "/paper",
            "/forgetme",
            "/mydata",
            "/privacy",
        ]
    ),
).filter(lambda t: "\x00" not in t or len(t) < 10)


def _prefixes(app: PalApplication) -> list[str]:
    """Callback-data prefixes the bot answers to, read from its handlers."""
    found: set[str] = set()
    for handlers in app.handlers.values():
        for handler in handlers:
            if isinstance(handler, CallbackQueryHandler) and isinstance(
                handler.pattern, re.Pattern
            ):
                literal = re.match(r"\^([a-z]+:?(?:[a-z]+:)?)", handler.pattern.pattern)
                if literal:
                    found.add(literal.group(1))
    return sorted(found)


def _live_patterns(app: PalApplication) -> list[re.Pattern[str]]:
    return [
        h.pattern
        for hs in app.handlers.values()
        for h in hs
        if isinstance(h, CallbackQueryHandler) and isinstance(h.pattern, re.Pattern)
    ]


def _garbage(prefixes: list[str]) -> st.SearchStrategy[str]:
    """Forged or stale callback data: known prefixes with ids nobody has, or noise."""
    missing_id = st.integers(min_value=10**9, max_value=10**12 - 1).map(str)
    suffix = st.one_of(
        missing_id,
        st.text(max_size=30),
        st.just(""),
        st.just("-1"),
        st.tuples(missing_id, missing_id).map(":".join),
    )
    forged = st.tuples(st.sampled_from(prefixes), suffix).map("".join)
    noise = st.text(max_size=64)
    return st.one_of(forged, noise).filter(lambda d: 0 < len(d.encode()) <= 64)


class Watch:
    """Counts the bot's answers and the errors that reached the error handler."""

    def __init__(self, rec: RecordingRequest, caplog: pytest.LogCaptureFixture) -> None:
        self.rec = rec
        self.caplog = caplog

    def mark(self) -> int:
        """Where the record of calls is now."""
        self.caplog.clear()
        return len(self.rec.calls)

    def check(self, since: int, user_id: int, *, callback: bool) -> None:
        """Something was said to the user, and nothing crashed."""
        errors = [r for r in self.caplog.records if r.levelno >= logging.ERROR]
        assert not errors, [r.getMessage() for r in errors]
        calls = self.rec.calls[since:]
        if callback:
            assert any(c.method == "answerCallbackQuery" for c in calls), "button not answered"
        else:
            assert any(int(c.params.get("chat_id", 0) or 0) == user_id for c in calls), (
                "no answer to the message"
            )


@pytest.fixture
def watch(rec: RecordingRequest, caplog: pytest.LogCaptureFixture) -> Watch:
    """The error and answer watcher."""
    caplog.set_level(logging.WARNING)
    return Watch(rec, caplog)


@pytest.fixture
def world(engine: Engine, clock: FrozenClock) -> tuple[int, int]:
    """A programme with an activity and people, and an animator: (programme, activity)."""
    scene = make_scene(
        engine,
        clock.now(),
        places=2,
        people=3,
        starts_in=timedelta(days=2),
        animator_telegram_id=900,
    )
    with transaction(engine) as session:
        grant_where_they_live(session, role=Role.ANIMATOR, telegram_id=900)
    return scene.programme_id, scene.activity_id


async def _text_fuzz(user: ChatUser, watch: Watch, text: str) -> None:
    since = watch.mark()
    await user.send(text)
    watch.check(since, user.user_id, callback=False)


@FUZZ
@given(text=texts)
async def test_any_text_from_a_stranger(
    chat_user: Callable[..., ChatUser], watch: Watch, text: str
) -> None:
    await _text_fuzz(chat_user(3001, language_code="uk"), watch, text)


@FUZZ
@given(text=texts)
async def test_any_text_while_choosing_a_name(
    chat_user: Callable[..., ChatUser], watch: Watch, text: str
) -> None:
    newcomer = chat_user(3002)
    # Each example starts again at the name step (a finished onboarding starts over
    # with a fresh person id, so the name step is reached every time).
    await newcomer.send("/start")
    if any(b[1] == "lang:pl" for m in newcomer.messages[-1:] for b in m.buttons()):
        await newcomer.press_data("lang:pl")
        await newcomer.press_data("ob:ok")
    await _text_fuzz(newcomer, watch, text)


@FUZZ
@given(text=texts)
async def test_any_text_from_a_resident(
    chat_user: Callable[..., ChatUser], watch: Watch, world: tuple[int, int], text: str
) -> None:
    await _text_fuzz(chat_user(5000), watch, text)


# Buttons that open a dialog waiting for typed text: new activity, announcement, person
# without Telegram, changing an activity's title, a paper survey's new participant.
OPENINGS = ["anw:new", "anb:new", "anx:add", "ane:f:{activity}:t", "pp:new:{programme}"]


@pytest.mark.parametrize("template", OPENINGS)
@FUZZ
@given(text=texts)
async def test_any_text_in_animator_dialogs(
    chat_user: Callable[..., ChatUser],
    watch: Watch,
    world: tuple[int, int],
    app: PalApplication,
    template: str,
    text: str,
) -> None:
    programme, activity = world
    opening = template.format(programme=programme, activity=activity)
    if not any(p.match(opening) for p in _live_patterns(app)):
        pytest.skip(f"{opening} is not a live button in this build")
    ewa = chat_user(900)
    if not ewa.messages:
        await ewa.send("/animator")
    # Open (or resume) the dialog, then type into whatever step it is at.
    await ewa.press_data(opening)
    await _text_fuzz(ewa, watch, text)


@pytest.mark.parametrize("who", [3003, 5000, 900], ids=["stranger", "resident", "animator"])
@FUZZ
@given(data=st.data())
async def test_forged_buttons_change_nothing(
    chat_user: Callable[..., ChatUser],
    watch: Watch,
    world: tuple[int, int],
    app: PalApplication,
    engine: Engine,
    who: int,
    data: st.DataObject,
) -> None:
    person = chat_user(who)
    if not person.messages:
        await person.send("/help")  # a message to press on
    prefixes = _prefixes(app)
    assert "pv:" in prefixes and "su:" in prefixes
    forged = data.draw(_garbage(prefixes), label="callback_data")
    before = all_rows_text(engine)
    since = watch.mark()
    await person.press_data(forged, message=person.messages[0])
    watch.check(since, who, callback=True)
    assert all_rows_text(engine) == before, f"{forged!r} changed the database"
