"""`palbot purge`, `palbot person-data`, `palbot erase-person`: data rights from the shell.

Output names people by their internal id only, never by name or Telegram id.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.cli.common import settings_and_engine
from bot.data_export import render_html, render_json
from schedules.clock import SystemClock
from storage.activities.listing import programme_by_name
from storage.db import read_only, transaction
from storage.privacy.erasure import (
    ErasureReason,
    erase_person,
    erasure_preview,
    scrub_freed_space,
)
from storage.privacy.my_data import PersonNotFound, person_data
from storage.privacy.retention import (
    add_months,
    due_for_erasure,
    expired_programmes,
    programme_end,
    purge_batch,
)
from storage.programmes.settings import MAX_RETENTION_MONTHS, apply_retention
from translations import translator


def add_commands(sub: Any) -> None:
    """Register `purge`, `person-data` and `erase-person`."""
    purge = sub.add_parser(
        "purge",
        help="erase identities whose programmes' retention period has passed",
        description="Erase the name, Telegram id and links of every resident whose "
        "programmes all ended more than their `retention_months` ago, as /forgetme does. "
        "The bot does this every night by itself; use --dry-run to see what would go.",
    )
    purge.add_argument(
        "--dry-run", action="store_true", help="only show which programmes and person ids are due"
    )
    purge.set_defaults(handler=_purge)

    data = sub.add_parser(
        "person-data",
        help="write everything stored about one person (right of access)",
        description="Write the /mydata files for a person, e.g. someone without Telegram "
        "who asked on paper: HTML in their language, or JSON.",
    )
    data.add_argument(
        "--person",
        type=int,
        required=True,
        metavar="ID",
        help="the person's internal id (from the animator's list or the audit)",
    )
    data.add_argument("--format", choices=("html", "json"), default="html")
    data.add_argument("--out", type=Path, required=True, metavar="FILE")
    data.set_defaults(handler=_person_data)

    erase = sub.add_parser(
        "erase-person",
        help="erase one person's identity (right to erasure), as /forgetme does",
        description="For a request received in writing: give up their upcoming places "
        "(the reserve list moves up), withdraw messages, delete name, Telegram id and "
        "phone; survey answers are kept under the code or deleted as the programme says.",
    )
    erase.add_argument("--person", type=int, required=True, metavar="ID")
    erase.add_argument("--yes", action="store_true", help="do it (without it: only explain)")
    erase.set_defaults(handler=_erase)

    keep = sub.add_parser(
        "set-retention",
        help="how long a programme keeps identities after it ends",
        description="Set the months after a programme's end (its end date, or its last "
        "activity's end) after which residents' names and Telegram ids are erased "
        "automatically, and whether survey answers are then kept under the pseudonymous "
        "code (default, as monitoring requires) or deleted. Without options: show them.",
    )
    keep.add_argument("--programme", required=True, metavar="NAME")
    keep.add_argument(
        "--months",
        metavar="N|off",
        help="months after the end (1-120), or off for no automatic erasure",
    )
    keep.add_argument(
        "--answers",
        choices=("keep", "delete"),
        help="on erasure keep survey answers under the code, or delete them",
    )
    keep.set_defaults(handler=_set_retention)


def _purge(args: argparse.Namespace) -> int:
    settings, engine = settings_and_engine()
    now = SystemClock().now()
    with read_only(engine) as session:
        programmes = expired_programmes(session, now=now)
        due = due_for_erasure(session, now=now, protected_telegram_ids=settings.admin_ids)
    if not programmes:
        print("No programme has passed its retention period.")
        return 0
    for programme in programmes:
        mine = [d.person_id for d in due if programme.programme_id in d.programme_ids]
        print(
            f"programme {programme.programme_id} ({programme.name}): ended "
            f"{programme.ended_at:%Y-%m-%d}, erase after {programme.erase_after:%Y-%m-%d}; "
            f"{len(mine)} people due"
        )
    ids = " ".join(str(d.person_id) for d in due) or "-"
    if args.dry_run:
        print(f"Would erase {len(due)} people (person ids): {ids}")
        return 0
    total = 0
    while True:
        with transaction(engine) as session:
            reports = purge_batch(session, now=now, protected_telegram_ids=settings.admin_ids)
        if reports is None:
            print("Another process is purging right now; try again in a minute.")
            return 1
        total += len(reports)
        if not reports:
            break
    scrub_freed_space(engine)
    print(f"Erased {total} people (person ids): {ids}")
    return 0


def _person_data(args: argparse.Namespace) -> int:

    settings, engine = settings_and_engine()
    try:
        with read_only(engine) as session:
            data = person_data(session, person_id=args.person, now=SystemClock().now())
    except PersonNotFound:
        print(f"palbot: no person with id {args.person}")
        return 1
    if args.format == "json":
        content = render_json(data)
    else:
        content = render_html(data, translator(data.language, settings.timezone))
    args.out.write_text(content, encoding="utf-8")
    print(f"Wrote {args.out} ({args.format}) for person {args.person}")
    return 0


def _erase(args: argparse.Namespace) -> int:

    _, engine = settings_and_engine()
    now = SystemClock().now()
    try:
        with read_only(engine) as session:
            preview = erasure_preview(session, person_id=args.person, now=now)
    except PersonNotFound:
        print(f"palbot: no person with id {args.person}")
        return 1
    print(
        f"person {args.person}: {preview.places_released} places given up, "
        f"{preview.reserve_positions_left} reserve lists left, "
        f"{preview.pending_messages} messages withdrawn, survey answers {preview.answers}"
    )
    if not args.yes:
        print("Nothing done. Add --yes to erase.")
        return 0
    try:
        with transaction(engine) as session:
            report = erase_person(
                session, person_id=args.person, now=now, reason=ErasureReason.REQUEST
            )
    except PersonNotFound:
        print(f"palbot: no person with id {args.person}")
        return 1
    scrub_freed_space(engine)
    print(
        f"person {args.person}: already erased"
        if report.already_erased
        else f"person {args.person}: erased"
    )
    return 0


def _set_retention(args: argparse.Namespace) -> int:

    months: int | None = None
    if args.months is not None and args.months != "off":
        if not args.months.isdigit() or not 1 <= int(args.months) <= MAX_RETENTION_MONTHS:
            print("palbot: --months must be a number of months from 1 to 120, or off")
            return 2
        months = int(args.months)
    _, engine = settings_and_engine()
    with transaction(engine) as session:
        programme = programme_by_name(session, args.programme)
        if programme is None:
            print(f"palbot: no programme named {args.programme!r}")
            return 1
        apply_retention(
            programme,
            months=months if args.months is not None else "unchanged",
            keep_answers=None if args.answers is None else args.answers == "keep",
        )
        session.add(programme)
        session.flush()
        end = programme_end(session, programme)
        months_now = programme.retention_months
        answers = "kept under the code" if programme.keep_answers_on_erasure else "deleted"
    if months_now is None:
        print(f"{args.programme}: no automatic erasure; survey answers {answers} on erasure")
    else:
        when = (
            f"on {add_months(end, months_now):%Y-%m-%d}"
            if end is not None
            else "once its end is known"
        )
        print(
            f"{args.programme}: identities erased {months_now} months after the end, "
            f"{when}; survey answers {answers}"
        )
    return 0
