"""The one rule for free text that is stored: names, titles, venues, announcements,
survey answers, imported cells.

Refused: control characters (NUL, BEL, escape…), format characters such as the bidi
overrides that make text read backwards (U+202E) or invisible marks, surrogates,
private-use and unassigned code points, and line or paragraph separators; in one-line
fields also line breaks and tabs, which become spaces. The zero-width joiners stay:
emoji sequences and some scripts need them. Empty text (when required) and text over the
field's limit are refused too. PostgreSQL cannot store NUL at all, so this also keeps
an import from failing half-way with a database error.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

# Joiners are format characters too, but emoji sequences and some scripts need them.
_ALLOWED_FORMAT = frozenset({"\u200c", "\u200d"})
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn", "Zl", "Zp"})


class TextProblem(StrEnum):
    """Why a text was refused; each has its own message."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    CONTROL = "control"


class InvalidText(ValueError):
    """A text the field cannot take: why, the field's limit, and the offending character."""

    def __init__(
        self, problem: TextProblem, *, limit: int = 0, length: int = 0, char: str | None = None
    ) -> None:
        super().__init__(problem.value)
        self.problem = problem
        self.limit = limit
        self.length = length
        self.char = char

    @property
    def code_point(self) -> str:
        """`U+202E` for the refused character ('' if the problem is not a character)."""
        return f"U+{ord(self.char):04X}" if self.char is not None else ""


def forbidden_character(text: str, *, multiline: bool = False) -> str | None:
    """The first character the rule refuses in `text` (line breaks only in one-line text)."""
    for char in text:
        if char in "\n\t":
            if multiline:
                continue
            return char
        if char == "\r":
            continue  # line endings are normalised by check_text
        category = unicodedata.category(char)
        if category in _REFUSED_CATEGORIES or (category == "Cf" and char not in _ALLOWED_FORMAT):
            return char
    return None


def check_text(raw: str, *, limit: int, multiline: bool = False, required: bool = True) -> str:
    """The text trimmed (one-line: breaks and runs of spaces become one space), or InvalidText.

    Raises InvalidText(CONTROL) for a refused character, EMPTY for nothing left when
    `required`, TOO_LONG past `limit` characters.
    """
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    if not multiline:
        text = re.sub(r"[\n\t]+", " ", text)
    char = forbidden_character(text, multiline=multiline)
    if char is not None:
        raise InvalidText(TextProblem.CONTROL, limit=limit, char=char)
    text = text.strip() if multiline else re.sub(r" {2,}", " ", text).strip()
    if not text and required:
        raise InvalidText(TextProblem.EMPTY, limit=limit)
    if len(text) > limit:
        raise InvalidText(TextProblem.TOO_LONG, limit=limit, length=len(text))
    return text


# Characters a spreadsheet program would run as a formula if a text cell started with them.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: str) -> str:
    """A typed text made safe for a CSV or XLSX cell: a leading `'` keeps `=…`, `+48…` or
    `@…` from being run as a formula, and keeps a phone number readable."""
    return "'" + value if value.startswith(_FORMULA_START) else value
