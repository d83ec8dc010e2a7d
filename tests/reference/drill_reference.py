"""The per-order pandas computations the dimensions and explorers used before DuckDB returned only what
they show (issue 18): kept here, unchanged, as the oracle the SQL aggregates must equal. Each takes the
per-order frame of ``Review.order_pi`` or ``Review.limit_orders``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bestex_nb.stats.survival import median_time_ms

WORST_COLUMNS = ["order_id", "venue", "symbol", "side", "order_category", "received_at", "quantity",
                 "limit_price", "nbb_r", "nbo_r", "nbbo_r_quoted_at", "is_locked", "executed_shares",
                 "avg_price", "net_pi_ps", "net_pi_usd", "executed_venues"]


def distribution(orders: pd.DataFrame, bins: int = 80) -> pd.DataFrame:
    cols = ["venue", "bin", "bin_lo", "bin_hi", "orders", "pct"]
    filled = orders[(orders["executed_shares"] > 0) & orders["net_pi_ps"].notna()]
    if not len(filled):
        return pd.DataFrame(columns=cols)
    x = filled["net_pi_ps"].to_numpy(dtype=float)
    lo, hi = np.percentile(x, [0.5, 99.5])
    if hi <= lo:
        lo, hi, bins = lo - 0.00005, hi + 0.00005, 1
    edges = np.linspace(lo, hi, bins + 1)
    at = np.searchsorted(edges[1:-1], np.clip(x, lo, hi), side="right")
    counts = (pd.DataFrame({"venue": filled["venue"].to_numpy(), "bin": at})
              .groupby(["venue", "bin"], as_index=False).size().rename(columns={"size": "orders"}))
    counts["bin_lo"], counts["bin_hi"] = edges[counts["bin"]], edges[counts["bin"] + 1]
    counts["pct"] = 100 * counts["orders"] / counts.groupby("venue")["orders"].transform("sum")
    return counts[cols].sort_values(["venue", "bin"]).reset_index(drop=True)


def worst_orders(orders: pd.DataFrame, n: int = 25) -> pd.DataFrame:
    return (orders[orders["executed_shares"] > 0].sort_values(["net_pi_usd", "net_pi_ps", "order_id"])
            .head(n).loc[:, WORST_COLUMNS].reset_index(drop=True))


def aggregate_orders(orders: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    g = orders.groupby(by, as_index=False, observed=True).agg(
        orders=("order_id", "size"), executed_shares=("executed_shares", "sum"),
        net_pi_usd=("net_pi_usd", "sum"), es_usd=("es_usd", "sum"), qs_usd=("qs_usd", "sum"))
    shares = g["executed_shares"].where(g["executed_shares"] != 0)
    g["net_pi_ps"] = g["net_pi_usd"] / shares
    g["eq_ratio"] = g["es_usd"] / g["qs_usd"].where(g["qs_usd"] != 0)
    return g


def filter_by(orders: pd.DataFrame, **chosen) -> pd.DataFrame:
    """The orders whose columns equal the chosen values (None matches everything)."""
    mask = pd.Series(True, index=orders.index)
    for col, value in chosen.items():
        if value is not None:
            mask &= orders[col].astype(str) == value
    return orders[mask]


def time_to_fill(orders: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (v, cat), g in orders.groupby(["venue", "order_category"], sort=True):
        f = g[g["is_any_fill"]]
        ms = f["time_to_first_fill_ms"]
        levels = [0.1, 0.25, 0.5, 0.75, 0.9]
        q = ms.quantile(levels) if len(f) else pd.Series(np.nan, index=levels)
        w = f["filled_qty"].sum()
        rows.append({"venue": v, "order_category": cat, "orders": len(g), "orders_filled": len(f),
                     "p10_ms": q[0.1], "q1_ms": q[0.25], "median_ms": q[0.5], "q3_ms": q[0.75], "p90_ms": q[0.9],
                     "mean_ms": (ms * f["filled_qty"]).sum() / w if w > 0 else np.nan,
                     "km_median_ms": median_time_ms(g["survival_ms"], g["is_fill_event"])})
    return pd.DataFrame(rows)


def end_states(orders: pd.DataFrame) -> pd.DataFrame:
    return (orders.groupby(["venue", "end_state"], as_index=False)
            .agg(orders=("order_id", "size"), order_shares=("quantity", "sum"),
                 filled_shares=("filled_qty", "sum"), cancelled_shares=("cancelled_qty", "sum")))


def fill_rates(orders: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    g = orders.groupby(by, as_index=False, observed=True).agg(
        orders=("order_id", "size"), order_shares=("quantity", "sum"), filled_shares=("filled_qty", "sum"),
        orders_filled=("is_any_fill", "sum"), cancelled_shares=("cancelled_qty", "sum"))
    g["fill_rate_shares"] = g["filled_shares"] / g["order_shares"]
    g["fill_rate_orders"] = g["orders_filled"] / g["orders"]
    g["cancel_rate_shares"] = g["cancelled_shares"] / g["order_shares"]
    return g[[*by, "orders", "order_shares", "fill_rate_shares", "fill_rate_orders", "cancel_rate_shares"]]
