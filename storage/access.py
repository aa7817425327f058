"""Who may do what, for which programme: the one place that decides access.

A role grant names its programme. Animators act only for the programmes they were
granted (their own home programme as a resident plays no part); evaluators read only
their programmes' reports; "all programmes" exists only as the admin role (a grant or
the settings' admin ids). A grant without a programme (left from before grants named
one, see migration 0002) grants nothing: the person keeps the role's menu, which tells
them to ask an administrator for a programme.

A coordinator runs one programme: in it they may do what its animators do (every
activity, whoever organises it), read its reports, manage its animators and evaluators
and run its settings and records. Creating, renaming and archiving programmes and
appointing coordinators and administrators stay with administrators.

Handlers, the CLI and the schedules build one `Actor` per update or job with
`load_actor` and ask `may(actor, action, ...)`; list screens narrow their queries with
`programmes_for`. Nothing else decides access.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from sqlmodel import Session, col, select

from storage.dialogs import get_dialog, save_dialog
from storage.models import Activity, Person, Programme, Role, RoleGrant

# The dialog row that remembers which programme an animator's screens are about.
WORKING_PROGRAMME = "working_programme"


class Action(StrEnum):
    """Things staff (and residents, for their own sign-ups) ask permission for."""

    # Card, changes, calling off, attendance, participant list and CSV, announcing it.
    MANAGE_ACTIVITY = "manage_activity"
    # Work in a programme: create activities, announce to it, open its final survey,
    # list and add its people without Telegram, enter paper surveys, make it the screen's.
    WORK_IN_PROGRAMME = "work_in_programme"
    # Act for one person without Telegram: card, sign-ups, attendance, paper survey, erasure.
    ACT_FOR_PERSON = "act_for_person"
    # Read a programme's pseudonymised report.
    READ_REPORTS = "read_reports"
    # A resident signs themself up for an activity: only in their own programme.
    SIGN_UP = "sign_up"
    # Invite animators and evaluators to a programme, list and remove them; importing
    # activities into it is WORK_IN_PROGRAMME.
    MANAGE_STAFF = "manage_staff"
    # Run a programme: dates, settings, questionnaire, final survey, audit trail, records.
    RUN_PROGRAMME = "run_programme"


# Which roles grant an action in their programmes (admins may do everything everywhere);
# None: the resident's own programme (SIGN_UP).
NEEDED_ROLE: Mapping[Action, frozenset[Role] | None] = {
    Action.MANAGE_ACTIVITY: frozenset({Role.ANIMATOR, Role.COORDINATOR}),
    Action.WORK_IN_PROGRAMME: frozenset({Role.ANIMATOR, Role.COORDINATOR}),
    Action.ACT_FOR_PERSON: frozenset({Role.ANIMATOR, Role.COORDINATOR}),
    Action.READ_REPORTS: frozenset({Role.EVALUATOR, Role.COORDINATOR}),
    Action.SIGN_UP: None,
    Action.MANAGE_STAFF: frozenset({Role.COORDINATOR}),
    Action.RUN_PROGRAMME: frozenset({Role.COORDINATOR}),
}

# Roles that manage every activity of their programmes; animators only manage those
# they organise and those nobody organises (imported).
MANAGES_EVERY_ACTIVITY: frozenset[Role] = frozenset({Role.COORDINATOR})

# The menus and panels a role opens besides its own (a coordinator works as an
# animator and reads reports as an evaluator, in their programmes).
INCLUDED_ROLES: Mapping[Role, frozenset[Role]] = {
    Role.COORDINATOR: frozenset({Role.ANIMATOR, Role.EVALUATOR}),
}


def holds(roles: Iterable[Role], needed: Role) -> bool:
    """Whether someone with `roles` opens `needed`'s menus; admins open every one."""
    held = frozenset(roles)
    return (
        Role.ADMIN in held
        or needed in held
        or any(needed in INCLUDED_ROLES.get(role, frozenset()) for role in held)
    )


