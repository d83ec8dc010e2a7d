"""Forest plots of the venue comparison and the deterioration trigger: frames in, figures out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bestex_nb.dimensions.venues.tables import group_label, sort_groups
from bestex_nb.stats import comparison
from bestex_nb.stats.comparison import METRIC_LABELS


def _wrap(label: str, width: int = 30) -> str:
    """A panel title on lines of at most ``width`` characters (three panels' titles ran into each other)."""
    lines, line = [], ""
    for word in label.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "<br>".join([*lines, line])


def forest(comparisons: pd.DataFrame, metrics, colors: dict, title: str | None = None,
           against: str = "others") -> go.Figure:
    """Forest plot: each review group's difference with its 95% interval, one panel per metric.

    Positive = the venue is better for the customer than the other venues in the same cells. The dashed
    red line is the materiality threshold; an outlined diamond marks a material difference.
    """
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    if "against" in comparisons.columns:  # one comparison per figure: against others, or the same type
        comparisons = comparisons[comparisons["against"] == against]
    df = sort_groups(comparisons[comparisons["metric"].isin(metrics) & comparisons["difference"].notna()])
    labels = list(dict.fromkeys(group_label(df)))
    fig = make_subplots(rows=1, cols=len(metrics), shared_yaxes=True, horizontal_spacing=0.06,
                        subplot_titles=[_wrap(METRIC_LABELS[m]) for m in metrics])
    for i, metric in enumerate(metrics, start=1):
        sub = df[df["metric"] == metric].assign(label=lambda d: group_label(d))
        unit = comparison.METRICS[metric].unit
        scale = 100 if unit in ("ratio", "fraction") else 1
        for venue, part in sub.groupby("venue", sort=True):
            fig.add_trace(go.Scatter(
                x=part["difference"] * scale, y=part["label"], mode="markers", name=venue,
                legendgroup=venue, showlegend=i == 1, marker={"color": colors.get(venue, "#555"), "size": 9},
                error_x={"type": "data", "symmetric": False, "thickness": 1.5,
                         "array": (part["ci_high"] - part["difference"]) * scale,
                         "arrayminus": (part["difference"] - part["ci_low"]) * scale},
                customdata=np.c_[part["status"], part["matched_pct"] * 100, part["symbol_days"],
                                 part["p_holm"]],
                hovertemplate=("%{y}<br>difference %{x:.5g}<br>status %{customdata[0]}<br>"
                               "matched %{customdata[1]:.0f}% of shares, %{customdata[2]} symbol-days"
                               "<br>Holm p %{customdata[3]:.3f}<extra></extra>"),
            ), row=1, col=i)
        _flags(fig, sub[sub["is_material"].astype(bool)], "difference", scale, "material difference", i)
        threshold = float(sub["threshold"].iloc[0]) * scale if len(sub) else None
        fig.add_vline(x=0, line_color="#555", line_width=1, row=1, col=i)
        if threshold:
            fig.add_vline(x=-threshold, line_color="#c0392b", line_dash="dash", line_width=1, row=1, col=i)
        fig.update_xaxes(title_text={"USD/share": "USD/share", "ratio": "points of the quoted spread",
                                     "fraction": "percentage points", "ms": "ms", "bps": "bp of the midpoint"}[unit],
                         row=1, col=i,
                         tickformat={"USD/share": "$.4f"}.get(unit, ",.0f"))
    fig.update_yaxes(categoryorder="array", categoryarray=labels[::-1], type="category")
    fig.update_layout(
        title=title or "Each venue against the other venues in the same cells (positive = better for the customer)",
        height=max(360, 28 * len(labels) + 190), legend_title_text="venue",
        margin={"t": 120})  # room for the panel titles on two lines under the figure's title
    return fig


def deterioration_figure(trig: pd.DataFrame, colors: dict) -> go.Figure:
    """Change of net PI per share versus the prior period with its 95% interval, one panel per trigger
    period (prior value > 0 only; a dashed red line marks the trigger)."""
    df = sort_groups(trig[(trig["basis"] == "pct")])
    periods = sorted(df["period"].unique(), key=lambda s: (len(s), s))
    labels = list(dict.fromkeys(group_label(df)))
    fig = make_subplots(rows=1, cols=max(1, len(periods)), shared_yaxes=True, horizontal_spacing=0.08,
                        subplot_titles=[f"{p} vs {df.loc[df['period'] == p, 'prior_period'].iloc[0]}"
                                        for p in periods])
    for i, period in enumerate(periods, start=1):
        sub = df[df["period"] == period].assign(label=lambda d: group_label(d))
        for venue, part in sub.groupby("venue", sort=True):
            fig.add_trace(go.Scatter(
                x=part["pct_change"] * 100, y=part["label"], mode="markers", name=venue, legendgroup=venue,
                showlegend=i == 1, marker={"color": colors.get(venue, "#555"), "size": 9},
                error_x={"type": "data", "symmetric": False, "thickness": 1.5,
                         "array": (part["pct_ci_high"] - part["pct_change"]) * 100,
                         "arrayminus": (part["pct_change"] - part["pct_ci_low"]) * 100},
                customdata=np.c_[part["status"], part["prior_value"], part["current_value"]],
                hovertemplate=("%{y}<br>change %{x:.1f}%<br>%{customdata[1]:$.5f} → %{customdata[2]:$.5f}"
                               "<br>%{customdata[0]}<extra></extra>"),
            ), row=1, col=i)
        _flags(fig, sub[sub["is_breach"]], "pct_change", 100, "breach", i)
        fig.add_vline(x=0, line_color="#555", line_width=1, row=1, col=i)
        threshold = sub["threshold"].iloc[0] * 100 if len(sub) else None
        if threshold:
            fig.add_vline(x=-threshold, line_color="#c0392b", line_dash="dash", line_width=1, row=1, col=i)
        # rises are not what the trigger looks for: intervals beyond ±100% run off the panel
        fig.update_xaxes(title_text="% change (axis clipped at ±100%)", ticksuffix="%", range=[-100, 100],
                         row=1, col=i)
    fig.update_yaxes(categoryorder="array", categoryarray=labels[::-1], type="category")
    if not periods:
        fig.add_annotation(text="No review group has executions in both a trigger period and the period before it",
                           showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
    fig.update_layout(title="Net price improvement per share versus the prior period (trigger: a significant fall "
                      "beyond the dashed line)", height=max(360, 28 * len(labels) + 160), legend_title_text="venue")
    return fig


def _flags(fig: go.Figure, rows: pd.DataFrame, col: str, scale: float, name: str, panel: int) -> None:
    """Outline the flagged points (material differences, breaches) with a black diamond, one legend entry."""
    first = not any(t.name == name for t in fig.data)
    fig.add_trace(go.Scatter(
        x=rows[col] * scale, y=group_label(rows) if len(rows) else [], mode="markers", name=name,
        legendgroup=name, showlegend=first, hoverinfo="skip",
        marker={"symbol": "diamond-open", "size": 17, "color": "#1f2328", "line": {"width": 2}},
    ), row=1, col=panel)
