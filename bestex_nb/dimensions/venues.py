"""Venue comparison, deterioration trigger and exceptions (metrics.md section 8; FINRA 5310 .02 (a)(1):
comparing the quality of the markets the orders are routed to with competing markets).

The statistics are in :mod:`bestex_nb.stats.comparison` and :mod:`bestex_nb.stats.deterioration` (pure); this module
glues them to the store (one SQL query per coverage and period, cached on the review), registers the two
exception providers (:mod:`bestex_nb.exception_register`), and draws the figures (:func:`forest`,
:func:`deterioration_figure`). ``compute`` returns the frames the notebook shows; the readable tables are in
:mod:`.venue_tables`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bestex_nb.contract.parameters import ReviewParameters, load
from bestex_nb.contract.periods import Period, parse_period
from bestex_nb.dimensions.venue_tables import METRIC_LABELS, PI_METRICS, fmt_value, group_label, sort_groups
from bestex_nb.exception_register import segment_code, slug
from bestex_nb.stats import comparison
from bestex_nb.stats import deterioration as det

# -- the API glue (Review.compare_venues, .deterioration, .exceptions call these) -----------------------

def _cache(review) -> dict:
    return review.__dict__.setdefault("_venue_review_cache", {})


def comparison_sums(review, period: Period, coverage: str) -> pd.DataFrame:
    """The per venue × cell × symbol-day sums of one coverage (``pi`` or ``fills``), cached per period."""
    name = {"pi": "metrics/comparison_pi_sums", "fills": "metrics/comparison_fill_sums"}[coverage]
    key = ("sums", coverage, period.start, period.end)
    cache = _cache(review)
    if key not in cache:
        cache[key] = review._run(name, period.params())
    return cache[key]


def compare_all(review, period, metrics, *, seed: int | None = None, replicates: int | None = None,
                parameters: ReviewParameters | None = None) -> dict[str, pd.DataFrame]:
    """:meth:`Review.compare_venues` for several metrics; metrics of one coverage share the resamples.

    Results are cached on the review (the store is read-only), so the notebook and the exceptions list
    compute each metric once. A metric gives the same result alone or with others.
    """
    p = parse_period(period)
    params = parameters or load(p)
    seed = params.seed if seed is None else int(seed)
    replicates = params.replicates if replicates is None else int(replicates)
    ms = [comparison.get_metric(m) for m in metrics]
    cache = _cache(review)

    def key(m):
        return ("compare", p.start, p.end, m.name, seed, replicates, params.holm_alpha, params.min_symbol_days,
                params.ci_level, params.threshold(m.name))

    for coverage in dict.fromkeys(m.coverage for m in ms):
        todo = [m for m in ms if m.coverage == coverage and key(m) not in cache]
        if not todo:
            continue
        results = comparison.compare_many(
            comparison_sums(review, p, coverage), todo, thresholds={m.name: params.threshold(m.name) for m in todo},
            alpha=params.holm_alpha, min_symbol_days=params.min_symbol_days, replicates=replicates, seed=seed,
            level=params.ci_level)
        for m in todo:
            cache[key(m)] = results[m.name]
    return {m.name: cache[key(m)].copy() for m in ms}


def deterioration(review, period, prior_period=None, *, seed: int | None = None, replicates: int | None = None,
                  parameters: ReviewParameters | None = None) -> pd.DataFrame:
    """:meth:`Review.deterioration`: net PI per share of each review group versus the prior period."""
    p = parse_period(period)
    prior = parse_period(prior_period) if prior_period is not None else p.prior()
    params = parameters or load(p)
    seed = params.seed if seed is None else int(seed)
    replicates = params.replicates if replicates is None else int(replicates)
    key = ("deterioration", p.start, p.end, prior.start, prior.end, seed, replicates, params.holm_alpha,
           params.min_symbol_days, params.ci_level, params.deterioration_pct, params.deterioration_abs_ps)
    cache = _cache(review)
    if key not in cache:
        cache[key] = det.deterioration(
            comparison_sums(review, p, "pi"), comparison_sums(review, prior, "pi"), period=p.label,
            prior_period=prior.label, pct_threshold=params.deterioration_pct,
            abs_threshold=params.deterioration_abs_ps, alpha=params.holm_alpha,
            min_symbol_days=params.min_symbol_days, replicates=replicates, seed=seed, level=params.ci_level)
    return cache[key].copy()


def trigger_periods(period, parameters: ReviewParameters) -> list[Period]:
    """The periods whose deterioration trigger a review of ``period`` runs: the period itself (against
    its prior period) and, for a quarter with ``monthly_deterioration``, each of its months."""
    p = parse_period(period)
    out = [p]
    if parameters.monthly_deterioration and p.label[4:5] == "Q":
        year, quarter = int(p.label[:4]), int(p.label[5])
        out += [parse_period(f"{year}-{3 * quarter - 2 + i:02d}") for i in range(3)]
    return out


def deterioration_all(review, period, parameters: ReviewParameters) -> pd.DataFrame:
    frames = [deterioration(review, t, parameters=parameters) for t in trigger_periods(period, parameters)]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=det.RESULT_COLUMNS)


# -- exception providers (listed in bestex_nb.exception_register.PROVIDERS) ------------------------------------

def material_difference_exceptions(review, period: Period, parameters: ReviewParameters) -> pd.DataFrame:
    """One exception per material difference of each metric in ``exceptions.material_metrics``.

    Id: ``MAT-<period>-<metric>-<venue>-<sp500|other>-<order_category>``. ``value`` is the difference
    (positive = venue better), ``threshold`` the negative boundary it fell below.
    """
    results = compare_all(review, period, parameters.material_metrics, parameters=parameters)
    rows = []
    for metric, df in results.items():
        unit = comparison.METRICS[metric].unit
        for r in df[df["is_material"]].itertuples(index=False):
            rows.append({
                "exception_id": slug("MAT", period.label, metric, r.venue, segment_code(r.is_sp500), r.order_category),
                "kind": "material_difference", "period": period.label, "venue": r.venue,
                "is_sp500": bool(r.is_sp500), "order_category": r.order_category, "metric": metric,
                "value": r.difference, "ci_low": r.ci_low, "ci_high": r.ci_high, "threshold": -r.threshold,
                "unit": unit, "p_holm": r.p_holm,
                "detail": (f"{METRIC_LABELS[metric]}: {fmt_value(r.difference, unit, signed=True)} against the "
                           f"other venues in like-for-like cells (95% interval {fmt_value(r.ci_low, unit)} to "
                           f"{fmt_value(r.ci_high, unit)}; {r.matched_pct:.0%} of the venue's shares matched; "
                           f"{r.symbol_days} symbol-days)"),
            })
    return pd.DataFrame(rows)


def deterioration_exceptions(review, period: Period, parameters: ReviewParameters) -> pd.DataFrame:
    """One exception per breach of the deterioration trigger in each trigger period.

    Id: ``DET-<trigger period>-<venue>-<sp500|other>-<order_category>``. ``value`` is the change as a
    fraction of the prior value (basis ``pct``) or in USD/share (basis ``abs``, prior ≤ 0);
    ``threshold`` the negative boundary it fell below.
    """
    rows = []
    for t in trigger_periods(period, parameters):
        df = deterioration(review, t, parameters=parameters)
        for r in df[df["is_breach"]].itertuples(index=False):
            pct = r.basis == "pct"
            value, lo, hi = (r.pct_change, r.pct_ci_low, r.pct_ci_high) if pct else (
                r.change_ps, r.change_ci_low, r.change_ci_high)
            unit = "fraction of prior" if pct else "USD/share"
            rows.append({
                "exception_id": slug("DET", t.label, r.venue, segment_code(r.is_sp500), r.order_category),
                "kind": "deterioration", "period": t.label, "venue": r.venue, "is_sp500": bool(r.is_sp500),
                "order_category": r.order_category, "subject": f"vs {r.prior_period}", "metric": "net_pi_ps",
                "value": value, "ci_low": lo, "ci_high": hi, "threshold": -r.threshold, "unit": unit,
                "p_holm": r.p_holm,
                "detail": (f"net PI per share {fmt_value(r.prior_value, 'USD/share')} in {r.prior_period} → "
                           f"{fmt_value(r.current_value, 'USD/share')} in {t.label}: "
                           f"{fmt_value(value, unit, signed=True)} (95% interval {fmt_value(lo, unit)} to "
                           f"{fmt_value(hi, unit)})"),
            })
    return pd.DataFrame(rows)


# -- the notebook's frames ---------------------------------------------------------------------------

@dataclass
class VenueReview:
    """Frames behind the venue-comparison section of a report (grain in each comment)."""

    period: str
    venue: str | None
    parameters: ReviewParameters
    comparisons: pd.DataFrame  # metric × review group (compare_venues rows of every metric)
    deterioration: pd.DataFrame  # trigger period × review group
    exceptions: pd.DataFrame  # one row per exception, with its disposition

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"venue_comparison": self.comparisons, "deterioration": self.deterioration,
                "exceptions": self.exceptions, "review_parameters": self.parameters.table()}


def compute(review, period, venue: str | None = None, parameters_dir: str | os.PathLike | None = None
            ) -> VenueReview:
    """Comparisons of the price-improvement metrics (and the exception metrics), the deterioration
    triggers and the exceptions of ``period``; rows of one ``venue`` only when given (the comparison
    itself always pits each venue against all the others). ``parameters_dir`` holds defaults.yaml and
    decisions.yaml (default: the checkout's ``parameters/``)."""
    p = parse_period(period)
    params = load(p, parameters_dir or None)
    decisions = Path(parameters_dir) / "decisions.yaml" if parameters_dir else None
    metrics = list(dict.fromkeys([*PI_METRICS, *params.material_metrics]))
    comps = pd.concat(compare_all(review, p, metrics, parameters=params).values(), ignore_index=True)
    trig = deterioration_all(review, p, params)
    exc = review.exceptions(p, parameters=params, decisions=decisions)
    if venue:
        comps, trig, exc = (df[df["venue"] == venue].reset_index(drop=True) for df in (comps, trig, exc))
    return VenueReview(p.label, venue, params, comps, trig, exc)


# -- figures -----------------------------------------------------------------------------------------

def forest(comparisons: pd.DataFrame, metrics, colors: dict, title: str | None = None) -> go.Figure:
    """Forest plot: each review group's difference with its 95% interval, one panel per metric.

    Positive = the venue is better for the customer than the other venues in the same cells. The dashed
    red line is the materiality threshold; an outlined diamond marks a material difference.
    """
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    df = sort_groups(comparisons[comparisons["metric"].isin(metrics)])
    labels = list(dict.fromkeys(group_label(df)))
    fig = make_subplots(rows=1, cols=len(metrics), shared_yaxes=True, horizontal_spacing=0.06,
                        subplot_titles=[METRIC_LABELS[m] for m in metrics])
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
        _flags(fig, sub[sub["is_material"]], "difference", scale, "material difference", i)
        threshold = float(sub["threshold"].iloc[0]) * scale if len(sub) else None
        fig.add_vline(x=0, line_color="#555", line_width=1, row=1, col=i)
        if threshold:
            fig.add_vline(x=-threshold, line_color="#c0392b", line_dash="dash", line_width=1, row=1, col=i)
        fig.update_xaxes(title_text={"USD/share": "USD/share", "ratio": "points of the quoted spread",
                                     "fraction": "percentage points", "ms": "ms"}[unit], row=1, col=i,
                         tickformat={"USD/share": "$.4f"}.get(unit, ",.0f"))
    fig.update_yaxes(categoryorder="array", categoryarray=labels[::-1], type="category")
    fig.update_layout(
        title=title or "Each venue against the other venues in the same cells (positive = better for the customer)",
        height=max(360, 28 * len(labels) + 160), legend_title_text="venue")
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
