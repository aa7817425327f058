"""Paired before/after statistics: descriptives, mean change with its t interval, the
Wilcoxon signed-rank test, the matched-pairs rank-biserial effect size, Wilson intervals
and Holm's correction.

Methods, stated once (the report prints them):
- quartiles by linear interpolation (Hyndman–Fan type 7, Excel's QUARTILE.INC);
- mean change after − before, 95 % CI mean ± t(0.975, n−1)·SD/√n;
- Wilcoxon signed-rank (scipy.stats.wilcoxon), two-sided. Zero differences are handled
  by `zero_method` (default "wilcox": dropped before ranking); tied |differences| get
  mid-ranks. The p-value is exact for up to EXACT_MAX_N non-zero differences — from
  scipy's exact distribution without ties, and from the exact permutation distribution
  of the tied mid-ranks (all 2^n sign patterns, counted by dynamic programming) with
  ties — and a tie-corrected normal approximation above that;
- rank-biserial r = (R+ − R−)/(R+ + R−) (Kerby 2014, "simple difference formula"),
  over the ranks the test used;
- improved / unchanged / worse shares with Wilson score 95 % intervals;
- Holm's step-down adjustment across the subscales (and, separately, across items).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

EXACT_MAX_N = 50
CONFIDENCE = 0.95
# Differences closer than this are equal: subscale means of 1–7 point items are
# fractions with small denominators, and float noise must not break ties.
DIFF_DECIMALS = 9

ZeroMethod = Literal["wilcox", "pratt"]
FloatArray = npt.NDArray[np.float64]


class PMethod(StrEnum):
    """How a Wilcoxon p-value was obtained."""

    EXACT = "exact"
    EXACT_TIES = "exact_ties"
    NORMAL = "normal"
    NONE = "none"


@dataclass(frozen=True)
class Describe:
    """Median, quartiles, mean and SD of one set of scores."""

    n: int
    median: float
    q1: float
    q3: float
    mean: float
    sd: float


@dataclass(frozen=True)
class Interval:
    """A point estimate with its 95 % confidence interval."""

    estimate: float
    low: float
    high: float


@dataclass(frozen=True)
class SignedRank:
    """The Wilcoxon signed-rank test on paired differences."""

    n_used: int
    n_zero: int
    w_plus: float
    w_minus: float
    statistic: float
    p_value: float | None
    method: PMethod
    zero_method: ZeroMethod
    rank_biserial: float | None


@dataclass(frozen=True)
class Shares:
    """How many pairs went up, stayed, went down, with Wilson intervals of the shares."""

    n: int
    improved: int
    unchanged: int
    worse: int

    def interval(self, count: int) -> Interval:
        """The share `count / n` with its Wilson interval."""
        return wilson(count, self.n)


def describe(values: Sequence[float] | FloatArray) -> Describe:
    """Descriptives of one non-empty set of scores."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        raise ValueError("no values to describe")
    q1, median, q3 = np.percentile(data, [25, 50, 75], method="linear")
    sd = float(np.std(data, ddof=1)) if data.size > 1 else 0.0
    return Describe(int(data.size), float(median), float(q1), float(q3), float(data.mean()), sd)


def mean_change(differences: Sequence[float] | FloatArray) -> Interval:
    """Mean of the differences with its t-based 95 % confidence interval (n ≥ 2)."""
    d = np.asarray(differences, dtype=float)
    if d.size < 2:
        raise ValueError("a confidence interval needs at least two pairs")
    mean = float(d.mean())
    se = float(np.std(d, ddof=1)) / math.sqrt(d.size)
    t = float(sps.t.ppf(0.5 + CONFIDENCE / 2, d.size - 1))
    return Interval(mean, mean - t * se, mean + t * se)


