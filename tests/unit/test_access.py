"""The access rule (storage.access), without Telegram: who may do what, for which programme."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from storage.access import (
    Access,
    Action,
    Actor,
    choose_working_programme,
    holds,
    load_access,
    load_actor,
    load_actor_by_person,
    may,
    programmes_for,
)
from storage.db import transaction
from storage.models import Activity, Person, Role, RoleGrant
from storage.people.roles import ProgrammeNeeded, grant, revoke
from tests.support.signup import make_person, make_programme

A, B = 1, 2
ME = 10


def _activity(programme_id: int, organiser_id: int | None = None) -> Activity:
    when = datetime(2026, 12, 1, 17, tzinfo=UTC)
    return Activity(
        programme_id=programme_id,
        organiser_id=organiser_id,
        title="x",
        category="x",
        venue="x",
        places=1,
        starts_at=when,
        ends_at=when,
    )


def _proxy(programme_id: int, *, erased: bool = False) -> Person:
    return Person(
        id=99,
        telegram_id=None,
        created_by_id=5,
        programme_id=programme_id,
        erased_at=datetime(2026, 1, 1, tzinfo=UTC) if erased else None,
    )


ANIMATOR_OF_A_LIVING_IN_B = Actor(
    ME, A, Access(grants={Role.ANIMATOR: frozenset({A})}), home_programme_id=B
)
OLD_GRANT = Actor(ME, None, Access(grants={Role.ANIMATOR: frozenset()}), home_programme_id=B)
EVALUATOR_OF_A = Actor(
    ME, None, Access(grants={Role.EVALUATOR: frozenset({A})}), home_programme_id=B
)
RESIDENT_OF_B = Actor(ME, None, Access(), home_programme_id=B)
ADMIN = Actor.admin(ME)


@pytest.mark.parametrize(
    ("actor", "action", "target", "allowed"),
    [
        # The animator of A: A's own and unowned activities, never B's (where she lives).
        (ANIMATOR_OF_A_LIVING_IN_B, Action.MANAGE_ACTIVITY, _activity(A, ME), True),
        (ANIMATOR_OF_A_LIVING_IN_B, Action.MANAGE_ACTIVITY, _activity(A), True),
        (ANIMATOR_OF_A_LIVING_IN_B, Action.MANAGE_ACTIVITY, _activity(A, 11), False),
        (ANIMATOR_OF_A_LIVING_IN_B, Action.MANAGE_ACTIVITY, _activity(B), False),
        (ANIMATOR_OF_A_LIVING_IN_B, Action.MANAGE_ACTIVITY, _activity(B, ME), False),
        (ANIMATOR_OF_A_LIVING_IN_B, Action.WORK_IN_PROGRAMME, A, True),
        (ANIMATOR_OF_A_LIVING_IN_B, Action.WORK_IN_PROGRAMME, B, False),
        (ANIMATOR_OF_A_LIVING_IN_B, Action.ACT_FOR_PERSON, _proxy(A), True),
        (ANIMATOR_OF_A_LIVING_IN_B, Action.ACT_FOR_PERSON, _proxy(A, erased=True), False),
        (ANIMATOR_OF_A_LIVING_IN_B, Action.ACT_FOR_PERSON, _proxy(B), False),
        (ANIMATOR_OF_A_LIVING_IN_B, Action.READ_REPORTS, A, False),
        # A grant without a programme reaches nothing.
        (OLD_GRANT, Action.MANAGE_ACTIVITY, _activity(B), False),
        (OLD_GRANT, Action.WORK_IN_PROGRAMME, B, False),
        (OLD_GRANT, Action.ACT_FOR_PERSON, _proxy(B), False),
        # Evaluators read reports of their programmes only, and run nothing.
        (EVALUATOR_OF_A, Action.READ_REPORTS, A, True),
        (EVALUATOR_OF_A, Action.READ_REPORTS, B, False),
        (EVALUATOR_OF_A, Action.MANAGE_ACTIVITY, _activity(A), False),
        # Residents sign themselves up in their own programme only.
        (RESIDENT_OF_B, Action.SIGN_UP, _activity(B), True),
        (RESIDENT_OF_B, Action.SIGN_UP, _activity(A), False),
        (RESIDENT_OF_B, Action.WORK_IN_PROGRAMME, B, False),
        (RESIDENT_OF_B, Action.READ_REPORTS, B, False),
        # Admins: every programme.
        (ADMIN, Action.MANAGE_ACTIVITY, _activity(B, 11), True),
        (ADMIN, Action.ACT_FOR_PERSON, _proxy(B), True),
        (ADMIN, Action.READ_REPORTS, B, True),
    ],
)
def test_the_rule(actor: Actor, action: Action, target: object, allowed: bool) -> None:
    if isinstance(target, Activity):
        assert may(actor, action, activity=target) is allowed
    elif isinstance(target, Person):
        assert may(actor, action, person=target) is allowed
    else:
        assert isinstance(target, int)
        assert may(actor, action, programme_id=target) is allowed


COORDINATOR_OF_A_LIVING_IN_B = Actor(
    ME, A, Access(grants={Role.COORDINATOR: frozenset({A})}), home_programme_id=B
)
ANIMATOR_OF_A = Actor(ME, A, Access(grants={Role.ANIMATOR: frozenset({A})}))
# Role x programme-wide action: what each role may do in its own programme (A); in
# another programme (B) nobody but an administrator may do anything.
PROGRAMME_ACTIONS = (
    Action.WORK_IN_PROGRAMME,
    Action.READ_REPORTS,
    Action.MANAGE_STAFF,
    Action.RUN_PROGRAMME,
)
OWN_PROGRAMME: list[tuple[str, Actor, set[Action]]] = [
    ("animator", ANIMATOR_OF_A, {Action.WORK_IN_PROGRAMME}),
    ("evaluator", EVALUATOR_OF_A, {Action.READ_REPORTS}),
    ("coordinator", COORDINATOR_OF_A_LIVING_IN_B, set(PROGRAMME_ACTIONS)),
    ("admin", ADMIN, set(PROGRAMME_ACTIONS)),
    ("resident", RESIDENT_OF_B, set()),
]


@pytest.mark.parametrize(
    ("role", "actor", "allowed"), OWN_PROGRAMME, ids=[row[0] for row in OWN_PROGRAMME]
)
@pytest.mark.parametrize("action", PROGRAMME_ACTIONS)
def test_role_by_action_in_own_and_other_programme(
    role: str, actor: Actor, allowed: set[Action], action: Action
) -> None:
    assert may(actor, action, programme_id=A) is (action in allowed), role
    assert may(actor, action, programme_id=B) is actor.is_admin, role


@pytest.mark.parametrize(
    ("target", "allowed"),
    [
        # Every activity of A, whoever organises it; nothing of B (where she lives).
        (_activity(A, ME), True),
        (_activity(A, 11), True),
        (_activity(A), True),
        (_activity(B), False),
        (_activity(B, ME), False),
    ],
)
def test_a_coordinator_manages_every_activity_of_her_programme(
    target: Activity, allowed: bool
) -> None:
    assert may(COORDINATOR_OF_A_LIVING_IN_B, Action.MANAGE_ACTIVITY, activity=target) is allowed
    # She signs up as a resident only at home.
    assert may(COORDINATOR_OF_A_LIVING_IN_B, Action.SIGN_UP, activity=target) is (
        target.programme_id == B
    )


def test_a_coordinator_acts_for_people_of_her_programme_only() -> None:
    coordinator = COORDINATOR_OF_A_LIVING_IN_B
    assert may(coordinator, Action.ACT_FOR_PERSON, person=_proxy(A))
    assert not may(coordinator, Action.ACT_FOR_PERSON, person=_proxy(A, erased=True))
    assert not may(coordinator, Action.ACT_FOR_PERSON, person=_proxy(B))
    for action in (
        Action.MANAGE_ACTIVITY,
        Action.WORK_IN_PROGRAMME,
        Action.READ_REPORTS,
        Action.MANAGE_STAFF,
        Action.RUN_PROGRAMME,
    ):
        assert programmes_for(coordinator, action) == frozenset({A}), action


def test_a_coordinator_opens_the_animator_and_evaluator_menus_but_not_the_admin_one() -> None:
    roles = frozenset({Role.COORDINATOR})
    assert holds(roles, Role.ANIMATOR) and holds(roles, Role.EVALUATOR)
    assert holds(roles, Role.COORDINATOR) and not holds(roles, Role.ADMIN)
    assert not holds(frozenset({Role.ANIMATOR}), Role.COORDINATOR)
    assert holds(frozenset({Role.ADMIN}), Role.COORDINATOR)
    assert COORDINATOR_OF_A_LIVING_IN_B.access.acts_anywhere(Role.ANIMATOR)
    assert not Access(grants={Role.COORDINATOR: frozenset()}).acts_anywhere(Role.ANIMATOR)


def test_exactly_one_target() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        may(ADMIN, Action.MANAGE_ACTIVITY)
    with pytest.raises(ValueError, match="exactly one"):
        may(ADMIN, Action.MANAGE_ACTIVITY, programme_id=A, activity=_activity(A))


def test_lists_are_narrowed_the_same_way() -> None:
    assert programmes_for(ANIMATOR_OF_A_LIVING_IN_B, Action.MANAGE_ACTIVITY) == frozenset({A})
    assert programmes_for(OLD_GRANT, Action.WORK_IN_PROGRAMME) == frozenset()
    assert programmes_for(EVALUATOR_OF_A, Action.READ_REPORTS) == frozenset({A})
    assert programmes_for(ADMIN, Action.READ_REPORTS) is None
    assert programmes_for(RESIDENT_OF_B, Action.SIGN_UP) == frozenset({B})


def test_loading_grants_and_the_working_programme(engine: Engine) -> None:
    with transaction(engine) as session:
        alfa, beta, home = (make_programme(session) for _ in range(3))
        person = make_person(session, telegram_id=555, programme=home)
        assert alfa.id and beta.id and home.id
        with pytest.raises(ProgrammeNeeded):
            grant(session, role=Role.ANIMATOR, telegram_id=555)
        grant(session, role=Role.ANIMATOR, telegram_id=555, programme_id=alfa.id)
        actor = load_actor(session, 555)
        assert actor is not None
        # One programme: the screens are about it; home plays no part.
        assert (actor.programme_id, actor.home_programme_id) == (alfa.id, home.id)
        grant(session, role=Role.ANIMATOR, telegram_id=555, programme_id=beta.id)
        actor = load_actor(session, 555)
        assert actor is not None and actor.programme_id is None  # two: she chooses
        assert not choose_working_programme(session, actor=actor, programme_id=home.id)
        assert choose_working_programme(session, actor=actor, programme_id=beta.id)
        actor = load_actor(session, 555)
        assert actor is not None and actor.programme_id == beta.id
        # Beta taken away: the stored choice no longer counts.
        revoke(session, role=Role.ANIMATOR, telegram_id=555, programme_id=beta.id)
        actor = load_actor(session, 555)
        assert actor is not None and actor.programme_id == alfa.id
        session.add(RoleGrant(telegram_id=555, role=Role.ADMIN.value))
        session.flush()
        assert load_access(session, 555).is_admin
        assert load_actor(session, 556) is None
        # Jobs acting for a person load the same Actor from the person id.
        assert person.id is not None
        by_id = load_actor_by_person(session, person.id)
        assert by_id is not None and by_id.is_admin and by_id.home_programme_id == home.id
        # A coordinator of one programme works in it without choosing.
        grant(session, role=Role.COORDINATOR, telegram_id=557, programme_id=beta.id)
        make_person(session, telegram_id=557, programme=home)
        coordinator = load_actor(session, 557)
        assert coordinator is not None and coordinator.programme_id == beta.id
        with pytest.raises(ProgrammeNeeded):
            grant(session, role=Role.COORDINATOR, telegram_id=557)


def test_statements_per_update(engine: Engine) -> None:
    """Loading the Actor costs residents and one-programme animators two statements."""
    with transaction(engine) as session:
        alfa, beta = make_programme(session), make_programme(session)
        make_person(session, telegram_id=601, programme=alfa)
        make_person(session, telegram_id=602, programme=alfa)
        make_person(session, telegram_id=603, programme=alfa)
        grant(session, role=Role.ANIMATOR, telegram_id=602, programme_id=alfa.id)
        for programme in (alfa, beta):
            grant(session, role=Role.ANIMATOR, telegram_id=603, programme_id=programme.id)
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        found = {}
        for telegram_id, admin_ids in ((601, ()), (602, ()), (603, ()), (601, (601,))):
            statements.clear()
            with transaction(engine) as session:
                load_actor(session, telegram_id, admin_ids)
            found[(telegram_id, bool(admin_ids))] = sum(
                1 for s in statements if s.lstrip().upper().startswith("SELECT")
            )
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # resident, one programme, two programmes (the stored choice), admin (choice, programmes)
    assert found == {(601, False): 2, (602, False): 2, (603, False): 3, (601, True): 4}
