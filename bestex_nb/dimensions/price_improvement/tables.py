"""Text tables of the price-improvement review for the committee (figures formatted in their units)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bestex_nb.contract.buckets import (
    PI_CATEGORIES,
    PI_CATEGORY_LABELS,
)
from bestex_nb.report import plots

SUMMARY_ROWS = (
    # value-weighted first: basis points of the midpoint at receipt weigh each share by its price, so a
    # penny stock's many shares do not set the venue's figure (metrics.md section 5)
    ("orders", "orders covered", "int"),
    ("executed_usd", "value executed, USD", "usd0"),
    ("net_pi_bps", "net price improvement, bps of the midpoint", "bps"),
    ("eff_spread_bps", "effective spread, bps", "bps"),
    ("quoted_spread_bps", "quoted spread at receipt, bps", "bps"),
    ("eq_ratio", "E/Q (effective / quoted spread)", "pct"),
    ("net_pi_usd", "net price improvement, USD", "usd"),
    ("disimprovement_usd", "dis-improvement, USD", "usd"),
    ("executed_shares", "shares executed", "shares"),
    ("net_pi_ps", "net price improvement per share", "usd_ps"),
    ("eff_spread_ps", "effective spread per share", "usd_ps"),
    ("quoted_spread_ps", "quoted spread per share", "usd_ps"),
    ("pct_shares_improved", "% of shares price-improved", "pct"),
    ("pct_shares_at_or_better", "% of shares at the quote or better", "pct"),
    ("avg_improvement_ps", "average improvement per improved share", "usd_ps"),
    ("avg_disimprovement_ps", "average dis-improvement per outside share", "usd_ps"),
    ("outside_shares", "shares executed outside the quote", "shares"),
    ("realized_spread_1m_ps", "realized spread at 1 min per share", "usd_ps"),
    ("realized_spread_5m_ps", "realized spread at 5 min per share", "usd_ps"),
    ("avg_exec_ms", "average time to execution, ms", "{:,.1f}"),
    ("pct_orders_improved", "% of filled orders improved", "pct"),
)


def summary_table(by_venue: pd.DataFrame) -> pd.DataFrame:
    """The per-venue table transposed for reading: one row per figure, one column per venue (text)."""
    out = {"figure": [label for _, label, _ in SUMMARY_ROWS]}
    for row in by_venue.itertuples(index=False):
        rec = row._asdict()
        out[rec["venue"]] = [_fmt(rec[col], fmt) for col, _, fmt in SUMMARY_ROWS]
    return pd.DataFrame(out)


def _fmt(value, fmt: str) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return plots.NA_REP
    return plots.FORMATS[fmt](value) if fmt in plots.FORMATS else fmt.format(value)


def monthly_pivot(monthly: pd.DataFrame, metric: str = "net_pi_bps") -> pd.DataFrame:
    """Net PI (``metric``: bps of the midpoint, or ``net_pi_ps``) by month (columns) per venue × segment,
    with the last month's change (text)."""
    df = monthly[monthly["order_category"].isin(PI_CATEGORIES)]
    wide = df.pivot_table(index=["venue", "is_sp500", "order_category"], columns="month", values=metric,
                          aggfunc="first").sort_index()
    months = list(wide.columns)
    out = wide.reset_index()
    out.insert(1, "segment", np.where(out.pop("is_sp500"), "S&P 500", "other") + " · "
               + out.pop("order_category").map(PI_CATEGORY_LABELS).str.replace(" orders", ""))
    if len(months) >= 2:
        last, prev = wide[months[-1]].to_numpy(), wide[months[-2]].to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            change = np.where(prev > 0, (last - prev) / prev, np.nan)
        out[f"change {months[-1]} vs {months[-2]}"] = [plots.fmt_pct(c) if not np.isnan(c) else plots.NA_REP
                                                       for c in change]
    fmt = plots.fmt_bps if metric.endswith("_bps") else plots.fmt_usd_ps
    for m in months:
        out[m] = [fmt(v) for v in out[m]]
    return out


def worst_orders_display(worst: pd.DataFrame) -> pd.DataFrame:
    """The drill-down with New York receipt times and the age of the quote used (for reading)."""
    received = pd.to_datetime(worst["received_at"], utc=True)
    quoted = pd.to_datetime(worst["nbbo_r_quoted_at"], utc=True)
    return pd.DataFrame({
        "order_id": worst["order_id"], "venue": worst["venue"], "symbol": worst["symbol"],
        "side": worst["side"], "category": worst["order_category"],
        "received (New York)": plots.ny_times(received).to_numpy(),
        "quote age ms": ((received - quoted).dt.total_seconds() * 1000).round(3),
        "quantity": worst["quantity"], "limit": worst["limit_price"],
        "NBBO at receipt": [f"{b:,.4f}\u00a0×\u00a0{a:,.4f}" for b, a in zip(worst["nbb_r"], worst["nbo_r"])],
        "filled": worst["executed_shares"], "avg price": worst["avg_price"],
        "net PI/share": worst["net_pi_ps"], "net PI USD": worst["net_pi_usd"],
    })


WORST_DISPLAY_FORMATS = {
    "quote age ms": "{:,.0f}", "quantity": "shares", "limit": "usd_ps",
    "filled": "shares", "avg price": "usd_ps", "net PI/share": "usd_ps", "net PI USD": "usd",
}


def worst_orders_view(worst: pd.DataFrame):
    """The orders that cost customers money (net PI in USD below zero) for reading, or a sentence saying
    that none did: an order at zero improvement is not a cost and is never listed as one."""
    losing = worst[worst["net_pi_usd"] < 0]
    if losing.empty:
        return "No filled order in this selection cost its customer money (net price improvement below zero)."
    return plots.style_table(worst_orders_display(losing), WORST_DISPLAY_FORMATS)
