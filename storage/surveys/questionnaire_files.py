"""Reading questionnaire files: saying precisely what is wrong, loading, and caching.

Problems name the place in the file the way a person editing it looks for it
(`items[3].text.pl: missing`) together with the line, so `palbot check-surveys` output
can be acted on without reading code.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from yaml.nodes import MappingNode, Node, SequenceNode

from storage.surveys.questionnaires import (
    ITEM_ID,
    MAX_OPTIONS,
    OPTION_VALUE,
    QUESTIONNAIRE_ID,
    VERSION,
    ItemType,
    Problem,
    Questionnaire,
    QuestionnaireError,
    SurveyPhase,
    items_for_phase,
)

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 256 * 1024
Loc = tuple[str | int, ...]

_PATTERN_HINTS = {
    ITEM_ID: "use 1–32 lowercase letters, digits or _, starting with a letter",
    QUESTIONNAIRE_ID: "use up to 64 lowercase letters, digits, _ or -, starting with a letter",
    VERSION: "use up to 32 letters, digits, dots, _ or - (for example 1, 2 or 2026.1)",
    OPTION_VALUE: "use 1–32 lowercase letters, digits or _",
}


def format_loc(loc: Loc) -> str:
    """`('items', 3, 'text', 'pl')` → `items[3].text.pl`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(file)"


