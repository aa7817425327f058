"""The disclosure-control rule: small counts hidden, no hidden count recoverable."""

from __future__ import annotations

import random

import numpy as np
import pytest

from evaluation.disclosure import (
    COMPLEMENTARY_SYMBOL,
    DisclosureRules,
    Hidden,
    Reason,
    SuppressionGrid,
    ThresholdTooLow,
    mask_count,
)

RULES = DisclosureRules()


def _table(grid: SuppressionGrid, rows: dict[str, list[int]]) -> None:
    """A rows × years table with row totals, column totals and a grand total."""
    years = len(next(iter(rows.values())))
    for name, values in rows.items():
        for year, value in enumerate(values):
            grid.add((name, year), value)
        grid.add((name, "all"), sum(values))
        grid.relate((name, "all"), [(name, y) for y in range(years)])
    for year in [*range(years), "all"]:
        total = sum(grid._cells[(name, year)].value for name in rows)
        grid.add(("total", year), total)
        grid.relate(("total", year), [(name, year) for name in rows])
    grid.relate(("total", "all"), [("total", y) for y in range(years)])


def test_counts_one_to_four_show_as_less_than_five_and_zero_stays() -> None:
    assert [str(mask_count(RULES, v)) for v in (0, 1, 4, 5, 17)] == ["0", "<5", "<5", "5", "17"]


@pytest.mark.parametrize(("min_count", "min_pairs"), [(2, 10), (5, 2), (1, 1), (0, 10), (6, 5)])
def test_thresholds_below_three_or_inconsistent_are_refused(min_count: int, min_pairs: int) -> None:
    with pytest.raises(ThresholdTooLow):
        DisclosureRules(min_count=min_count, min_n_for_statistics=min_pairs)


def test_thresholds_of_three_are_the_lowest_allowed() -> None:
    rules = DisclosureRules(min_count=3, min_n_for_statistics=3)
    assert rules.small_symbol == "<3"
    assert str(mask_count(rules, 2)) == "<3"
    assert mask_count(rules, 3) == 3


def test_a_row_with_one_small_cell_hides_a_second_cell() -> None:
    grid = SuppressionGrid(RULES)
    grid.add("total", 13)
    grid.add("a", 3)
    grid.add("b", 10)
    grid.relate("total", ["a", "b"])
    shown = grid.solve()
    assert shown["a"] == Hidden(Reason.SMALL, "<5")
    assert shown["b"] == Hidden(Reason.COMPLEMENTARY, COMPLEMENTARY_SYMBOL)
    assert shown["total"] == 13


def test_the_second_cell_is_the_smallest_non_zero_part_not_the_total() -> None:
    grid = SuppressionGrid(RULES)
    for key, value in {"total": 50, "a": 2, "b": 0, "c": 30, "d": 18}.items():
        grid.add(key, value)
    grid.relate("total", ["a", "b", "c", "d"])
    shown = grid.solve()
    assert [str(shown[k]) for k in ("total", "a", "b", "c", "d")] == ["50", "<5", "0", "30", "x"]


def test_two_small_cells_in_a_row_protect_each_other() -> None:
    grid = SuppressionGrid(RULES)
    for key, value in {"total": 25, "a": 2, "b": 3, "c": 20}.items():
        grid.add(key, value)
    grid.relate("total", ["a", "b", "c"])
    shown = grid.solve()
    assert [str(shown[k]) for k in ("a", "b", "c", "total")] == ["<5", "<5", "20", "25"]


def test_a_two_way_table_with_margins_hides_a_full_rectangle() -> None:
    grid = SuppressionGrid(RULES)
    _table(grid, {"A": [3, 10], "B": [8, 12]})
    shown = grid.solve()
    hidden = {k for k, v in shown.shown.items() if isinstance(v, Hidden)}
    assert hidden == {("A", 0), ("A", 1), ("B", 0), ("B", 1)}
    assert shown[("total", "all")] == 33


