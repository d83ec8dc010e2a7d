"""The product's price-improvement table and exclusions agree with the independent reference.

The reference (tests/reference/pi_reference.py) is plain Python + Decimal, no DuckDB. Both run on one
generated sample (4,000 orders); tables are compared row by row: equal key sets, equal order counts,
every other column within 1e-6 absolute (nulls must match).
"""

from __future__ import annotations

import math
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, home of the reference package
from reference import pi_reference as ref

SEED = 5310
ORDERS = 4000
QUOTES = 200_000
BYS = [["venue"], ["venue", "order_category", "size_bucket"], ["venue", "month", "is_sp500"],
       ["symbol", "side"], ["share_bucket"]]
SCOPES = [("2026Q3", None), ("2026-08", None), ("2026Q3", "WSB"), ("2026-08", "WSB")]
ABS_TOL = 1e-6
REL_SLACK = 1e-12  # float representation of large USD sums only; far below any real discrepancy


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    import bestex_nb
    from bestex_nb.sample import generate

    root = tmp_path_factory.mktemp("pi_reference")
    data = root / "data"
    generate(data, seed=SEED, orders=ORDERS, quotes_target=QUOTES)
    review = bestex_nb.open_review(data, store=root / "store.duckdb")
    started = time.perf_counter()
    tables = ref.load_extracts(data)
    ref.enrich_orders(tables)  # builds (and caches) the quote index and the enriched orders
    ref_seconds = time.perf_counter() - started
    yield review, tables, ref_seconds
    review.close()


def _is_null(v) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    try:
        return bool(isinstance(v, (float, np.floating)) and math.isnan(v))
    except TypeError:
        return False


def _key(v):
    if _is_null(v):
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    return str(v)


def _rows(df: pd.DataFrame, by: list[str]) -> dict[tuple, dict]:
    out = {}
    for r in df.to_dict("records"):
        k = tuple(_key(r[c]) for c in by)
        assert k not in out, f"duplicate group {k}"
        out[k] = r
    return out


def _differences(api: pd.DataFrame, exp: pd.DataFrame, by: list[str]) -> list[str]:
    a, e = _rows(api, by), _rows(exp, by)
    diffs = []
    if set(a) != set(e):
        diffs.append(f"groups only in API: {sorted(set(a) - set(e), key=str)[:10]}; "
                     f"only in reference: {sorted(set(e) - set(a), key=str)[:10]}")
    for k in sorted(set(a) & set(e), key=str):
        for c in ref.PI_COLUMNS:
            av, ev = a[k][c], e[k][c]
            if _is_null(av) or _is_null(ev):
                if _is_null(av) != _is_null(ev):
                    diffs.append(f"{k} {c}: API {av!r} vs reference {ev!r}")
            elif c == "orders":
                if int(av) != int(ev):
                    diffs.append(f"{k} {c}: API {av!r} vs reference {ev!r}")
            elif abs(float(av) - float(ev)) > ABS_TOL + REL_SLACK * abs(float(ev)):
                diffs.append(f"{k} {c}: API {float(av)!r} vs reference {float(ev)!r}")
    return diffs


@pytest.mark.parametrize("period,venue", SCOPES, ids=[f"{p}-{v or 'all'}" for p, v in SCOPES])
@pytest.mark.parametrize("by", BYS, ids=["+".join(b) for b in BYS])
def test_price_improvement_matches_reference(sample, by, period, venue):
    review, tables, _ = sample
    start, end = ref.parse_period(period)
    exp = ref.price_improvement(tables, start, end, by, venue)
    api = review.price_improvement(period, by=by, venue=venue)
    assert list(api.columns) == by + ref.PI_COLUMNS
    if venue is None and period == "2026Q3":
        assert len(exp) > 0 and exp["executed_shares"].sum() > 0, "the sample has no covered fills"
    diffs = _differences(api, exp, by)
    assert not diffs, f"{len(diffs)} differences, first ones:\n" + "\n".join(diffs[:25])


