"""Hostile probes of every staff entry point against programme B, on SQLite and PostgreSQL.

Six people try programme B's activities, people, reports, team and settings: an animator
granted for A only who lives in B, a coordinator of A who lives in B, an old grant
without a programme (as migration 0002 leaves one it cannot place), an animator whose
role was taken away in the middle of dialogs, an evaluator of A, and a resident of B.
Each probe — a command, a forged button of every staff callback prefix, a typed answer
to each staff dialog holding a B target, a deep link — must get a short polite refusal,
show nothing of B (names, documents) and leave the database exactly as it was (every
table dumped before and after).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from schedules.clock import FrozenClock
from storage.activities.seats import sign_up
from storage.db import transaction
from storage.dialogs import close_dialog, save_dialog
from storage.models import Person, Registration, Role, RoleGrant
from storage.people.roles import grant, revoke
from storage.people.without_telegram import create_proxy_participant
from storage.surveys.questionnaires import SurveyPhase
from storage.surveys.responses import Channel, start_or_resume
from tests.support.chat import ChatUser
from tests.support.dbdump import dump
from tests.support.recording import RecordingRequest
from tests.support.signup import make_activity, make_person, make_programme
from translations import translator

HANNA, OLD, REVOKED, EVALUATOR, RESIDENT, BEATA = 7101, 7102, 7103, 7104, 7105, 7106
CELINA = 7107
# Those whose own programme A is legitimately theirs: programme-wide probes skip them.
WORK_IN_A = (HANNA, CELINA)
# What programme B holds that nobody above may see.
B_SECRETS = ("Bogumiła", "Zofia Tajna", "Beata", "Spotkanie Beta", "Warsztaty Beta")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each probe table runs on SQLite and on PostgreSQL (skipped visibly where unset)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'palbot.sqlite3'}"
    url = request.getfixturevalue("postgres_url")
    assert isinstance(url, str)
    return url


@dataclass
class World:
    """Programme A and B and the ids the probes forge buttons with."""

    a: int = 0
    b: int = 0
    a_activity: int = 0
    b_imported: int = 0
    b_beatas: int = 0
    b_registration: int = 0
    zofia: int = 0
    zofia_registration: int = 0
    zofia_response: int = 0
    beata_grant: int = 0
    people: dict[int, int] = field(default_factory=dict)


def _build(engine: Engine, clock: FrozenClock) -> World:
    w = World()
    now = clock.now()
    with transaction(engine) as session:
        a, b = make_programme(session, name="PAL Alfa"), make_programme(session, name="PAL Beta")
        assert a.id is not None and b.id is not None
        w.a, w.b = a.id, b.id
        beata = make_person(session, telegram_id=BEATA, name="Beata", programme=b)
        grant(session, role=Role.ANIMATOR, telegram_id=BEATA, programme_id=b.id)
        for telegram_id, name in (
            (HANNA, "Hanna"),
            (OLD, "Olgierd"),
            (REVOKED, "Roman"),
            (EVALUATOR, "Ewelina"),
            (RESIDENT, "Bogumiła"),
            (CELINA, "Celina"),
        ):
            person = make_person(session, telegram_id=telegram_id, name=name, programme=b)
            assert person.id is not None
            w.people[telegram_id] = person.id
        grant(session, role=Role.ANIMATOR, telegram_id=HANNA, programme_id=a.id)
        grant(session, role=Role.COORDINATOR, telegram_id=CELINA, programme_id=a.id)
        # A grant from before grants named a programme, as migration 0002 leaves it.
        session.add(RoleGrant(telegram_id=OLD, role=Role.ANIMATOR.value))
        grant(session, role=Role.EVALUATOR, telegram_id=EVALUATOR, programme_id=a.id)
        grant(session, role=Role.ANIMATOR, telegram_id=REVOKED, programme_id=b.id)
        mine = make_activity(
            session, programme=a, starts_at=now + timedelta(days=2), title="Zajęcia Alfa"
        )
        mine.organiser_id = w.people[HANNA]
        imported = make_activity(
            session, programme=b, starts_at=now + timedelta(days=3), title="Warsztaty Beta"
        )
        beatas = make_activity(
            session, programme=b, starts_at=now + timedelta(days=4), title="Spotkanie Beta"
        )
        beatas.organiser_id = beata.id
        session.add_all([mine, beatas])
        zofia = create_proxy_participant(
            session, display_name="Zofia Tajna", created_by_id=beata.id or 0, programme_id=b.id
        )
        session.flush()
        assert (mine.id and imported.id and beatas.id and zofia.id) is not None
        w.a_activity, w.b_imported, w.b_beatas = mine.id or 0, imported.id or 0, beatas.id or 0
        w.zofia = zofia.id or 0
        response = start_or_resume(
            session,
            person_id=w.zofia,
            programme=b,
            phase=SurveyPhase.INITIAL,
            channel=Channel.PROXY,
            now=now,
            entered_by_id=beata.id,
        )
        w.zofia_response = response.id or 0
    with transaction(engine) as session:
        sign_up(session, person_id=w.people[RESIDENT], activity_id=w.b_imported, now=now)
        sign_up(
            session,
            person_id=w.zofia,
            activity_id=w.b_imported,
            now=now,
            proxy_by_id=w.people[REVOKED],
        )
    with transaction(engine) as session:
        for registration in session.exec(select(Registration)):
            if registration.person_id == w.zofia:
                w.zofia_registration = registration.id or 0
            else:
                w.b_registration = registration.id or 0
        w.beata_grant = (
            session.exec(select(RoleGrant.id).where(RoleGrant.telegram_id == BEATA)).one() or 0
        )
        # Roman's role is taken away after he began his dialogs (they are set per probe).
        revoke(session, role=Role.ANIMATOR, telegram_id=REVOKED)
    return w


@dataclass(frozen=True)
class Probe:
    """One hostile attempt: a command, a forged button, or a typed dialog answer."""

    name: str
    command: str | None = None
    button: str | None = None
    text: str | None = None
    dialog: tuple[str, str, dict[str, Any]] | None = None  # kind, step, data
    # Programme-wide tools (no B id in them): legitimate for Hanna in A, so skipped for her.
    wide: bool = False


def probes(w: World, now_ts: int) -> list[Probe]:
    """Every staff entry point, aimed at programme B."""
    bi, bb, z, zr, resp = (
        w.b_imported,
        w.b_beatas,
        w.zofia,
        w.zofia_registration,
        w.zofia_response,
    )
    buttons = {
        # activity cards, calling off, changes
        "card": f"an:a:{bi}",
        "card of Beata's": f"an:a:{bb}",
        "call off ask": f"an:x:{bi}",
        "call off": f"an:xy:{bb}",
        "edit fields": f"ane:{bi}",
        "edit title": f"ane:f:{bi}:t",
        # attendance, check-in code, participants and their CSV
        "checklist": f"ana:{bi}",
        "checklist page": f"ana:p:{bi}:0",
        "attendance tap": f"ana:t:{bi}:{w.b_registration}:1:0",
        "check-in code": f"ana:code:{bi}",
        "participants": f"anp:{bi}",
        "participants CSV": f"anp:csv:{bb}",
        # announcements about B's activities
        "announce activity": f"anb:new:{bi}",
        "audience of activity": f"anb:aa:places:{bi}",
        "link to activity": f"anb:lk:{bb}",
        "stop broadcast": "anb:stop:1",
        # people without Telegram and their erasure
        "person card": f"anx:p:{z}",
        "person sign-up list": f"anx:su:{z}",
        "person sign-up": f"anx:sa:{z}:{bb}",
        "person cancel": f"anx:cx:{z}:{bi}",
        "person attendance": f"anx:at:{z}:{bi}:{zr}:1",
        "erase ask": f"pv:ax:{z}",
        "erase": f"pv:ay:{z}:{now_ts}",
        # paper surveys and the survey form on a B response
        "paper programme": f"pp:prog:{w.b}",
        "paper person": f"pp:who:{z}",
        "paper open": f"pp:go:{z}:i",
        "paper add": f"pp:new:{w.b}",
        "form answer": f"sv:a:{resp}:0:1",
        "form skip": f"sv:k:{resp}:0",
        "form submit": f"sv:w:{resp}",
        "form view": f"sv:v:{resp}",
        # reports
        "report programme": f"ev:p:{w.b}",
        "report year": f"ev:y:{w.b}:2026",
        # which programme the screens are about
        "choose programme": f"an:pg:{w.b}",
        # B's team: its screen, inviting, removing Beata; appointing a coordinator of A
        "team": f"adm:p:{w.b}",
        "invite to B": f"adm:i:{w.b}:animator",
        "remove ask": f"adm:s:{w.beata_grant}",
        "remove": f"adm:sr:{w.beata_grant}",
        "coordinator of A": f"adm:i:{w.a}:coordinator",
        "administrators": "adm:a",
        "invite admin": "adm:i:0:admin",
        # B's settings, surveys, records; renaming and archiving A (administrators')
        "settings": f"prg:o:{w.b}",
        "reminder times": f"prg:e:{w.b}:rem",
        "surveys screen": f"prg:s:{w.b}",
        "audit": f"prg:au:{w.b}:0",
        "all audit": "prg:au:0:0",
        "people data": f"prg:pd:{w.b}",
        "rename A": f"prg:e:{w.a}:name",
        "archive A": f"prg:bc:{w.a}:ar:on",
    }
    wide = {
        "final ask": "an:final",
        "final open": "an:finaly",
        "new activity": "anw:new",
        "new announcement": "anb:new",
        "add person": "anx:add",
        "people list": "anx:list",
        "paper notice": "pp:nt:1",
        "person notice": "anx:nt:1",
        "wizard publish": "anw:pub",
        "admin menu": "adm:menu",
    }
    texts = {
        "paper name": ("paper_new", "name", {"programme_id": w.b}),
        "edit answer": ("animator_edit", "t", {"activity_id": bi}),
        "paper form text": ("paper_survey", "form", {"response_id": resp}),
    }
    wide_texts = {
        "wizard answer": ("animator_wizard", "t", {}),
        "announcement text": ("animator_broadcast", "text", {"step": "text"}),
        "person name": ("animator_proxy", "name", {}),
    }
    compose: dict[str, Any] = {
        "text": "Ogłoszenie",
        "photo": None,
        "translations": {},
        "urgent": False,
    }
    planted_buttons: dict[str, tuple[str, tuple[str, str, dict[str, Any]]]] = {
        "send to B's activity": (
            "anb:send",
            (
                "animator_broadcast",
                "ready",
                {**compose, "audience": "places", "audience_activity": bi, "link": None},
            ),
        ),
        "send with a link to B": (
            "anb:send",
            (
                "animator_broadcast",
                "ready",
                {**compose, "audience": "programme", "audience_activity": None, "link": bb},
            ),
        ),
        "edit button answer": ("ane:a:p:20", ("animator_edit", "p", {"activity_id": bi})),
        "paper notice for B": (
            "pp:nt:1",
            ("paper_new", "notice", {"programme_id": w.b, "name": "Nowa"}),
        ),
    }
    return [
        *(
            Probe(f"/{c}", command=f"/{c}", wide=True)
            for c in ("animator", "paper", "evaluator", "admin")
        ),
        *(Probe(name, button=data, dialog=d) for name, (data, d) in planted_buttons.items()),
        Probe("check-in deep link", command=f"/start ci_{bi}_0000"),
        *(Probe(name, button=data) for name, data in buttons.items()),
        *(Probe(name, button=data, wide=True) for name, data in wide.items()),
        *(Probe(name, text="Zmiana od Hani", dialog=d) for name, d in texts.items()),
        *(Probe(name, text="Tekst od Hani", dialog=d, wide=True) for name, d in wide_texts.items()),
    ]


def _only_closed(
    before: dict[str, list[tuple[Any, ...]]],
    after: dict[str, list[tuple[Any, ...]]],
    person_id: int,
    probe: Probe,
) -> bool:
    """Whether the only change is the probe's own planted dialog being closed (cleanup)."""
    if probe.dialog is None:
        return False
    kind = probe.dialog[0]
    # dialog columns: id, person_id, kind, ...
    planted = [row for row in before["dialog"] if row[1] == person_id and row[2] == kind]
    rest = {name: rows for name, rows in before.items() if name != "dialog"}
    return rest == {name: rows for name, rows in after.items() if name != "dialog"} and after[
        "dialog"
    ] == [row for row in before["dialog"] if row not in planted]


