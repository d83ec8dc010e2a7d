"""The deterioration trigger (metrics.md section 8): a venue's net PI per share in a review group falls
versus the prior period by more than a percentage (or, when the prior value is ≤ 0, by more than an
amount in USD per share), and the fall is significant.

Pure functions over the sums frames of ``sql/metrics/comparison_pi_sums.sql`` for the two periods. Each
period's symbol-days are resampled independently (the periods are separate samples), with the same
cluster bootstrap as the venue comparison (:mod:`bestex_nb.stats.comparison`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bestex_nb.stats.bootstrap import bootstrap_summary, cluster_counts, holm, required_replicates
from bestex_nb.stats.comparison import CLUSTER, GROUP

NUMERATOR, DENOMINATOR, SUPPORT = "net_pi_usd", "executed_shares", "fills"

RESULT_COLUMNS = [
    "venue", "is_sp500", "order_category", "metric", "period", "prior_period", "prior_value",
    "current_value", "change_ps", "change_ci_low", "change_ci_high", "pct_change", "pct_ci_low",
    "pct_ci_high", "p_value", "p_holm", "basis", "threshold", "is_breach", "symbol_days",
    "prior_symbol_days", "replicates", "status",
]

#: Falls are compared with the threshold after rounding to this many decimals, so that a fall of
#: exactly the threshold (20.000000% computed as 19.99999999999998%) is decided as exactly equal.
ROUND_DECIMALS = 9


def trigger_met(prior: np.ndarray, current: np.ndarray, pct_threshold: float, abs_threshold: float):
    """Whether the fall from ``prior`` to ``current`` is beyond the trigger, and the basis used.

    With ``prior > 0``: the fall ``(prior − current) / prior`` must be **more than** ``pct_threshold``
    (a fall of exactly 20% with a 20% threshold is not a breach). With ``prior ≤ 0``: the fall
    ``prior − current`` (USD/share) must be more than ``abs_threshold``. Missing values never trigger.

    Returns ``(met, basis)`` arrays; basis is ``"pct"`` or ``"abs"`` (``""`` when a value is missing).
    """
    prior = np.asarray(prior, dtype=float)
    current = np.asarray(current, dtype=float)
    known = ~np.isnan(prior) & ~np.isnan(current)
    positive = known & (prior > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct_fall = np.round(np.where(positive, (prior - current) / prior, np.nan), ROUND_DECIMALS)
        abs_fall = np.round(prior - current, ROUND_DECIMALS)
        met = np.where(positive, pct_fall > pct_threshold, known & (abs_fall > abs_threshold))
    basis = np.where(positive, "pct", np.where(known, "abs", ""))
    return met.astype(bool), basis


class _Period:
    """One period's sums per cluster and review group (dense: clusters × groups)."""

    def __init__(self, sums: pd.DataFrame, groups: pd.DataFrame):
        index = pd.MultiIndex.from_frame(groups)
        if sums.empty:
            self.n_clusters = 0
            self.num = self.den = self.sup = np.zeros((0, len(groups)))
            return
        agg = sums.groupby([*CLUSTER, *GROUP], as_index=False, sort=True)[[NUMERATOR, DENOMINATOR, SUPPORT]].sum()
        clusters = agg.loc[:, list(CLUSTER)].drop_duplicates().reset_index(drop=True)
        k = pd.MultiIndex.from_frame(clusters).get_indexer(pd.MultiIndex.from_frame(agg[list(CLUSTER)]))
        g = index.get_indexer(pd.MultiIndex.from_frame(agg[list(GROUP)]))
        keep = g >= 0
        self.n_clusters = len(clusters)
        shape = (self.n_clusters, len(groups))
        self.num, self.den, self.sup = (np.zeros(shape) for _ in range(3))
        for arr, col in ((self.num, NUMERATOR), (self.den, DENOMINATOR), (self.sup, SUPPORT)):
            np.add.at(arr, (k[keep], g[keep]), agg[col].to_numpy(dtype=float)[keep])

    def value(self, counts: np.ndarray | None = None) -> np.ndarray:
        """Net PI per share per group (rows: replicates; without counts, the point estimate)."""
        if counts is None:
            num, den = self.num.sum(axis=0), self.den.sum(axis=0)
        else:
            # einsum rather than a multi-threaded BLAS product (see resample._chunk)
            num, den = np.einsum("bk,kg->bg", counts, self.num), np.einsum("bk,kg->bg", counts, self.den)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, num / den, np.nan)

    def symbol_days(self) -> np.ndarray:
        return (self.sup > 0).sum(axis=0)


