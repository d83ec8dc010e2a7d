"""Plotly figures of the limit-order fill review: frames in, figures out (never shown here)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bestex_nb.contract.buckets import (
    DISTANCE_BUCKETS,
    LIMIT_CATEGORIES,
    LIMIT_CATEGORY_LABELS,
    SIZE_BUCKETS,
)
from bestex_nb.dimensions.limit_fills.compute import LimitFills
from bestex_nb.report.bars import fade_thin_bars
from bestex_nb.stats.survival import SESSION_MS

TIME_TICKS = ((1, "1 ms"), (10, "10 ms"), (100, "0.1 s"), (1e3, "1 s"), (1e4, "10 s"), (6e4, "1 min"),
              (6e5, "10 min"), (3.6e6, "1 h"), (2.34e7, "6.5 h"))


def _time_axis(fig: go.Figure, **kw) -> None:
    fig.update_xaxes(type="log", tickvals=[t for t, _ in TIME_TICKS], ticktext=[label for _, label in TIME_TICKS],
                     **kw)


def _facet_labels(fig: go.Figure) -> None:
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))


def _categories(df: pd.DataFrame) -> list[str]:
    return [c for c in LIMIT_CATEGORIES if c in set(df["order_category"])]


def fill_rate_bars(by_cell: pd.DataFrame, colors: dict, min_orders: int = 30) -> go.Figure:
    df = by_cell.assign(category=by_cell["order_category"].map(LIMIT_CATEGORY_LABELS))
    sizes = [b for b in SIZE_BUCKETS if b in set(df["size_bucket"])]
    fig = px.bar(
        df, x="size_bucket", y="fill_rate_shares", color="venue", barmode="group", facet_col="category",
        facet_col_wrap=2, facet_row_spacing=0.12, color_discrete_map=colors,
        category_orders={"category": [LIMIT_CATEGORY_LABELS[c] for c in _categories(df)], "size_bucket": sizes,
                         "venue": list(colors)},  # the same legend order in every chart
        hover_data={"orders": ":,", "order_shares": ":,.0f", "fill_rate_orders": ":.1%"},
        labels={"size_bucket": "order size (notional at receipt midpoint, USD)", "fill_rate_shares": "fill rate (shares)"},
        title="Share fill rate of non-marketable limit orders by venue, category at receipt and size",
    )
    _facet_labels(fig)
    fig.update_yaxes(tickformat=".0%", matches="y", range=[0, 1.08])
    fig.update_xaxes(showticklabels=True)
    fig.update_layout(height=700, legend_title_text="venue")
    return fade_thin_bars(fig, min_orders)


def distance_bars(by_distance: pd.DataFrame, colors: dict, min_orders: int = 30) -> go.Figure:
    fig = px.bar(
        by_distance, x="distance_bucket", y="fill_rate_shares", color="venue", barmode="group",
        color_discrete_map=colors, hover_data={"orders": ":,", "order_shares": ":,.0f"},
        category_orders={"distance_bucket": [b for b in DISTANCE_BUCKETS if b in set(by_distance["distance_bucket"])],
                         "venue": list(colors)},
        labels={"distance_bucket": "ticks behind the same-side best quote at receipt (inside = better than it)",
                "fill_rate_shares": "fill rate (shares)"},
        title="Share fill rate by distance from the quote at receipt",
    )
    fig.update_yaxes(tickformat=".0%", range=[0, 1.08])  # room for a faded bar's count above 100%
    fig.update_layout(height=430, legend_title_text="venue")
    return fade_thin_bars(fig, min_orders)


def survival_figure(survival: pd.DataFrame, colors: dict) -> go.Figure:
    """P(no fill yet at τ) per venue, one panel per category, with the 95% Greenwood band shaded."""
    cats = _categories(survival)
    rows = (len(cats) + 1) // 2
    fig = make_subplots(rows=rows, cols=2, subplot_titles=[LIMIT_CATEGORY_LABELS[c] for c in cats],
                        shared_yaxes=True, vertical_spacing=0.14, horizontal_spacing=0.06)
    for i, cat in enumerate(cats):
        r, c = i // 2 + 1, i % 2 + 1
        for v, g in survival[survival["order_category"] == cat].groupby("venue", sort=True):
            color = colors.get(v, "#555")
            fill = plots_rgba(color, 0.18)
            fig.add_trace(go.Scatter(x=g["tau_ms"], y=g["ci_high"], mode="lines", line={"width": 0, "shape": "hv"},
                                     hoverinfo="skip", showlegend=False, legendgroup=v), r, c)
            fig.add_trace(go.Scatter(x=g["tau_ms"], y=g["ci_low"], mode="lines", line={"width": 0, "shape": "hv"},
                                     fill="tonexty", fillcolor=fill, hoverinfo="skip", showlegend=False,
                                     legendgroup=v), r, c)
            fig.add_trace(go.Scatter(
                x=g["tau_ms"], y=g["survival"], mode="lines", name=v, legendgroup=v, showlegend=i == 0,
                line={"color": color, "width": 2, "shape": "hv"},
                customdata=np.c_[g["ci_low"], g["ci_high"], g["at_risk"]],
                hovertemplate=(f"{v}<br>τ %{{x:,.0f}} ms<br>P(no fill yet) %{{y:.1%}}"
                               "<br>95%% band %{customdata[0]:.1%} – %{customdata[1]:.1%}"
                               "<br>at risk %{customdata[2]:,}<extra></extra>").replace("%%", "%"),
            ), r, c)
    _time_axis(fig)
    fig.update_xaxes(title_text="time since receipt", row=rows)
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%")
    fig.update_yaxes(title_text="P(no fill yet)", col=1)
    fig.update_layout(height=330 * rows + 120, legend_title_text="venue",
                      title="Kaplan–Meier probability that a limit order has not yet filled, with 95% bands")
    return fig


def plots_rgba(hex_color: str, alpha: float) -> str:
    """``#RRGGBB`` as an ``rgba(...)`` string with ``alpha`` (for bands)."""
    h = hex_color.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


