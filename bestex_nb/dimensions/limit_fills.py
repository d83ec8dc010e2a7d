"""Limit-order fill likelihood (FINRA 5310 .02 (iii)) and the Rule 5310 .05 marketable-limit check.

``compute`` turns a review store and the run's parameters into the frames the notebook shows;
``figures`` turns those frames into plotly figures. Both are pure: no display, no I/O. The tables for
reading are in :mod:`bestex_nb.dimensions.limit_fill_tables`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bestex_nb.contract.errors import EmptyPeriodError
from bestex_nb.contract.periods import parse_period
from bestex_nb.dimensions.price_improvement import SIZE_BUCKETS
from bestex_nb.review import Review
from bestex_nb.stats.survival import SESSION_MS, median_time_ms, survival_curves

LIMIT_CATEGORIES = ["inside_quote_limit", "at_quote_limit", "near_quote_limit", "away_limit"]
CATEGORY_LABELS = {"inside_quote_limit": "Inside the quote", "at_quote_limit": "At the quote",
                   "near_quote_limit": "Near the quote", "away_limit": "Away from the quote"}
DISTANCE_BUCKETS = ["inside", "0", "1-2", "3-5", "6-10", ">10"]
#: Log-axis ticks of the time charts (ms, label).
TIME_TICKS = ((1, "1 ms"), (10, "10 ms"), (100, "0.1 s"), (1e3, "1 s"), (1e4, "10 s"), (6e4, "1 min"),
              (6e5, "10 min"), (3.6e6, "1 h"), (2.34e7, "6.5 h"))


@dataclass
class LimitFills:
    """The frames behind the limit-order fill review (grain in each attribute's comment)."""

    period: str
    venue: str | None
    by_venue: pd.DataFrame  # venue × order_category: the section 6 table
    by_cell: pd.DataFrame  # venue × order_category × size_bucket
    by_distance: pd.DataFrame  # venue × distance_bucket
    monthly: pd.DataFrame  # venue × order_category × month
    survival: pd.DataFrame  # venue × order_category × grid time: Kaplan–Meier with Greenwood bands
    time_to_fill: pd.DataFrame  # venue × order_category: medians and means of time to first fill
    end_states: pd.DataFrame  # venue × end_state: orders and shares
    orders: pd.DataFrame  # one row per covered order (survival, drill-down, filters)
    comparison: pd.DataFrame  # review group rows of review.compare_venues(period, "fill_rate_shares")
    exceptions: pd.DataFrame  # Rule 5310 .05: one row per marketable limit order with fills outside the quote
    exception_list: pd.DataFrame  # this review's rows of review.exceptions: fill-rate material differences, .05
    reconciliation: pd.DataFrame  # orders in = analysed + excluded by reason
    exclusions_by_reason: pd.DataFrame  # reason × scope × venue counts

    def tables(self) -> dict[str, pd.DataFrame]:
        """The frames written as CSV evidence next to the HTML (names distinct from other notebooks)."""
        out = {
            "limit_fills_by_venue_category": self.by_venue, "limit_fills_by_venue_category_size": self.by_cell,
            "limit_fills_by_venue_distance": self.by_distance, "limit_fills_monthly": self.monthly,
            "limit_fill_survival": self.survival, "limit_time_to_fill": self.time_to_fill,
            "limit_end_states": self.end_states, "rule5310_05_exceptions": self.exceptions,
            "limit_fill_venue_comparison": self.comparison, "limit_exceptions": self.exception_list,
            "limit_reconciliation": self.reconciliation,
            "limit_exclusions_by_reason": self.exclusions_by_reason,
        }
        return out


def dimension_exceptions(review: Review, period, parameters, decisions_path=None) -> pd.DataFrame:
    """The rows of :meth:`Review.exceptions` this review raises (same ids, same dispositions): material
    differences in share fill rate and the Rule 5310 .05 exceptions, without computing the other
    dimensions' comparisons. ``parameters``: a :class:`~bestex_nb.contract.parameters.ReviewParameters`;
    ``decisions_path``: the decisions.yaml to join (default: the checkout's)."""
    from dataclasses import replace

    from bestex_nb import exception_register as exc
    from bestex_nb.contract.parameters import load_decisions

    own = replace(parameters, material_metrics=tuple(m for m in parameters.material_metrics if m == "fill_rate_shares"))
    return exc.collect(review, parse_period(period), own, load_decisions(decisions_path),
                       providers=["bestex_nb.dimensions.venues:material_difference_exceptions",
                                  "bestex_nb.dimensions.limit_fills:rule5310_05_exceptions"])


def compute(review: Review, period: str, venue: str | None = None, parameters_dir=None) -> LimitFills:
    """All frames of the review for ``period`` (and one routed ``venue``, or the whole firm).
    ``parameters_dir`` holds the committee's defaults.yaml and decisions.yaml (default: the checkout's)."""
    from bestex_nb.contract.parameters import load

    params = load(parse_period(period), parameters_dir or None)
    orders = review.limit_orders(period, venue)
    if orders.empty:
        where = f" at venue {venue}" if venue else ""
        raise EmptyPeriodError(
            f"no non-marketable limit orders to review in {parse_period(period).label}{where}; "
            "check the period and venue parameters and the exclusion summary")
    excl = review.exclusions(period, venue)
    by_reason = (excl.assign(venue=excl["venue"].fillna("(none)"))
                 .groupby(["reason", "scope", "venue"], as_index=False).size().rename(columns={"size": "order_rows"}))
    comparison = review.compare_venues(period, "fill_rate_shares", parameters=params)
    decisions = Path(parameters_dir) / "decisions.yaml" if parameters_dir else None
    exception_list = dimension_exceptions(review, period, params, decisions)
    if venue:
        comparison = comparison[comparison["venue"] == venue].reset_index(drop=True)
        exception_list = exception_list[exception_list["venue"] == venue].reset_index(drop=True)
    end_states = (orders.groupby(["venue", "end_state"], as_index=False)
                  .agg(orders=("order_id", "size"), order_shares=("quantity", "sum"),
                       filled_shares=("filled_qty", "sum"), cancelled_shares=("cancelled_qty", "sum")))
    return LimitFills(
        period=period, venue=venue,
        by_venue=review.limit_fills(period, ["venue", "order_category"], venue),
        by_cell=review.limit_fills(period, ["venue", "order_category", "size_bucket"], venue),
        by_distance=review.limit_fills(period, ["venue", "distance_bucket"], venue),
        monthly=review.limit_fills(period, ["venue", "order_category", "month"], venue),
        # review.fill_survival is survival_curves over review.limit_orders: reuse the frame read above
        survival=survival_curves(orders, ["venue", "order_category"]),
        time_to_fill=time_to_fill(orders),
        end_states=end_states,
        orders=orders,
        comparison=comparison,
        exceptions=review.marketable_limit_exceptions(period, venue),
        exception_list=exception_list,
        reconciliation=review.reconciliation(period, venue),
        exclusions_by_reason=by_reason,
    )


def time_to_fill(orders: pd.DataFrame) -> pd.DataFrame:
    """Time to first fill per venue × category (ms): among filled orders, and the Kaplan–Meier median.

    Columns: venue, order_category, orders, orders_filled, p10_ms, q1_ms, median_ms, q3_ms, p90_ms (over
    filled orders, unweighted, interpolated), mean_ms (weighted by filled shares), km_median_ms (the time by which half of
    all the orders would have filled had none been cancelled: NaN when the curve never reaches 0.5).
    """
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


def rule5310_05_exceptions(review: Review, period, parameters=None) -> pd.DataFrame:
    """Exception provider (``bestex_nb.exception_register``): one row per marketable limit order with fills
    priced worse than the far touch at receipt (metrics.md section 6, Rule 5310 .05).

    Id: ``R5310.05-<order_id>`` — the order, not the period, so a disposition recorded once holds in the
    monthly and the quarterly review alike. ``value`` is the shortfall Σ q·max(−PI, 0) in USD; there is
    no threshold (every such fill is an exception). ``parameters`` is not used.
    """
    from bestex_nb.exception_register import segment_code, slug

    p = parse_period(period)
    ex = review.marketable_limit_exceptions(p)
    return pd.DataFrame({
        "exception_id": [slug("R5310.05", o) for o in ex["order_id"]],
        "kind": "marketable_limit_outside_quote", "period": p.label, "venue": ex["venue"],
        "is_sp500": ex["is_sp500"].astype(bool), "order_category": "marketable_limit", "subject": ex["order_id"],
        "metric": "shortfall_usd", "value": ex["shortfall_usd"], "threshold": 0.0, "unit": "USD",
        "detail": [f"{r.symbol} {r.side} limit {r.limit_price:,.4f}: {r.fills} fill(s), {r.outside_shares:,.6g} sh "
                   f"worse than the far touch {r.far_touch:,.4f} at receipt (worst {r.worst_price:,.4f}; "
                   f"{segment_code(r.is_sp500)})" for r in ex.itertuples()],
    })


# -- figures -------------------------------------------------------------------------------------
def _time_axis(fig: go.Figure, **kw) -> None:
    fig.update_xaxes(type="log", tickvals=[t for t, _ in TIME_TICKS], ticktext=[label for _, label in TIME_TICKS],
                     **kw)


def _facet_labels(fig: go.Figure) -> None:
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))


