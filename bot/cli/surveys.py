"""Survey commands: check questionnaire files, choose a programme's questionnaire, open
the final survey, and export responses for checking.

    palbot check-surveys [FILE …]
    palbot set-survey --programme "NAME" FILE
    palbot open-final-survey --programme "NAME"
    palbot export-responses --programme "NAME" --out FILE.csv
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from bot.cli.common import settings_and_engine
from bot.settings import Settings, SettingsError, load_settings
from schedules.clock import SystemClock
from schedules.survey_followups import open_final_survey
from storage.activities.listing import programme_by_name
from storage.db import make_engine, read_only, transaction
from storage.migrate import is_up_to_date
from storage.models import Programme
from storage.programmes.surveys import (
    OtherQuestionnaireAnswered,
    questionnaire_problems,
    use_questionnaire,
)
from storage.surveys.export import submitted_responses, write_csv
from storage.surveys.questionnaire_files import (
    load_questionnaire,
    questionnaire_cache,
    translation_gaps,
)
from storage.surveys.questionnaires import (
    Problem,
    Questionnaire,
    default_questionnaire_path,
    items_for_phase,
)
from storage.surveys.versions import (
    SurveyError,
    current_questionnaire,
    questionnaire_path,
)


def add_commands(sub: Any) -> None:
    """Register the survey subcommands."""
    check = sub.add_parser(
        "check-surveys",
        help="check questionnaire files and print every problem",
        description="Validate questionnaire files (YAML). Without FILE: the default "
        "questionnaire and every programme's. Prints each problem with its line and place "
        "(items[3].text.pl: missing); also refuses a file changed without a new version "
        "number when that version already has responses. Exit 1 on any problem.",
    )
    check.add_argument("files", nargs="*", metavar="FILE")
    check.set_defaults(handler=_check)

    choose = sub.add_parser(
        "set-survey",
        help="choose the questionnaire a programme uses",
        description="Give a programme its own questionnaire file (checked first). The file "
        "is read from this path whenever a survey starts, so keep it there.",
    )
    choose.add_argument("--programme", required=True, metavar="NAME")
    group = choose.add_mutually_exclusive_group(required=True)
    group.add_argument("file", nargs="?", metavar="FILE")
    group.add_argument(
        "--default", action="store_true", help="go back to the questionnaire shipped with the bot"
    )
    choose.add_argument(
        "--force",
        action="store_true",
        help="allow a different questionnaire after surveys were submitted "
        "(initial and final answers would no longer be comparable)",
    )
    choose.set_defaults(handler=_set_survey)

    final = sub.add_parser(
        "open-final-survey",
        help="open the final survey and invite participants",
        description="Open a programme's final survey: everyone with a submitted initial "
        "survey, or a place or attendance in one of its activities, gets an invitation with "
        "a button (once), and reminders after 3 and 7 days unless follow-ups are off. "
        "People without Telegram are counted: enter their paper surveys with /paper.",
    )
    final.add_argument("--programme", required=True, metavar="NAME")
    final.set_defaults(handler=_open_final)

    export = sub.add_parser(
        "export-responses",
        help="write submitted survey responses to CSV (for checking)",
        description="One row per participant and phase: participant code (no names, no "
        "Telegram ids), each item's raw answer, and subscale scores (reverse items scored, "
        "minimum-answered rule applied). Columns marked '(free text)' hold what people "
        "typed: treat the file as personal data.",
    )
    export.add_argument("--programme", required=True, metavar="NAME")
    export.add_argument("--out", required=True, metavar="FILE.csv")
    export.set_defaults(handler=_export)


def _programme(session: Session, name: str) -> Programme | None:
    programme = programme_by_name(session, name)
    if programme is None:
        names = session.exec(select(Programme.name).order_by(col(Programme.name))).all()
        known = ", ".join(f'"{n}"' for n in names) or "none yet"
        print(f'palbot: no programme named "{name}" (programmes: {known})', file=sys.stderr)
    return programme


def _describe(q: Questionnaire) -> str:
    return (
        f"{q.id} version {q.version}: {len(items_for_phase(q, 'initial'))} questions in "
        f"the initial survey, {len(items_for_phase(q, 'final'))} in the final; "
        f"fingerprint {q.fingerprint[:12]}"
    )


def file_problems(path: Path, engine: Engine | None) -> tuple[Questionnaire | None, list[Problem]]:
    """A file's problems, including a content change under a version that has responses."""
    if engine is None:
        return questionnaire_problems(None, path)
    with read_only(engine) as session:
        return questionnaire_problems(session, path)


def _programme_files(engine: Engine, settings: Settings) -> list[Path]:
    with read_only(engine) as session:
        programmes = session.exec(select(Programme).order_by(col(Programme.id))).all()
        return [questionnaire_path(p, settings.surveys_dir) for p in programmes]