def time_to_fill_figure(ttf: pd.DataFrame, colors: dict) -> go.Figure:
    """Box per venue × category of the time to first fill of filled orders, drawn from the
    :func:`time_to_fill` table (box: quartiles; whiskers: 10th and 90th percentiles)."""
    fig = go.Figure()
    cats = _categories(ttf)
    for v, g in ttf[ttf["orders_filled"] > 0].groupby("venue", sort=True):
        g = g.set_index("order_category")
        g = g.reindex([c for c in cats if c in g.index])
        fig.add_trace(go.Box(
            x=[LIMIT_CATEGORY_LABELS[c] for c in g.index], name=v, marker_color=colors.get(v, "#555"),
            q1=g["q1_ms"].clip(lower=0.1), median=g["median_ms"].clip(lower=0.1), q3=g["q3_ms"].clip(lower=0.1),
            lowerfence=g["p10_ms"].clip(lower=0.1), upperfence=g["p90_ms"].clip(lower=0.1),
            mean=g["mean_ms"].clip(lower=0.1), boxmean=True, hoverinfo="y",
        ))
    fig.update_layout(boxmode="group", height=460, legend_title_text="venue",
                      title="Time to first fill of filled orders (box: quartiles; whiskers: 10th–90th "
                            "percentile; dashed: share-weighted mean)")
    fig.update_xaxes(title="category at receipt", categoryorder="array",
                     categoryarray=[LIMIT_CATEGORY_LABELS[c] for c in cats])
    lo = np.nanmin(ttf["p10_ms"].clip(lower=0.1)) if ttf["orders_filled"].sum() else 1.0
    hi = np.nanmax(ttf[["p90_ms", "mean_ms"]].to_numpy()) if ttf["orders_filled"].sum() else SESSION_MS
    fig.update_yaxes(type="log", tickvals=[t for t, _ in TIME_TICKS], ticktext=[label for _, label in TIME_TICKS],
                     title="time from receipt to first fill", range=[np.log10(lo) - 0.2, np.log10(hi) + 0.2])
    return fig


def figures(lf: LimitFills, colors: dict, min_orders: int = 30) -> dict[str, go.Figure]:
    """Plotly figures for the notebook (``colors``: venue → colour, see plots.venue_colors; ``min_orders``:
    bars on fewer orders are faded, the committee's ``display.min_orders_per_bar``)."""
    figs = {
        "fill_rate_by_cell": fill_rate_bars(lf.by_cell, colors, min_orders),
        "fill_rate_by_distance": distance_bars(lf.by_distance, colors, min_orders),
        "survival": survival_figure(lf.survival, colors),
        "time_to_fill": time_to_fill_figure(lf.time_to_fill, colors),
    }
    return figs
