"""Programme coordinators in the staff rules (storage.people.staff_access, invitations, teams),
without Telegram: a coordinator of A runs A and its animators and evaluators, nothing of B,
and only administrators appoint or remove coordinators."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from schedules.clock import FrozenClock
from storage.db import read_only, transaction
from storage.models import AuditEntry, Invitation, Role, RoleGrant
from storage.people.invitations import (
    accept_invitation,
    create_invitation,
    open_invitation,
    pending_invitations,
    revoke_invitation,
)
from storage.people.roles import grant
from storage.people.staff import remove_staff, staff_of
from storage.people.staff_access import NotAllowed, StaffAction, StaffActor, may_act, programmes_for
from tests.support.signup import make_person, make_programme

ADMIN_TG, COORDINATOR_TG, ANIMATOR_TG, NEWCOMER_TG = 100, 500, 200, 600


def _setup(engine: Engine) -> tuple[StaffActor, StaffActor, int, int]:
    """An administrator, and Celina coordinating programme A (living in B)."""
    with transaction(engine) as session:
        alfa = make_programme(session, name="PAL Alfa")
        beta = make_programme(session, name="PAL Beta")
        admin = make_person(session, telegram_id=ADMIN_TG, name="Anna")
        celina = make_person(session, telegram_id=COORDINATOR_TG, name="Celina", programme=beta)
        assert alfa.id and beta.id and admin.id and celina.id
        grant(session, role=Role.COORDINATOR, telegram_id=COORDINATOR_TG, programme_id=alfa.id)
        admins = frozenset({ADMIN_TG})
        return (
            StaffActor(ADMIN_TG, admin.id, admins),
            StaffActor(COORDINATOR_TG, celina.id, admins),
            alfa.id,
            beta.id,
        )


# StaffAction x (own programme A, other programme B, across programmes) for a coordinator.
COORDINATOR_MAY = {
    StaffAction.MANAGE_STAFF: (True, False, False),
    StaffAction.RUN_PROGRAMME: (True, False, False),
    StaffAction.IMPORT_ACTIVITIES: (True, False, False),
    StaffAction.EDIT_PROGRAMMES: (False, False, False),
    StaffAction.MANAGE_ADMINS: (False, False, False),
}


@pytest.mark.parametrize("action", list(StaffAction))
def test_staff_screens_a_coordinator_may_use(engine: Engine, action: StaffAction) -> None:
    admin, celina, alfa, beta = _setup(engine)
    with read_only(engine) as session:
        got = tuple(
            may_act(
                session,
                telegram_id=COORDINATOR_TG,
                admin_ids=celina.admin_ids,
                action=action,
                programme_id=where,
            )
            for where in (alfa, beta, None)
        )
        assert got == COORDINATOR_MAY[action]
        assert may_act(
            session,
            telegram_id=ADMIN_TG,
            admin_ids=admin.admin_ids,
            action=action,
            programme_id=beta,
        )
        listed = programmes_for(
            session, telegram_id=COORDINATOR_TG, admin_ids=celina.admin_ids, action=action
        )
        assert listed == ([(alfa, "PAL Alfa")] if got[0] else [])


def test_a_coordinator_invites_animators_and_evaluators_of_her_programme_only(
    engine: Engine, clock: FrozenClock
) -> None:
    admin, celina, alfa, beta = _setup(engine)
    week = timedelta(days=7)
    with transaction(engine) as session:
        for role in (Role.ANIMATOR, Role.EVALUATOR):
            create_invitation(
                session, actor=celina, role=role, programme_id=alfa, now=clock.now(), valid_for=week
            )
    for role, where in ((Role.ANIMATOR, beta), (Role.COORDINATOR, alfa), (Role.ADMIN, None)):
        with pytest.raises(NotAllowed), transaction(engine) as session:
            create_invitation(
                session,
                actor=celina,
                role=role,
                programme_id=where,
                now=clock.now(),
                valid_for=week,
            )
    # An administrator appoints a coordinator by link; the coordinator sees it waiting
    # on her team screen but may not withdraw it.
    with transaction(engine) as session:
        made = create_invitation(
            session,
            actor=admin,
            role=Role.COORDINATOR,
            programme_id=alfa,
            now=clock.now(),
            valid_for=week,
        )
    with read_only(engine) as session:
        waiting = pending_invitations(session, actor=celina, programme_id=alfa, now=clock.now())
        assert [w.role for w in waiting] == [Role.ANIMATOR, Role.EVALUATOR, Role.COORDINATOR]
        with pytest.raises(NotAllowed):
            pending_invitations(session, actor=celina, programme_id=beta, now=clock.now())
    with pytest.raises(NotAllowed), transaction(engine) as session:
        revoke_invitation(session, actor=celina, invitation_id=made.invitation_id, now=clock.now())
    with transaction(engine) as session:
        person_id = open_invitation(
            session, token=made.token, telegram_id=NEWCOMER_TG, language="pl", now=clock.now()
        ).person_id
        accepted = accept_invitation(
            session, person_id=person_id, invitation_id=made.invitation_id, now=clock.now()
        )
        assert accepted.role is Role.COORDINATOR and accepted.programme_name == "PAL Alfa"
    with read_only(engine) as session:
        assert session.exec(
            select(Invitation.role).where(Invitation.created_by_id == celina.person_id)
        ).all() == ["animator", "evaluator"]


def test_a_coordinator_removes_animators_but_not_coordinators(
    engine: Engine, clock: FrozenClock
) -> None:
    admin, celina, alfa, beta = _setup(engine)
    with transaction(engine) as session:
        grant(session, role=Role.ANIMATOR, telegram_id=ANIMATOR_TG, programme_id=alfa)
        grant(session, role=Role.ANIMATOR, telegram_id=ANIMATOR_TG, programme_id=beta)
        grant(session, role=Role.COORDINATOR, telegram_id=NEWCOMER_TG, programme_id=alfa)
    with read_only(engine) as session:
        grants = {
            (g.telegram_id, g.role, g.programme_id): g.id for g in session.exec(select(RoleGrant))
        }
        members = staff_of(session, actor=celina, programme_id=alfa)
        assert [m.role for m in members] == [Role.COORDINATOR, Role.COORDINATOR, Role.ANIMATOR]
    refused = [
        grants[(NEWCOMER_TG, "coordinator", alfa)],
        grants[(COORDINATOR_TG, "coordinator", alfa)],
        grants[(ANIMATOR_TG, "animator", beta)],
    ]
    for grant_id in refused:
        assert grant_id is not None
        with pytest.raises(NotAllowed), transaction(engine) as session:
            remove_staff(session, actor=celina, grant_id=grant_id, now=clock.now())
    removed = grants[(ANIMATOR_TG, "animator", alfa)]
    assert removed is not None
    with transaction(engine) as session:
        remove_staff(session, actor=celina, grant_id=removed, now=clock.now())
    with transaction(engine) as session:
        assert refused[0] is not None
        remove_staff(session, actor=admin, grant_id=refused[0], now=clock.now())
    with read_only(engine) as session:
        left = sorted((g.telegram_id, g.role) for g in session.exec(select(RoleGrant)))
        assert left == [(ANIMATOR_TG, "animator"), (COORDINATOR_TG, "coordinator")]
        audit = session.exec(
            select(AuditEntry.actor_id).where(AuditEntry.action == "staff.removed")
        ).all()
        assert audit == [celina.person_id, admin.person_id]
