"""Readable tables of the venue comparison, the deterioration trigger and the exceptions (text cells,
formatted in each figure's unit), for the notebook."""

from __future__ import annotations

import pandas as pd
from pandas.io.formats.style import Styler

from bestex_nb.contract.units import fmt_pair, fmt_value
from bestex_nb.report import plots
from bestex_nb.stats import comparison
from bestex_nb.stats.comparison import METRIC_LABELS

#: the price-improvement comparisons a page shows, value-weighted first (metrics.md section 5)
PI_METRICS = ["net_pi_bps", "eq_ratio", "eff_spread_bps", "net_pi_ps", "eff_spread_ps", "realized_spread_1m_ps",
              "avg_exec_ms"]
#: what the same-type comparison is shown for (the headline figures; the others are in the evidence CSV)
SAME_TYPE_METRICS = ["net_pi_bps", "eq_ratio", "eff_spread_bps"]
AGAINST_LABELS = {"others": "against all other venues", "same_type": "against venues of the same type"}
SEGMENT_LABELS = {True: "S&P 500", False: "other stocks"}
CATEGORY_ORDER = ["market", "marketable_limit", "inside_quote_limit", "at_quote_limit", "near_quote_limit",
                  "away_limit"]



def group_label(df: pd.DataFrame) -> pd.Series:
    return (df["venue"] + " · " + df["is_sp500"].map(SEGMENT_LABELS) + " · "
            + df["order_category"].str.replace("_", " "))


def sort_groups(df: pd.DataFrame) -> pd.DataFrame:
    """Review groups in reading order: venue, S&P 500 first, order categories as in section 2."""
    rank = {c: i for i, c in enumerate(CATEGORY_ORDER)}
    return df.assign(_c=df["order_category"].map(rank)).sort_values(
        ["venue", "is_sp500", "_c"], ascending=[True, False, True]).drop(columns="_c")


STATUS_TEXT = {"material": " ● material", "insufficient_data": " (insufficient data)",
               "no_same_type_peer": " (no venue of its type to compare with)"}


def comparison_table(comparisons: pd.DataFrame, metrics=PI_METRICS, against: str = "others") -> pd.DataFrame:
    """Review groups (rows) × metrics (columns): ``difference [interval] status`` as text, for the
    comparison ``against`` (``others`` or ``same_type``; frames without the column are ``others``)."""
    if "against" in comparisons.columns:
        comparisons = comparisons[comparisons["against"] == against]
    # a venue with no peer of its type has nothing to show here: peers_sentence names it instead
    comparisons = comparisons[comparisons["status"] != "no_same_type_peer"]
    df = sort_groups(comparisons[comparisons["metric"].isin(metrics)])
    out = None
    for metric in metrics:
        sub = df[df["metric"] == metric]
        unit = comparison.METRICS[metric].unit
        text = [(f"{fmt_value(d, unit, True)} [{fmt_value(lo, unit, True)}, {fmt_value(hi, unit, True)}]"
                 if pd.notna(d) else "—") + STATUS_TEXT.get(s, "")
                for d, lo, hi, s in zip(sub["difference"], sub["ci_low"], sub["ci_high"], sub["status"])]
        text = [t.replace("−", "−\u2060") for t in text]  # a word joiner: never break a minus from its figure
        col = pd.DataFrame({"review group": group_label(sub).to_numpy(), METRIC_LABELS[metric]: text})
        out = col if out is None else out.merge(col, on="review group", how="outer", sort=False)
    return out if out is not None else pd.DataFrame(columns=["review group"])


def peers_sentence(context: pd.DataFrame, venues) -> str:
    """Which venues have a peer of their own type to be compared with, and which do not (``context``:
    ``Review.venue_context``): the same-type comparison says nothing about a venue with no peer."""
    types = context.set_index("venue")["venue_type"]
    alone = [v for v in venues if v in types.index and (types == types[v]).sum() < 2]
    paired = [v for v in venues if v not in alone]
    parts = []
    esc = plots.md_escape  # Markdown text: a hostile id or type must stay text
    if paired:
        parts.append("compared with venues of their own type: " + ", ".join(
            f"{esc(v)} ({esc(types.get(v, '?'))})" for v in paired))
    if alone:
        parts.append("no venue of the same type to compare with: " + ", ".join(
            f"{esc(v)} ({esc(types.get(v, '?'))})" for v in alone))
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "." if text else ""


