"""Programme coordinators through the real Application: Anna (administrator) appoints
Celina coordinator of "PAL Alfa" by link; Celina finds /admin in her menu and /help,
invites an animator to Alfa, changes Alfa's reminder times, opens the card and the
attendance list of an activity another animator organises and reads Alfa's report; each
of these aimed at "PAL Beta" gets a polite refusal and leaves the database as it was."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.settings import Settings, load_settings
from schedules.clock import FrozenClock
from storage.activities.seats import sign_up
from storage.db import read_only, transaction
from storage.models import Dialog, Invitation, Programme, Role, RoleGrant
from storage.people.roles import grant
from tests.conftest import TEST_TOKEN
from tests.support.chat import ChatUser
from tests.support.dbdump import dump
from tests.support.signup import make_activity, make_person, make_programme
from translations import translator

ANNA, CELINA, EWA, BEATA, KRYSTYNA, NOWY = 7201, 7202, 7203, 7204, 7205, 7206
LINK = re.compile(r"https://t\.me/pal_test_bot\?start=(inv_[A-Za-z0-9_-]+)")
ONLY_ADMINS = "Tylko administrator albo koordynator tego programu może to zrobić."


@pytest.fixture
def settings(db_url: str) -> Settings:
    """Anna is an administrator of this deployment."""
    return load_settings(_env_file=None, token=TEST_TOKEN, database_url=db_url, admin_ids=str(ANNA))


@pytest.fixture
def world(engine: Engine, clock: FrozenClock) -> dict[str, int]:
    """Alfa (Ewa's activity, Krystyna signed up) and Beta (Beata's activity); Celina
    lives in Beta; everyone has finished /start."""
    now = clock.now()
    with transaction(engine) as session:
        alfa = make_programme(session, name="PAL Alfa")
        beta = make_programme(session, name="PAL Beta")
        make_person(session, telegram_id=ANNA, name="Anna", language="en")
        make_person(session, telegram_id=CELINA, name="Celina", programme=beta)
        ewa = make_person(session, telegram_id=EWA, name="Ewa", programme=alfa)
        beata = make_person(session, telegram_id=BEATA, name="Beata", programme=beta)
        krystyna = make_person(session, telegram_id=KRYSTYNA, name="Krystyna", programme=alfa)
        assert alfa.id and beta.id and krystyna.id
        grant(session, role=Role.ANIMATOR, telegram_id=EWA, programme_id=alfa.id)
        grant(session, role=Role.ANIMATOR, telegram_id=BEATA, programme_id=beta.id)
        in_alfa = make_activity(
            session, programme=alfa, starts_at=now + timedelta(days=2), title="Nordic walking"
        )
        in_beta = make_activity(
            session, programme=beta, starts_at=now + timedelta(days=3), title="Warsztaty Beta"
        )
        in_alfa.organiser_id, in_beta.organiser_id = ewa.id, beata.id
        session.add_all([in_alfa, in_beta])
        session.flush()
        assert in_alfa.id and in_beta.id
        ids = {"alfa": alfa.id, "beta": beta.id, "in_alfa": in_alfa.id, "in_beta": in_beta.id}
    with transaction(engine) as session:
        sign_up(session, person_id=krystyna.id, activity_id=ids["in_alfa"], now=now)
    return ids


def _grants(engine: Engine) -> list[tuple[int, str, int | None]]:
    with read_only(engine) as session:
        return sorted(
            (g.telegram_id, g.role, g.programme_id) for g in session.exec(select(RoleGrant))
        )


def _coordinate(engine: Engine, programme_id: int) -> None:
    with transaction(engine) as session:
        grant(session, role=Role.COORDINATOR, telegram_id=CELINA, programme_id=programme_id)


async def test_an_administrator_appoints_a_coordinator_by_link(
    chat_user: Callable[..., ChatUser], engine: Engine, world: dict[str, int]
) -> None:
    anna = chat_user(ANNA, language_code="en")
    await anna.send("/admin")
    await anna.press("PAL Alfa")
    await anna.press("Invite a coordinator")
    assert "Invitation: coordinator in “PAL Alfa”." in anna.last.text
    found = LINK.search(anna.last.text)
    assert found is not None
    nowy = chat_user(NOWY, language_code="pl")
    await nowy.send(f"/start {found.group(1)}")
    await nowy.press("Przyjmuję")
    assert (NOWY, "coordinator", world["alfa"]) in _grants(engine)
    assert any("koordynator/koordynatorka w programie „PAL Alfa”" in m.text for m in nowy.messages)


async def test_a_coordinator_finds_her_programme_in_the_menu_and_help(
    chat_user: Callable[..., ChatUser], engine: Engine, world: dict[str, int]
) -> None:
    _coordinate(engine, world["alfa"])
    celina = chat_user(CELINA)
    await celina.send("/help")
    assert "/admin" in celina.last.text
    keyboard = celina.last.keyboard()
    assert "🗂 Administracja programu" in keyboard and "🧑‍🏫 Panel animatora" in keyboard
    await celina.send("🗂 Administracja programu")
    assert celina.last.text.startswith("Twoje programy.")
    assert [label for label, _ in celina.last.buttons()] == ["PAL Alfa", "↩️ Menu"]
    # A resident gets neither the entry nor the screen.
    krystyna = chat_user(KRYSTYNA)
    await krystyna.send("/help")
    assert "/admin" not in krystyna.last.text
    assert "🗂 Administracja programu" not in krystyna.last.keyboard()


async def test_a_coordinator_invites_an_animator_to_her_programme_only(
    chat_user: Callable[..., ChatUser], engine: Engine, world: dict[str, int]
) -> None:
    _coordinate(engine, world["alfa"])
    celina = chat_user(CELINA)
    await celina.send("/admin")
    await celina.press("PAL Alfa")
    team = celina.last
    assert "Zespół programu „PAL Alfa”" in team.text and "Ewa" in team.text
    labels = [label for label, _ in team.buttons()]
    assert not any("koordynator" in label for label in labels), labels
    await celina.press("Zaproś animatora/animatorkę")
    assert LINK.search(celina.last.text)
    with read_only(engine) as session:
        made = session.exec(select(Invitation.role, Invitation.programme_id)).all()
    assert made == [("animator", world["alfa"])]
    before = dump(engine)
    for forged in (
        f"adm:p:{world['beta']}",
        f"adm:i:{world['beta']}:animator",
        f"adm:i:{world['alfa']}:coordinator",
        "adm:a",
        "adm:i:0:admin",
        "adm:new",
    ):
        await celina.press_data(forged)
        assert celina.last_answer() == ONLY_ADMINS, forged
    assert dump(engine) == before


async def test_a_coordinator_changes_her_programmes_reminder_times_not_anothers(
    chat_user: Callable[..., ChatUser], engine: Engine, world: dict[str, int]
) -> None:
    _coordinate(engine, world["alfa"])
    celina = chat_user(CELINA)
    await celina.send("/admin")
    await celina.press("PAL Alfa")
    await celina.press("Program: daty, ustawienia, ankiety")
    await celina.press("Czas przypomnień")
    await celina.send("48h, 3h")
    await celina.press("Tak, zmień")
    before = dump(engine)
    for forged in (
        f"prg:o:{world['beta']}",
        f"prg:e:{world['beta']}:rem",
        f"prg:b:{world['beta']}:fu:off",
        f"prg:s:{world['beta']}",
        f"prg:e:{world['alfa']}:name",
        f"prg:bc:{world['alfa']}:ar:on",
    ):
        await celina.press_data(forged)
        assert celina.last_answer() == ONLY_ADMINS, forged
    assert dump(engine) == before
    with read_only(engine) as session:
        offsets = {
            p.name: p.reminder_offsets
            for p in session.exec(select(Programme).order_by(col(Programme.id)))
        }
        assert offsets == {"PAL Alfa": "48h,3h", "PAL Beta": None}
        assert session.exec(select(Dialog)).all() == []


async def test_a_coordinator_opens_any_activity_of_her_programme_not_anothers(
    chat_user: Callable[..., ChatUser], engine: Engine, world: dict[str, int]
) -> None:
    _coordinate(engine, world["alfa"])
    celina = chat_user(CELINA)
    await celina.send("/animator")
    await celina.press_data(f"an:a:{world['in_alfa']}")
    assert "Nordic walking" in celina.last.text
    await celina.press_data(f"ana:{world['in_alfa']}")
    assert "Obecni: 0 z 1." in celina.last.text
    await celina.press_data(f"anp:{world['in_alfa']}")
    assert "Krystyna" in celina.last.text
    # Beta's activity: her home programme, someone else's team.
    t = translator("pl")
    refused = t._("This activity is not available to you. Open the animator menu again.")
    before = dump(engine)
    for forged in (
        f"an:a:{world['in_beta']}",
        f"ana:{world['in_beta']}",
        f"anp:{world['in_beta']}",
    ):
        await celina.press_data(forged)
        assert celina.last_answer() == refused, forged
        assert "Warsztaty Beta" not in celina.last.text
    assert dump(engine) == before


async def test_a_coordinator_reads_her_programmes_report_only(
    chat_user: Callable[..., ChatUser], engine: Engine, world: dict[str, int]
) -> None:
    _coordinate(engine, world["alfa"])
    celina = chat_user(CELINA)
    await celina.send("/evaluator")
    assert celina.last.text.startswith("Panel ewaluacji.")
    assert [label for label, _ in celina.last.buttons()] == ["PAL Alfa", "↩️ Menu"]
    await celina.press_data(f"ev:p:{world['beta']}")
    t = translator("pl")
    assert celina.last_answer() == t._(
        "You are not assigned to this programme, so its report is not available to you."
    )
