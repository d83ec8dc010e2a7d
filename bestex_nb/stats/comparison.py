"""Cell-matched venue comparison with a symbol-day cluster bootstrap (metrics.md section 8).

Pure functions over pandas and numpy: no store, no I/O. The input is a *sums frame* (one row per venue
× comparison cell × symbol-day, as ``sql/metrics/comparison_*_sums.sql`` return it); the output is one
row per review group (venue × is_sp500 × order_category).

For venue ``v`` and cell ``c``, ``d(v,c) = m(v,c) − m(¬v,c)`` (cost metrics: ``m(¬v,c) − m(v,c)``, so a
positive difference always means the venue did better for the customer), where each ``m`` is a ratio of
sums and ``¬v`` pools every other venue's orders in the cell. A cell counts only when both sides have
support (executed fills; limit fills: orders) and both metrics are defined. The review group's
difference is ``Σ_c w(v,c)·d(v,c) / Σ_c w(v,c)`` with ``w`` the venue's executed shares (limit fills:
order shares) in the cell; the basis-point metrics are ``10⁴ ×`` a ratio over ``Σ q·M_r`` and weight
their cells by it. With ``against="same_type"``, ``¬v`` pools only the other venues of ``v``'s
``venue_type``: the cells are split by type, so the peers of one cell are again a contiguous run of pairs.

The bootstrap resamples symbol-days (symbol × New York receipt date) with replacement. Every cell
holds one symbol and one month, so the sums matrix is block diagonal by symbol × month: each
replicate's per (venue, cell) sums are ``counts[:, block clusters] @ sums[block clusters, block pairs]``
over the blocks, all replicates of a batch at once. The point estimate is the same computation with
every count equal to 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bestex_nb.stats import resample
from bestex_nb.stats.bootstrap import bootstrap_summary, holm, required_replicates

GROUP = ("venue", "is_sp500", "order_category")
CLUSTER = ("symbol", "receipt_date")
BLOCK = ("symbol", "month")  # every cell and every symbol-day lies in exactly one block
PI_CELL = ("symbol", "order_category", "size_bucket", "month")
FILL_CELL = ("symbol", "order_category", "size_bucket", "distance_bucket", "month")
#: Whom a venue is compared against in a cell: every other venue pooled, or only the other venues of its
#: ``venue_type`` (wholesaler against wholesalers, exchange against exchanges ...).
AGAINST = ("others", "same_type")



@dataclass(frozen=True)
class Metric:
    """How one metric is compared.

    ``numerator / denominator`` is the metric (columns of the sums frame); ``weight`` is ``w(v,c)``;
    a cell is matched when ``support`` (a count) and ``defined`` (a count of the rows in the
    denominator) are > 0 on both sides. Counts are integers, so the test is exact in every replicate.
    """

    name: str
    numerator: str
    denominator: str
    weight: str
    support: str
    defined: str
    is_cost: bool
    unit: str
    coverage: str  # "pi" (metrics.md section 5) or "fills" (section 6)
    cell: tuple[str, ...] = PI_CELL
    scale: float = 1.0  # the metric is scale × numerator / denominator (10⁴ for basis points)

    @property
    def quantities(self) -> list[str]:
        """The distinct sums-frame columns the metric needs."""
        cols = [self.numerator, self.denominator, self.weight, self.support, self.defined]
        return list(dict.fromkeys(cols))


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("net_pi_ps", "net_pi_usd", "executed_shares", "executed_shares", "fills", "fills",
           False, "USD/share", "pi"),
    Metric("eq_ratio", "es_usd", "qs_usd", "executed_shares", "fills", "qs_fills", True, "ratio", "pi"),
    Metric("eff_spread_ps", "es_usd", "executed_shares", "executed_shares", "fills", "fills",
           True, "USD/share", "pi"),
    Metric("realized_spread_1m_ps", "rs_1m_usd", "rs_1m_shares", "executed_shares", "fills", "rs_1m_fills",
           True, "USD/share", "pi"),
    Metric("avg_exec_ms", "exec_share_ms", "executed_shares", "executed_shares", "fills", "fills",
           True, "ms", "pi"),
    # basis points of the midpoint at receipt (value-weighted, metrics.md section 5); the cells are
    # weighted by the venue's Σ q·M_r, so cheap stocks with many shares do not dominate the group either
    Metric("net_pi_bps", "net_pi_usd", "mid_usd", "mid_usd", "fills", "fills", False, "bps", "pi", scale=1e4),
    Metric("eff_spread_bps", "es_usd", "mid_usd", "mid_usd", "fills", "fills", True, "bps", "pi", scale=1e4),
    Metric("quoted_spread_bps", "qs_usd", "mid_usd", "mid_usd", "fills", "fills", True, "bps", "pi",
           scale=1e4),
    Metric("fill_rate_shares", "filled_shares", "order_shares", "order_shares", "orders", "orders",
           False, "fraction", "fills", FILL_CELL),
)}

#: What each metric is called for people (tables, exception details, figures).
METRIC_LABELS = {
    "net_pi_ps": "Net price improvement per share",
    "eq_ratio": "E/Q (effective / quoted spread)",
    "eff_spread_ps": "Effective spread per share",
    "realized_spread_1m_ps": "Realized spread at 1 min per share",
    "avg_exec_ms": "Time to execution",
    "net_pi_bps": "Net price improvement (bps of the midpoint)",
    "eff_spread_bps": "Effective spread (bps of the midpoint)",
    "quoted_spread_bps": "Quoted spread (bps of the midpoint)",
    "fill_rate_shares": "Limit-order fill rate (shares)",
}

RESULT_COLUMNS = [
    "venue", "is_sp500", "order_category", "metric", "difference", "ci_low", "ci_high", "p_holm",
    "is_material", "matched_shares", "matched_pct", "against", "venue_shares", "matched_cells", "symbol_days",
    "p_value", "replicates", "threshold", "status",
]


def get_metric(metric: str | Metric) -> Metric:
    if isinstance(metric, Metric):
        return metric
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose from {list(METRICS)}")
    return METRICS[metric]


# -- the cell-matched estimator ---------------------------------------------------------------------

def _keys(df: pd.DataFrame, cols: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """The distinct keys ``cols`` of ``df`` in sorted order, and each row's position among them."""
    code = np.zeros(len(df), dtype=np.int64)
    for c in cols:
        codes, uniques = pd.factorize(df[c], sort=True, use_na_sentinel=False)
        code = code * len(uniques) + codes
    _, first, inverse = np.unique(code, return_index=True, return_inverse=True)
    return df.iloc[first][cols].reset_index(drop=True), inverse.ravel()