def test_the_audit_catches_what_row_by_row_checks_miss() -> None:
    # Each line has two hidden cells, yet the margins pin the bridge cell (A,1):
    # rows A and B and columns 0–3 form two rectangles joined through one cell.
    grid = SuppressionGrid(RULES)
    grid.add("x", 0)
    for key, value in {"A0": 2, "A1": 6, "B0": 7, "B1": 3}.items():
        grid.add(key, value)
    grid.add("A", 8)
    grid.add("B", 10)
    grid.add("c0", 9)
    grid.add("c1", 9)
    grid.relate("A", ["A0", "A1"])
    grid.relate("B", ["B0", "B1"])
    grid.relate("c0", ["A0", "B0"])
    grid.relate("c1", ["A1", "B1"])
    shown = grid.solve()
    assert all(shown.is_hidden(k) for k in ("A0", "A1", "B0", "B1"))


def _primary_recoverable(grid: SuppressionGrid, shown: dict[object, object]) -> set[object]:
    """Brute force with pruning: `<5` cells whose value every consistent table agrees on.

    The attacker knows what the symbols mean: `<5` is 1–4, `x` is 0 or at least 5.
    """
    cells = grid._cells
    hidden = sorted((k for k, v in shown.items() if isinstance(v, Hidden)), key=str)
    top = sum(c.value for c in cells.values())
    domains = {
        k: range(1, 5)
        if shown[k].reason is Reason.SMALL  # type: ignore[attr-defined]
        else [0, *range(5, top + 1)]
        for k in hidden
    }
    relations = grid._relations
    seen: dict[object, set[int]] = {k: set() for k in hidden}
    value = {k: c.value for k, c in cells.items()}

    def consistent(assigned: set[object]) -> bool:
        for total, parts in relations:
            members = (total, *parts)
            if all(m in assigned or m not in domains for m in members) and value[total] != sum(
                value[p] for p in parts
            ):
                return False
        return True

    def search(index: int, assigned: set[object]) -> None:
        if index == len(hidden):
            for k in hidden:
                seen[k].add(value[k])
            return
        key = hidden[index]
        for candidate in domains[key]:
            value[key] = candidate
            if consistent(assigned | {key}):
                search(index + 1, assigned | {key})

    search(0, set())
    return {
        k
        for k in hidden
        if shown[k].reason is Reason.SMALL  # type: ignore[attr-defined]
        and len(seen[k]) == 1
    }


@pytest.mark.parametrize("seed", range(30))
def test_no_small_count_of_a_random_table_can_be_worked_out(seed: int) -> None:
    rng = random.Random(seed)
    grid = SuppressionGrid(RULES)
    _table(grid, {name: [rng.choice([0, 1, 2, 3, 6, 9]) for _ in range(2)] for name in "AB"})
    shown = grid.solve()
    assert not _primary_recoverable(grid, dict(shown.shown))


def test_relations_must_add_up() -> None:
    grid = SuppressionGrid(RULES)
    grid.add("t", 10)
    grid.add("a", 3)
    with pytest.raises(ValueError, match="parts add to 3"):
        grid.relate("t", ["a"])


def test_counts_that_are_not_people_are_never_hidden() -> None:
    grid = SuppressionGrid(RULES)
    grid.add("activities", 2, people=False)
    assert grid.solve()["activities"] == 2


def test_percentages_need_visible_inputs_and_enough_people() -> None:
    grid = SuppressionGrid(RULES)
    for key, value in {"came": 7, "missed": 2, "big": 30, "den": 8, "zero": 0}.items():
        grid.add(key, value)
    shown = grid.solve()
    assert isinstance(shown.percentage("came", ["came", "missed"]), Hidden)
    assert shown.percentage("big", ["big"]) == pytest.approx(100.0)
    too_few = shown.percentage("den", ["den"])
    assert isinstance(too_few, Hidden) and too_few.reason is Reason.TOO_FEW
    assert shown.percentage("zero", ["zero"]) is None


@pytest.mark.parametrize("seed", range(5))
def test_no_small_count_is_pinned_in_a_larger_table(seed: int) -> None:
    rng = np.random.default_rng(seed)
    grid = SuppressionGrid(RULES)
    _table(
        grid,
        {f"cat{i}": [int(v) for v in rng.choice([0, 1, 2, 4, 8, 20], size=3)] for i in range(5)},
    )
    shown = grid.solve()
    hidden = {k: v.reason for k, v in shown.shown.items() if isinstance(v, Hidden)}
    assert any(r is Reason.SMALL for r in hidden.values())
    assert grid._recoverable(hidden) == []
    for total, parts in grid._relations:
        members = [total, *parts]
        assert sum(shown.is_hidden(m) for m in members) != 1
