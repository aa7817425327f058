"""Participants without Telegram, created by an animator."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from storage.access import Action, load_access, programmes_for
from storage.db import transaction
from storage.models import AuditEntry, Role, RoleGrant
from storage.people.onboarding import InvalidDisplayName
from storage.people.roles import ProgrammeNeeded, grant
from storage.people.without_telegram import (
    InvalidPhone,
    ProxyNotFound,
    create_proxy_participant,
    proxy_participant,
    proxy_participants,
)
from tests.support.signup import make_person, make_programme


def test_animator_creates_a_participant_without_telegram(engine: Engine) -> None:
    with transaction(engine) as session:
        programme = make_programme(session)
        other = make_programme(session)
        anna = make_person(session, telegram_id=5001, name="Anna (animatorka)")
        assert anna.id is not None and programme.id is not None and other.id is not None
        zofia = create_proxy_participant(
            session,
            display_name="  Pani  Zofia ",
            created_by_id=anna.id,
            programme_id=programme.id,
            phone="+48 600 100 200",
            paper_notice_signed=True,
        )
        create_proxy_participant(
            session, display_name="Adam", created_by_id=anna.id, programme_id=other.id
        )
        assert zofia.is_proxy and zofia.is_onboarded and zofia.telegram_id is None
        assert zofia.display_name == "Pani Zofia" and zofia.phone == "+48 600 100 200"
        assert [p.display_name for p in proxy_participants(session, programme_id=programme.id)] == [
            "Pani Zofia"
        ]
        assert (
            proxy_participant(session, person_id=zofia.id or 0, programme_ids={programme.id}).id
            == zofia.id
        )
        with pytest.raises(ProxyNotFound):
            proxy_participant(session, person_id=zofia.id or 0, programme_ids={other.id})
        with pytest.raises(ProxyNotFound):
            proxy_participant(session, person_id=anna.id, programme_ids=None)  # has Telegram
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "proxy.created")).all()
        assert len(audit) == 2 and "Zofia" not in str(audit[0].details)


@pytest.mark.parametrize("name", ["", "   ", "x" * 61, "https://spam.pl", "\u0000Zofia"])
def test_bad_names_are_refused(engine: Engine, name: str) -> None:
    with transaction(engine) as session:
        programme = make_programme(session)
        with pytest.raises(InvalidDisplayName):
            create_proxy_participant(
                session, display_name=name, created_by_id=1, programme_id=programme.id or 0
            )


@pytest.mark.parametrize("phone", ["abc", "12", "+48 600 100 200 300 400 500"])
def test_bad_phones_are_refused(engine: Engine, phone: str) -> None:
    with transaction(engine) as session:
        programme = make_programme(session)
        anna = make_person(session, telegram_id=5002)
        with pytest.raises(InvalidPhone):
            create_proxy_participant(
                session,
                display_name="Zofia",
                created_by_id=anna.id or 0,
                programme_id=programme.id or 0,
                phone=phone,
            )


def test_animator_programmes_come_from_grants(engine: Engine) -> None:
    with transaction(engine) as session:
        a, b = make_programme(session), make_programme(session)
        grant(session, role=Role.ANIMATOR, telegram_id=77, programme_id=a.id)
        grant(session, role=Role.ANIMATOR, telegram_id=77, programme_id=b.id)
        # A grant left from before grants named a programme (see migration 0002).
        session.add(RoleGrant(telegram_id=78, role=Role.ANIMATOR.value))
        session.flush()
        assert a.id is not None and b.id is not None
        scope = Action.WORK_IN_PROGRAMME
        assert programmes_for(load_access(session, 77), scope) == frozenset({a.id, b.id})
        assert programmes_for(load_access(session, 78), scope) == frozenset()
        assert Role.ANIMATOR in load_access(session, 78).roles
        assert programmes_for(load_access(session, 77, admin_ids=[77]), scope) is None
        with pytest.raises(ProgrammeNeeded):
            grant(session, role=Role.ANIMATOR, telegram_id=79)