FLAGGED = ("breach", "fall_not_significant", "insufficient_data")


def deterioration_table(trig: pd.DataFrame, statuses=FLAGGED) -> pd.DataFrame:
    """The trigger per period and review group as text, breaches first; only the rows whose status is
    in ``statuses`` (default: breaches, falls beyond the threshold that are not significant, and groups
    with too few symbol-days; ``None`` for every group with a prior value)."""
    df = trig[trig["status"] != "no_prior_data"]
    if statuses is not None:
        df = df[df["status"].isin(statuses)]
    df = sort_groups(df).sort_values(["is_breach", "period"], ascending=[False, False], kind="stable")
    return pd.DataFrame({
        "period": df["period"] + " vs " + df["prior_period"], "review group": group_label(df),
        "prior": [fmt_value(v, "USD/share") for v in df["prior_value"]],
        "current": [fmt_value(v, "USD/share") for v in df["current_value"]],
        "change": [fmt_value(v, "fraction of prior", True) if b == "pct" else fmt_value(c, "USD/share", True)
                   for v, c, b in zip(df["pct_change"], df["change_ps"], df["basis"])],
        "95% interval": [f"{fmt_value(lo, 'fraction of prior')} to {fmt_value(hi, 'fraction of prior')}"
                         if b == "pct" else f"{fmt_value(a, 'USD/share')} to {fmt_value(z, 'USD/share')}"
                         for lo, hi, a, z, b in zip(df["pct_ci_low"], df["pct_ci_high"], df["change_ci_low"],
                                                    df["change_ci_high"], df["basis"])],
        "Holm p": [f"{p:.3f}" if pd.notna(p) else "—" for p in df["p_holm"]],
        "symbol-days": df["symbol_days"].astype(int).to_numpy(),
        "status": df["status"].str.replace("_", " ").to_numpy(),
    })


def styled(table: pd.DataFrame, flags=("material", "breach"), columns=None,
           nowrap=("figure", "threshold")) -> Styler:
    """A text table from this module as a Styler: figures never wrap, and cells of ``columns`` (default:
    all) that contain one of ``flags`` are shaded."""
    styler = plots.style_table(table)
    cols = [c for c in nowrap if c in table.columns]
    if cols:
        styler = styler.set_properties(subset=cols, **{"white-space": "nowrap"})
    subset = [c for c in (columns or table.columns) if c in table.columns]
    return styler.map(lambda v: "background-color: #fde2e1" if isinstance(v, str) and any(f in v for f in flags)
                      else "", subset=subset)


def exceptions_summary(exc: pd.DataFrame) -> pd.DataFrame:
    """One row per kind × venue: how many exceptions, how many still open, and (for USD figures) the
    total, so a report can show order-level exceptions (hundreds of rows) without listing them."""
    columns = ["kind", "venue", "exceptions", "open", "routing changed", "justified", "total"]
    if exc.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for (kind, venue), g in exc.groupby(["kind", "venue"], sort=True, dropna=False):
        usd = (g["unit"] == "USD").all()
        rows.append({"kind": str(kind).replace("_", " "), "venue": venue, "exceptions": len(g),
                     "open": int((g["disposition"] == "open").sum()),
                     "routing changed": int((g["disposition"] == "routing_changed").sum()),
                     "justified": int((g["disposition"] == "justified").sum()),
                     "total": fmt_value(g["value"].sum(), "USD") if usd else ""})
    return pd.DataFrame(rows, columns=columns)


def exceptions_table(exc: pd.DataFrame, kinds=None) -> pd.DataFrame:
    """The exceptions with their dispositions, for reading (only ``kinds`` when given)."""
    if kinds is not None:
        exc = exc[exc["kind"].isin(list(kinds))]
    # the figure never printed so that it rounds onto its threshold (contract/units.py)
    pairs = [fmt_pair(v, t, u) for v, t, u in zip(exc["value"], exc["threshold"], exc["unit"])]
    return pd.DataFrame({
        "exception id": exc["exception_id"].tolist(), "kind": [str(k).replace("_", " ") for k in exc["kind"]],
        "figure": [f for f, _ in pairs],
        "threshold": [t for _, t in pairs],
        "detail": exc["detail"].tolist(), "disposition": [str(d).replace("_", " ") for d in exc["disposition"]],
        "rationale": exc["rationale"].tolist(),
        "decided": [f"{on} {by}".strip() for on, by in zip(exc["decided_on"], exc["decided_by"])],
    }, columns=["exception id", "kind", "figure", "threshold", "detail", "disposition", "rationale", "decided"])


