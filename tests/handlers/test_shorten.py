"""Titles and names cut to fit a button: at a word where possible, always marked."""

from __future__ import annotations

from bot.keyboards import TITLE_IN_BUTTON, shorten


def test_a_text_that_fits_is_left_alone_but_for_spaces() -> None:
    assert shorten("Warsztaty  ceramiki\n", 34) == "Warsztaty ceramiki"


def test_a_long_title_is_cut_at_a_word_and_marked() -> None:
    cut = shorten("Warsztaty ceramiki dla seniorów i ich wnuków w świetlicy", 30)
    assert cut == "Warsztaty ceramiki dla…"
    assert len(cut) <= 30


def test_one_overlong_word_is_cut_inside_it() -> None:
    cut = shorten("Konstantynopolitańczykowianeczka", 10)
    assert cut == "Konstanty…" and len(cut) == 10


def test_emoji_and_the_default_width() -> None:
    cut = shorten("🎨 " + "Malowanie " * 10)
    assert cut.startswith("🎨 Malowanie") and cut.endswith("…")
    assert len(cut) <= TITLE_IN_BUTTON