def _categories(df: pd.DataFrame) -> list[str]:
    return [c for c in LIMIT_CATEGORIES if c in set(df["order_category"])]


def fill_rate_bars(by_cell: pd.DataFrame, colors: dict) -> go.Figure:
    df = by_cell.assign(category=by_cell["order_category"].map(CATEGORY_LABELS))
    sizes = [b for b in SIZE_BUCKETS if b in set(df["size_bucket"])]
    fig = px.bar(
        df, x="size_bucket", y="fill_rate_shares", color="venue", barmode="group", facet_col="category",
        facet_col_wrap=2, facet_row_spacing=0.12, color_discrete_map=colors,
        category_orders={"category": [CATEGORY_LABELS[c] for c in _categories(df)], "size_bucket": sizes},
        hover_data={"orders": ":,", "order_shares": ":,.0f", "fill_rate_orders": ":.1%"},
        labels={"size_bucket": "order size (notional at receipt midpoint, USD)", "fill_rate_shares": "fill rate (shares)"},
        title="Share fill rate of non-marketable limit orders by venue, category at receipt and size",
    )
    _facet_labels(fig)
    fig.update_yaxes(tickformat=".0%", matches="y", range=[0, 1])
    fig.update_xaxes(showticklabels=True)
    fig.update_layout(height=700, legend_title_text="venue")
    return fig


