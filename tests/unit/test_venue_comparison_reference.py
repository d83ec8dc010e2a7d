"""compare_venues' point differences equal an independent pandas computation on generated data.

The per venue × cell sums come from the independent reference (tests/reference/pi_reference.py: plain
Python + Decimal from the extracts, no DuckDB); the cell matching is re-done here in pandas, one venue at
a time, with the other venues pooled by filtering — none of bestex_nb's SQL or numpy code is used.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, home of the reference package
from reference import pi_reference as ref

from bestex_nb.contract.parameters import ReviewParameters

SEED = 4310
GROUP = ["venue", "is_sp500", "order_category"]
PI_CELL = ["symbol", "order_category", "size_bucket", "month"]
FILL_CELL = [*PI_CELL, "distance_bucket"]
PARAMS = ReviewParameters(material_difference={m: 0.001 for m in (
    "net_pi_ps", "eq_ratio", "eff_spread_ps", "realized_spread_1m_ps", "avg_exec_ms", "fill_rate_shares")},
    replicates=1000, seed=1)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    import bestex_nb
    from bestex_nb.sample import generate

    root = tmp_path_factory.mktemp("venue_reference")
    generate(root / "data", orders=4000, quotes_target=200_000, seed=SEED)
    review = bestex_nb.open_review(root / "data", store=root / "store.duckdb")
    tables = ref.load_extracts(root / "data")
    yield review, tables
    review.close()


def matched_difference(cells: pd.DataFrame, cell: list[str], num: str, den: str, weight: str, support: str,
                       defined: str, cost: bool) -> pd.DataFrame:
    """Σ_c w·d / Σ_c w per review group, with the other venues pooled by filtering, venue by venue."""
    out = []
    for venue in sorted(cells["venue"].unique()):
        cols = list(dict.fromkeys([num, den, support, defined]))
        own = cells[cells["venue"] == venue]
        pooled = cells[cells["venue"] != venue].groupby(cell, as_index=False)[cols].sum()
        both = own.merge(pooled, on=cell, how="left", suffixes=("", "_other"))
        both = both.fillna({f"{c}_other": 0.0 for c in cols})
        ok = ((both[support] > 0) & (both[f"{support}_other"] > 0) & (both[defined] > 0)
              & (both[f"{defined}_other"] > 0))
        m_own = both[num] / both[den].where(ok)
        m_other = both[f"{num}_other"] / both[f"{den}_other"].where(ok)
        both["d"] = (m_other - m_own) if cost else (m_own - m_other)
        both["wd"] = np.where(ok, both[weight] * both["d"], 0.0)
        both["wm"] = np.where(ok, both[weight], 0.0)
        g = both.groupby(["is_sp500", "order_category"])[["wd", "wm"]].sum()
        g["difference"] = g["wd"] / g["wm"].where(g["wm"] > 0)
        out.append(g.reset_index().assign(venue=venue))
    return pd.concat(out, ignore_index=True).loc[:, [*GROUP, "difference", "wm"]]


def pi_cells(tables, start, end) -> pd.DataFrame:
    df = ref.price_improvement(tables, start, end, by=["venue", "is_sp500", *PI_CELL])
    shares = df["executed_shares"].astype(float)
    return df.assign(
        executed_shares=shares, net_pi_usd=df["net_pi_usd"].astype(float),
        es_usd=df["eff_spread_ps"].fillna(0) * shares, qs_usd=df["quoted_spread_ps"].fillna(0) * shares,
        exec_share_ms=df["avg_exec_ms"].fillna(0) * shares)


def distance_bucket(o) -> str:
    gap = (o.nbb_r - o.limit_price) if o.side == "buy" else (o.limit_price - o.nbo_r)
    ticks = gap * (10000 if o.limit_price < 1 else 100)
    for edge, label in ((0, "inside"), (None, "0"), (2, "1-2"), (5, "3-5"), (10, "6-10")):
        if edge is None and ticks == 0:
            return label
        if edge == 0 and ticks < 0:
            return label
        if edge and ticks <= edge:
            return label
    return ">10"


def fill_cells(tables, start, end) -> pd.DataFrame:
    orders = ref.enrich_orders(tables)
    orders = orders[orders["reason"].isna() & ~orders["is_directed"]
                    & orders["order_category"].isin(["inside_quote_limit", "at_quote_limit", "near_quote_limit",
                                                     "away_limit"])
                    & (orders["receipt_date"] >= start) & (orders["receipt_date"] < end)].copy()
    ex = tables["executions"]
    filled = ex.groupby("order_id")["quantity"].apply(lambda q: sum(q, Decimal(0)))
    orders["filled"] = orders["order_id"].map(filled).fillna(Decimal(0)).astype(float)
    orders["shares"] = orders["quantity"].astype(float)
    orders["distance_bucket"] = [distance_bucket(o) for o in orders.itertuples()]
    orders["n"] = 1.0
    return orders.groupby(["venue", "is_sp500", *FILL_CELL], as_index=False)[["n", "shares", "filled"]].sum()


CASES = {  # metric: (num, den, support, defined, cost)
    "net_pi_ps": ("net_pi_usd", "executed_shares", "executed_shares", "executed_shares", False),
    "eq_ratio": ("es_usd", "qs_usd", "executed_shares", "qs_usd", True),
    "eff_spread_ps": ("es_usd", "executed_shares", "executed_shares", "executed_shares", True),
    "avg_exec_ms": ("exec_share_ms", "executed_shares", "executed_shares", "executed_shares", True),
}


def check(product: pd.DataFrame, expected: pd.DataFrame) -> None:
    merged = product.merge(expected, on=GROUP, how="outer", suffixes=("", "_expected"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"]
    assert merged["difference"].notna().sum() >= 10
    np.testing.assert_array_equal(merged["difference"].isna(), merged["difference_expected"].isna())
    np.testing.assert_allclose(merged["difference"], merged["difference_expected"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(merged["matched_shares"], merged["wm"], rtol=1e-12)


@pytest.mark.parametrize("period", ["2026Q3", "2026-08"])
@pytest.mark.parametrize("metric", list(CASES))
def test_pi_metrics_match_independent_computation(sample, metric, period):
    review, tables = sample
    start, end = ref.parse_period(period)
    num, den, support, defined, cost = CASES[metric]
    expected = matched_difference(pi_cells(tables, start, end), PI_CELL, num, den, "executed_shares", support,
                                  defined, cost)
    check(review.compare_venues(period, metric, parameters=PARAMS), expected)


@pytest.mark.parametrize("period", ["2026Q3", "2026-08"])
def test_fill_rate_matches_independent_computation(sample, period):
    review, tables = sample
    start, end = ref.parse_period(period)
    expected = matched_difference(fill_cells(tables, start, end), FILL_CELL, "filled", "shares", "shares", "n",
                                  "n", False)
    check(review.compare_venues(period, "fill_rate_shares", parameters=PARAMS), expected)


def test_realized_spread_sums_agree_with_the_price_improvement_table(sample):
    # the reference does not expose the realized-spread share base, so check the comparison query's
    # own-venue ratios against the product's section 5 table, which test_pi_matches_reference checks
    review, _ = sample

    sums = review.comparison_sums("2026Q3", "pi")
    own = sums.groupby(["venue", *PI_CELL])[["rs_1m_usd", "rs_1m_shares"]].sum()
    own = (own["rs_1m_usd"] / own["rs_1m_shares"].where(own["rs_1m_shares"] > 0)).rename("mine")
    table = review.price_improvement("2026Q3", ["venue", *PI_CELL]).set_index(["venue", *PI_CELL])
    both = table.join(own)
    np.testing.assert_allclose(both["mine"], both["realized_spread_1m_ps"], rtol=1e-9, atol=1e-12)