def startup_problems(settings: Settings, engine: Engine) -> list[Problem]:
    """Problems of every questionnaire the bot may use; valid ones are cached for use."""
    paths = list(dict.fromkeys([default_questionnaire_path(), *_programme_files(engine, settings)]))
    problems: list[Problem] = []
    valid: list[tuple[Path, Questionnaire]] = []
    for path in paths:
        q, found = file_problems(path, engine)
        problems += found
        if q is not None and not found:
            valid.append((path, q))
    questionnaire_cache.prime(valid)
    return problems


def refuse_bad_surveys(settings: Settings, engine: Engine) -> int | None:
    """For `palbot run`: print the problems and return an exit code, or None if all is well."""
    problems = startup_problems(settings, engine)
    if not problems:
        return None
    print("palbot: not starting: a questionnaire file has problems:", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    print(
        "Fix the file (check it with: palbot check-surveys FILE) or choose another one with "
        "palbot set-survey.",
        file=sys.stderr,
    )
    return 2


def _engine_for_checks() -> tuple[Settings | None, Engine | None]:
    """The database to check versions against, if there is one; never creates one."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"note: database not checked ({exc})", file=sys.stderr)
        return None, None
    url = make_url(settings.database_url)
    if settings.is_sqlite and (not url.database or not Path(url.database).exists()):
        print("note: no database yet, so no answered versions to compare with", file=sys.stderr)
        return settings, None
    engine = make_engine(settings.database_url)
    try:
        ready = is_up_to_date(engine)
    except SQLAlchemyError as exc:
        print(f"note: database not checked ({type(exc).__name__})", file=sys.stderr)
        ready = False
    if not ready:
        print(
            "note: versions not compared with answered ones (database missing or not "
            "migrated: run palbot run once)",
            file=sys.stderr,
        )
        engine.dispose()
        return settings, None
    return settings, engine


def _check(args: argparse.Namespace) -> int:
    settings, engine = _engine_for_checks()
    if args.files:
        paths = [Path(f) for f in args.files]
    else:
        paths = [default_questionnaire_path()]
        if engine is not None and settings is not None:
            paths += _programme_files(engine, settings)
        paths = list(dict.fromkeys(paths))
    failed = 0
    for path in paths:
        q, problems = file_problems(path, engine)
        if problems:
            failed += 1
            for problem in problems:
                print(problem)
            continue
        assert q is not None
        print(f"OK {path}: {_describe(q)}")
        for gap in translation_gaps(q):
            print(f"  note: {gap}")
    if engine is not None:
        engine.dispose()
    return 1 if failed else 0


def _set_survey(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    path = default_questionnaire_path() if args.default else Path(args.file).resolve()
    q, problems = file_problems(path, engine)
    if problems or q is None:
        for problem in problems:
            print(problem, file=sys.stderr)
        print("palbot: questionnaire not set", file=sys.stderr)
        return 1
    with transaction(engine) as session:
        programme = _programme(session, args.programme)
        if programme is None:
            return 1
        try:
            use_questionnaire(
                session,
                programme=programme,
                path=None if args.default else path,
                questionnaire=q,
                force=args.force,
            )
        except OtherQuestionnaireAnswered as other:
            print(
                f'palbot: "{programme.name}" already has surveys answered with the '
                f'questionnaire "{other.questionnaire_id}"; a different one makes start '
                "and end incomparable. Use --force if that is really intended.",
                file=sys.stderr,
            )
            return 1
    print(f'"{args.programme}" now uses {path}\n  {_describe(q)}')
    engine.dispose()
    return 0


def _open_final(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    with transaction(engine) as session:
        programme = _programme(session, args.programme)
        if programme is None:
            return 1
        result = open_final_survey(session, programme=programme, now=SystemClock().now())
        followups = programme.survey_followups
    engine.dispose()
    state = "opened now" if result.opened_now else "was already open"
    print(f'The final survey of "{args.programme}" {state}.')
    print(f"  invited: {result.invited}")
    print(f"  invited before (not again): {result.already_invited}")
    print(f"  already answered: {result.already_answered}")
    print(f"  without Telegram (enter their paper surveys with /paper): {result.without_telegram}")
    if not followups:
        print("  follow-up reminders are off for this programme")
    return 0


def _export(args: argparse.Namespace) -> int:
    settings, engine = settings_and_engine()
    with read_only(engine) as session:
        programme = _programme(session, args.programme)
        if programme is None:
            return 1
        responses = submitted_responses(session, programme_id=programme.id or 0)
        try:
            fallback = current_questionnaire(session, programme, settings.surveys_dir)
        except SurveyError:
            fallback = load_questionnaire(default_questionnaire_path())
    engine.dispose()
    out = Path(args.out)
    # The file may hold free-text answers: readable by its owner only.
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as handle:
        rows = write_csv(responses, handle, fallback=fallback)
    codes_by_phase: dict[str, set[str]] = {}
    for r in responses:
        codes_by_phase.setdefault(r.phase.value, set()).add(r.code)
    pairs = len(codes_by_phase.get("initial", set()) & codes_by_phase.get("final", set()))
    print(f"wrote {rows} rows to {out} ({pairs} participants with both surveys)")
    return 0


__all__ = ["add_commands", "refuse_bad_surveys", "startup_problems"]
