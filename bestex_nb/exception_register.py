"""The register of compliance exceptions: one table across review dimensions, joined to the committee's
recorded decisions (not Python exceptions: those are in :mod:`bestex_nb.contract.errors`).

Each kind of exception comes from a *provider*: a function ``provider(review, period, parameters) ->
DataFrame`` over the public :class:`~bestex_nb.review.Review` API only, whose rows carry a stable
``exception_id`` (derived from the kind, the period and the cell or order, never from a counter or a
timestamp), so that ``parameters/decisions.yaml`` can refer to it across re-runs. The providers are the
callables in :data:`PROVIDERS`, defined below; :func:`register` adds one at run time.

Exceptions come in **groups** (``group_id``): the Rule 5310 .05 orders of one period by routed venue and
cause (``market_moved``, ``through_quote``, ``no_quote_at_execution``: :meth:`Review.marketable_limit_exceptions`),
every other exception a group of its own whose id is the exception's. A decision in ``decisions.yaml`` may
name a group id and then applies to every member; a member's own decision overrides its group's.
:func:`groups` sums the members of each group (counts, dollars, worst members, one line of text).

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
from bestex_nb.contract.units import fmt_pair, fmt_value
from bestex_nb.stats.comparison import METRIC_LABELS, METRICS

#: Columns a provider may fill (missing ones are left empty). ``value`` is the figure that raised the
#: exception (a difference, a change, a shortfall), ``threshold`` what it was compared with, both in
#: ``unit``; ``subject`` names what the row is about beyond venue and segment (e.g. an order id).
#: ``group_id`` (default: the exception's own id), ``cause`` and ``usd_impact`` (what the exception cost
#: customers in USD, positive = a cost; null when the figure is not in USD per share or USD) group and
#: rank the rows; ``nbb_r``/``nbo_r`` and ``nbb_x``/``nbo_x`` are the NBBO at receipt and at execution
#: (of the worst fill, ``executed_at``) of a Rule 5310 .05 order.
PROVIDER_COLUMNS = [
    "exception_id", "kind", "period", "venue", "is_sp500", "order_category", "subject", "metric",
    "value", "ci_low", "ci_high", "threshold", "unit", "p_holm", "detail", "group_id", "cause", "usd_impact",
    "nbb_r", "nbo_r", "executed_at", "nbb_x", "nbo_x",
]
#: ``decision_id``: the id whose decision is shown (the exception's, its group's, or empty: none).
DECISION_COLUMNS = ["disposition", "rationale", "decided_on", "decided_by", "decision_id"]
EXCEPTION_COLUMNS = PROVIDER_COLUMNS + DECISION_COLUMNS
NO_DECISION = "no decision recorded"
#: One row per group (:func:`groups`).
GROUP_COLUMNS = ["group_id", "period", "kind", "venue", "cause", "members", "open_members", "usd_impact",
                 "worst_ids", "disposition", "description"]
#: The comparison metrics whose difference × matched shares is dollars to the customers (net price
#: improvement); a spread or realized-spread difference is in USD per share too but is not the customers'
#: money on its own (it overlaps net PI), so its exceptions have no dollar impact.
USD_IMPACT_METRICS = frozenset({"net_pi_ps"})
#: How many of a group's members :func:`groups` names, the costliest first.
WORST_SHOWN = 3

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
    gid = table["group_id"]  # a group of its own unless the provider named one
    table["group_id"] = gid.where(gid.notna(), table["exception_id"]) if gid.notna().any() else table["exception_id"]
    duplicated = table["exception_id"][table["exception_id"].duplicated()].tolist()
    if duplicated:
        raise ValueError(f"exception ids must be unique; duplicated: {duplicated[:5]}")
    shared = table.loc[table["group_id"] != table["exception_id"], "group_id"].unique()  # a few ids
    clash = sorted(table.loc[table["exception_id"].isin(shared), "exception_id"])
    if clash:
        raise ValueError(f"a group id must not be another exception's id: {clash[:5]}")
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
           "R5310.05": "rule5310_05_exceptions", "PFOF": "pfof_exceptions"}  # PFOF: review_pfof.py
#: The prefix of a group id that is not its only member's id: ``GROUP-<kind prefix>-<period>-...``.
GROUP = "GROUP"
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
    carry no period) are listed with ``is_error`` false. A group id (``GROUP-<kind>-<period>-...``, or
    the id of a group's only exception) is judged as an id of its kind. ``closest`` is looked up for the
    errors only (the ids of other periods' orders would each cost a search of every id).
    """
    columns = ["exception_id", "source", "is_error", "reason", "closest"]
    if not decisions:
        return pd.DataFrame(columns=columns)
    all_ids = pd.concat([table["exception_id"], table.get("group_id", table["exception_id"])], ignore_index=True)
    matched = set(all_ids[all_ids.isin(list(decisions))])  # set ops on the decisions, not on every id
    ran = {getattr(p, "__name__", "") for p in providers}
    known = set(_PREFIX) | set(table["exception_id"].str.partition("-")[0].unique())
    own = {"DET": {t.label for t in parameters.trigger_periods(period)}}
    rows = []
    for exception_id, decision in decisions.items():
        if exception_id in matched:
            continue
        prefix, _, rest = exception_id.partition("-")
        is_group = prefix == GROUP
        if is_group:
            prefix, _, rest = rest.partition("-")
        period_part = _PERIOD_PART.match(rest)
        if prefix not in known:
            reason = f"unknown kind {prefix!r} (ids start with {', '.join(sorted(known))}, or {GROUP}-)"
        elif prefix in _PREFIX and _PREFIX[prefix] not in ran or prefix == "R5310.05" and not is_group:
            reason = None
        elif not period_part:
            reason = f"no period after {prefix}- (expected e.g. {prefix}-{period.label}-...)"
        elif period_part.group(1) in own.get(prefix, {period.label}):
            what = "group" if is_group else "exception"
            reason = f"no {prefix} {what} with this id was raised for {period_part.group(1)}"
        else:
            reason = None
        close = difflib.get_close_matches(exception_id, sorted(set(all_ids)), n=1) if reason else []
        rows.append({"exception_id": exception_id, "source": getattr(decision, "source", ""),
                     "is_error": reason is not None, "reason": reason or "",
                     "closest": close[0] if close else ""})
    return pd.DataFrame(rows, columns=columns)


