"""Invitations by one-time link: the token's whole life, and two people racing for one link."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import select

from schedules.clock import FrozenClock
from storage.access import load_access
from storage.db import read_only, transaction
from storage.models import AuditEntry, Invitation, Role, RoleGrant
from storage.people.invitations import (
    InvitationProblem,
    InvitationRefused,
    accept_invitation,
    create_first_admin_invitation,
    create_invitation,
    hash_token,
    open_invitation,
    pending_invitations,
    revoke_invitation,
)
from storage.people.staff import CannotRemoveYourself, remove_staff, staff_of
from storage.people.staff_access import NotAllowed, StaffActor
from tests.support.signup import make_person, make_programme

ADMIN_TG, ANIMATOR_TG, OTHER_TG, RESIDENT_TG = 100, 200, 300, 400


def _setup(engine: Engine) -> tuple[StaffActor, int]:
    """An administrator (from the settings) with a person row, and a programme."""
    with transaction(engine) as session:
        programme = make_programme(session, name="PAL Barwinek")
        admin = make_person(session, telegram_id=ADMIN_TG, name="Anna")
        make_person(session, telegram_id=RESIDENT_TG, name="Krystyna")
        assert programme.id is not None and admin.id is not None
        return StaffActor(ADMIN_TG, admin.id, frozenset({ADMIN_TG})), programme.id


def _invite(
    engine: Engine,
    actor: StaffActor,
    programme_id: int,
    clock: FrozenClock,
    role: Role = Role.ANIMATOR,
    days: int = 7,
) -> tuple[int, str]:
    with transaction(engine) as session:
        made = create_invitation(
            session,
            actor=actor,
            role=role,
            programme_id=programme_id,
            now=clock.now(),
            valid_for=timedelta(days=days),
        )
        return made.invitation_id, made.token


def _open(engine: Engine, token: str, telegram_id: int, clock: FrozenClock) -> int:
    with transaction(engine) as session:
        return open_invitation(
            session, token=token, telegram_id=telegram_id, language="pl", now=clock.now()
        ).person_id


def _accept(engine: Engine, person_id: int, invitation_id: int, clock: FrozenClock) -> Role:
    with transaction(engine) as session:
        return accept_invitation(
            session, person_id=person_id, invitation_id=invitation_id, now=clock.now()
        ).role


def _refusal(fn: object, *args: object) -> InvitationProblem:
    with pytest.raises(InvitationRefused) as caught:
        fn(*args)  # type: ignore[operator]
    return caught.value.problem


def _roles(engine: Engine, telegram_id: int) -> frozenset[Role]:
    with read_only(engine) as session:
        return load_access(session, telegram_id).roles


def test_only_the_hash_is_stored_and_the_link_is_accepted_once(
    engine: Engine, clock: FrozenClock
) -> None:
    actor, programme_id = _setup(engine)
    invitation_id, token = _invite(engine, actor, programme_id, clock)
    assert len(token) >= 32
    with read_only(engine) as session:
        stored = session.get(Invitation, invitation_id)
        assert stored is not None
        assert stored.token_hash == hash_token(token) and token not in stored.token_hash
        assert stored.expires_at == clock.now() + timedelta(days=7)
    with transaction(engine) as session:
        offer = open_invitation(
            session, token=token, telegram_id=ANIMATOR_TG, language="uk", now=clock.now()
        )
    assert (offer.role, offer.programme_name, offer.inviter_name) == (
        Role.ANIMATOR,
        "PAL Barwinek",
        "Anna",
    )
    assert _roles(engine, ANIMATOR_TG) == frozenset()  # opening grants nothing
    assert _accept(engine, offer.person_id, invitation_id, clock) is Role.ANIMATOR
    with read_only(engine) as session:
        grant = session.exec(select(RoleGrant).where(RoleGrant.telegram_id == ANIMATOR_TG)).one()
        assert (grant.role, grant.programme_id) == ("animator", programme_id)
        actions = [e.action for e in session.exec(select(AuditEntry))]
    assert actions == ["invitation.created", "invitation.accepted"]
    # Pressing "accept" again, or opening the link again (anyone), grants nothing more.
    assert (
        _refusal(_accept, engine, offer.person_id, invitation_id, clock) is InvitationProblem.USED
    )
    assert _refusal(_open, engine, token, OTHER_TG, clock) is InvitationProblem.USED
    assert _roles(engine, OTHER_TG) == frozenset()


def test_expired_revoked_forged_and_unopened(engine: Engine, clock: FrozenClock) -> None:
    actor, programme_id = _setup(engine)
    expiring_id, expiring = _invite(engine, actor, programme_id, clock, days=1)
    opened_by = _open(engine, expiring, OTHER_TG, clock)
    clock.advance(timedelta(days=1, seconds=1))
    assert _refusal(_open, engine, expiring, OTHER_TG, clock) is InvitationProblem.EXPIRED
    assert _refusal(_accept, engine, opened_by, expiring_id, clock) is InvitationProblem.EXPIRED

    revoked_id, revoked = _invite(engine, actor, programme_id, clock, role=Role.EVALUATOR)
    opened_by = _open(engine, revoked, OTHER_TG, clock)
    with transaction(engine) as session:
        assert [
            p.invitation_id
            for p in pending_invitations(
                session, actor=actor, programme_id=programme_id, now=clock.now()
            )
        ] == [revoked_id]
        revoke_invitation(session, actor=actor, invitation_id=revoked_id, now=clock.now())
        assert (
            pending_invitations(session, actor=actor, programme_id=programme_id, now=clock.now())
            == []
        )
    assert _refusal(_accept, engine, opened_by, revoked_id, clock) is InvitationProblem.REVOKED
    assert _refusal(_open, engine, revoked, OTHER_TG, clock) is InvitationProblem.REVOKED

    for forged in (
        "x" * 32,
        revoked[:-1] + ("A" if revoked[-1] != "A" else "B"),
        "",
        "../..",
        "a" * 500,
        "żółw" * 8,
    ):
        assert _refusal(_open, engine, forged, OTHER_TG, clock) is InvitationProblem.UNKNOWN
    # A confirm button for an invitation this person never opened (forged callback data).
    open_id, _ = _invite(engine, actor, programme_id, clock)
    with transaction(engine) as session:
        person = make_person(session, telegram_id=555, name="Jan")
        assert person.id is not None
        resident_id = person.id
    assert _refusal(_accept, engine, resident_id, open_id, clock) is InvitationProblem.NOT_OPENED
    assert _refusal(_accept, engine, resident_id, 999_999, clock) is InvitationProblem.UNKNOWN
    assert _roles(engine, OTHER_TG) == frozenset() and _roles(engine, 555) == frozenset()


def test_only_administrators_invite_and_manage_staff(engine: Engine, clock: FrozenClock) -> None:
    actor, programme_id = _setup(engine)
    invitation_id, token = _invite(engine, actor, programme_id, clock)
    _accept(engine, _open(engine, token, ANIMATOR_TG, clock), invitation_id, clock)
    with read_only(engine) as session:
        animator = session.exec(select(RoleGrant)).one()
    as_animator = StaffActor(ANIMATOR_TG, None, frozenset({ADMIN_TG}))
    as_resident = StaffActor(RESIDENT_TG, None, frozenset({ADMIN_TG}))
    for who in (as_animator, as_resident):
        with transaction(engine) as session, pytest.raises(NotAllowed):
            create_invitation(
                session, actor=who, role=Role.ANIMATOR, programme_id=programme_id, now=clock.now()
            )
        with transaction(engine) as session, pytest.raises(NotAllowed):
            create_invitation(
                session, actor=who, role=Role.ADMIN, programme_id=None, now=clock.now()
            )
        with transaction(engine) as session, pytest.raises(NotAllowed):
            remove_staff(session, actor=who, grant_id=animator.id or 0, now=clock.now())
        with transaction(engine) as session, pytest.raises(NotAllowed):
            staff_of(session, actor=who, programme_id=programme_id)
    with transaction(engine) as session, pytest.raises(ValueError):
        create_invitation(
            session, actor=actor, role=Role.ADMIN, programme_id=programme_id, now=clock.now()
        )
    with transaction(engine) as session, pytest.raises(NotAllowed):
        create_invitation(
            session, actor=actor, role=Role.ANIMATOR, programme_id=424242, now=clock.now()
        )
    with transaction(engine) as session:
        staff = staff_of(session, actor=actor, programme_id=programme_id)
        assert [(m.role, m.is_you) for m in staff] == [(Role.ANIMATOR, False)]
        remove_staff(session, actor=actor, grant_id=staff[0].grant_id, now=clock.now())
    assert _roles(engine, ANIMATOR_TG) == frozenset()
    with read_only(engine) as session:
        removed = session.exec(select(AuditEntry).where(AuditEntry.action == "staff.removed")).one()
    assert removed.details == {
        "role": "animator",
        "programme_id": programme_id,
        "grant_id": animator.id,
    }


def test_first_admin_link_and_no_self_lock_out(engine: Engine, clock: FrozenClock) -> None:
    with transaction(engine) as session:
        made = create_first_admin_invitation(session, now=clock.now())
    assert made.role is Role.ADMIN and made.programme_id is None
    person_id = _open(engine, made.token, ADMIN_TG, clock)
    _accept(engine, person_id, made.invitation_id, clock)
    assert _roles(engine, ADMIN_TG) == frozenset({Role.ADMIN})
    me = StaffActor(ADMIN_TG, person_id, frozenset())
    with transaction(engine) as session:
        admins = staff_of(session, actor=me, programme_id=None)
        assert [(m.role, m.is_you) for m in admins] == [(Role.ADMIN, True)]
        with pytest.raises(CannotRemoveYourself):
            remove_staff(session, actor=me, grant_id=admins[0].grant_id, now=clock.now())
    with read_only(engine) as session:
        created = session.exec(
            select(AuditEntry).where(AuditEntry.action == "invitation.created")
        ).one()
    assert created.actor_id is None and created.details["via"] == "command_line"


def _race(engine: Engine, clock: FrozenClock, people: int = 6) -> None:
    actor, programme_id = _setup(engine)
    invitation_id, token = _invite(engine, actor, programme_id, clock)
    person_ids = [_open(engine, token, 1000 + i, clock) for i in range(people)]
    barrier = threading.Barrier(people)

    def one(i: int) -> str:
        barrier.wait()
        try:
            _accept(engine, person_ids[i], invitation_id, clock)
        except InvitationRefused as refused:
            return refused.problem.value
        return "won"

    with ThreadPoolExecutor(max_workers=people) as pool:
        outcomes = sorted(pool.map(one, range(people)))
    assert outcomes == ["used"] * (people - 1) + ["won"]
    with read_only(engine) as session:
        grants = session.exec(select(RoleGrant)).all()
        accepted = session.exec(
            select(AuditEntry).where(AuditEntry.action == "invitation.accepted")
        ).all()
    assert len(grants) == 1 and len(accepted) == 1


def test_two_people_accepting_one_link_at_once_sqlite(engine: Engine, clock: FrozenClock) -> None:
    _race(engine, clock)


@pytest.mark.postgres
def test_two_people_accepting_one_link_at_once_postgres(
    postgres_engine: Engine, clock: FrozenClock
) -> None:
    _race(postgres_engine, clock)


def test_accepting_is_a_handful_of_statements(engine: Engine, clock: FrozenClock) -> None:
    """One tap, one transaction: the statements an accept costs are counted, not timed."""
    actor, programme_id = _setup(engine)
    invitation_id, token = _invite(engine, actor, programme_id, clock)
    person_id = _open(engine, token, ANIMATOR_TG, clock)
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement.split()[0].upper())

    event.listen(engine, "before_cursor_execute", count)
    try:
        _accept(engine, person_id, invitation_id, clock)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == ACCEPT_STATEMENTS, " ".join(statements)


# BEGIN IMMEDIATE; the offer (dialog), the invitation (locked), the person, an existing
# grant; update the invitation, insert the grant, delete the offer, insert the audit row;
# the programme's name for the answer.
ACCEPT_STATEMENTS = 10