REFUSALS_EN = (
    "This is only for the programme team.",
    "This is only for administrators and programme coordinators.",
    "Only an administrator, or a coordinator of this programme, can do this.",
    "This person is no longer on the team.",
    "This activity is not available to you. Open the animator menu again.",
    "This button is no longer active. Open the menu again.",
    "This person is not on your list.",
    "You are not assigned to this programme, so its report is not available to you.",
    "You are not assigned to this programme. Ask an administrator if you should be.",
    "No programme is assigned to you yet. Ask an administrator to assign one.",
    "Choose the programme first: “🔁 Change programme” in the animator menu.",
    "You do not have a place in {title}, so you cannot check in. Please talk to the animator.",
    "This code does not match any of your activities. Check it with the animator.",
)


def _said(rec: RecordingRequest, since: int, chat_id: int) -> tuple[list[str], list[str]]:
    """(texts and button labels, document names) the bot sent this chat since a call index."""
    texts: list[str] = []
    documents: list[str] = []
    for call in rec.calls[since:]:
        params = call.params
        if call.method == "answerCallbackQuery":
            texts.append(str(params.get("text") or ""))
            continue
        if int(params.get("chat_id", 0) or 0) != chat_id:
            continue
        texts += [
            str(params.get("text") or ""),
            str(params.get("caption") or ""),
            str(params.get("reply_markup") or ""),
        ]
        if call.method in {"sendDocument", "sendPhoto"}:
            documents.append(call.method)
    return texts, documents