def join_decisions(table: pd.DataFrame, decisions: Mapping[str, Decision]) -> pd.DataFrame:
    """Add the decision columns: the exception's own recorded decision, else its group's (when the group
    id is not the exception's), else ``open`` / ``no decision recorded``; ``decision_id`` says whose.
    Only the rows a decision names are looked up (the decisions are few, the rows up to 10⁵)."""
    out = table.copy(deep=False)
    if "group_id" not in out:
        out["group_id"] = out["exception_id"]
    defaults = {"disposition": "open", "rationale": NO_DECISION, "decided_on": "", "decided_by": "",
                "decision_id": ""}
    keys = list(decisions)
    own = out["exception_id"].isin(keys).to_numpy() if keys else None
    grouped = (~own & out["group_id"].isin(keys).to_numpy()) if keys else None
    if not keys or not (own.any() or grouped.any()):
        for col, value in defaults.items():
            out[col] = value
        return out.reindex(columns=EXCEPTION_COLUMNS)
    decision_id = pd.Series("", index=out.index, dtype=object)
    decision_id[own] = out.loc[own, "exception_id"].astype(object)
    decision_id[grouped] = out.loc[grouped, "group_id"].astype(object)
    fields = pd.DataFrame([(d.disposition, d.rationale, d.decided_on.isoformat() if d.decided_on else "",
                            d.decided_by) for d in decisions.values()],
                          columns=["disposition", "rationale", "decided_on", "decided_by"],
                          index=pd.Index(keys, dtype=object))
    hit = own | grouped
    found = fields.reindex(decision_id[hit].to_numpy())  # the decided rows only, by index
    for col in fields.columns:
        values = pd.Series(defaults[col], index=out.index, dtype=object)
        values[hit] = found[col].to_numpy()
        out[col] = values
    out["decision_id"] = decision_id
    return out.reindex(columns=EXCEPTION_COLUMNS)