def _yes_no(v) -> str:
    return "—" if pd.isna(v) else ("yes" if bool(v) else "no")


def venue_context_table(ctx: pd.DataFrame) -> pd.DataFrame:
    """Who each venue is and what share of the period's routed flow it received (``Review.venue_context``),
    as text: orders, shares and value at the midpoint, each with its share of the routed total."""
    def count_share(n, pct, fmt):
        return f"{fmt(n)} ({fmt_value(pct, 'fraction')})"
    return pd.DataFrame({
        "venue": ctx["venue"], "name": ctx["name"].fillna("(not in the venues table)"),
        "type": ctx["venue_type"].fillna("—"), "affiliate": ctx["is_affiliate"].map(_yes_no),
        "pays PFOF": ctx["pays_pfof"].map(_yes_no),
        "orders": [count_share(n, p, plots.fmt_int) for n, p in zip(ctx["routed_orders"], ctx["pct_orders"])],
        "shares": [count_share(n, p, plots.fmt_int) for n, p in zip(ctx["routed_shares"], ctx["pct_shares"])],
        "value at the midpoint": [count_share(n, p, lambda x: fmt_value(x, "USD").rsplit(".", 1)[0])
                                  for n, p in zip(ctx["routed_usd"], ctx["pct_usd"])],
        "directed orders": [plots.fmt_int(n) for n in ctx["directed_orders"]],
    })


def venue_context_line(ctx: pd.DataFrame, venue: str, period_label: str) -> str:
    """One sentence for the top of a venue's page: its identity and share of the routed flow."""
    rows = ctx[ctx["venue"] == venue]
    if rows.empty:
        return f"{plots.md_escape(venue)}: no orders were routed to this venue in {plots.md_escape(period_label)}."
    r = rows.iloc[0]
    esc = plots.md_escape  # Markdown text: a hostile id or name must stay text
    kind = esc(r["venue_type"]) if pd.notna(r["venue_type"]) else "not in the venues table"
    affiliate = "an affiliate of the firm" if _yes_no(r["is_affiliate"]) == "yes" else "not affiliated"
    pfof = "pays for order flow" if _yes_no(r["pays_pfof"]) == "yes" else "does not pay for order flow"
    usd = fmt_value(r["routed_usd"], "USD").rsplit(".", 1)[0]
    text = (f"**{esc(venue)} — {esc(r['name'])}**: {kind}, {affiliate}, {pfof}. In {esc(period_label)} it received "
            f"{plots.fmt_int(r['routed_orders'])} orders ({fmt_value(r['pct_orders'], 'fraction')} of routed "
            f"orders), {plots.fmt_int(r['routed_shares'])} shares ({fmt_value(r['pct_shares'], 'fraction')}) and "
            f"{usd} at the midpoint ({fmt_value(r['pct_usd'], 'fraction')} of routed value)")
    if r["directed_orders"]:
        text += f"; {plots.fmt_int(r['directed_orders'])} of its orders were directed by the customer"
    return text + "."


CAUSE_SHORT = {"through_quote": "filled through the quote in force at execution",
               "market_moved": "the market moved: fills within the NBBO at execution",
               "no_quote_at_execution": "no valid NBBO at execution"}


def _short(member) -> str:
    """One short line for an exception of a group of one: the figure beside its threshold, in one unit."""
    figure, threshold = fmt_pair(member["value"], member["threshold"], member["unit"])
    segment = f"{SEGMENT_LABELS.get(bool(member['is_sp500']), '')} · {str(member['order_category']).replace('_', ' ')}"
    if member["kind"] == "material_difference":
        return f"{METRIC_LABELS.get(member['metric'], member['metric'])} {figure} (threshold {threshold}); {segment}"
    if member["kind"] == "deterioration":
        return f"net PI per share {figure} {member['subject']} (threshold {threshold}); {segment}"
    return str(member["detail"])


