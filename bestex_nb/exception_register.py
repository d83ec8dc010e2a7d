"""The register of compliance exceptions: one table across review dimensions, joined to the committee's
recorded decisions (not Python exceptions: those are in :mod:`bestex_nb.contract.errors`).

Each kind of exception comes from a *provider*: a function ``provider(review, period, parameters) ->
DataFrame`` over the public :class:`~bestex_nb.review.Review` API only, whose rows carry a stable
``exception_id`` (derived from the kind, the period and the cell or order, never from a counter or a
timestamp), so that ``parameters/decisions.yaml`` can refer to it across re-runs. The providers are the
callables in :data:`PROVIDERS`, defined below; :func:`register` adds one at run time.

To add a dimension's exceptions: give :class:`~bestex_nb.review.Review` the method that finds them (a
metric query), write ``def my_exceptions(review, period, parameters) -> pd.DataFrame`` here returning the
columns of :data:`PROVIDER_COLUMNS` it knows (at least ``exception_id``, ``kind``, ``period``), and add it
to :data:`PROVIDERS`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping

import pandas as pd

from bestex_nb.contract.parameters import Decision, ParameterError, ReviewParameters
from bestex_nb.contract.periods import Period, parse_period
from bestex_nb.contract.units import fmt_value
from bestex_nb.stats.comparison import METRIC_LABELS, METRICS

#: Columns a provider may fill (missing ones are left empty). ``value`` is the figure that raised the
#: exception (a difference, a change, a shortfall), ``threshold`` what it was compared with, both in
#: ``unit``; ``subject`` names what the row is about beyond venue and segment (e.g. an order id).
PROVIDER_COLUMNS = [
    "exception_id", "kind", "period", "venue", "is_sp500", "order_category", "subject", "metric",
    "value", "ci_low", "ci_high", "threshold", "unit", "p_holm", "detail",
]
DECISION_COLUMNS = ["disposition", "rationale", "decided_on", "decided_by"]
EXCEPTION_COLUMNS = PROVIDER_COLUMNS + DECISION_COLUMNS
NO_DECISION = "no decision recorded"

Provider = Callable[..., pd.DataFrame]

def register(provider: Provider) -> None:
    """Add a provider (a callable) unless it is already listed."""
    if not callable(provider):
        raise TypeError(f"an exception provider is a callable, not {provider!r}")
    if provider not in PROVIDERS:
        PROVIDERS.append(provider)


def slug(*parts) -> str:
    """A readable, stable id from its parts: ``slug("DET", "2026-09", "WSB", "sp500", "market")`` →
    ``DET-2026-09-WSB-sp500-market``. Characters other than letters, digits, ``.``, ``_`` and ``-`` in a
    part become ``_``."""
    return "-".join(re.sub(r"[^A-Za-z0-9._-]", "_", str(p)) for p in parts if p is not None and str(p) != "")


def segment_code(is_sp500) -> str:
    """``sp500`` / ``other`` for ids (the security group of metrics.md section 7)."""
    return "sp500" if bool(is_sp500) else "other"


def collect(review, period: Period, parameters: ReviewParameters, decisions: Mapping[str, Decision],
            providers: list[Provider] | None = None) -> pd.DataFrame:
    """Every provider's exceptions for ``period``, with the committee's decision joined on the id.

    Returns one row per exception with :data:`EXCEPTION_COLUMNS`, sorted by kind, venue and id. An
    exception without a decision shows disposition ``open`` and rationale ``no decision recorded``.
    """
    frames = []
    for provider in PROVIDERS if providers is None else providers:
        frame = provider(review, period, parameters)
        unknown = set(frame.columns) - set(PROVIDER_COLUMNS)
        if unknown:
            raise ValueError(f"exception provider {provider!r} returned unknown columns {sorted(unknown)}")
        if not frame.empty:
            frames.append(frame.reindex(columns=PROVIDER_COLUMNS))
    table = (pd.concat(frames, ignore_index=True) if frames
             else pd.DataFrame(columns=PROVIDER_COLUMNS))
    duplicated = table["exception_id"][table["exception_id"].duplicated()].tolist()
    if duplicated:
        raise ValueError(f"exception ids must be unique; duplicated: {duplicated[:5]}")
    unmatched = unmatched_decisions(table, decisions, period, parameters,
                                    PROVIDERS if providers is None else providers)
    errors = unmatched.loc[unmatched["is_error"].astype(bool)]
    if not errors.empty:
        raise ParameterError(
            f"{len(errors)} recorded decision(s) match no exception of {period.label}; the committee's "
            "disposition would not be shown. Correct the id (or, when the exception is no longer raised, "
            "remove the entry):\n" + "\n".join(
                f"  {r.source or 'decisions'}: decision {r.exception_id!r}: {r.reason}; closest existing id: "
                f"{r.closest or '(none close)'}" for r in errors.itertuples()))
    out = join_decisions(table, decisions).sort_values(["kind", "venue", "exception_id"], ignore_index=True)
    out.attrs["unmatched_decisions"] = unmatched["exception_id"].tolist()
    return out


#: The id prefix of the built-in providers' exceptions (an id is ``<prefix>-...``).
_PREFIX = {"MAT": "material_difference_exceptions", "DET": "deterioration_exceptions",
           "R5310.05": "rule5310_05_exceptions"}
_PERIOD_PART = re.compile(r"(\d{4}Q[1-4]|\d{4}-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2}|\d{4}-\d{2})-")


def unmatched_decisions(table: pd.DataFrame, decisions: Mapping[str, Decision], period: Period,
                        parameters: ReviewParameters, providers: list[Provider]) -> pd.DataFrame:
    """The decisions whose id is not an exception of ``table`` (what :func:`collect` found for
    ``period``), one row each: ``exception_id``, ``source`` (the file), ``is_error``, ``reason`` and
    ``closest`` (the most similar id of ``table``, or empty).

    A decisions file holds every period's decisions, so an unmatched id is an error only when it must
    have been meant for this review: its kind prefix is unknown (``DET_2026-09-...``: a typo, it can
    match nothing ever), its period part is not a period (``DET-2026-9-...``), or its period is one this
    review covers (``MAT-<period>``, ``DET-<period or a trigger month>``) and the id matches nothing.
    Ids of other periods, ids of kinds whose provider did not run, and ``R5310.05-<order>`` ids (they
    carry no period) are listed with ``is_error`` false.
    """
    ids = set(table["exception_id"])
    ran = {getattr(p, "__name__", "") for p in providers}
    known = {pre for pre, name in _PREFIX.items()} | {i.split("-", 1)[0] for i in ids}
    own = {"DET": {t.label for t in parameters.trigger_periods(period)}}
    rows = []
    for exception_id, decision in decisions.items():
        if exception_id in ids:
            continue
        prefix, _, rest = exception_id.partition("-")
        period_part = _PERIOD_PART.match(rest)
        if prefix not in known:
            reason = f"unknown kind {prefix!r} (ids start with {', '.join(sorted(known))})"
        elif prefix in _PREFIX and _PREFIX[prefix] not in ran or prefix == "R5310.05":
            reason = None
        elif not period_part:
            reason = f"no period after {prefix}- (expected e.g. {prefix}-{period.label}-...)"
        elif period_part.group(1) in own.get(prefix, {period.label}):
            reason = f"no {prefix} exception with this id was raised for {period_part.group(1)}"
        else:
            reason = None
        close = difflib.get_close_matches(exception_id, sorted(ids), n=1)
        rows.append({"exception_id": exception_id, "source": getattr(decision, "source", ""),
                     "is_error": reason is not None, "reason": reason or "",
                     "closest": close[0] if close else ""})
    return pd.DataFrame(rows, columns=["exception_id", "source", "is_error", "reason", "closest"])


def join_decisions(table: pd.DataFrame, decisions: Mapping[str, Decision]) -> pd.DataFrame:
    """Add the decision columns: the recorded decision, or ``open`` / ``no decision recorded``."""
    out = table.copy()
    found = [decisions.get(i) for i in out["exception_id"]]
    out["disposition"] = [d.disposition if d else "open" for d in found]
    out["rationale"] = [d.rationale if d else NO_DECISION for d in found]
    out["decided_on"] = [d.decided_on.isoformat() if d and d.decided_on else "" for d in found]
    out["decided_by"] = [d.decided_by if d else "" for d in found]
    return out.loc[:, EXCEPTION_COLUMNS]


# -- the providers ---------------------------------------------------------------------------------

def material_difference_exceptions(review, period: Period, parameters: ReviewParameters) -> pd.DataFrame:
    """One exception per material difference of each metric in ``exceptions.material_metrics``
    (:meth:`Review.compare_venues`).

    Id: ``MAT-<period>-<metric>-<venue>-<sp500|other>-<order_category>``. ``value`` is the difference
    (positive = venue better), ``threshold`` the negative boundary it fell below.
    """
    rows = []
    for metric in parameters.material_metrics:
        df = review.compare_venues(period, metric, against=parameters.compare_against, parameters=parameters)
        unit = METRICS[metric].unit
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
    """One exception per breach of the deterioration trigger in each trigger period
    (:meth:`Review.deterioration_triggers`).

    Id: ``DET-<trigger period>-<venue>-<sp500|other>-<order_category>``. ``value`` is the change as a
    fraction of the prior value (basis ``pct``) or in USD/share (basis ``abs``, prior ≤ 0);
    ``threshold`` the negative boundary it fell below.
    """
    rows = []
    df = review.deterioration_triggers(period, parameters=parameters)
    for r in df[df["is_breach"]].itertuples(index=False):
        pct = r.basis == "pct"
        value, lo, hi = (r.pct_change, r.pct_ci_low, r.pct_ci_high) if pct else (
            r.change_ps, r.change_ci_low, r.change_ci_high)
        unit = "fraction of prior" if pct else "USD/share"
        rows.append({
            "exception_id": slug("DET", r.period, r.venue, segment_code(r.is_sp500), r.order_category),
            "kind": "deterioration", "period": r.period, "venue": r.venue, "is_sp500": bool(r.is_sp500),
            "order_category": r.order_category, "subject": f"vs {r.prior_period}", "metric": "net_pi_ps",
            "value": value, "ci_low": lo, "ci_high": hi, "threshold": -r.threshold, "unit": unit,
            "p_holm": r.p_holm,
            "detail": (f"net PI per share {fmt_value(r.prior_value, 'USD/share')} in {r.prior_period} → "
                       f"{fmt_value(r.current_value, 'USD/share')} in {r.period}: "
                       f"{fmt_value(value, unit, signed=True)} (95% interval {fmt_value(lo, unit)} to "
                       f"{fmt_value(hi, unit)})"),
        })
    return pd.DataFrame(rows)


def rule5310_05_exceptions(review, period, parameters=None) -> pd.DataFrame:
    """One row per marketable limit order with fills priced worse than the far touch at receipt
    (:meth:`Review.marketable_limit_exceptions`; metrics.md section 6, Rule 5310 .05).

    Id: ``R5310.05-<order_id>`` — the order, not the period, so a disposition recorded once holds in the
    monthly and the quarterly review alike. ``value`` is the shortfall Σ q·max(−PI, 0) in USD; there is
    no threshold (every such fill is an exception). ``parameters`` is not used.
    """
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


#: Every provider, in the order their rows are collected.
PROVIDERS: list[Provider] = [material_difference_exceptions, deterioration_exceptions, rule5310_05_exceptions]
