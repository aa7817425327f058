"""Cross-checks of the pre/post statistics against published values and against scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from evaluation.stats import (
    EXACT_MAX_N,
    PMethod,
    describe,
    exact_tied_p,
    holm,
    mean_change,
    mean_interval,
    shares,
    signed_rank,
    wilson,
)

# Hollander, M. & Wolfe, D. A. (1999) Nonparametric Statistical Methods, 2nd ed., Wiley,
# Example 3.1 (also the example of R's ?wilcox.test): Hamilton depression scale factor IV
# for nine patients at the first (x) and second (y) visit after tranquilliser therapy.
# Published: T+ = 40 for x − y (so T− = 5 of 45), exact one-sided P(T+ ≥ 40) = 0.01953,
# hence two-sided p = 0.0390625.
HW_FIRST = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
HW_SECOND = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]

# Student (1908) "The probable error of a mean", Biometrika 6(1), the Cushny & Peebles
# sleep data (R's `sleep`): extra hours of sleep with drug 1 and drug 2 in ten patients.
# Published (R: t.test(extra ~ group, paired = TRUE)): mean difference 1.58,
# 95 % CI 0.7001142 to 2.4598858, t = 4.0621 on 9 df.
SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def test_wilcoxon_on_the_hollander_wolfe_example() -> None:
    # The report computes after − before; with before = second visit, after = first visit
    # the differences are x − y of the book.
    result = signed_rank(np.array(HW_SECOND), np.array(HW_FIRST))
    assert (result.w_plus, result.w_minus) == (40.0, 5.0)
    assert result.statistic == 5.0
    assert result.method is PMethod.EXACT
    assert result.p_value == pytest.approx(0.0390625, abs=1e-12)
    assert result.p_value is not None
    assert result.p_value / 2 == pytest.approx(0.01953, abs=5e-6)
    # Rank-biserial (Kerby 2014): (T+ − T−) / (T+ + T−) = 35 / 45.
    assert result.rank_biserial == pytest.approx(35 / 45)


def test_mean_change_interval_on_students_sleep_data() -> None:
    interval = mean_change(np.array(SLEEP_2) - np.array(SLEEP_1))
    assert interval.estimate == pytest.approx(1.58)
    assert interval.low == pytest.approx(0.7001142, abs=1e-7)
    assert interval.high == pytest.approx(2.4598858, abs=1e-7)


# Newcombe, R. G. (1998) "Two-sided confidence intervals for the single proportion:
# comparison of seven methods", Statistics in Medicine 17, 857–872, Table I, method 3
# (Wilson score interval without continuity correction).
@pytest.mark.parametrize(
    ("count", "n", "low", "high"),
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_newcombe(count: int, n: int, low: float, high: float) -> None:
    interval = wilson(count, n)
    assert interval.low == pytest.approx(low, abs=5e-5)
    assert interval.high == pytest.approx(high, abs=5e-5)


@pytest.mark.parametrize("seed", range(30))
def test_wilcoxon_without_ties_matches_scipy_exact_and_asymptotic(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(10, 80))
    before = rng.normal(3, 1, n)
    after = before + rng.normal(0.3, 1, n)
    ours = signed_rank(before, after)
    method = "exact" if n <= EXACT_MAX_N else "asymptotic"
    theirs = sps.wilcoxon(after - before, method=method)
    assert ours.statistic == pytest.approx(float(theirs.statistic))
    assert ours.p_value == pytest.approx(float(theirs.pvalue), rel=1e-9)
    assert ours.method is (PMethod.EXACT if n <= EXACT_MAX_N else PMethod.NORMAL)


@pytest.mark.parametrize("zero_method", ["wilcox", "pratt"])
@pytest.mark.parametrize("seed", range(12))
def test_wilcoxon_with_ties_and_zeros_matches_scipy_full_permutation(
    seed: int, zero_method: str
) -> None:
    # Likert scores: many ties and zero differences. scipy enumerates all 2^n sign
    # patterns (slow, hence n ≤ 11 here); ours counts them by dynamic programming.
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(6, 12))
    before = rng.integers(1, 6, n).astype(float)
    after = np.clip(before + rng.integers(-1, 3, n), 1, 5).astype(float)
    if np.all(after == before):
        after[0] = 5.0 if before[0] < 5 else 4.0
    ours = signed_rank(before, after, zero_method=zero_method)  # type: ignore[arg-type]
    theirs = sps.wilcoxon(
        after - before, zero_method=zero_method, method=sps.PermutationMethod(n_resamples=np.inf)
    )
    assert ours.statistic == pytest.approx(float(theirs.statistic))
    assert ours.p_value == pytest.approx(float(theirs.pvalue), rel=1e-9)


def test_large_samples_with_ties_use_the_tie_corrected_normal_approximation() -> None:
    rng = np.random.default_rng(5)
    before = rng.integers(1, 6, 400).astype(float)
    after = np.clip(before + rng.integers(-1, 2, 400), 1, 5).astype(float)
    ours = signed_rank(before, after, zero_method="pratt")
    theirs = sps.wilcoxon(after - before, zero_method="pratt", method="asymptotic")
    assert ours.method is PMethod.NORMAL
    assert ours.p_value == pytest.approx(float(theirs.pvalue), rel=1e-12)


def test_exact_tied_p_equals_brute_force_enumeration() -> None:
    ranks = np.array([1.5, 1.5, 3.0, 4.5, 4.5, 6.0])
    w_plus = 1.5 + 4.5 + 6.0
    patterns = [[(mask >> i) & 1 for i in range(6)] for mask in range(64)]
    centre = ranks.sum() / 2
    sums = [float(np.dot(p, ranks)) for p in patterns]
    expected = sum(abs(s - centre) >= abs(w_plus - centre) - 1e-9 for s in sums) / 64
    assert exact_tied_p(ranks, w_plus) == pytest.approx(expected)


def test_rank_biserial_matches_its_definition_on_random_data() -> None:
    rng = np.random.default_rng(11)
    before = rng.integers(1, 6, 60).astype(float)
    after = rng.integers(1, 6, 60).astype(float)
    d = after - before
    nonzero = d[d != 0]
    ranks = sps.rankdata(np.abs(nonzero))
    expected = (ranks[nonzero > 0].sum() - ranks[nonzero < 0].sum()) / ranks.sum()
    assert signed_rank(before, after).rank_biserial == pytest.approx(expected)


def test_no_change_at_all_has_no_test() -> None:
    same = np.array([3.0, 4.0, 2.0, 5.0])
    result = signed_rank(same, same)
    assert result.p_value is None and result.method is PMethod.NONE
    assert result.rank_biserial is None and result.n_zero == 4


def test_descriptives_use_excel_quartiles() -> None:
    summary = describe([1, 2, 3, 4, 5, 6, 7, 8])
    # Excel QUARTILE.INC({1..8}, 1) = 2.75, (…, 3) = 6.25.
    assert (summary.q1, summary.median, summary.q3) == (2.75, 4.5, 6.25)
    assert summary.sd == pytest.approx(np.std(np.arange(1, 9), ddof=1))


def test_mean_interval_matches_scipy_t_interval() -> None:
    data = np.array([2.0, 3.5, 3.0, 4.0, 2.5, 3.0, 4.5])
    interval = mean_interval(describe(data))
    low, high = sps.t.interval(0.95, len(data) - 1, loc=data.mean(), scale=sps.sem(data))
    assert (interval.low, interval.high) == pytest.approx((low, high))


def test_shares_count_rises_ties_and_falls_despite_float_noise() -> None:
    before = np.array([1 / 3 + 1 / 3 + 1 / 3, 2.0, 3.0, 4.0])
    after = np.array([1.0, 2.5, 2.0, 4.0])
    counts = shares(before, after)
    assert (counts.improved, counts.unchanged, counts.worse) == (1, 2, 1)


def test_holm_step_down_by_hand() -> None:
    # Sorted 0.005, 0.01, 0.03, 0.04 → ×4, ×3, ×2, ×1 with running maximum.
    assert holm([0.01, 0.04, 0.03, None, 0.005]) == pytest.approx([0.03, 0.06, 0.06, None, 0.02])
    assert holm([0.5, 0.9]) == [1.0, 1.0]
    assert holm([]) == []


def test_exact_p_is_symmetric_for_mirror_samples() -> None:
    before = np.array([1.0, 2.0, 2.0, 3.0, 1.0, 4.0, 2.0, 3.0, 3.0, 2.0])
    after = np.array([2.0, 4.0, 3.0, 3.0, 2.0, 5.0, 3.0, 5.0, 4.0, 1.0])
    up = signed_rank(before, after)
    down = signed_rank(after, before)
    assert up.p_value == pytest.approx(down.p_value)
    assert up.rank_biserial == pytest.approx(-(down.rank_biserial or math.nan))