def _several(mine: pd.DataFrame) -> str:
    """One line for a venue's several comparison (or trigger) exceptions of one metric: how many review
    groups, which, and the worst figure beside its threshold."""
    worst = mine.loc[mine["value"].astype(float).idxmin()]
    figure, threshold = fmt_pair(worst["value"], worst["threshold"], worst["unit"])
    groups = ", ".join(f"{SEGMENT_LABELS.get(bool(a), '')} {str(c).replace('_', ' ')}"
                       for a, c in zip(mine["is_sp500"], mine["order_category"]))
    label = (METRIC_LABELS.get(worst["metric"], worst["metric"]) if worst["kind"] == "material_difference"
             else f"net PI per share {worst['subject']}")
    return f"{label}: {len(mine)} review groups ({groups}); worst {figure} (threshold {threshold})"


def open_exceptions_table(groups: pd.DataFrame, exceptions: pd.DataFrame | None = None, limit: int = 16,
                          evidence: str = "exception_groups.csv") -> tuple[pd.DataFrame, str]:
    """The open exception groups for the top of a page, largest dollar impact first (as
    ``Review.exception_groups`` orders them), at most ``limit`` rows, and a sentence on what is left out.
    Each group is one line however many orders it holds; its id is what a disposition names. With
    ``exceptions`` (the members), a group of one reads as its figure beside its threshold."""
    open_ = groups[groups["open_members"] > 0]
    shown = open_.head(limit)
    members = (exceptions[exceptions["group_id"].isin(set(shown["group_id"]))]
               if exceptions is not None and len(exceptions) else None)
    what = []
    for r in shown.itertuples(index=False):  # at most `limit` groups
        mine = members[members["group_id"] == r.group_id] if members is not None else None
        if mine is not None and len(mine) == 1:
            what.append(_short(mine.iloc[0]))
        elif mine is not None and len(mine) and r.kind in ("material_difference", "deterioration"):
            what.append(_several(mine))
        elif isinstance(r.cause, str) and r.cause in CAUSE_SHORT:
            what.append(f"{r.members:,} orders: {CAUSE_SHORT[r.cause]}")
        else:
            what.append(r.description)
    table = pd.DataFrame({
        "group": shown["group_id"].to_numpy(),
        "kind": [str(k).replace("_", " ") for k in shown["kind"]],
        "venue": shown["venue"].fillna("—").to_numpy(),
        "what": what,
        "open / members": [f"{o:,} / {m:,}" for o, m in zip(shown["open_members"], shown["members"])],
        "dollar impact": [fmt_value(v, "USD") for v in shown["usd_impact"]],
        # order-level groups name their costliest orders; a venue's comparison groups are named by "what"
        "costliest orders": [w if m > 1 and k == "marketable_limit_outside_quote" else ""
                             for w, m, k in zip(shown["worst_ids"].fillna(""), shown["members"], shown["kind"])],
    })
    note = (f"{len(open_):,} open exception group(s) holding {int(open_['open_members'].sum()):,} open "
            f"exception(s); {len(groups) - len(open_):,} group(s) fully decided.")
    if len(open_) > limit:
        note += f" The {limit} largest are shown; every group is in the evidence table {evidence}."
    return table, note


def open_exceptions_view(groups: pd.DataFrame, exceptions: pd.DataFrame | None = None,
                         evidence: str = "exception_groups.csv") -> list:
    """What the top of every page shows: the sentence and the table of :func:`open_exceptions_table`, or
    one sentence when nothing is open."""
    from IPython.display import Markdown

    table, note = open_exceptions_table(groups, exceptions, evidence=evidence)
    if table.empty:
        return [Markdown(note + " No exception is open.")]
    return [Markdown(note), styled(table, flags=[], columns=[], nowrap=("dollar impact",))]


def venues_view(context: pd.DataFrame, venue: str | None, period_label: str) -> list:
    """The venues section of every page: a venue's one-line summary (or the firm's count of venues) and
    the table of :func:`venue_context_table`."""
    from IPython.display import Markdown

    line = (venue_context_line(context, venue, period_label) if venue else
            f"Whole firm, {plots.md_escape(period_label)}: {(context['routed_orders'] > 0).sum()} venues "
            "received routed orders.")
    return [Markdown(line), plots.style_table(venue_context_table(context))]