def test_exclusion_reasons_match_reference(sample):
    review, tables, _ = sample
    api = review.exclusions()
    exp = ref.exclusions(tables)
    for table in ("orders", "executions"):
        a, e = api[api["table"] == table], exp[exp["table"] == table]
        ident = "order_id" if table == "orders" else "execution_id"
        got = Counter(zip(a[ident].astype(str), a["reason"], a["scope"]))
        want = Counter(zip(e[ident].astype(str), e["reason"], e["scope"]))
        only_api, only_ref = got - want, want - got
        assert not only_api and not only_ref, (
            f"{table}: {sum(only_api.values())} exclusions only in the API, e.g. {list(only_api)[:10]}; "
            f"{sum(only_ref.values())} only in the reference, e.g. {list(only_ref)[:10]}")
    # the reconciliation must be non-trivial: the sample exercises several reasons
    assert exp["reason"].nunique() >= 3


def test_covered_orders_match_reference(sample):
    """Order-level drill-down: same covered orders, NBBO at receipt, category, buckets and sums."""
    review, tables, _ = sample
    start, end = ref.parse_period("2026Q3")
    exp = ref.order_pi(tables, start, end).set_index("order_id")
    api = review.order_pi("2026Q3").set_index("order_id")
    assert set(api.index) == set(exp.index), (
        f"covered only in API: {sorted(set(api.index) - set(exp.index))[:10]}; "
        f"only in reference: {sorted(set(exp.index) - set(api.index))[:10]}")
    diffs = []
    for oid, e in exp.iterrows():
        a = api.loc[oid]
        for c in ("venue", "symbol", "side", "order_category", "size_bucket", "share_bucket", "month"):
            if c in api.columns and _key(a[c]) != _key(e[c]):
                diffs.append(f"{oid} {c}: API {a[c]!r} vs reference {e[c]!r}")
        for c in ("nbb_r", "nbo_r", "executed_shares", "net_pi_usd", "pi_usd", "disimprovement_usd"):
            if c not in api.columns:
                continue
            av = 0.0 if _is_null(a[c]) and c != "nbb_r" and c != "nbo_r" else a[c]
            if _is_null(av) or abs(float(av) - float(e[c])) > ABS_TOL:
                diffs.append(f"{oid} {c}: API {a[c]!r} vs reference {e[c]!r}")
    assert not diffs, f"{len(diffs)} differences, first ones:\n" + "\n".join(diffs[:25])


def test_reconciliation_counts_what_fct_orders_holds_for_each_period_and_venue(sample):
    """metrics/reconciliation counts the excluded rows from the exclusions table; for the whole store,
    a month, a quarter and each venue it gives what counting fct_orders' own exclusion_reason gives."""
    review, _, _ = sample
    venues = [r[0] for r in review.con.execute("select distinct venue from fct_orders where venue is not null "
                                               "order by 1").fetchall()]
    checked = 0
    for period in (None, "2026-07", "2026Q3"):
        for venue in (None, *venues):
            rec = review.reconciliation(period, venue)
            got = {r.label: (None if pd.isna(r.scope) else r.scope, int(r.order_rows)) for r in rec.itertuples()
                   if r.label != "fills with no order (unknown_order)"}
            p = review.period(period) if period else None
            want_rows = review.con.execute(
                "select exclusion_reason, any_value(exclusion_scope), count(*) from fct_orders "
                "where ($s::date is null or receipt_date >= $s) and ($e::date is null or receipt_date < $e) "
                "and ($v::varchar is null or venue = $v) group by all",
                {"s": p.start if p else None, "e": p.end if p else None, "v": venue}).fetchall()
            want = {"orders in": (None, sum(n for _, _, n in want_rows)),
                    "analysed": (None, sum(n for r, _, n in want_rows if r is None))}
            want |= {f"excluded: {r}": (s, n) for r, s, n in want_rows if r is not None}
            assert got == want, (period, venue)
            checked += want["orders in"][1] > want["analysed"][1] > 0
    assert checked >= 3  # several of the cases have both analysed and excluded rows