def _runs(df: pd.DataFrame, cols: list[str]) -> np.ndarray:
    """Run number of each row of a frame sorted by ``cols`` (a new run where any of them changes)."""
    codes = np.column_stack([pd.factorize(df[c], use_na_sentinel=False)[0] for c in cols])
    return np.cumsum(np.r_[True, (codes[1:] != codes[:-1]).any(axis=1)]) - 1


class CellMatched:
    """The cell-matched differences of one or more metrics of one coverage: the point estimate
    (:meth:`point`) and the bootstrap replicates (:meth:`replicates`, :mod:`bestex_nb.stats.resample`).

    Build it once from a sums frame. Metrics evaluated together share the resamples (and the work of
    summing them).
    """

    def __init__(self, sums: pd.DataFrame, metrics: str | Metric | Sequence[str | Metric],
                 against: str = "others"):
        if against not in AGAINST:
            raise ValueError(f"against must be one of {list(AGAINST)}, not {against!r}")
        self.against = against
        if isinstance(metrics, str | Metric):
            metrics = [metrics]
        self.metrics = ms = [get_metric(m) for m in metrics]
        cell = ms[0].cell
        if any(m.cell != cell for m in ms):
            raise ValueError("metrics evaluated together must share their comparison cells")
        self.quantities = qs = list(dict.fromkeys(q for m in ms for q in m.quantities))
        self.col = {name: i for i, name in enumerate(qs)}
        need = set(GROUP) | set(CLUSTER) | set(cell) | set(qs) | ({"venue_type"} if against == "same_type" else set())
        missing = need - set(sums.columns)
        if missing:
            raise ValueError(f"sums frame lacks columns {sorted(missing)}")
        # the peers pooled as ¬v: the cell's other venues, or (same_type) those of the venue's type, whose
        # pairs are then contiguous within the cell; a venue of no known type is its own, peerless type
        cell_keys = list(dict.fromkeys([*BLOCK, *cell]))
        self.no_peer = set()
        if against == "same_type":
            sums = sums.assign(peer_type=sums["venue_type"].astype(object).where(
                sums["venue_type"].notna(), "\x00" + sums["venue"].astype(str)))
            types = sums[["venue", "peer_type"]].drop_duplicates()
            alone = types.groupby("peer_type")["venue"].transform("size") == 1
            self.no_peer = set(types.loc[alone, "venue"])
            cell_keys.append("peer_type")
        pair_keys = list(dict.fromkeys([*cell_keys, "venue", "is_sp500"]))
        # sorted by pair (block, then cell, then venue), then receipt date: each pair is a run of rows,
        # each cell and each block a contiguous range of pairs, a pair's rows in symbol-day order
        df = sums.groupby([*pair_keys, "receipt_date"], as_index=False, sort=True, dropna=False)[qs].sum()
        self.clusters, row_cluster = _keys(df, list(CLUSTER))
        self.n_clusters = len(self.clusters)
        row_pair = _runs(df, pair_keys)
        first = np.flatnonzero(np.r_[True, row_pair[1:] != row_pair[:-1]])
        self.pairs = pairs = df.loc[first, pair_keys].reset_index(drop=True)
        self.n_pairs = len(pairs)
        self.groups, self.group_of_pair = _keys(pairs, list(GROUP))
        self.cell_of_pair = _runs(pairs, cell_keys)
        self.cell_starts = np.flatnonzero(np.r_[True, self.cell_of_pair[1:] != self.cell_of_pair[:-1]])
        self.group_matrix = np.zeros((self.n_pairs, len(self.groups)))  # pair → review group, for the point
        self.group_matrix[np.arange(self.n_pairs), self.group_of_pair] = 1.0
        block_of_pair = _runs(pairs, list(BLOCK))
        values = df[qs].to_numpy(dtype=float)
        self.blocks = resample.Blocks(block_of_pair[row_pair], row_cluster, row_pair, values,
                                      np.flatnonzero(np.r_[True, np.diff(block_of_pair) != 0, True]),
                                      self.group_of_pair)
        self.row_cluster, self.row_pair, self.row_values = row_cluster, row_pair, values
        self.row_rank = np.arange(len(df)) - first[row_pair]  # the row's place among its pair's rows

    def _pair_totals(self) -> np.ndarray:
        """Quantities × pairs sums over every symbol-day once: each pair's rows added in symbol-day
        order, starting from zero (as the block products with all counts 1 did)."""
        own = np.zeros((len(self.quantities), self.n_pairs))
        for r in range(int(self.row_rank.max()) + 1 if len(self.row_rank) else 0):
            rows = np.flatnonzero(self.row_rank == r)
            own[:, self.row_pair[rows]] += self.row_values[rows].T
        return own

    def _cell_matched(self, own: np.ndarray, other: np.ndarray, aggregate, totals: bool = False) -> dict:
        """Per metric, the sums over each aggregate (``aggregate`` maps a per-pair array to them) of
        ``w·d`` (``num``) and of ``w`` over matched cells (``den``), and with ``totals`` of ``w``
        (``venue_shares``) and the ``matched`` mask."""
        c, out, masks, dens = self.col, {}, {}, {}
        for m in self.metrics:
            key = (m.support, m.defined)
            if key not in masks:  # metrics with the same support share the matched-cell mask
                masks[key] = ((own[c[m.support]] > 0) & (other[c[m.support]] > 0)
                              & (own[c[m.defined]] > 0) & (other[c[m.defined]] > 0))
            matched = masks[key]
            with np.errstate(divide="ignore", invalid="ignore"):
                m_own = own[c[m.numerator]] / own[c[m.denominator]]
                m_other = other[c[m.numerator]] / other[c[m.denominator]]
            d = m.scale * ((m_other - m_own) if m.is_cost else (m_own - m_other))
            w = own[c[m.weight]]
            wm = np.where(matched, w, 0.0)
            d[~matched] = 0.0  # unmatched cells (where d may be NaN) carry no weight
            if (key, m.weight) not in dens:
                dens[key, m.weight] = aggregate(wm)
            out[m.name] = {"num": aggregate(wm * d), "den": dens[key, m.weight]}
            if totals:
                out[m.name].update(venue_shares=aggregate(w), matched=matched)
        return out

    def point(self) -> dict[str, dict[str, np.ndarray]]:
        """Per metric, the point estimate (every symbol-day once), with matched cells and symbol-days
        (distinct symbol-days on which the venue has support in a matched cell of the group)."""
        own = self._pair_totals()[:, None, :]
        other = np.add.reduceat(own, self.cell_starts, axis=2)[:, :, self.cell_of_pair] - own
        res = self._cell_matched(own, other, lambda x: x @ self.group_matrix, totals=True)
        n_groups, g = len(self.groups), self.group_of_pair
        for m in self.metrics:
            r = res[m.name]
            num, den, matched = r["num"][0], r["den"][0], r["matched"][0]
            with np.errstate(divide="ignore", invalid="ignore"):
                diff = np.where(den > 0, num / den, np.nan)
            rows = matched[self.row_pair] & (self.row_values[:, self.col[m.support]] > 0)
            days = np.unique(g[self.row_pair[rows]] * max(1, self.n_clusters) + self.row_cluster[rows])
            days = days // max(1, self.n_clusters)
            res[m.name] = {"difference": diff, "matched_shares": den, "venue_shares": r["venue_shares"][0],
                           "matched_cells": np.bincount(g[matched], minlength=n_groups),
                           "symbol_days": np.bincount(days, minlength=n_groups)}
        return res

    def replicates(self, n: int, seed: int) -> dict[str, np.ndarray]:
        """Per metric, replicates × groups differences from ``n`` symbol-day resamples.

        Reproducible for ``seed`` and independent of the batch size: the counts are drawn from one
        stream, batch after batch (:func:`bestex_nb.stats.resample.replicate_sums`).
        """
        where = {}  # metric → positions of its num and den among the outputs (metrics may share a den)

        def outputs(own, other):
            res, arrays = self._cell_matched(own, other, lambda x: x), []
            for m in self.metrics:
                at = []
                for x in (res[m.name]["num"], res[m.name]["den"]):
                    same = [i for i, y in enumerate(arrays) if y is x]
                    at.append(same[0] if same else len(arrays))
                    arrays += [] if same else [x]
                where[m.name] = at
            return arrays

        parts = resample.replicate_sums(self, n, seed, outputs)
        sums = np.concatenate(parts) if parts else None
        out = {}
        for m in self.metrics:
            if sums is None:
                out[m.name] = np.empty((0, len(self.groups)))
                continue
            num, den = sums[:, :, where[m.name][0]], sums[:, :, where[m.name][1]]
            with np.errstate(divide="ignore", invalid="ignore"):
                out[m.name] = np.where(den > 0, num / den, np.nan)
        return out