@dataclass(frozen=True)
class Access:
    """What a Telegram id's grants say: roles, and for each role its programmes."""

    is_admin: bool = False
    # Role -> programmes granted; a role present with an empty set was granted without
    # a programme (held, but for no programme).
    grants: Mapping[Role, frozenset[int]] = field(default_factory=dict)

    @property
    def roles(self) -> frozenset[Role]:
        """Roles held, admin included (for menus)."""
        held = set(self.grants)
        if self.is_admin:
            held.add(Role.ADMIN)
        return frozenset(held)

    def acts_anywhere(self, role: Role) -> bool:
        """Whether `role` (or a role including it) reaches at least one programme."""
        including = {role} | {held for held, more in INCLUDED_ROLES.items() if role in more}
        return self.is_admin or bool(self.scope(including))

    def programmes(self, role: Role) -> frozenset[int] | None:
        """Programmes `role` may act for; None means every programme (admins only)."""
        if self.is_admin:
            return None
        return self.grants.get(role, frozenset())

    def scope(self, roles: Iterable[Role]) -> frozenset[int] | None:
        """Programmes any of `roles` may act for; None means every programme (admins)."""
        if self.is_admin:
            return None
        return frozenset().union(*(self.grants.get(role, frozenset()) for role in roles))


NO_ACCESS = Access()


@dataclass(frozen=True)
class Actor:
    """A person acting in the chat (or a job acting for them), with their grants.

    `programme_id` is the programme the staff screens are about: the one the animator
    chose among their granted programmes (or their only one); None until chosen.
    `home_programme_id` is where the person takes part as a resident (the programme
    their screens show); `memberships` the other programmes they joined and have not
    left (storage.people.memberships).
    """

    person_id: int
    programme_id: int | None = None
    access: Access = NO_ACCESS
    home_programme_id: int | None = None
    memberships: frozenset[int] = frozenset()

    @property
    def resident_of(self) -> frozenset[int]:
        """Every programme the person takes part in as a resident."""
        home = frozenset() if self.home_programme_id is None else {self.home_programme_id}
        return self.memberships | home

    @property
    def is_admin(self) -> bool:
        """Whether the actor may act in every programme."""
        return self.access.is_admin

    @classmethod
    def animator(cls, person_id: int, *programme_ids: int) -> Actor:
        """An animator granted for these programmes, working in the first (for jobs, tests)."""
        return cls(
            person_id=person_id,
            programme_id=programme_ids[0] if programme_ids else None,
            access=Access(grants={Role.ANIMATOR: frozenset(programme_ids)}),
        )

    @classmethod
    def admin(cls, person_id: int, programme_id: int | None = None) -> Actor:
        """An administrator (every programme), working in `programme_id` if given."""
        return cls(person_id=person_id, programme_id=programme_id, access=Access(is_admin=True))


def _in(programmes: frozenset[int] | None, programme_id: int | None) -> bool:
    return programme_id is not None and (programmes is None or programme_id in programmes)


def may(
    actor: Actor | Access,
    action: Action,
    *,
    programme_id: int | None = None,
    activity: Activity | None = None,
    person: Person | None = None,
) -> bool:
    """Whether the actor may do `action` on the programme, activity or person named.

    Exactly one target is named. A missing target (None row) is refused, so a forged
    id and a foreign one look the same.
    """
    if sum(x is not None for x in (programme_id, activity, person)) != 1:
        raise ValueError("may() needs exactly one of programme_id, activity, person")
    access = actor.access if isinstance(actor, Actor) else actor
    roles = NEEDED_ROLE[action]
    if roles is None:
        # SIGN_UP: a resident's own programmes only (the activity's, or one named by id
        # where the caller read the activity without the ORM).
        if not isinstance(actor, Actor) or person is not None:
            return False
        target = activity.programme_id if activity is not None else programme_id
        return target is not None and target in actor.resident_of
    scope = access.scope(roles)
    if activity is not None:
        if not _in(scope, activity.programme_id):
            return False
        if action != Action.MANAGE_ACTIVITY or _in(
            access.scope(MANAGES_EVERY_ACTIVITY), activity.programme_id
        ):
            return True
        # Animators run what they organise and what nobody organises (imported).
        return activity.organiser_id is None or (
            isinstance(actor, Actor) and activity.organiser_id == actor.person_id
        )
    if person is not None:
        return (
            person.telegram_id is None
            and person.created_by_id is not None
            and person.erased_at is None
            and _in(scope, person.programme_id)
        )
    return _in(scope, programme_id)


