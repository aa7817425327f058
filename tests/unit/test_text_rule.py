"""The one text rule: what free text may hold before it is stored."""

from __future__ import annotations

import pytest

from storage.text_rule import InvalidText, TextProblem, check_text, forbidden_character


@pytest.mark.parametrize(
    ("raw", "multiline", "code_point"),
    [
        ("Warsztaty\u202e", False, "U+202E"),  # right-to-left override
        ("a\u2066b", False, "U+2066"),  # left-to-right isolate
        ("a\u200fb", False, "U+200F"),  # right-to-left mark
        ("dzwonek\x07", False, "U+0007"),
        ("sala\x00", True, "U+0000"),
        ("esc\x1b[31m", True, "U+001B"),
        ("linia\u2028dwie", True, "U+2028"),
        ("ukryte\u00adznaki", False, "U+00AD"),  # soft hyphen, a format character
        ("\ue000prywatne", False, "U+E000"),
    ],
)
def test_control_bidi_and_format_characters_are_refused(
    raw: str, multiline: bool, code_point: str
) -> None:
    with pytest.raises(InvalidText) as refused:
        check_text(raw, limit=100, multiline=multiline)
    assert refused.value.problem == TextProblem.CONTROL
    assert refused.value.code_point == code_point


@pytest.mark.parametrize(
    ("raw", "multiline", "kept"),
    [
        ("  Warsztaty   ceramiki ", False, "Warsztaty ceramiki"),
        ("Tytuł\nw dwóch liniach", False, "Tytuł w dwóch liniach"),
        ("Opis\r\nw dwóch liniach\n", True, "Opis\nw dwóch liniach"),
        ("Rodzina 👨\u200d👩\u200d👧 i ☕️", False, "Rodzina 👨\u200d👩\u200d👧 i ☕️"),
        ("Заняття для всіх", False, "Заняття для всіх"),
    ],
)
def test_ordinary_text_emoji_and_joiners_pass(raw: str, multiline: bool, kept: str) -> None:
    assert check_text(raw, limit=100, multiline=multiline) == kept


def test_empty_and_too_long() -> None:
    with pytest.raises(InvalidText) as empty:
        check_text("   ", limit=10)
    assert empty.value.problem == TextProblem.EMPTY
    assert check_text("  ", limit=10, required=False) == ""
    with pytest.raises(InvalidText) as long:
        check_text("x" * 11, limit=10)
    assert (long.value.problem, long.value.limit, long.value.length) == (
        TextProblem.TOO_LONG,
        10,
        11,
    )


def test_line_breaks_are_refused_only_where_one_line_is_checked_raw() -> None:
    assert forbidden_character("a\nb", multiline=True) is None
    assert forbidden_character("a\nb") == "\n"
