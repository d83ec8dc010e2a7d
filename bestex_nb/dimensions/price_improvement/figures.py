"""Plotly figures of the price-improvement review: frames in, figures out (never shown here)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from bestex_nb.contract.buckets import (
    PI_CATEGORIES,
    PI_CATEGORY_LABELS,
    SIZE_BUCKETS,
)
from bestex_nb.dimensions.price_improvement.compute import PriceImprovement
from bestex_nb.report.bars import fade_thin_bars


def _ordered(df: pd.DataFrame, col: str, order: list[str]) -> pd.DataFrame:
    df = df.copy()
    df[col] = pd.Categorical(df[col], categories=[c for c in order if c in set(df[col])], ordered=True)
    return df.sort_values(col)


def _bars(df: pd.DataFrame, metric: str, title: str, yaxis: str, colors: dict, tickformat: str,
          min_orders: int) -> go.Figure:
    df = _ordered(df[df["order_category"].isin(PI_CATEGORIES)], "size_bucket", SIZE_BUCKETS)
    df = df.assign(category=df["order_category"].map(PI_CATEGORY_LABELS))
    fig = px.bar(
        df, x="size_bucket", y=metric, color="venue", barmode="group", facet_col="category",
        color_discrete_map=colors, hover_data={"orders": ":,", "executed_shares": ":,.0f"},
        category_orders={"category": [PI_CATEGORY_LABELS[c] for c in PI_CATEGORIES], "venue": list(colors)},
        labels={"size_bucket": "order size (notional at receipt midpoint, USD)", metric: yaxis},
        title=title,
    )
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
    fig.update_yaxes(tickformat=tickformat)
    fig.update_layout(height=460, legend_title_text="venue")
    return fade_thin_bars(fig, min_orders)


def figures(pi: PriceImprovement, colors: dict, min_orders: int = 30) -> dict[str, go.Figure]:
    """Plotly figures for the notebook (``colors``: venue → colour, see plots.venue_colors; ``min_orders``:
    bars on fewer orders are faded, the committee's ``display.min_orders_per_bar``). Value-weighted
    figures (basis points of the midpoint at receipt) lead; per-share ones are in the tables."""
    figs = {
        "net_pi_by_cell": _bars(
            pi.by_cell, "net_pi_bps", "Net price improvement by venue, order type and size, in basis points of the "
            "midpoint (value-weighted)", "net PI (bp of the midpoint)", colors, ".1f", min_orders),
        "eq_by_cell": _bars(
            pi.by_cell, "eq_ratio", "Effective / quoted spread (E/Q) by venue, order type and size — lower is better",
            "E/Q", colors, ".0%", min_orders),
    }
    monthly = pi.monthly[pi.monthly["order_category"].isin(PI_CATEGORIES)].copy()
    monthly["segment"] = (
        np.where(monthly["is_sp500"], "S&P 500", "Other stocks") + " · "
        + monthly["order_category"].map(PI_CATEGORY_LABELS)
    )
    fig = px.line(
        monthly.sort_values("month"), x="month", y="net_pi_bps", color="venue", markers=True,
        facet_col="segment", facet_col_wrap=2, facet_col_spacing=0.09, color_discrete_map=colors,
        category_orders={"venue": list(colors)},  # the same legend order in every chart
        hover_data={"orders": ":,", "executed_shares": ":,.0f"},
        labels={"net_pi_bps": "net PI (bp of the midpoint)", "month": "receipt month (New York)"},
        title="Monthly trend of net price improvement (bp of the midpoint, value-weighted), by venue",
    )
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
    fig.update_yaxes(tickformat=".2f", matches=None, showticklabels=True)
    fig.update_xaxes(type="category")
    fig.update_layout(height=620)
    figs["monthly_trend"] = fig

    figs["pi_distribution"] = distribution_figure(pi.distribution, colors)
    return figs


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