def groups(table: pd.DataFrame) -> pd.DataFrame:
    """One row per group of an exceptions table (:func:`collect`), the open groups first, each part in
    order of the size of its dollar impact (|usd_impact| descending, groups without one after), then by id.

    Columns (:data:`GROUP_COLUMNS`): group_id, period, kind, venue, cause; members, open_members (members
    whose disposition is open); usd_impact (Σ of the members', USD; null when no member has one);
    worst_ids (up to :data:`WORST_SHOWN` member ids, the costliest first, ", "-joined); disposition (the
    one every member has, else ``mixed``); description (one line: the member's own text for a group of
    one, else counts, dollars and the cause). Computed per group, never per member row.
    """
    if table.empty:
        return pd.DataFrame(columns=GROUP_COLUMNS)
    t = table.assign(_open=table["disposition"].eq("open"), _impact=table["usd_impact"].astype(float))
    ranked = t.sort_values(["group_id", "_impact", "exception_id"], ascending=[True, False, True],
                           na_position="last", kind="stable")
    g = ranked.groupby("group_id", sort=True)
    out = g.agg(period=("period", "first"), kind=("kind", "first"), venue=("venue", "first"),
                cause=("cause", "first"), members=("exception_id", "size"), open_members=("_open", "sum"),
                usd_impact=("_impact", lambda x: x.sum(min_count=1)), n_dispositions=("disposition", "nunique"),
                disposition=("disposition", "first"), detail=("detail", "first"))
    out["worst_ids"] = ranked.groupby("group_id", sort=True).head(WORST_SHOWN).groupby(
        "group_id", sort=True)["exception_id"].agg(", ".join)
    out["disposition"] = out["disposition"].where(out["n_dispositions"] == 1, "mixed")
    out = out.reset_index()
    out["description"] = out["detail"].where(out["members"] == 1, _group_text(out))
    out["_abs"] = out["usd_impact"].abs()
    out["_closed"] = out["open_members"].eq(0)
    out = out.sort_values(["_closed", "_abs", "group_id"], ascending=[True, False, True], na_position="last",
                          ignore_index=True)
    return out.reindex(columns=GROUP_COLUMNS)


AGAINST_TEXT = {"others": "the other venues", "same_type": "the other venues of its type"}

_CAUSE_TEXT = {
    "market_moved": "the market moved: every fill within or at the NBBO at execution",
    "through_quote": "filled THROUGH the quote in force at execution",
    "no_quote_at_execution": "no valid NBBO at execution to judge the fill",
}


def _group_text(g: pd.DataFrame) -> pd.Series:
    """The one-line description of groups of several members (a loop over groups, not members)."""
    return pd.Series([
        f"{r.members:,} {str(r.kind).replace('_', ' ')} exception(s) at {r.venue}"
        + (f": {_CAUSE_TEXT.get(r.cause, r.cause)}" if isinstance(r.cause, str) and r.cause else "")
        + (f"; ${r.usd_impact:,.2f} in all" if pd.notna(r.usd_impact) else "")
        + f"; {r.open_members:,} open" for r in g.itertuples()], index=g.index, dtype=object)


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
                # one group per venue and metric (its cause): the committee reads "WSB's E/Q" once, not
                # once per S&P 500 / other × order type
                "group_id": slug(GROUP, "MAT", period.label, metric, r.venue), "cause": metric,
                "kind": "material_difference", "period": period.label, "venue": r.venue,
                "is_sp500": bool(r.is_sp500), "order_category": r.order_category, "metric": metric,
                "value": r.difference, "ci_low": r.ci_low, "ci_high": r.ci_high, "threshold": -r.threshold,
                "unit": unit, "p_holm": r.p_holm,
                # what the difference cost the customers' matched shares (money per share to them only)
                "usd_impact": -r.difference * r.matched_shares if metric in USD_IMPACT_METRICS else None,
                # one unit for the figure, its threshold and its interval (points for E/Q: issue 19), and
                # never printed so that it rounds onto its threshold
                "detail": (f"{METRIC_LABELS[metric]}: {fmt_value(r.difference, unit, True, threshold=-r.threshold)} "
                           f"against {AGAINST_TEXT[parameters.compare_against]} in like-for-like cells (threshold "
                           f"{fmt_pair(r.difference, -r.threshold, unit)[1]}; 95% interval "
                           f"{fmt_value(r.ci_low, unit, True)} to {fmt_value(r.ci_high, unit, True)}; "
                           f"{r.matched_pct:.0%} of the venue's shares matched; {r.symbol_days} symbol-days)"),
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
    breaches = df[df["is_breach"]]
    shares = {}  # executed shares of each trigger period's review groups: the fall's dollar impact
    for label in dict.fromkeys(breaches["period"]):
        t = review.price_improvement(label, ["venue", "is_sp500", "order_category"])
        shares.update({(label, v, bool(s), c): x for v, s, c, x in
                       zip(t["venue"], t["is_sp500"], t["order_category"], t["executed_shares"])})
    for r in breaches.itertuples(index=False):
        executed = shares.get((r.period, r.venue, bool(r.is_sp500), r.order_category), 0.0)
        # what the fall cost the period's customers: the fall per share × the shares they executed
        impact = -float(r.change_ps) * float(executed) if pd.notna(r.change_ps) else None
        pct = r.basis == "pct"
        value, lo, hi = (r.pct_change, r.pct_ci_low, r.pct_ci_high) if pct else (
            r.change_ps, r.change_ci_low, r.change_ci_high)
        unit = "fraction of prior" if pct else "USD/share"
        rows.append({
            "exception_id": slug("DET", r.period, r.venue, segment_code(r.is_sp500), r.order_category),
            "group_id": slug(GROUP, "DET", r.period, r.venue),  # one group per venue and trigger period
            "kind": "deterioration", "period": r.period, "venue": r.venue, "is_sp500": bool(r.is_sp500),
            "order_category": r.order_category, "subject": f"vs {r.prior_period}", "metric": "net_pi_ps",
            "value": value, "ci_low": lo, "ci_high": hi, "threshold": -r.threshold, "unit": unit,
            "p_holm": r.p_holm, "cause": "deterioration", "usd_impact": impact,
            "detail": (f"net PI per share {fmt_value(r.prior_value, 'USD/share')} in {r.prior_period} → "
                       f"{fmt_value(r.current_value, 'USD/share')} in {r.period}: "
                       f"{fmt_value(value, unit, signed=True, threshold=-r.threshold)} (threshold "
                       f"{fmt_pair(value, -r.threshold, unit)[1]}; 95% interval {fmt_value(lo, unit, True)} to "
                       f"{fmt_value(hi, unit, True)}; {fmt_value(impact, 'USD')} over {executed:,.0f} shares)"),
        })
    return pd.DataFrame(rows)