ACTORS = {
    "animator of A living in B": HANNA,
    "old grant without a programme": OLD,
    "animator revoked mid-dialog": REVOKED,
    "evaluator of A": EVALUATOR,
    "coordinator of A living in B": CELINA,
    "resident of B": RESIDENT,
}


@pytest.fixture
def world(engine: Engine, clock: FrozenClock) -> Iterator[World]:
    yield _build(engine, clock)


@pytest.mark.parametrize("actor", list(ACTORS))
async def test_nobody_reaches_programme_b(
    actor: str,
    world: World,
    engine: Engine,
    clock: FrozenClock,
    rec: RecordingRequest,
    chat_user: Callable[..., ChatUser],
) -> None:
    telegram_id = ACTORS[actor]
    user = chat_user(telegram_id)
    t = translator("pl")
    refusals = {t._(text).format(title="Warsztaty Beta") for text in REFUSALS_EN}
    crashed = t._("Something went wrong on our side. Please try again in a moment.")
    failures: list[str] = []
    for probe in probes(world, int(clock.now().timestamp())):
        if probe.wide and telegram_id in WORK_IN_A:
            continue
        if probe.dialog is not None:
            kind, step, data = probe.dialog
            with transaction(engine) as session:
                save_dialog(
                    session,
                    person_id=world.people[telegram_id],
                    kind=kind,
                    step=step,
                    data=data,
                    awaits_text=True,
                )
        before = dump(engine)
        since = len(rec.calls)
        if probe.command is not None:
            await user.send(probe.command)
        elif probe.button is not None:
            await user.press_data(probe.button)
        else:
            assert probe.text is not None
            await user.send(probe.text)
        texts, documents = _said(rec, since, telegram_id)
        shown = "\n".join(texts)
        problems = []
        after = dump(engine)
        if after != before and not _only_closed(before, after, world.people[telegram_id], probe):
            problems.append("the database changed")
        if documents:
            problems.append(f"sent {documents}")
        leaked = [s for s in B_SECRETS if s in shown]
        if leaked:
            problems.append(f"showed {leaked}")
        if not probe.wide and not any(x.startswith(r) for x in texts for r in refusals):
            problems.append(f"no polite refusal, said {[x for x in texts if x][:2]}")
        if not any(texts):
            problems.append("said nothing")
        if crashed in texts:
            problems.append("crashed (the error handler answered)")
        if problems:
            failures.append(f"{probe.name}: {'; '.join(problems)}")
        if probe.dialog is not None:
            with transaction(engine) as session:
                close_dialog(session, person_id=world.people[telegram_id], kind=probe.dialog[0])
    assert not failures, f"{actor} on programme B:\n" + "\n".join(failures)


async def test_the_animator_of_a_still_works_in_a(
    world: World,
    engine: Engine,
    chat_user: Callable[..., ChatUser],
) -> None:
    """The refusals above are about B: Hanna's own programme keeps working."""
    hanna = chat_user(HANNA)
    await hanna.send("/animator")
    assert hanna.last.text.startswith("Panel animatora.")
    await hanna.press_data("an:list")
    assert any("Zajęcia Alfa" in label for label, _ in hanna.last.buttons())
    assert not any("Beta" in label for label, _ in hanna.last.buttons())
    await hanna.press_data(f"anp:{world.a_activity}")
    assert "Zajęcia Alfa" in hanna.last.text
    with Session(engine) as session:
        assert session.get(Person, world.people[HANNA]) is not None