class _Reader:
    """Parses YAML keeping the line of every key and element, and duplicate keys."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: dict[Loc, int] = {}
        self.problems: list[Problem] = []

    def problem(self, loc: Loc, message: str, line: int | None = None) -> None:
        self.problems.append(
            Problem(
                str(self.path),
                format_loc(loc),
                message,
                line if line is not None else self.line_of(loc),
            )
        )

    def line_of(self, loc: Loc) -> int | None:
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return None

    def read(self) -> object:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            self.problem((), "file not found")
            return None
        except OSError as exc:
            self.problem((), f"cannot read the file ({exc.strerror or exc})")
            return None
        if len(raw) > MAX_FILE_BYTES:
            self.problem((), f"file is too large ({len(raw)} bytes; at most {MAX_FILE_BYTES})")
            return None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            self.problem((), "not UTF-8 text; save the file as UTF-8", line)
            return None
        try:
            loader = yaml.SafeLoader(text)
            try:
                node = loader.get_single_node()
                if node is None:
                    self.problem((), "the file is empty")
                    return None
                self._walk(node, ())
                return loader.construct_document(node)
            finally:
                loader.dispose()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            self.problem(
                (),
                f"YAML syntax: {exc.problem or exc.context}",
                mark.line + 1 if mark is not None else None,
            )
        except yaml.YAMLError as exc:
            self.problem((), f"YAML syntax: {exc}")
        return None

    def _walk(self, node: Node, loc: Loc) -> None:
        self.lines.setdefault(loc, node.start_mark.line + 1)
        if isinstance(node, MappingNode):
            seen: dict[str, int] = {}
            for key_node, value_node in node.value:
                key = str(key_node.value)
                line = key_node.start_mark.line + 1
                if key in seen and key != "<<":
                    self.problem((*loc, key), f"given twice (lines {seen[key]} and {line})", line)
                seen[key] = line
                self.lines[(*loc, key)] = line
                self._walk(value_node, (*loc, key))
        elif isinstance(node, SequenceNode):
            for index, child in enumerate(node.value):
                self._walk(child, (*loc, index))


def _describe(error: ErrorDetails) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    messages = {
        "missing": "missing",
        "extra_forbidden": "unknown field (check the spelling)",
        "string_type": "must be text"
        + (
            ' (YAML reads yes, no, on and off as true/false: put the text in quotes, "yes")'
            if isinstance(error.get("input"), bool)
            else ""
        ),
        "int_type": "must be a whole number",
        "int_parsing": "must be a whole number",
        "int_from_float": "must be a whole number",
        "float_type": "must be a number",
        "float_parsing": "must be a number",
        "bool_type": "must be true or false",
        "bool_parsing": "must be true or false",
        "dict_type": "must be a mapping (key: value lines)",
        "model_type": "must be a mapping (key: value lines)",
        "model_attributes_type": "must be a mapping (key: value lines)",
        "list_type": "must be a list (lines starting with -)",
        "tuple_type": "must be a list (lines starting with -)",
        "string_too_short": "is empty",
    }
    if kind in messages:
        return messages[kind]
    if kind == "string_too_long":
        return f"too long (at most {ctx.get('max_length')} characters)"
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length')} (found {ctx.get('actual_length')})"
    if kind == "too_long":
        return f"allows at most {ctx.get('max_length')} (found {ctx.get('actual_length')})"
    if kind in {"literal_error", "enum"}:
        return f"must be one of: {ctx.get('expected')}"
    if kind == "string_pattern_mismatch":
        return _PATTERN_HINTS.get(str(ctx.get("pattern")), "has characters that are not allowed")
    if kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        bound = {
            "greater_than": "more than",
            "greater_than_equal": "at least",
            "less_than": "less than",
            "less_than_equal": "at most",
        }[kind]
        limit = next(iter(ctx.values()), "")
        return (
            f"must be {bound} {limit:g}"
            if isinstance(limit, float)
            else (f"must be {bound} {limit}")
        )
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    return str(error["msg"])


def _scale_problems(q: Questionnaire, reader: _Reader) -> None:
    for i, item in enumerate(q.items):
        at: Loc = ("items", i)
        if item.type == ItemType.LIKERT:
            if item.scale is None:
                reader.problem((*at, "scale"), "missing (a likert item needs a scale)")
            elif item.scale not in q.scales:
                known = ", ".join(sorted(q.scales)) or "none defined"
                reader.problem((*at, "scale"), f"unknown scale {item.scale!r} (defined: {known})")
        elif item.scale is not None:
            reader.problem((*at, "scale"), "only likert items have a scale")
        if item.type == ItemType.SINGLE_CHOICE:
            options = item.options or ()
            if item.options is None:
                reader.problem((*at, "options"), "missing (a single_choice item needs options)")
            elif not 2 <= len(options) <= MAX_OPTIONS:
                reader.problem(
                    (*at, "options"), f"needs 2 to {MAX_OPTIONS} options (found {len(options)})"
                )
            values = Counter(option.value for option in options)
            for k, option in enumerate(options):
                if values[option.value] > 1:
                    reader.problem((*at, "options", k, "value"), f"{option.value!r} is used twice")
            scored = [option.score is not None for option in options]
            if any(scored) and not all(scored):
                k = scored.index(False)
                reader.problem(
                    (*at, "options", k, "score"),
                    "missing (either every option has a score or none has)",
                )
        elif item.options is not None:
            reader.problem((*at, "options"), "only single_choice items have options")
        if item.type == ItemType.TEXT:
            if item.max_length is None:
                reader.problem((*at, "max_length"), "missing (a text item needs max_length)")
        elif item.max_length is not None:
            reader.problem((*at, "max_length"), "only text items have max_length")
        if item.reverse and item.type != ItemType.LIKERT:
            reader.problem((*at, "reverse"), "only likert items can be reverse-scored")


def _subscale_problems(q: Questionnaire, reader: _Reader) -> None:
    positions = {item.id: i for i, item in enumerate(q.items)}
    subscale_ids = Counter(s.id for s in q.subscales)
    for j, subscale in enumerate(q.subscales):
        at: Loc = ("subscales", j)
        if subscale_ids[subscale.id] > 1:
            reader.problem((*at, "id"), f"{subscale.id!r} is used twice")
        kinds: set[str] = set()
        phases: set[str] = set()
        counts = Counter(subscale.items)
        for k, item_id in enumerate(subscale.items):
            if counts[item_id] > 1:
                reader.problem((*at, "items", k), f"{item_id!r} is listed twice")
            if item_id not in positions:
                reader.problem((*at, "items", k), f"unknown item {item_id!r}")
                continue
            item = q.items[positions[item_id]]
            if not item.scored:
                reader.problem(
                    (*at, "items", k),
                    f"item {item_id!r} has no score "
                    "(text items and single_choice without scores cannot be scored)",
                )
                continue
            kinds.add(f"scale {item.scale}" if item.type == ItemType.LIKERT else "scored options")
            phases.add(item.phase.value)
        if len(kinds) > 1:
            reader.problem(
                (*at, "items"),
                "mixes answer scales ("
                + ", ".join(sorted(kinds))
                + "); scores would not be comparable",
            )
        if len(phases) > 1:
            reader.problem(
                (*at, "items"),
                "mixes phases ("
                + ", ".join(sorted(phases))
                + "); a subscale must be asked in the same surveys",
            )


def semantic_problems(q: Questionnaire, reader: _Reader) -> None:
    """Checks across fields: unique ids, references, and what each item type needs."""
    counts = Counter(item.id for item in q.items)
    first: dict[str, int] = {}
    for i, item in enumerate(q.items):
        if counts[item.id] > 1 and item.id in first:
            reader.problem(
                ("items", i, "id"), f"{item.id!r} is used twice (also items[{first[item.id]}])"
            )
        first.setdefault(item.id, i)
    _scale_problems(q, reader)
    _subscale_problems(q, reader)
    for phase in SurveyPhase:
        if not items_for_phase(q, phase):
            reader.problem(("items",), f"no item is asked in the {phase.value} survey")


def check_file(path: Path) -> tuple[Questionnaire | None, list[Problem]]:
    """Read, validate and cross-check a file; the questionnaire only when it has no problems."""
    reader = _Reader(path)
    data = reader.read()
    if reader.problems:
        return None, reader.problems
    if not isinstance(data, dict):
        reader.problem((), "must be a mapping with id, version, title, intro and items")
        return None, reader.problems
    try:
        questionnaire = Questionnaire.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc: Loc = tuple(part for part in error["loc"] if isinstance(part, str | int))
            reader.problem(loc, _describe(error))
        return None, reader.problems
    semantic_problems(questionnaire, reader)
    if reader.problems:
        return None, reader.problems
    return questionnaire, []


def translation_gaps(q: Questionnaire) -> list[str]:
    """Texts shown in Polish because a translation is missing (notes, not problems)."""
    gaps: list[str] = []

    def note(where: str, text: Any) -> None:
        missing = text.missing_languages()
        if missing:
            gaps.append(f"{where}: no {', '.join(missing)} (Polish is shown)")

    note("title", q.title)
    note("intro", q.intro)
    for name, scale in q.scales.items():
        for p, label in enumerate(scale.labels):
            note(f"scales.{name}.labels[{p}]", label)
    for i, item in enumerate(q.items):
        note(f"items[{i}].text", item.text)
        for k, option in enumerate(item.options or ()):
            note(f"items[{i}].options[{k}].label", option.label)
    return gaps


def validate_file(path: str | Path) -> list[Problem]:
    """Every problem in a questionnaire file; an empty list means it can be used."""
    return check_file(Path(path))[1]


def load_questionnaire(path: str | Path) -> Questionnaire:
    """Load and validate a questionnaire file; QuestionnaireError lists its problems."""
    questionnaire, problems = check_file(Path(path))
    if problems or questionnaire is None:
        raise QuestionnaireError(problems)
    return questionnaire


class QuestionnaireCache:
    """Questionnaires by file, reloaded when the file changes; a broken edit keeps the
    last valid version (and logs the problems) so a typo never takes the bot down."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[Path, tuple[tuple[int, int], Questionnaire]] = {}
        self._failed: dict[Path, tuple[int, int]] = {}
        self._resolved: dict[str | Path, Path] = {}

    def get(self, path: str | Path) -> Questionnaire:
        """The current valid questionnaire of a file (QuestionnaireError if never valid)."""
        # Resolving walks every directory of the path; the answer is kept per spelling
        # (a tap needs only the one stat below to notice an edited file).
        key = self._resolved.get(path)
        if key is None:
            key = self._resolved.setdefault(path, Path(path).resolve())
        try:
            stat = key.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = (-1, -1)
        with self._lock:
            cached = self._entries.get(key)
            if cached is not None and cached[0] == stamp:
                return cached[1]
            if cached is not None and self._failed.get(key) == stamp:
                return cached[1]
        try:
            questionnaire = load_questionnaire(key)
        except QuestionnaireError as exc:
            with self._lock:
                first_report = self._failed.get(key) != stamp
                self._failed[key] = stamp
                cached = self._entries.get(key)
            if first_report:
                for problem in exc.problems:
                    log.error("questionnaire problem: %s", problem)
            if cached is None:
                raise
            if first_report:
                log.error(
                    "keeping the last valid version %s of %s (%s)",
                    cached[1].version,
                    cached[1].id,
                    key,
                )
            return cached[1]
        with self._lock:
            self._entries[key] = (stamp, questionnaire)
            self._failed.pop(key, None)
        return questionnaire

    def prime(self, questionnaires: Iterable[tuple[Path, Questionnaire]]) -> None:
        """Remember questionnaires validated at start-up."""
        for path, questionnaire in questionnaires:
            key = path.resolve()
            stat = key.stat()
            with self._lock:
                self._entries[key] = ((stat.st_mtime_ns, stat.st_size), questionnaire)

    def clear(self) -> None:
        """Forget everything (tests)."""
        with self._lock:
            self._entries.clear()
            self._failed.clear()
            self._resolved.clear()


questionnaire_cache = QuestionnaireCache()
