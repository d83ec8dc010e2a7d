"""Text tables of the limit-order fill review for the committee (figures formatted in their units)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from bestex_nb.contract.buckets import (
    LIMIT_CATEGORIES,
    LIMIT_CATEGORY_LABELS,
)
from bestex_nb.report import plots


def fmt_ms(x) -> str:
    """A duration in ms for reading: ``850 ms``, ``12.3 s``, ``5.2 min``, ``1.4 h``."""
    if x is None or pd.isna(x):
        return plots.NA_REP
    x = float(x)
    if x < 1000:
        return f"{x:,.0f} ms" if x >= 10 else f"{x:,.2f} ms"
    if x < 60_000:
        return f"{x / 1000:,.1f} s"
    if x < 3_600_000:
        return f"{x / 60_000:,.1f} min"
    return f"{x / 3_600_000:,.1f} h"


def summary_table(by_venue: pd.DataFrame) -> pd.DataFrame:
    """The venue × category table for reading (fractions stay numbers; times as text)."""
    df = by_venue.assign(order_category=pd.Categorical(by_venue["order_category"], LIMIT_CATEGORIES, ordered=True))
    df = df.sort_values(["order_category", "venue"])
    return pd.DataFrame({
        "category": df["order_category"].map(LIMIT_CATEGORY_LABELS).astype(str), "venue": df["venue"],
        "orders": df["orders"], "order shares": df["order_shares"],
        "fill rate (shares)": df["fill_rate_shares"], "fill rate (orders)": df["fill_rate_orders"],
        "fully filled (orders)": df["full_fill_rate_orders"],
        "cancelled or expired (shares)": df["cancel_rate_shares"],
        "median time to first fill": df["median_time_to_first_fill_ms"].map(fmt_ms),
        "mean time to first fill (share-weighted)": df["mean_time_to_first_fill_ms"].map(fmt_ms),
    })


SUMMARY_FORMATS = {"orders": "int", "order shares": "shares", "fill rate (shares)": "pct",
                   "fill rate (orders)": "pct", "fully filled (orders)": "pct", "cancelled or expired (shares)": "pct"}


def time_to_fill_display(ttf: pd.DataFrame) -> pd.DataFrame:
    df = ttf.assign(order_category=pd.Categorical(ttf["order_category"], LIMIT_CATEGORIES, ordered=True))
    df = df.sort_values(["order_category", "venue"])
    out = pd.DataFrame({"category": df["order_category"].map(LIMIT_CATEGORY_LABELS).astype(str), "venue": df["venue"],
                        "orders": df["orders"], "filled": df["orders_filled"]})
    for col, label in (("p10_ms", "10th pct"), ("median_ms", "median"), ("p90_ms", "90th pct"),
                       ("mean_ms", "mean (share-weighted)"), ("km_median_ms", "Kaplan–Meier median")):
        out[label] = df[col].map(fmt_ms)
    return out


CAUSE_LABELS = {"through_quote": "through the quote at execution too",
                "market_moved": "market moved (within the NBBO at execution)",
                "no_quote_at_execution": "no valid NBBO at execution"}
CAUSE_SHORT = {"through_quote": "through the quote", "market_moved": "market moved",
               "no_quote_at_execution": "no quote at execution"}
#: through the quote first: the fills a moved market does not explain
CAUSE_ORDER = ["through_quote", "no_quote_at_execution", "market_moved"]


def exceptions_summary(exceptions: pd.DataFrame) -> pd.DataFrame:
    """Rule 5310 .05 exceptions per venue × cause (the groups a disposition can name): orders, fills and
    shares outside the quote, shortfall USD; the fills through the quote at execution first."""
    cols = ["venue", "cause", "orders", "fills", "outside_shares", "shortfall_usd"]
    if exceptions.empty:
        return pd.DataFrame(columns=cols)
    out = (exceptions.groupby(["venue", "cause"], as_index=False)
           .agg(orders=("order_id", "size"), fills=("fills", "sum"), outside_shares=("outside_shares", "sum"),
                shortfall_usd=("shortfall_usd", "sum"))[cols])
    rank = {c: i for i, c in enumerate(CAUSE_ORDER)}
    return out.assign(_r=out["cause"].map(rank)).sort_values(["_r", "venue"]).drop(columns="_r").reset_index(drop=True)


def exceptions_summary_display(exceptions: pd.DataFrame) -> pd.DataFrame:
    """:func:`exceptions_summary` with headings for reading."""
    out = exceptions_summary(exceptions)
    out["cause"] = out["cause"].map(CAUSE_LABELS).fillna(out["cause"])
    return out.rename(columns={
        "orders": "orders with exceptions", "fills": "fills outside the quote",
        "outside_shares": "shares outside the quote", "shortfall_usd": "shortfall USD"})


EXCEPTION_SUMMARY_FORMATS = {"orders with exceptions": "int", "fills outside the quote": "int",
                             "shares outside the quote": "shares", "shortfall USD": "usd"}


def _quote(b, a) -> str:
    return "—" if pd.isna(b) or pd.isna(a) else f"{b:,.4f}\u00a0×\u00a0{a:,.4f}"


def exceptions_display(exceptions: pd.DataFrame, n: int = 25) -> pd.DataFrame:
    """The ``n`` exceptions with the largest shortfall, with New York receipt times and the NBBO at
    receipt and at the worst fill's execution, so a market that moved is told from a fill through the
    quote (for reading)."""
    top = exceptions.sort_values(["shortfall_usd", "order_id"], ascending=[False, True]).head(n)
    return pd.DataFrame({
        "order_id": top["order_id"], "venue": top["venue"], "symbol": top["symbol"], "side": top["side"],
        "received (New York)": plots.ny_times(top["received_at"]).to_numpy(),
        "limit": top["limit_price"],
        "NBBO at receipt": [_quote(b, a) for b, a in zip(top["nbb_r"], top["nbo_r"])],
        "NBBO at execution": [_quote(b, a) for b, a in zip(top["nbb_x"], top["nbo_x"])],
        "worst price": top["worst_price"],
        "cause": top["cause"].map(CAUSE_SHORT).fillna(top["cause"]).to_numpy(),
        "shares outside": top["outside_shares"], "shortfall USD": top["shortfall_usd"],
    })


EXCEPTION_FORMATS = {"limit": "usd_ps", "shares outside": "shares", "worst price": "usd_ps", "shortfall USD": "usd"}
NO_EXCEPTIONS = "No fill of a marketable limit order was priced worse than the far touch at receipt in this period."


def exceptions_views(exceptions: pd.DataFrame, n: int = 25) -> list:
    """What the notebook shows for the .05 check: the per-venue summary and the ``n`` largest
    exceptions as tables, or one sentence when there are none."""
    if exceptions.empty:
        from IPython.display import Markdown

        return [Markdown(NO_EXCEPTIONS)]
    return [plots.style_table(exceptions_summary_display(exceptions), EXCEPTION_SUMMARY_FORMATS),
            plots.style_table(exceptions_display(exceptions, n), EXCEPTION_FORMATS,
                              caption=f"The {min(n, len(exceptions))} largest of {len(exceptions):,} exceptions")]


def source_notes(data_dir: str | Path) -> str:
    """Markdown about the data source when the extracts came from an adapter (else an empty string)."""
    report = Path(data_dir) / "lobster_import.json"
    if not report.is_file():
        return ""
    from bestex_nb.adapters.lobster import notes_markdown

    return notes_markdown(json.loads(report.read_text()))


def comparison_display(comparison: pd.DataFrame) -> pd.DataFrame:
    """One row per review group: difference in share fill rate (percentage points), interval, Holm p,
    matched share of the venue's order shares, symbol-days and status (text)."""
    rank = {c: i for i, c in enumerate(LIMIT_CATEGORIES)}
    df = comparison.assign(_c=comparison["order_category"].map(rank)).sort_values(
        ["venue", "is_sp500", "_c"], ascending=[True, False, True])

    def pts(x):
        return plots.NA_REP if pd.isna(x) else f"{x * 100:+.1f} pts"

    return pd.DataFrame({
        "venue": df["venue"], "segment": np.where(df["is_sp500"], "S&P 500", "other"),
        "category": df["order_category"].map(LIMIT_CATEGORY_LABELS).fillna(df["order_category"]),
        "difference": df["difference"].map(pts),
        "95% interval": [plots.NA_REP if pd.isna(lo) else f"{pts(lo)} to {pts(hi)}"
                         for lo, hi in zip(df["ci_low"], df["ci_high"])],
        "Holm p": [f"{p:.3f}" if pd.notna(p) else plots.NA_REP for p in df["p_holm"]],
        "matched": [plots.fmt_pct(m) for m in df["matched_pct"]],
        "symbol-days": df["symbol_days"].astype(int).to_numpy(),
        "status": df["status"].str.replace("_", " ").to_numpy(),
    })