def compare(sums: pd.DataFrame, metric: str | Metric, *, threshold: float, alpha: float = 0.05,
            min_symbol_days: int = 20, replicates: int = 1000, seed: int = 0,
            level: float = 0.95, against: str = "others") -> pd.DataFrame:
    """One row per review group: the cell-matched difference, its bootstrap interval and materiality.

    Parameters
    ----------
    sums : the sums frame (venue × cell × symbol-day) of the metric's coverage.
    metric : a key of :data:`METRICS`.
    threshold : a difference below ``-threshold`` (in the metric's unit; positive = the venue is
        better) is material when it is also significant after Holm and rests on enough symbol-days.
    alpha : Holm's family-wise level; the family is the review groups with a p-value.
    min_symbol_days : below it a group's status is ``insufficient_data`` and it is never material.
    replicates : at least this many; raised so that ``2 / (B + 1) <= alpha / (2 · groups)``.
    seed : the bootstrap's seed (same data and seed → same result).
    level : of the percentile interval.
    against : ``others`` (¬v pools every other venue in the cell) or ``same_type`` (only the other
        venues whose ``venue_type``, a column of ``sums``, is the venue's); Holm's family is the groups
        of one call, so of one metric, period and ``against``.

    Returns
    -------
    DataFrame with :data:`RESULT_COLUMNS`, sorted by venue, is_sp500, order_category. ``matched_pct`` is
    matched shares over the venue's shares (executed; fill rate: ordered) in the group; ``symbol_days``
    counts the symbol-days on which the venue has support in a matched cell; ``replicates`` those the
    group could be estimated in; ``status`` is ``no_matched_cells``, ``insufficient_data``,
    ``material``, ``worse`` (significant, within the threshold), ``better`` (significant) or
    ``no_significant_difference``; with ``same_type``, ``no_same_type_peer`` for a venue no other venue
    of the period's sums shares its type with (its difference is null, it is never material).
    """
    m = get_metric(metric)
    return compare_many(sums, [m], thresholds={m.name: threshold}, alpha=alpha,
                        min_symbol_days=min_symbol_days, replicates=replicates, seed=seed, level=level,
                        against=against)[m.name]


