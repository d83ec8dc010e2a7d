"""Price improvement versus the NBBO at order receipt (FINRA 5310 .02 factors (i) and (ii)).

``compute`` turns a review store and the run's parameters into the frames the notebook shows;
``figures`` turns those frames into plotly figures. Both are pure: no display, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from bestex_nb.report import plots
from bestex_nb.review import Review

SIZE_BUCKETS = ["<250", "250-1k", "1k-5k", "5k-10k", "10k-20k", "20k-50k", "50k-200k", ">=200k"]
SHARE_BUCKETS = ["<100", "100-499", "500-1999", "2000-4999", "5000-9999", ">=10000"]
PI_CATEGORIES = ["market", "marketable_limit"]
CATEGORY_LABELS = {"market": "Market orders", "marketable_limit": "Marketable limit orders"}


@dataclass
class PriceImprovement:
    """The frames behind the price-improvement review (grain in each attribute's comment)."""

    period: str
    venue: str | None
    by_venue: pd.DataFrame  # one row per venue: the section 5 table
    by_cell: pd.DataFrame  # venue × order_category × size_bucket
    by_share_bucket: pd.DataFrame  # venue × order_category × share_bucket
    monthly: pd.DataFrame  # venue × is_sp500 × order_category × month
    orders: pd.DataFrame  # one row per covered order (drill-down and filters)
    distribution: pd.DataFrame  # venue × bin of order net PI per share: filled orders, % of the venue's
    worst_orders: pd.DataFrame  # the N orders that cost customers most (net PI USD ascending)
    reconciliation: pd.DataFrame  # orders in = analysed + excluded by reason
    exclusions_by_reason: pd.DataFrame  # reason × scope × venue counts

    def tables(self) -> dict[str, pd.DataFrame]:
        """The frames written as CSV evidence next to the HTML."""
        return {
            "pi_by_venue": self.by_venue, "pi_by_venue_category_size": self.by_cell,
            "pi_by_venue_category_shares": self.by_share_bucket, "pi_monthly": self.monthly,
            "pi_distribution": self.distribution,
            "worst_orders": self.worst_orders, "reconciliation": self.reconciliation,
            "exclusions_by_reason": self.exclusions_by_reason,
        }


#: Bins of the distribution chart of order net PI per share.
DISTRIBUTION_BINS = 80


def distribution(orders: pd.DataFrame, bins: int = DISTRIBUTION_BINS) -> pd.DataFrame:
    """How each venue's filled orders spread over order net PI per share: ``bins`` equal bins from the
    0.5th to the 99.5th percentile of all filled orders (linear interpolation; values beyond are
    counted in the end bins, as clipped), a value on an inner edge in the bin above. Orders without
    fills or without a net PI are left out. One row per venue and non-empty bin: venue, bin (0 …),
    bin_lo, bin_hi, orders, pct (of that venue's orders counted)."""
    cols = ["venue", "bin", "bin_lo", "bin_hi", "orders", "pct"]
    filled = orders[(orders["executed_shares"] > 0) & orders["net_pi_ps"].notna()]
    if not len(filled):
        return pd.DataFrame(columns=cols)
    x = filled["net_pi_ps"].to_numpy(dtype=float)
    lo, hi = np.percentile(x, [0.5, 99.5])
    if hi <= lo:  # every value the same: one bin a hundredth of a cent wide around it
        lo, hi, bins = lo - 0.00005, hi + 0.00005, 1
    edges = np.linspace(lo, hi, bins + 1)
    at = np.searchsorted(edges[1:-1], np.clip(x, lo, hi), side="right")
    counts = (pd.DataFrame({"venue": filled["venue"].to_numpy(), "bin": at})
              .groupby(["venue", "bin"], as_index=False).size().rename(columns={"size": "orders"}))
    counts["bin_lo"], counts["bin_hi"] = edges[counts["bin"]], edges[counts["bin"] + 1]
    counts["pct"] = 100 * counts["orders"] / counts.groupby("venue")["orders"].transform("sum")
    return counts[cols].sort_values(["venue", "bin"]).reset_index(drop=True)


def compute(review: Review, period: str, venue: str | None = None, worst_n: int = 25) -> PriceImprovement:
    """All frames of the review for ``period`` (and one routed ``venue``, or the whole firm)."""
    orders = review.order_pi(period, venue)
    review.require_orders(period, venue, orders)
    worst = (
        orders[orders["executed_shares"] > 0]
        .sort_values(["net_pi_usd", "net_pi_ps", "order_id"])
        .head(worst_n)
        .loc[:, ["order_id", "venue", "symbol", "side", "order_category", "received_at", "quantity",
                 "limit_price", "nbb_r", "nbo_r", "nbbo_r_quoted_at", "is_locked", "executed_shares",
                 "avg_price", "net_pi_ps", "net_pi_usd", "executed_venues"]]
        .reset_index(drop=True)
    )
    excl = review.exclusions(period, venue)
    by_reason = (
        excl.assign(venue=excl["venue"].fillna("(none)"))
        .groupby(["reason", "scope", "venue"], as_index=False)
        .size()
        .rename(columns={"size": "order_rows"})
    )
    return PriceImprovement(
        period=period,
        venue=venue,
        by_venue=review.price_improvement(period, ["venue"], venue),
        by_cell=review.price_improvement(period, ["venue", "order_category", "size_bucket"], venue),
        by_share_bucket=review.price_improvement(period, ["venue", "order_category", "share_bucket"], venue),
        monthly=review.price_improvement(period, ["venue", "is_sp500", "order_category", "month"], venue),
        orders=orders,
        distribution=distribution(orders),
        worst_orders=worst,
        reconciliation=review.reconciliation(period, venue),
        exclusions_by_reason=by_reason,
    )


def aggregate_orders(orders: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Re-aggregate the per-order frame (for interactive filters): ratios of sums, as the API does.

    Columns: ``by``, orders, executed_shares, net_pi_ps, eq_ratio, pct_orders_improved.
    """
    g = orders.groupby(by, as_index=False, observed=True).agg(
        orders=("order_id", "size"), executed_shares=("executed_shares", "sum"),
        net_pi_usd=("net_pi_usd", "sum"), es_usd=("es_usd", "sum"), qs_usd=("qs_usd", "sum"),
    )
    shares = g["executed_shares"].where(g["executed_shares"] != 0)
    g["net_pi_ps"] = g["net_pi_usd"] / shares
    g["eq_ratio"] = g["es_usd"] / g["qs_usd"].where(g["qs_usd"] != 0)
    return g


def _ordered(df: pd.DataFrame, col: str, order: list[str]) -> pd.DataFrame:
    df = df.copy()
    df[col] = pd.Categorical(df[col], categories=[c for c in order if c in set(df[col])], ordered=True)
    return df.sort_values(col)


def _bars(df: pd.DataFrame, metric: str, title: str, yaxis: str, colors: dict, tickformat: str) -> go.Figure:
    df = _ordered(df[df["order_category"].isin(PI_CATEGORIES)], "size_bucket", SIZE_BUCKETS)
    df = df.assign(category=df["order_category"].map(CATEGORY_LABELS))
    fig = px.bar(
        df, x="size_bucket", y=metric, color="venue", barmode="group", facet_col="category",
        color_discrete_map=colors, hover_data={"orders": ":,", "executed_shares": ":,.0f"},
        category_orders={"category": [CATEGORY_LABELS[c] for c in PI_CATEGORIES]},
        labels={"size_bucket": "order size (notional at receipt midpoint, USD)", metric: yaxis},
        title=title,
    )
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
    fig.update_yaxes(tickformat=tickformat)
    fig.update_layout(height=460, legend_title_text="venue")
    return fig


def figures(pi: PriceImprovement, colors: dict) -> dict[str, go.Figure]:
    """Plotly figures for the notebook (``colors``: venue → colour, see plots.venue_colors)."""
    figs = {
        "net_pi_by_cell": _bars(
            pi.by_cell, "net_pi_ps", "Net price improvement per share by venue, order type and size",
            "net PI per share (USD)", colors, "$.4f"),
        "eq_by_cell": _bars(
            pi.by_cell, "eq_ratio", "Effective / quoted spread (E/Q) by venue, order type and size — lower is better",
            "E/Q", colors, ".0%"),
    }
    monthly = pi.monthly[pi.monthly["order_category"].isin(PI_CATEGORIES)].copy()
    monthly["segment"] = (
        np.where(monthly["is_sp500"], "S&P 500", "Other stocks") + " · "
        + monthly["order_category"].map(CATEGORY_LABELS)
    )
    fig = px.line(
        monthly.sort_values("month"), x="month", y="net_pi_ps", color="venue", markers=True,
        facet_col="segment", facet_col_wrap=2, facet_col_spacing=0.09, color_discrete_map=colors,
        hover_data={"orders": ":,", "executed_shares": ":,.0f"},
        labels={"net_pi_ps": "net PI per share (USD)", "month": "receipt month (New York)"},
        title="Monthly trend of net price improvement per share, by venue",
    )
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
    fig.update_yaxes(tickformat="$.4f", matches=None, showticklabels=True)
    fig.update_xaxes(type="category")
    fig.update_layout(height=620)
    figs["monthly_trend"] = fig

    figs["pi_distribution"] = distribution_figure(pi.distribution, colors)
    return figs


#: (column, label for the committee, format) of the transposed summary, in reading order.
SUMMARY_ROWS = (
    ("orders", "orders covered", "int"),
    ("executed_shares", "shares executed", "{:,.0f}"),
    ("pct_shares_improved", "% of shares price-improved", "pct"),
    ("pct_shares_at_or_better", "% of shares at the quote or better", "pct"),
    ("avg_improvement_ps", "average improvement per improved share", "usd_ps"),
    ("avg_disimprovement_ps", "average dis-improvement per outside share", "usd_ps"),
    ("outside_shares", "shares executed outside the quote", "{:,.0f}"),
    ("net_pi_ps", "net price improvement per share", "usd_ps"),
    ("net_pi_usd", "net price improvement, USD", "usd"),
    ("disimprovement_usd", "dis-improvement, USD", "usd"),
    ("eff_spread_ps", "effective spread per share", "usd_ps"),
    ("quoted_spread_ps", "quoted spread per share", "usd_ps"),
    ("eq_ratio", "E/Q (effective / quoted spread)", "pct"),
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


def monthly_pivot(monthly: pd.DataFrame) -> pd.DataFrame:
    """Net PI per share by month (columns) per venue × segment, with the last month's change (text)."""
    df = monthly[monthly["order_category"].isin(PI_CATEGORIES)]
    wide = df.pivot_table(index=["venue", "is_sp500", "order_category"], columns="month", values="net_pi_ps",
                          aggfunc="first").sort_index()
    months = list(wide.columns)
    out = wide.reset_index()
    out.insert(1, "segment", np.where(out.pop("is_sp500"), "S&P 500", "other") + " · "
               + out.pop("order_category").map(CATEGORY_LABELS).str.replace(" orders", ""))
    if len(months) >= 2:
        last, prev = wide[months[-1]].to_numpy(), wide[months[-2]].to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            change = np.where(prev > 0, (last - prev) / prev, np.nan)
        out[f"change {months[-1]} vs {months[-2]}"] = [plots.fmt_pct(c) if not np.isnan(c) else plots.NA_REP
                                                       for c in change]
    for m in months:
        out[m] = [plots.fmt_usd_ps(v) for v in out[m]]
    return out


def worst_orders_display(worst: pd.DataFrame) -> pd.DataFrame:
    """The drill-down with New York receipt times and the age of the quote used (for reading)."""
    received = pd.to_datetime(worst["received_at"], utc=True)
    quoted = pd.to_datetime(worst["nbbo_r_quoted_at"], utc=True)
    return pd.DataFrame({
        "order_id": worst["order_id"], "venue": worst["venue"], "symbol": worst["symbol"],
        "side": worst["side"], "category": worst["order_category"],
        "received (New York)": received.dt.tz_convert("America/New_York").dt.strftime("%Y-%m-%d %H:%M:%S.%f").str[:-3],
        "quote age ms": ((received - quoted).dt.total_seconds() * 1000).round(3),
        "quantity": worst["quantity"], "limit": worst["limit_price"],
        "NBBO at receipt": [f"{b:,.4f}\u00a0×\u00a0{a:,.4f}" for b, a in zip(worst["nbb_r"], worst["nbo_r"])],
        "filled": worst["executed_shares"], "avg price": worst["avg_price"],
        "net PI/share": worst["net_pi_ps"], "net PI USD": worst["net_pi_usd"],
    })


WORST_DISPLAY_FORMATS = {
    "quote age ms": "{:,.0f}", "quantity": "{:,.6g}", "limit": "usd_ps",
    "filled": "{:,.6g}", "avg price": "usd_ps", "net PI/share": "usd_ps", "net PI USD": "usd",
}


def distribution_figure(dist: pd.DataFrame, colors: dict) -> go.Figure:
    """The distribution chart from :func:`distribution`: one overlaid bar trace per venue, a bar per
    non-empty bin. Its size does not grow with the number of orders: binned here, not by plotly, whose
    histogram embeds every order's value in the HTML (94 MB at 8.8 M orders)."""
    fig = go.Figure()
    present = set(dist["venue"])
    for v in [v for v in colors if v in present] + sorted(present - set(colors)):  # the other charts' order
        d = dist[dist["venue"] == v]
        fig.add_bar(x=(d["bin_lo"] + d["bin_hi"]) / 2, y=d["pct"], width=d["bin_hi"] - d["bin_lo"], name=v,
                    marker_color=colors.get(v), opacity=0.6,
                    customdata=np.stack([d["bin_lo"], d["bin_hi"], d["orders"]], axis=-1),
                    hovertemplate="%{customdata[0]:$.4f} to %{customdata[1]:$.4f}: %{customdata[2]:,} orders "
                                  "(%{y:.2f}%)<extra>" + v + "</extra>")
    fig.update_layout(barmode="overlay", legend_title_text="venue", showlegend=True, height=420,  # legend: also for one venue
                      title="Distribution of price improvement per order (share of each venue's filled orders)")
    fig.update_xaxes(title="order net PI per share (USD; clipped to the 0.5–99.5 percentiles)", tickformat="$.3f")
    fig.update_yaxes(title="% of filled orders")
    fig.add_vline(x=0, line_dash="dash", line_color="#555")
    return fig