def programmes_for(actor: Actor | Access, action: Action) -> frozenset[int] | None:
    """Programmes a list screen for `action` may show; None means all (admins)."""
    access = actor.access if isinstance(actor, Actor) else actor
    roles = NEEDED_ROLE[action]
    if roles is None:
        return actor.resident_of if isinstance(actor, Actor) else frozenset()
    return access.scope(roles)


def load_access(session: Session, telegram_id: int, admin_ids: Iterable[int] = ()) -> Access:
    """The grants of a Telegram id, admin ids from the settings included."""
    rows = session.exec(
        select(RoleGrant.role, RoleGrant.programme_id).where(RoleGrant.telegram_id == telegram_id)
    ).all()
    return access_from(rows, telegram_id, admin_ids)


def access_from(
    granted: Iterable[tuple[str | None, int | None]],
    telegram_id: int,
    admin_ids: Iterable[int] = (),
) -> Access:
    """Access from (role, programme) grant rows already read (unknown roles ignored)."""
    grants: dict[Role, set[int]] = {}
    is_admin = telegram_id in set(admin_ids)
    for role_name, programme_id in granted:
        if role_name is None or role_name not in Role.__members__.values():
            continue
        role = Role(role_name)
        if role == Role.ADMIN:
            is_admin = True
            continue
        programmes = grants.setdefault(role, set())
        if programme_id is not None:
            programmes.add(int(programme_id))
    return Access(is_admin=is_admin, grants={role: frozenset(ids) for role, ids in grants.items()})


def _working_programme(session: Session, person_id: int, access: Access) -> int | None:
    animates = programmes_for(access, Action.WORK_IN_PROGRAMME)
    if animates is not None and len(animates) <= 1:
        # Residents and one-programme animators or coordinators: nothing to choose, no query.
        return next(iter(animates), None)
    dialog = get_dialog(session, person_id=person_id, kind=WORKING_PROGRAMME)
    chosen = dialog.data.get("programme_id") if dialog is not None else None
    if isinstance(chosen, int) and _in(animates, chosen):
        return chosen
    if animates is not None:
        return None
    # Admins: the only programme there is, or none until they choose.
    ids = session.exec(select(Programme.id).limit(2)).all()
    return int(ids[0]) if len(ids) == 1 and ids[0] is not None else None


def actor_of_person(session: Session, person: Person, access: Access) -> Actor:
    """The Actor for a person already loaded, with their grants."""
    assert person.id is not None
    return Actor(
        person_id=person.id,
        programme_id=_working_programme(session, person.id, access),
        access=access,
        home_programme_id=person.programme_id,
    )


def load_actor(session: Session, telegram_id: int, admin_ids: Iterable[int] = ()) -> Actor | None:
    """The Actor for a Telegram id; None if they have no person record (never sent /start)."""
    person = session.exec(select(Person).where(Person.telegram_id == telegram_id)).first()
    if person is None or person.id is None:
        return None
    return actor_of_person(session, person, load_access(session, telegram_id, admin_ids))


def load_actor_by_person(
    session: Session, person_id: int, admin_ids: Iterable[int] = ()
) -> Actor | None:
    """The Actor for a person id (jobs acting on someone's behalf); None if gone."""
    person = session.get(Person, person_id)
    if person is None or person.telegram_id is None or person.erased_at is not None:
        return None
    return actor_of_person(session, person, load_access(session, person.telegram_id, admin_ids))


def choose_working_programme(session: Session, *, actor: Actor, programme_id: int) -> bool:
    """Make `programme_id` the programme the actor's staff screens are about."""
    if not may(actor, Action.WORK_IN_PROGRAMME, programme_id=programme_id):
        return False
    if session.get(Programme, programme_id) is None:
        return False
    save_dialog(
        session,
        person_id=actor.person_id,
        kind=WORKING_PROGRAMME,
        step="chosen",
        data={"programme_id": programme_id},
    )
    return True


def working_programmes(session: Session, actor: Actor) -> list[Programme]:
    """The programmes the actor may work in, by name (for the programme choice)."""
    scope = programmes_for(actor, Action.WORK_IN_PROGRAMME)
    query = select(Programme).order_by(col(Programme.name), col(Programme.id))
    if scope is not None:
        query = query.where(col(Programme.id).in_(sorted(scope)))
    return list(session.exec(query))