def compare_many(sums: pd.DataFrame, metrics: Sequence[str | Metric], *, thresholds: dict[str, float],
                 alpha: float = 0.05, min_symbol_days: int = 20, replicates: int = 1000, seed: int = 0,
                 level: float = 0.95, against: str = "others") -> dict[str, pd.DataFrame]:
    """:func:`compare` for several metrics of one coverage over the same resamples (same result per
    metric as calling :func:`compare` on its own, in a fraction of the time)."""
    ms = [get_metric(m) for m in metrics]
    if against not in AGAINST:
        raise ValueError(f"against must be one of {list(AGAINST)}, not {against!r}")
    if sums.empty:
        return {m.name: pd.DataFrame(columns=RESULT_COLUMNS) for m in ms}
    est = CellMatched(sums, ms, against)
    points = est.point()
    n_reps = required_replicates(len(est.groups), alpha, replicates)
    reps = est.replicates(n_reps, seed)
    return {m.name: _result(est, m, points[m.name], reps[m.name], thresholds[m.name], alpha,
                            min_symbol_days, level) for m in ms}


def _result(est: CellMatched, m: Metric, point, reps, threshold, alpha, min_symbol_days, level) -> pd.DataFrame:
    lo, hi, p, used = bootstrap_summary(point["difference"], reps, level)
    p_holm = holm(p)
    out = est.groups.copy()
    out["metric"] = m.name
    out["against"] = est.against
    out["difference"] = point["difference"]
    out["ci_low"], out["ci_high"] = lo, hi
    out["p_holm"] = p_holm
    out["matched_shares"] = point["matched_shares"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["matched_pct"] = np.where(point["venue_shares"] > 0,
                                      point["matched_shares"] / point["venue_shares"], np.nan)
    out["venue_shares"] = point["venue_shares"]
    out["matched_cells"] = point["matched_cells"]
    out["symbol_days"] = point["symbol_days"]
    out["p_value"] = p
    out["replicates"] = used
    out["threshold"] = float(threshold)
    diff = out["difference"].to_numpy(dtype=float)
    significant = p_holm < alpha
    enough = out["symbol_days"].to_numpy() >= min_symbol_days
    with np.errstate(invalid="ignore"):
        worse = significant & (diff < 0)
        material = worse & (diff < -float(threshold)) & enough
        better = significant & (diff > 0)
    out["is_material"] = material.astype(bool)
    out["status"] = np.select(
        [out["venue"].isin(est.no_peer).to_numpy(), np.isnan(diff), ~enough, material, worse, better],
        ["no_same_type_peer", "no_matched_cells", "insufficient_data", "material", "worse", "better"],
        "no_significant_difference")
    return out.loc[:, RESULT_COLUMNS].reset_index(drop=True)