def rule5310_05_exceptions(review, period, parameters=None) -> pd.DataFrame:
    """One row per marketable limit order with fills priced worse than the far touch at receipt
    (:meth:`Review.marketable_limit_exceptions`; metrics.md section 6, Rule 5310 .05), with the NBBO at
    receipt and at execution (of the worst fill) and the cause: ``market_moved``, ``through_quote`` or
    ``no_quote_at_execution``.

    Id: ``R5310.05-<order_id>`` — the order, not the period, so a disposition recorded once holds in the
    monthly and the quarterly review alike. Group: ``GROUP-R5310.05-<period>-<venue>-<cause>``. ``value``
    and ``usd_impact`` are the shortfall Σ q·max(−PI, 0) in USD; there is no threshold (every such fill
    is an exception). The text (``detail``) is written by the query for every row at once.
    ``parameters`` is not used.
    """
    p = parse_period(period)
    ex = review.marketable_limit_exceptions(p)
    prefix, group_prefix = "R5310.05-", f"{GROUP}-R5310.05-{p.label}-"
    return pd.DataFrame({
        "exception_id": prefix + ex["order_id"].str.replace(_UNSAFE, "_", regex=True),
        "kind": "marketable_limit_outside_quote", "period": p.label, "venue": ex["venue"],
        "is_sp500": ex["is_sp500"].astype(bool), "order_category": "marketable_limit", "subject": ex["order_id"],
        "metric": "shortfall_usd", "value": ex["shortfall_usd"], "threshold": 0.0, "unit": "USD",
        "detail": ex["detail"],
        "group_id": group_prefix + ex["venue"].str.replace(_UNSAFE, "_", regex=True) + "-" + ex["cause"],
        "cause": ex["cause"], "usd_impact": ex["shortfall_usd"], "nbb_r": ex["nbb_r"], "nbo_r": ex["nbo_r"],
        "executed_at": ex["worst_executed_at"], "nbb_x": ex["nbb_x"], "nbo_x": ex["nbo_x"],
    })


#: What :func:`slug` replaces in a part (vectorised for the per-order ids).
_UNSAFE = r"[^A-Za-z0-9._-]"


#: Every provider, in the order their rows are collected.
PROVIDERS: list[Provider] = [material_difference_exceptions, deterioration_exceptions, rule5310_05_exceptions]