def wilson(count: int, n: int) -> Interval:
    """A share with its Wilson score 95 % interval (Wilson 1927; Newcombe 1998)."""
    if n <= 0 or not 0 <= count <= n:
        raise ValueError(f"need 0 <= count <= n and n > 0, got {count}/{n}")
    ci = sps.binomtest(count, n).proportion_ci(confidence_level=CONFIDENCE, method="wilson")
    return Interval(count / n, float(ci.low), float(ci.high))


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjusted p-values; None stays None (not tested)."""
    tested = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    m = len(tested)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, index) in enumerate(tested):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[index] = running
    return adjusted


def shares(before: FloatArray, after: FloatArray) -> Shares:
    """Counts of pairs whose score rose, stayed equal or fell."""
    d = np.round(np.asarray(after, dtype=float) - np.asarray(before, dtype=float), DIFF_DECIMALS)
    return Shares(int(d.size), int((d > 0).sum()), int((d == 0).sum()), int((d < 0).sum()))


def signed_rank(
    before: FloatArray, after: FloatArray, *, zero_method: ZeroMethod = "wilcox"
) -> SignedRank:
    """Wilcoxon signed-rank test of after − before, two-sided, with its effect size."""
    d = np.round(np.asarray(after, dtype=float) - np.asarray(before, dtype=float), DIFF_DECIMALS)
    n_zero = int((d == 0).sum())
    ranks, signs = _signed_ranks(d, zero_method)
    w_plus = float(ranks[signs > 0].sum())
    w_minus = float(ranks[signs < 0].sum())
    n_used = int((signs != 0).sum())
    total = w_plus + w_minus
    r = (w_plus - w_minus) / total if total > 0 else None
    statistic = min(w_plus, w_minus)
    if n_used == 0:
        return SignedRank(0, n_zero, 0.0, 0.0, 0.0, None, PMethod.NONE, zero_method, None)
    used = ranks[signs != 0]
    ties = np.unique(used).size < used.size
    if n_used <= EXACT_MAX_N and (ties or (n_zero and zero_method == "pratt")):
        p: float | None = exact_tied_p(used, w_plus)
        method = PMethod.EXACT_TIES
    elif n_used <= EXACT_MAX_N:
        result = sps.wilcoxon(d[d != 0], zero_method="wilcox", method="exact")
        p, method = float(result.pvalue), PMethod.EXACT
        statistic = float(result.statistic)
    else:
        result = sps.wilcoxon(d, zero_method=zero_method, method="asymptotic", correction=False)
        p, method = float(result.pvalue), PMethod.NORMAL
        statistic = float(result.statistic)
    return SignedRank(n_used, n_zero, w_plus, w_minus, statistic, p, method, zero_method, r)


def _signed_ranks(d: FloatArray, zero_method: ZeroMethod) -> tuple[FloatArray, FloatArray]:
    """Mid-ranks of |d| and signs, zeros treated as `zero_method` says (sign 0 = unused)."""
    if zero_method == "wilcox":
        keep = d != 0
        ranks = np.zeros(d.size)
        ranks[keep] = sps.rankdata(np.abs(d[keep]))
        return ranks, np.sign(d)
    # Pratt: zeros take part in ranking, then their ranks are dropped.
    return sps.rankdata(np.abs(d)), np.sign(d)


def exact_tied_p(ranks: FloatArray, w_plus: float) -> float:
    """Two-sided exact p of W+ given these (mid-)ranks: all 2^n sign patterns, counted.

    Mid-ranks are multiples of 1/2, so doubled they are integers and the number of sign
    patterns giving each doubled sum is a subset-sum count (exact integers, no sampling).
    """
    doubled = np.rint(np.asarray(ranks) * 2).astype(np.int64)
    top = int(doubled.sum())
    counts = [0] * (top + 1)
    counts[0] = 1
    reach = 0
    for r in doubled.tolist():
        reach += r
        for s in range(reach, r - 1, -1):
            counts[s] += counts[s - r]
    observed = round(w_plus * 2)
    # Two-sided: patterns at least as far from the centre top/2 as the observed sum.
    distance = abs(2 * observed - top)
    extreme = sum(c for s, c in enumerate(counts) if abs(2 * s - top) >= distance)
    return min(1.0, extreme / float(2 ** len(doubled)))


def mean_interval(summary: Describe) -> Interval:
    """The mean of one set of scores with its t-based 95 % interval (for the chart)."""
    if summary.n < 2:
        return Interval(summary.mean, summary.mean, summary.mean)
    t = float(sps.t.ppf(0.5 + CONFIDENCE / 2, summary.n - 1))
    half = t * summary.sd / math.sqrt(summary.n)
    return Interval(summary.mean, summary.mean - half, summary.mean + half)