def monthly_pivot(monthly: pd.DataFrame) -> pd.DataFrame:
    """Share fill rate by receipt month (columns, text) per category × venue."""
    wide = monthly.pivot_table(index=["order_category", "venue"], columns="month", values="fill_rate_shares",
                               aggfunc="first")
    wide = wide.reindex(sorted(wide.index, key=lambda k: (LIMIT_CATEGORIES.index(k[0]), k[1])))
    out = wide.reset_index()
    out.insert(0, "category", out.pop("order_category").map(LIMIT_CATEGORY_LABELS))
    for m in wide.columns:
        out[m] = [plots.fmt_pct(v) for v in out[m]]
    return out


DISTANCE_LABELS = {"inside": "inside the quote", "0": "at the quote (0 ticks)", "1-2": "1-2 ticks away",
                   "3-5": "3-5 ticks away", "6-10": "6-10 ticks away", ">10": "more than 10 ticks away"}
#: The explorer's table: column → (heading, format)
RATE_COLUMNS = {"venue": ("venue", None), "category": ("order category", None), "orders": ("orders", "int"),
                "order_shares": ("order shares", "shares"), "fill_rate_shares": ("fill rate (shares)", "pct"),
                "fill_rate_orders": ("orders with a fill", "pct"), "cancel_rate_shares": ("cancelled shares", "pct")}


def rates_display(table: pd.DataFrame) -> pd.DataFrame:
    """The filtered fill rates for reading: categories labelled and in distance order, headings in words."""
    rank = {c: i for i, c in enumerate(LIMIT_CATEGORIES)}
    df = table.assign(_r=table["order_category"].map(rank)).sort_values(["venue", "_r"])
    df = df.assign(category=df["order_category"].map(LIMIT_CATEGORY_LABELS).fillna(df["order_category"]))
    return df[list(RATE_COLUMNS)].rename(columns={k: v[0] for k, v in RATE_COLUMNS.items()})
RATE_FORMATS = {v[0]: v[1] for v in RATE_COLUMNS.values() if v[1]}
