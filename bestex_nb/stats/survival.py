"""Kaplan–Meier estimate of P(no fill yet at τ) with Greenwood 95% bands, in numpy.

The event is an order's first fill; a cancel, an expiry or the end of the data before any fill censors
the order (it stops being at risk, it is not a failure). Ties follow the usual convention: at a time
where fills and censorings coincide, the censored orders still count as at risk for those fills.

For the distinct event times ``t_j`` with ``d_j`` first fills among the ``n_j`` orders still at risk
(duration ≥ ``t_j``)::

    S(τ)      = Π_{t_j ≤ τ} (1 − d_j / n_j)
    Var S(τ)  = S(τ)² · Σ_{t_j ≤ τ} d_j / (n_j (n_j − d_j))          (Greenwood)

Bands: ``"loglog"`` (the default) puts the Greenwood variance on the log(−log S) scale, so the band
stays inside [0, 1] and is asymmetric near 1, where fill curves start; ``"linear"`` is S ± z·√Var,
clipped to [0, 1]. A curve that has reached 0 (every order at risk filled) has a band of [0, 0].
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import NormalDist

import numpy as np
import pandas as pd

#: Regular session length in milliseconds: the default grid runs from 1 ms to here.
SESSION_MS = 6.5 * 3600 * 1000

#: Columns of :func:`kaplan_meier_grid` and :func:`survival_curves` (after the grouping columns).
CURVE_COLUMNS = ("tau_ms", "orders", "at_risk", "filled", "censored", "survival", "std_err", "ci_low",
                 "ci_high")


def default_grid_ms(points_per_decade: int = 20, end_ms: float = SESSION_MS) -> np.ndarray:
    """Log-spaced evaluation times from 1 ms to ``end_ms`` (the session, 6.5 h), both included."""
    n = int(np.ceil(points_per_decade * np.log10(end_ms))) + 1
    return np.geomspace(1.0, end_ms, n)


def kaplan_meier_steps(durations, events) -> pd.DataFrame:
    """The estimate at each distinct duration (one row per distinct time, ascending).

    Parameters
    ----------
    durations : array of float
        Time from receipt to the first fill (events) or to the censoring instant, ms, ≥ 0.
    events : array of bool
        True when the duration ends in a fill.

    Returns
    -------
    DataFrame with ``time_ms, at_risk, filled, censored, survival, greenwood`` (``greenwood`` is the
    running sum Σ d/(n(n−d)), infinite once the curve reaches 0).
    """
    t = np.asarray(durations, dtype=float)
    e = np.asarray(events, dtype=bool)
    if t.shape != e.shape or t.ndim != 1:
        raise ValueError("durations and events must be 1-d arrays of the same length")
    if np.isnan(t).any() or (t < 0).any():
        raise ValueError("durations must be non-negative numbers")
    return steps_from_counts(*_counts(t, e))


def _counts(t: np.ndarray, e: np.ndarray):
    """The distinct durations (ascending) with the number of events and of censorings at each."""
    order = np.argsort(t, kind="stable")
    t, e = t[order], e[order]
    times, first, counts = np.unique(t, return_index=True, return_counts=True)
    if len(times) == 0:
        return times, np.zeros(0, np.int64), np.zeros(0, np.int64)
    d = np.add.reduceat(e.astype(np.int64), first)
    return times, d, counts - d


def steps_from_counts(times, filled, censored) -> pd.DataFrame:
    """:func:`kaplan_meier_steps` from counts already aggregated: ``times`` the distinct durations
    (ascending, ms), ``filled`` and ``censored`` the orders whose duration ends there in a first fill
    and without one (what ``sql/metrics/fill_survival_counts.sql`` returns per group)."""
    times = np.asarray(times, dtype=float)
    d = np.asarray(filled, dtype=np.int64)
    counts = d + np.asarray(censored, dtype=np.int64)
    if len(times) == 0:
        return pd.DataFrame(columns=["time_ms", "at_risk", "filled", "censored", "survival", "greenwood"])
    if (np.diff(times) <= 0).any():
        raise ValueError("times must be distinct and ascending")
    n = counts.sum() - (np.cumsum(counts) - counts)  # at risk at times[j]: every order whose duration is ≥ times[j]
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.cumprod(1.0 - d / n)
        term = np.where(d == 0, 0.0, np.where(n > d, d / (n * (n - d)), np.inf))
    return pd.DataFrame({"time_ms": times, "at_risk": n, "filled": d, "censored": counts - d,
                         "survival": survival, "greenwood": np.cumsum(term)})


def _bands(survival: np.ndarray, greenwood: np.ndarray, z: float, ci: str):
    with np.errstate(divide="ignore", invalid="ignore"):
        std_err = survival * np.sqrt(greenwood)
        if ci == "linear":
            lo, hi = survival - z * std_err, survival + z * std_err
        elif ci == "loglog":
            se_theta = np.sqrt(greenwood) / np.abs(np.log(survival))
            lo, hi = survival ** np.exp(z * se_theta), survival ** np.exp(-z * se_theta)
        else:
            raise ValueError(f"ci must be 'loglog' or 'linear', not {ci!r}")
    done = survival <= 0  # every order at risk filled: the curve and its band are 0
    std_err = np.where(done, 0.0, std_err)
    lo = np.where(done, 0.0, np.where(survival >= 1, 1.0, lo))
    hi = np.where(done, 0.0, np.where(survival >= 1, 1.0, hi))
    return std_err, np.clip(lo, 0.0, 1.0), np.clip(hi, 0.0, 1.0)


def kaplan_meier_grid(durations, events, grid_ms=None, level: float = 0.95, ci: str = "loglog") -> pd.DataFrame:
    """The Kaplan–Meier curve evaluated on ``grid_ms`` (default :func:`default_grid_ms`).

    Returns one row per grid time with :data:`CURVE_COLUMNS`: ``orders`` in the curve, ``at_risk``
    (duration ≥ τ), ``filled`` and ``censored`` (cumulative up to and including τ), ``survival`` =
    P(no fill yet at τ), its Greenwood standard error and the ``level`` band.
    """
    steps = kaplan_meier_steps(durations, events)
    return grid_from_steps(steps, grid_ms, level, ci)


def grid_from_steps(steps: pd.DataFrame, grid_ms=None, level: float = 0.95, ci: str = "loglog") -> pd.DataFrame:
    """:func:`kaplan_meier_grid` from the steps (:func:`kaplan_meier_steps` or :func:`steps_from_counts`)."""
    grid = default_grid_ms() if grid_ms is None else np.asarray(grid_ms, dtype=float)
    if len(steps) == 0:
        nan = np.full(len(grid), np.nan)
        return pd.DataFrame({"tau_ms": grid, "orders": 0, "at_risk": 0, "filled": 0, "censored": 0,
                             "survival": nan, "std_err": nan, "ci_low": nan, "ci_high": nan})
    times = steps["time_ms"].to_numpy()
    ended_by = np.cumsum(steps["filled"].to_numpy() + steps["censored"].to_numpy())  # durations ≤ times[j]
    total = int(ended_by[-1])
    k = np.searchsorted(times, grid, side="right") - 1  # last step at or before τ
    seen = k >= 0
    k = np.where(seen, k, 0)
    survival = np.where(seen, steps["survival"].to_numpy()[k], 1.0)
    greenwood = np.where(seen, steps["greenwood"].to_numpy()[k], 0.0)
    filled = np.where(seen, np.cumsum(steps["filled"].to_numpy())[k], 0)
    ended = np.where(seen, ended_by[k], 0)  # durations ≤ τ
    before = np.searchsorted(times, grid, side="left") - 1  # last step before τ
    z = NormalDist().inv_cdf(0.5 + level / 2)
    std_err, lo, hi = _bands(survival, greenwood, z, ci)
    return pd.DataFrame({
        "tau_ms": grid, "orders": total, "at_risk": total - np.where(before >= 0, ended_by[np.maximum(before, 0)], 0),
        "filled": filled, "censored": ended - filled, "survival": survival, "std_err": std_err,
        "ci_low": lo, "ci_high": hi,
    })


def median_time_ms(durations, events) -> float:
    """The Kaplan–Meier median time to first fill: the first time S(τ) ≤ 0.5 (NaN if never)."""
    return median_from_steps(kaplan_meier_steps(durations, events))


def median_from_steps(steps: pd.DataFrame) -> float:
    """:func:`median_time_ms` from the steps (:func:`kaplan_meier_steps` or :func:`steps_from_counts`)."""
    hit = steps.index[steps["survival"] <= 0.5]
    return float(steps.loc[hit[0], "time_ms"]) if len(hit) else float("nan")


def survival_curves(orders: pd.DataFrame, by: Sequence[str], grid_ms=None, level: float = 0.95,
                    ci: str = "loglog", duration: str = "survival_ms", event: str = "is_fill_event") -> pd.DataFrame:
    """One Kaplan–Meier curve per group of ``by`` (one row per group × grid time), long format.

    ``orders`` has one row per order with its ``duration`` (ms) and ``event`` flag. Columns: ``by``,
    then :data:`CURVE_COLUMNS`. Groups are computed one at a time, each fully vectorised.
    """
    by = list(by)
    cols = [*by, *CURVE_COLUMNS]
    if orders.empty:
        return pd.DataFrame(columns=cols)
    if not by:
        return kaplan_meier_grid(orders[duration], orders[event], grid_ms, level, ci)[cols]
    parts = []
    for key, group in orders.groupby(by, sort=True, observed=True, dropna=False):
        curve = kaplan_meier_grid(group[duration], group[event], grid_ms, level, ci)
        for col, value in zip(by, key if isinstance(key, tuple) else (key,), strict=True):
            curve[col] = value
        parts.append(curve)
    return pd.concat(parts, ignore_index=True)[cols]


def survival_curves_from_counts(counts: pd.DataFrame, by: Sequence[str], grid_ms=None, level: float = 0.95,
                                ci: str = "loglog") -> pd.DataFrame:
    """:func:`survival_curves` from the per group × distinct time counts of
    ``sql/metrics/fill_survival_counts.sql`` (columns ``by`` or finer, ``survival_ms``, ``filled``,
    ``censored``): the same curves to the last bit, without a row per order."""
    by = list(by)
    cols = [*by, *CURVE_COLUMNS]
    if counts.empty:
        return pd.DataFrame(columns=cols)
    if not by:
        return grid_from_steps(count_steps(counts), grid_ms, level, ci)[cols]
    parts = []
    for key, group in counts.groupby(by, sort=True, observed=True, dropna=False):
        curve = grid_from_steps(count_steps(group), grid_ms, level, ci)
        for col, value in zip(by, key if isinstance(key, tuple) else (key,), strict=True):
            curve[col] = value
        parts.append(curve)
    return pd.concat(parts, ignore_index=True)[cols]


def count_steps(counts: pd.DataFrame) -> pd.DataFrame:
    """:func:`steps_from_counts` of one group's rows of ``fill_survival_counts`` (rows of one time, from
    finer groups, are added up)."""
    counts = counts.groupby("survival_ms", sort=True)[["filled", "censored"]].sum()
    return steps_from_counts(counts.index, counts["filled"], counts["censored"])