def deterioration(current: pd.DataFrame, prior: pd.DataFrame, *, period: str, prior_period: str,
                  pct_threshold: float = 0.20, abs_threshold: float = 0.0005, alpha: float = 0.05,
                  min_symbol_days: int = 20, replicates: int = 1000, seed: int = 0,
                  level: float = 0.95) -> pd.DataFrame:
    """One row per review group with covered orders in the current period: net PI per share now and in
    the prior period, the change with bootstrap intervals, and whether the trigger is breached.

    ``change_ps = current − prior`` (USD/share; negative = a fall) and ``pct_change = change / prior``
    (only when prior > 0). ``p_value`` is the two-sided bootstrap p-value of the change, ``p_holm`` it
    after Holm across the review groups of the period. ``is_breach``: the trigger is met
    (:func:`trigger_met`), ``p_holm < alpha``, and both periods rest on at least ``min_symbol_days``
    symbol-days with executions. ``status``: ``breach``, ``fall_not_significant``, ``within_threshold``,
    ``insufficient_data``, ``no_prior_data`` or ``no_executions``.
    """
    if current.empty:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    groups = current.loc[:, list(GROUP)].drop_duplicates().sort_values(list(GROUP)).reset_index(drop=True)
    now, before = _Period(current, groups), _Period(prior, groups)
    cur_value, prior_value = now.value(), before.value()
    n_reps = required_replicates(len(groups), alpha, replicates)
    rng = np.random.default_rng(seed)
    cur_reps = now.value(cluster_counts(now.n_clusters, n_reps, rng))
    if before.n_clusters:
        prior_reps = before.value(cluster_counts(before.n_clusters, n_reps, rng))
    else:
        prior_reps = np.full_like(cur_reps, np.nan)
    change = cur_value - prior_value
    change_reps = cur_reps - prior_reps
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(prior_value > 0, change / prior_value, np.nan)
        pct_reps = np.where(prior_reps > 0, change_reps / prior_reps, np.nan)
    lo, hi, p, used = bootstrap_summary(change, change_reps, level)
    pct_lo, pct_hi, _, _ = bootstrap_summary(pct, pct_reps, level)
    p_holm = holm(p)
    met, basis = trigger_met(prior_value, cur_value, pct_threshold, abs_threshold)
    days, prior_days = now.symbol_days(), before.symbol_days()
    enough = (days >= min_symbol_days) & (prior_days >= min_symbol_days)
    significant = p_holm < alpha
    breach = met & significant & enough
    out = groups.copy()
    out["metric"] = "net_pi_ps"
    out["period"], out["prior_period"] = period, prior_period
    out["prior_value"], out["current_value"] = prior_value, cur_value
    out["change_ps"], out["change_ci_low"], out["change_ci_high"] = change, lo, hi
    out["pct_change"], out["pct_ci_low"], out["pct_ci_high"] = pct, pct_lo, pct_hi
    out["p_value"], out["p_holm"] = p, p_holm
    out["basis"] = basis
    out["threshold"] = np.where(basis == "abs", abs_threshold, pct_threshold)
    out["is_breach"] = breach.astype(bool)
    out["symbol_days"], out["prior_symbol_days"] = days, prior_days
    out["replicates"] = used
    out["status"] = np.select(
        [np.isnan(prior_value), np.isnan(cur_value), ~enough, breach, met],
        ["no_prior_data", "no_executions", "insufficient_data", "breach", "fall_not_significant"],
        "within_threshold")
    return out.loc[:, RESULT_COLUMNS]