def distance_bars(by_distance: pd.DataFrame, colors: dict) -> go.Figure:
    fig = px.bar(
        by_distance, x="distance_bucket", y="fill_rate_shares", color="venue", barmode="group",
        color_discrete_map=colors, hover_data={"orders": ":,", "order_shares": ":,.0f"},
        category_orders={"distance_bucket": [b for b in DISTANCE_BUCKETS if b in set(by_distance["distance_bucket"])]},
        labels={"distance_bucket": "ticks behind the same-side best quote at receipt (inside = better than it)",
                "fill_rate_shares": "fill rate (shares)"},
        title="Share fill rate by distance from the quote at receipt",
    )
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    fig.update_layout(height=430, legend_title_text="venue")
    return fig


def survival_figure(survival: pd.DataFrame, colors: dict) -> go.Figure:
    """P(no fill yet at τ) per venue, one panel per category, with the 95% Greenwood band shaded."""
    cats = _categories(survival)
    rows = (len(cats) + 1) // 2
    fig = make_subplots(rows=rows, cols=2, subplot_titles=[CATEGORY_LABELS[c] for c in cats],
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
            x=[CATEGORY_LABELS[c] for c in g.index], name=v, marker_color=colors.get(v, "#555"),
            q1=g["q1_ms"].clip(lower=0.1), median=g["median_ms"].clip(lower=0.1), q3=g["q3_ms"].clip(lower=0.1),
            lowerfence=g["p10_ms"].clip(lower=0.1), upperfence=g["p90_ms"].clip(lower=0.1),
            mean=g["mean_ms"].clip(lower=0.1), boxmean=True, hoverinfo="y",
        ))
    fig.update_layout(boxmode="group", height=460, legend_title_text="venue",
                      title="Time to first fill of filled orders (box: quartiles; whiskers: 10th–90th "
                            "percentile; dashed: share-weighted mean)")
    fig.update_xaxes(title="category at receipt", categoryorder="array",
                     categoryarray=[CATEGORY_LABELS[c] for c in cats])
    lo = np.nanmin(ttf["p10_ms"].clip(lower=0.1)) if ttf["orders_filled"].sum() else 1.0
    hi = np.nanmax(ttf[["p90_ms", "mean_ms"]].to_numpy()) if ttf["orders_filled"].sum() else SESSION_MS
    fig.update_yaxes(type="log", tickvals=[t for t, _ in TIME_TICKS], ticktext=[label for _, label in TIME_TICKS],
                     title="time from receipt to first fill", range=[np.log10(lo) - 0.2, np.log10(hi) + 0.2])
    return fig


def figures(lf: LimitFills, colors: dict) -> dict[str, go.Figure]:
    """Plotly figures for the notebook (``colors``: venue → colour, see plots.venue_colors)."""
    figs = {
        "fill_rate_by_cell": fill_rate_bars(lf.by_cell, colors),
        "fill_rate_by_distance": distance_bars(lf.by_distance, colors),
        "survival": survival_figure(lf.survival, colors),
        "time_to_fill": time_to_fill_figure(lf.time_to_fill, colors),
    }
    return figs
