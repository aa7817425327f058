"""The thresholds of the disclosure-control rule and how a hidden count shows.

The rule itself is described in evaluation/disclosure.py, which applies it to whole
reports; this part is light (no numpy or scipy), so the chat can mask a single count
— a consultation's results to residents — without loading the report libraries.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# Below this nobody may set a threshold: 1–2 people are identifiable in any small area.
ABSOLUTE_MINIMUM = 3


class ThresholdTooLow(ValueError):
    """A disclosure threshold below the absolute minimum (or inconsistent) was asked for."""


@dataclass(frozen=True)
class DisclosureRules:
    """The thresholds of the rule; defaults: counts under 5 hidden, statistics from 10."""

    min_count: int = 5
    min_n_for_statistics: int = 10

    def __post_init__(self) -> None:
        if self.min_count < ABSOLUTE_MINIMUM:
            raise ThresholdTooLow(
                f"the smallest count shown must be at least {ABSOLUTE_MINIMUM}, "
                f"not {self.min_count}"
            )
        if self.min_n_for_statistics < ABSOLUTE_MINIMUM:
            raise ThresholdTooLow(
                f"statistics need at least {ABSOLUTE_MINIMUM} pairs, "
                f"not {self.min_n_for_statistics}"
            )
        if self.min_n_for_statistics < self.min_count:
            # A mean of three pairs next to a count shown as <5 would undo the rule.
            raise ThresholdTooLow(
                "the statistics threshold cannot be below the smallest count shown "
                f"({self.min_n_for_statistics} < {self.min_count})"
            )

    @property
    def small_symbol(self) -> str:
        """What a primary-suppressed count shows: `<5` with the default threshold."""
        return f"<{self.min_count}"

    def is_small(self, value: int) -> bool:
        """Whether a count of people must be hidden on its own."""
        return 0 < value < self.min_count

    def allows_statistics(self, n: int) -> bool:
        """Whether means, percentages and tests may be shown for `n` people or pairs."""
        return n >= self.min_n_for_statistics


class Reason(StrEnum):
    """Why a value is not shown."""

    SMALL = "small"
    COMPLEMENTARY = "complementary"
    DERIVED = "derived"
    TOO_FEW = "too_few"


@dataclass(frozen=True)
class Hidden:
    """A value replaced by a symbol; `reason` says which part of the rule hid it."""

    reason: Reason
    symbol: str

    def __str__(self) -> str:
        return self.symbol


Shown = int | Hidden


def mask_count(rules: DisclosureRules, value: int) -> Shown:
    """A single count outside any relation: `<5` if small, else the number."""
    return Hidden(Reason.SMALL, rules.small_symbol) if rules.is_small(value) else value
