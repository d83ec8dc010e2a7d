"""The bootstrap's building blocks shared by the venue comparison and the deterioration trigger: cluster
resample counts, the percentile interval with its two-sided p-value, Holm's step-down adjustment and the
number of replicates Holm's smallest level needs. Pure numpy."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (missing values stay missing and are not in the family)."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = len(ok)
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(adjusted, 1.0)
    return out


def required_replicates(n_groups: int, alpha: float, minimum: int) -> int:
    """Replicates so that the smallest attainable p-value, ``2 / (B + 1)``, is at most half of
    ``alpha / n_groups`` (Holm's first step), and at least ``minimum``."""
    return max(int(minimum), math.ceil(4 * max(n_groups, 1) / alpha))


def bootstrap_summary(estimate: np.ndarray, reps: np.ndarray, level: float = 0.95):
    """Percentile interval and two-sided p-value per column of ``reps`` (replicates × groups).

    Replicates that are NaN (the group could not be estimated in that resample) are dropped for that
    group. The p-value is the larger of two bootstrap p-values:

    - percentile: ``2·min(#{θ* ≤ 0} + 1, #{θ* ≥ 0} + 1) / (B + 1)``, the smallest level at which the
      percentile interval excludes zero (so a significant difference always has an interval that
      excludes zero);
    - centred (Hall & Wilson, 1991): ``(#{|θ* − θ̂| ≥ |θ̂|} + 1) / (B + 1)``, the replicates' spread around
      the estimate taken as the null distribution.

    For a symmetric bootstrap distribution they agree. When a small group misses rare, large outcomes
    (a few slow fills, limit orders that seldom fill), its bootstrap distribution is skewed away from
    zero and the percentile p-value alone is far too small; see docs/methods.md. Never below
    ``2 / (B + 1)``.

    Returns ``(ci_low, ci_high, p_value, replicates_used)`` arrays, NaN where there is no estimate.
    """
    estimate = np.asarray(estimate, dtype=float)
    reps = np.asarray(reps, dtype=float)
    ok = ~np.isnan(reps)
    used = ok.sum(axis=0)
    tail = (1 - level) / 2
    lo = np.full(reps.shape[1], np.nan)
    hi = np.full(reps.shape[1], np.nan)
    some = used > 0
    if some.any():
        lo[some], hi[some] = np.nanquantile(reps[:, some], [tail, 1 - tail], axis=0)
    below = (ok & (reps <= 0)).sum(axis=0)
    above = (ok & (reps >= 0)).sum(axis=0)
    with np.errstate(invalid="ignore"):
        far = (ok & (np.abs(reps - estimate) >= np.abs(estimate))).sum(axis=0)
    percentile = 2 * (np.minimum(below, above) + 1) / (used + 1)
    centred = (far + 1) / (used + 1)
    p = np.minimum(1.0, np.maximum(percentile, centred))
    missing = np.isnan(estimate) | (used == 0)
    for arr in (lo, hi, p):
        arr[missing] = np.nan
    return lo, hi, p, used


def cluster_counts(n_clusters: int, n_replicates: int, rng: np.random.Generator) -> np.ndarray:
    """Replicates × clusters matrix of how often each cluster is drawn (each row sums to n_clusters)."""
    draws = rng.integers(0, n_clusters, size=(n_replicates, n_clusters))
    draws += (np.arange(n_replicates) * n_clusters)[:, None]  # in place: one replicate × cluster array less
    return np.bincount(draws.ravel(), minlength=n_replicates * n_clusters).reshape(
        n_replicates, n_clusters).astype(float)


def batches(total: int, size: int):
    for start in range(0, total, size):
        yield min(size, total - start)
