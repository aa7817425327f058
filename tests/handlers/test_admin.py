"""/admin and invitation links through the real Application: Anna (administrator) invites
Ewa as an animator, Ewa accepts; the link works once; Anna removes Ewa in two taps; a
resident gets polite refusals and forged buttons change nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.settings import Settings, load_settings
from schedules.clock import FrozenClock
from storage.db import read_only, transaction
from storage.models import AuditEntry, Invitation, Programme, RoleGrant
from tests.conftest import TEST_TOKEN
from tests.support.chat import ChatUser
from tests.support.signup import make_person, make_programme

ANNA, EWA, JAN, KRYSTYNA = 7001, 7002, 7003, 7004
LINK = re.compile(r"https://t\.me/pal_test_bot\?start=(inv_[A-Za-z0-9_-]+)")

NOT_STAFF = "To jest tylko dla administratorów i koordynatorów programów."


@pytest.fixture
def settings(db_url: str) -> Settings:
    """Anna is an administrator of this deployment."""
    return load_settings(
        _env_file=None,
        token=TEST_TOKEN,
        database_url=db_url,
        admin_ids=str(ANNA),
        invitation_valid_days=3,
    )


@pytest.fixture
def programme_id(engine: Engine) -> int:
    """A programme; Anna and Krystyna (a resident) have finished /start."""
    with transaction(engine) as session:
        programme = make_programme(session, name="PAL Barwinek")
        make_person(session, telegram_id=ANNA, name="Anna", language="en")
        make_person(session, telegram_id=KRYSTYNA, name="Krystyna", programme=programme)
        assert programme.id is not None
        return programme.id


def _grants(engine: Engine) -> list[tuple[int, str, int | None]]:
    with read_only(engine) as session:
        return sorted(
            (g.telegram_id, g.role, g.programme_id) for g in session.exec(select(RoleGrant))
        )


def _actions(engine: Engine) -> list[str]:
    with read_only(engine) as session:
        return [e.action for e in session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))]


async def _invite(anna: ChatUser, role_button: str) -> str:
    await anna.send("/admin")
    await anna.press("PAL Barwinek")
    await anna.press(role_button)
    found = LINK.search(anna.last.text)
    assert found, anna.last.text
    return found.group(1)


async def test_anna_invites_ewa_who_accepts_once(
    chat_user: Callable[..., ChatUser], engine: Engine, programme_id: int
) -> None:
    anna = chat_user(ANNA)
    await anna.send("/admin")
    assert anna.last.text.startswith("Administration. Choose a programme")
    assert [label for label, _ in anna.last.buttons()][:2] == ["PAL Barwinek", "👑 Administrators"]
    payload = await _invite(anna, "Invite an animator")
    assert "Invitation: animator in “PAL Barwinek”." in anna.last.text
    assert "It works once" in anna.last.text
    with read_only(engine) as session:
        stored = session.exec(select(Invitation)).one()
    assert payload.removeprefix("inv_") not in stored.token_hash

    ewa = chat_user(EWA, language_code="uk")
    await ewa.send(f"/start {payload}")
    offer = ewa.last.text
    assert "Роль: аніматор у програмі «PAL Barwinek»." in offer
    assert "Запрошує: Anna." in offer
    assert _grants(engine) == []  # opening changes nothing
    await ewa.press("Приймаю")
    assert "Готово. Ваша роль: аніматор у програмі «PAL Barwinek»." in ewa.messages[-2].text
    assert ewa.last.text.startswith("Ще один крок: надішліть /start")
    assert _grants(engine) == [(EWA, "animator", programme_id)]
    # The same button again, and the same link by someone else: nothing more.
    await ewa.press_data(f"inv:ok:{stored.id}", message=ewa.messages[-2])
    assert ewa.alerts()[-1].startswith("Це запрошення вже використано.")
    jan = chat_user(JAN, language_code="en")
    await jan.send(f"/start {payload}")
    assert jan.last_answer() == (
        "This invitation has already been used. If you need one, ask for a new link."
    )
    assert _grants(engine) == [(EWA, "animator", programme_id)]
    assert _actions(engine) == ["invitation.created", "invitation.accepted"]


async def test_remove_in_two_taps_and_withdraw(
    chat_user: Callable[..., ChatUser], engine: Engine, programme_id: int
) -> None:
    anna = chat_user(ANNA, language_code="en")
    ewa = chat_user(EWA, language_code="en")
    payload = await _invite(anna, "Invite an animator")
    await ewa.send(f"/start {payload}")
    await ewa.press("Accept")
    await anna.send("/admin")
    await anna.press("PAL Barwinek")
    assert "• (no name yet) — animator" in anna.last.text
    await anna.press("✖️ (no name yet) — animator")
    assert anna.last.text.startswith(
        "Remove (no name yet) (animator) from the team of “PAL Barwinek”?"
    )
    assert _grants(engine) == [(EWA, "animator", programme_id)]  # one tap is not enough
    confirm = dict(anna.last.buttons())["✖️ Yes, remove"]
    await anna.press("Yes, remove")
    assert anna.alerts()[-1] == "Removed: (no name yet)."
    assert "Nobody yet." in anna.last.text
    assert _grants(engine) == []
    # A stale "Yes, remove" from an older screen.
    await anna.press_data(confirm)
    assert anna.alerts()[-1] == "This person is no longer on the team."

    payload = await _invite(anna, "Invite an evaluator")
    await anna.press("Team")
    assert "1 invitation is waiting:" in anna.last.text
    await anna.press("Withdraw: evaluator (reports)")
    assert anna.alerts()[-1] == "The invitation was withdrawn."
    await ewa.send(f"/start {payload}")
    assert ewa.last_answer() == (
        "This invitation was withdrawn. Ask the person who sent it if this is a mistake."
    )
    assert _grants(engine) == []
    assert _actions(engine) == [
        "invitation.created",
        "invitation.accepted",
        "staff.removed",
        "invitation.created",
        "invitation.revoked",
    ]


async def test_expired_and_forged_links(
    chat_user: Callable[..., ChatUser], engine: Engine, programme_id: int, clock: FrozenClock
) -> None:

    anna = chat_user(ANNA, language_code="en")
    payload = await _invite(anna, "Invite an animator")
    assert "until" in anna.last.text
    jan = chat_user(JAN, language_code="pl")
    await jan.send("/start inv_NotARealTokenAtAll1234567890abcd")
    assert jan.last_answer().startswith("Ten link z zaproszeniem jest nieprawidłowy.")
    await jan.send("/start inv_")
    assert jan.last_answer().startswith("Ten link z zaproszeniem jest nieprawidłowy.")
    clock.advance(timedelta(days=3, minutes=1))
    await jan.send(f"/start {payload}")
    assert jan.last_answer().startswith("To zaproszenie straciło ważność.")
    assert _grants(engine) == []


async def test_a_resident_cannot_use_admin_screens(
    chat_user: Callable[..., ChatUser], engine: Engine, programme_id: int
) -> None:
    anna = chat_user(ANNA, language_code="en")
    payload = await _invite(anna, "Invite an animator")
    with read_only(engine) as session:
        invitation_id = session.exec(select(Invitation.id)).one()
    krystyna = chat_user(KRYSTYNA, language_code="pl")
    await krystyna.send("/admin")
    assert krystyna.last_answer() == NOT_STAFF
    for forged in (
        f"adm:p:{programme_id}",
        f"adm:i:{programme_id}:animator",
        "adm:i:0:admin",
        "adm:sr:1",
        f"adm:ir:{invitation_id}",
        "adm:new",
    ):
        await krystyna.press_data(forged)
        assert krystyna.alerts()[-1] == NOT_STAFF, forged
    # Accepting an invitation she never opened (a forged button) grants nothing.
    await krystyna.press_data(f"inv:ok:{invitation_id}")
    assert krystyna.alerts()[-1] == "Otwórz link z zaproszeniem jeszcze raz."
    assert _grants(engine) == []
    assert _actions(engine) == ["invitation.created"]
    assert payload  # still valid for the person it was meant for


async def test_administrators_and_a_new_programme(
    chat_user: Callable[..., ChatUser], engine: Engine, programme_id: int
) -> None:
    anna = chat_user(ANNA, language_code="en")
    await anna.send("/admin")
    await anna.press("Administrators")
    assert anna.last.text.startswith("Administrators (all programmes):")
    await anna.press("Invite an administrator")
    payload = LINK.search(anna.last.text)
    assert payload and "Invitation: administrator." in anna.last.text
    jan = chat_user(JAN, language_code="en")
    await jan.send(f"/start {payload.group(1)}")
    assert "Role: administrator of this chat (all programmes)." in jan.last.text
    await jan.press("Accept")
    assert _grants(engine) == [(JAN, "admin", None)]

    await anna.send("/admin")
    await anna.press("New programme")
    await anna.send("PAL Barwinek")
    assert anna.last.text == "A programme with this name already exists. Type another name:"
    await anna.send("  PAL   Stare Miasto 2027 ")
    assert anna.last.text.startswith("Team of “PAL Stare Miasto 2027”:")
    with read_only(engine) as session:
        names = sorted(p.name for p in session.exec(select(Programme)))
    assert names == ["PAL Barwinek", "PAL Stare Miasto 2027"]
    assert "programme.created" in _actions(engine)


async def test_declining_changes_nothing_and_the_link_stays_valid(
    chat_user: Callable[..., ChatUser], engine: Engine, programme_id: int
) -> None:
    anna = chat_user(ANNA, language_code="en")
    payload = await _invite(anna, "Invite an evaluator")
    jan = chat_user(JAN, language_code="pl")
    await jan.send(f"/start {payload}")
    offer = jan.last
    assert "Rola: osoba prowadząca ewaluację (raporty) w programie „PAL Barwinek”." in offer.text
    await jan.press("Nie, dziękuję")
    assert jan.last.text.startswith("Dobrze, nic się nie zmieniło.")
    assert _grants(engine) == []
    # A stale Accept (the offer was answered) does nothing; opening the link again works.
    with read_only(engine) as session:
        invitation_id = session.exec(select(Invitation.id)).one()
    await jan.press_data(f"inv:ok:{invitation_id}")
    assert jan.alerts()[-1] == "Otwórz link z zaproszeniem jeszcze raz."
    assert _grants(engine) == []
    await jan.send(f"/start {payload}")
    await jan.press("Przyjmuję")
    assert _grants(engine) == [(JAN, "evaluator", programme_id)]
