"""THE disclosure-control rule: what an evaluator may see of counts of people.

1. Any count of people from 1 to `min_count - 1` is shown as `<5` (primary suppression).
   Zero is shown: "nobody" tells nothing about a person.
2. Complementary suppression: wherever a total is the sum of parts (categories add up to
   all activities, years add up to all years, answer options add up to those who
   answered), a hidden cell must not be recoverable from the cells left visible. Every
   such relation ends with none or at least two hidden members (a row with exactly one
   `<5` gets a second cell hidden, shown as `x`); then an audit plays the attacker who
   knows this rule (`<5` is 1–4, `x` is 0 or at least 5, every relation holds) and, by
   integer programming, hides more cells until no `<5` count can be worked out exactly.
   The second cell is the smallest non-zero part, then a zero part, and the total only
   as a last resort, so totals — what reports quote — stay visible. (Values of `x` cells
   may still be deducible: they are not small counts.)
3. Percentages are shown only when every count they come from is visible and their
   denominator reaches `min_n_for_statistics`; means, medians, tests and effect sizes of
   the pre/post comparison only from `min_n_for_statistics` matched pairs up. Below that,
   only counts (themselves under rules 1–2).
4. Thresholds are configurable, never below 3: lower values are refused.

Counts of activities and places are not counts of people and are never hidden.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from evaluation.disclosure_rules import (
    ABSOLUTE_MINIMUM,
    DisclosureRules,
    Hidden,
    Reason,
    Shown,
    ThresholdTooLow,
    mask_count,
)

__all__ = [
    "ABSOLUTE_MINIMUM",
    "COMPLEMENTARY_SYMBOL",
    "NOT_SHOWN_SYMBOL",
    "Disclosed",
    "DisclosureRules",
    "Hidden",
    "Reason",
    "Shown",
    "SuppressionGrid",
    "ThresholdTooLow",
    "mask_count",
]

COMPLEMENTARY_SYMBOL = "x"
NOT_SHOWN_SYMBOL = "x"

Key = Hashable


@dataclass
class _Cell:
    value: int
    people: bool


@dataclass
class SuppressionGrid:
    """Counts and the sum relations between them; `solve` applies rules 1–2 jointly.

    One grid per report, so a number that appears on two sheets is hidden on both.
    """

    rules: DisclosureRules
    _cells: dict[Key, _Cell] = field(default_factory=dict)
    _relations: list[tuple[Key, tuple[Key, ...]]] = field(default_factory=list)

    def add(self, key: Key, value: int, *, people: bool = True) -> Key:
        """Register a count; re-adding a key must give the same value."""
        existing = self._cells.get(key)
        if existing is not None and existing.value != value:
            raise ValueError(f"cell {key!r} registered with {existing.value} and {value}")
        self._cells[key] = _Cell(int(value), people)
        return key

    def relate(self, total: Key, parts: Sequence[Key]) -> None:
        """Declare `total = sum(parts)` (checked) so no hidden part can be recovered."""
        if not parts:
            return
        missing = [k for k in (total, *parts) if k not in self._cells]
        if missing:
            raise KeyError(f"relation over unknown cells {missing!r}")
        expected = sum(self._cells[k].value for k in parts)
        if self._cells[total].value != expected:
            raise ValueError(f"{total!r} = {self._cells[total].value}, parts add to {expected}")
        if any(not self._cells[k].people for k in (total, *parts)):
            # Only counts of people are hidden; a relation over other counts protects nothing.
            return
        self._relations.append((total, tuple(parts)))

    def solve(self) -> Disclosed:
        """Apply primary and complementary suppression; returns what each cell shows."""
        hidden: dict[Key, Reason] = {
            key: Reason.SMALL
            for key, cell in self._cells.items()
            if cell.people and self.rules.is_small(cell.value)
        }
        # Each round only adds hidden cells, so this ends (at worst with all hidden).
        while True:
            self._close_lines(hidden)
            recoverable = self._recoverable(hidden)
            if not recoverable:
                break
            if not self._protect(recoverable, hidden):
                break
        shown: dict[Key, Shown] = {}
        for key, cell in self._cells.items():
            reason = hidden.get(key)
            if reason is None:
                shown[key] = cell.value
            elif reason is Reason.SMALL:
                shown[key] = Hidden(reason, self.rules.small_symbol)
            else:
                shown[key] = Hidden(reason, COMPLEMENTARY_SYMBOL)
        return Disclosed(self.rules, shown, {k: c.value for k, c in self._cells.items()})

    def _close_lines(self, hidden: dict[Key, Reason]) -> None:
        changed = True
        while changed:
            changed = False
            for total, parts in self._relations:
                members = (total, *parts)
                if sum(1 for m in members if m in hidden) == 1:
                    choice = self._second_cell(total, parts, hidden)
                    if choice is not None:
                        hidden[choice] = Reason.COMPLEMENTARY
                        changed = True

    def _second_cell(
        self, total: Key, parts: tuple[Key, ...], hidden: Mapping[Key, Reason]
    ) -> Key | None:
        open_parts = [p for p in parts if p not in hidden]
        if open_parts:
            # Smallest non-zero part loses least information; a zero part protects less
            # (it is known to be 0 or at least the threshold) but more than nothing.
            return min(
                open_parts,
                key=lambda p: (self._cells[p].value == 0, self._cells[p].value),
            )
        return total if total not in hidden else None

    def _recoverable(self, hidden: Mapping[Key, Reason]) -> list[Key]:
        """Small counts an attacker could work out exactly from what is shown.

        The attacker is assumed to know the rule: a `<5` cell is 1–4, an `x` cell is 0 or
        at least the threshold, every relation holds, counts are whole numbers. For each
        small cell two integer programs (HiGHS, via scipy.optimize.milp) look for a
        consistent table in which it is lower, or higher, than its true value; if neither
        exists, the cell is recoverable.
        """
        pinned: list[Key] = []
        # Visible cells are constants, so relations only link hidden cells that share
        # one: each group of linked hidden cells is a separate, small integer program.
        for variables, relations in self._components(hidden):
            targets = [k for k in variables if hidden[k] is Reason.SMALL]
            if targets:
                problem = _AttackModel(self, variables, relations, hidden)
                pinned += [k for k in targets if problem.pinned(k)]
        return pinned

    def _components(
        self, hidden: Mapping[Key, Reason]
    ) -> list[tuple[list[Key], list[tuple[Key, tuple[Key, ...]]]]]:
        parent: dict[Key, Key] = {}

        def find(key: Key) -> Key:
            while parent[key] != key:
                parent[key] = parent[parent[key]]
                key = parent[key]
            return key

        touching = []
        for total, parts in self._relations:
            members = [m for m in (total, *parts) if m in hidden]
            if not members:
                continue
            touching.append((total, parts))
            for m in members:
                parent.setdefault(m, m)
            for m in members[1:]:
                parent[find(m)] = find(members[0])
        groups: dict[Key, list[Key]] = {}
        for key in parent:
            groups.setdefault(find(key), []).append(key)
        out = []
        for members in groups.values():
            member_set = set(members)
            relations = [(t, p) for t, p in touching if t in member_set or member_set & set(p)]
            out.append((members, relations))
        return out

    def _protect(self, recoverable: Iterable[Key], hidden: dict[Key, Reason]) -> bool:
        """Hide one more cell near each recoverable one; False if nothing could be added."""
        added = False
        for key in recoverable:
            # Walk outwards through relations over hidden cells: the nearest relation
            # with a visible member is where one more hidden cell breaks the chain.
            seen, frontier = {key}, [key]
            choice = None
            while frontier and choice is None:
                current = frontier.pop(0)
                for total, parts in self._relations:
                    if current != total and current not in parts:
                        continue
                    choice = self._second_cell(total, parts, hidden)
                    if choice is not None:
                        break
                    for member in (total, *parts):
                        if member not in seen:
                            seen.add(member)
                            frontier.append(member)
            if choice is not None:
                hidden[choice] = Reason.COMPLEMENTARY
                added = True
        return added


class _AttackModel:
    """The integer program of what an attacker knows about the hidden cells."""

    def __init__(
        self,
        grid: SuppressionGrid,
        variables: list[Key],
        relations: list[tuple[Key, tuple[Key, ...]]],
        hidden: Mapping[Key, Reason],
    ) -> None:
        cells, k = grid._cells, grid.rules.min_count
        self.index = {key: i for i, key in enumerate(variables)}
        self.truth = {key: cells[key].value for key in variables}
        n = len(variables)
        others = [key for key in variables if hidden[key] is not Reason.SMALL]
        width = n + len(others)  # one 0/1 switch per `x` cell: 0, or at least k
        upper = float(sum(c.value for c in cells.values()) + 1)
        rows, low_b, high_b = [], [], []
        for total, parts in relations:
            row = np.zeros(width)
            known = 0.0
            for member, sign in ((total, -1.0), *((p, 1.0) for p in parts)):
                if member in self.index:
                    row[self.index[member]] += sign
                else:
                    known += sign * cells[member].value
            if row.any():
                rows.append(row)
                low_b.append(-known)
                high_b.append(-known)
        for j, key in enumerate(others):
            switch = n + j
            below = np.zeros(width)
            below[self.index[key]], below[switch] = 1.0, -upper  # x ≤ U·s
            above = np.zeros(width)
            above[self.index[key]], above[switch] = 1.0, -float(k)  # x ≥ k·s
            rows += [below, above]
            low_b += [-np.inf, 0.0]
            high_b += [0.0, np.inf]
        lower = np.zeros(width)
        high = np.full(width, upper)
        for key, i in self.index.items():
            if hidden[key] is Reason.SMALL:
                lower[i], high[i] = 1.0, float(k - 1)
        high[n:] = 1.0
        self.width = width
        self.constraints = LinearConstraint(np.vstack(rows), low_b, high_b)
        self.bounds = Bounds(lower, high)

    def _extreme(self, key: Key, sign: float) -> float:
        objective = np.zeros(self.width)
        objective[self.index[key]] = sign
        result = milp(
            objective,
            constraints=self.constraints,
            bounds=self.bounds,
            integrality=np.ones(self.width),
        )
        if not result.success:
            # The true table is always feasible; a solver failure must not pass silently.
            raise RuntimeError(f"disclosure audit failed: {result.message}")
        return float(sign * result.fun)

    def pinned(self, key: Key) -> bool:
        """Whether every consistent table gives this cell its true value."""
        truth = self.truth[key]
        return round(self._extreme(key, 1.0)) == truth == round(self._extreme(key, -1.0))


@dataclass(frozen=True)
class Disclosed:
    """What each registered count shows after the rule, plus helpers for derived values."""

    rules: DisclosureRules
    shown: Mapping[Key, Shown]
    values: Mapping[Key, int]

    def __getitem__(self, key: Key) -> Shown:
        return self.shown[key]

    def is_hidden(self, key: Key) -> bool:
        """Whether a count is hidden."""
        return isinstance(self.shown[key], Hidden)

    def percentage(self, numerator: Key, denominators: Sequence[Key]) -> float | Hidden | None:
        """100·num/sum(dens), hidden if any input is hidden or the denominator is too small.

        None when the denominator is zero (nothing to divide).
        """
        parts = list(denominators)
        den = sum(self.values[k] for k in parts)
        if any(self.is_hidden(k) for k in (numerator, *parts)):
            return Hidden(Reason.DERIVED, NOT_SHOWN_SYMBOL)
        if den == 0:
            return None
        if not self.rules.allows_statistics(den):
            return Hidden(Reason.TOO_FEW, NOT_SHOWN_SYMBOL)
        return 100.0 * self.values[numerator] / den
