"""Cell-matched venue comparison (metrics.md section 8): hand-computed estimates, the like-for-like sign
where raw averages mislead, the bootstrap's bookkeeping (seed, replicates, dropped resamples), Holm."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from fixtures.venue_case import FILLS, ORDERS, QUOTES, VENUES

from bestex_nb.contract.parameters import ReviewParameters
from bestex_nb.stats import comparison, resample
from bestex_nb.stats.comparison import RESULT_COLUMNS, compare, holm, required_replicates

SPEC_COLUMNS = ["venue", "is_sp500", "order_category", "metric", "difference", "ci_low", "ci_high", "p_holm",
                "is_material", "matched_shares", "matched_pct"]


def params(**kw) -> ReviewParameters:
    base = {"material_difference": {m: 0.001 for m in comparison.METRICS}, "replicates": 1000, "seed": 7,
            "min_symbol_days": 20, "material_metrics": ("net_pi_ps",)}
    return ReviewParameters(**{**base, **kw})


@pytest.fixture
def review(build_review):
    return build_review(ORDERS, FILLS, QUOTES, venues=VENUES)


def row(df, venue, is_sp500=True, category="market"):
    hit = df[(df["venue"] == venue) & (df["is_sp500"] == is_sp500) & (df["order_category"] == category)]
    assert len(hit) == 1, (venue, is_sp500, category)
    return hit.iloc[0]


# -- hand-computed point estimates (tests/fixtures/venue_case.py) ----------------------------------

def test_net_pi_difference_matches_hand_computation(review):
    df = review.compare_venues("2026Q3", "net_pi_ps", parameters=params())
    assert list(df.columns[:len(SPEC_COLUMNS)]) == SPEC_COLUMNS
    v1 = row(df, "V1")
    assert v1["difference"] == pytest.approx(1 / 75, abs=1e-12)
    assert v1["matched_shares"] == pytest.approx(250) and v1["matched_pct"] == pytest.approx(5 / 7)
    assert v1["matched_cells"] == 2 and v1["symbol_days"] == 1
    assert row(df, "V2")["difference"] == pytest.approx(-1 / 75, abs=1e-12)
    assert row(df, "V3")["difference"] == pytest.approx(-0.005, abs=1e-12)
    # groups with covered orders but no matched cell still get a row, with a null difference
    for venue in ("V1", "V2"):
        other = row(df, venue, is_sp500=False)
        assert math.isnan(other["difference"]) and other["status"] == "no_matched_cells"
        assert other["matched_shares"] == 0 and not other["is_material"]
    # one symbol-day behind each group: below the default minimum of 20, never flagged
    assert set(df.loc[df["difference"].notna(), "status"]) == {"insufficient_data"}
    assert not df["is_material"].any()


def test_cost_metric_sign_is_flipped(review):
    df = review.compare_venues("2026Q3", "eq_ratio", parameters=params())
    # V1's E/Q is lower (better) than the others' in both cells: positive difference
    assert row(df, "V1")["difference"] == pytest.approx(2 / 3, abs=1e-12)


def test_fill_rate_difference_matches_hand_computation(review):
    df = review.compare_venues("2026Q3", "fill_rate_shares", parameters=params())
    assert list(df["order_category"].unique()) == ["at_quote_limit"]
    assert row(df, "V1", category="at_quote_limit")["difference"] == pytest.approx(0.2, abs=1e-12)
    v2 = row(df, "V2", category="at_quote_limit")
    assert v2["difference"] == pytest.approx(-0.2, abs=1e-12)
    assert v2["matched_shares"] == pytest.approx(100) and v2["matched_pct"] == pytest.approx(1.0)


def test_unknown_metric_is_refused(review):
    with pytest.raises(ValueError, match="unknown metric"):
        review.compare_venues("2026Q3", "net_pi_usd", parameters=params())


def test_empty_period_returns_no_rows(review):
    df = review.compare_venues("2026Q1", "net_pi_ps", parameters=params())
    assert df.empty and list(df.columns) == RESULT_COLUMNS


# -- like for like versus raw averages (Simpson's paradox) -----------------------------------------

def simpson_sums(days: int = 30, seed: int = 1) -> pd.DataFrame:
    """Venue A routes mostly penny-wide CHEAP, venue B mostly wide WIDE. In both cells A gives 0.001
    more PI per share than B, but A's raw average is far lower (its mix is cheaper)."""
    rng = np.random.default_rng(seed)
    rows = []
    for day in pd.date_range("2026-07-01", periods=days, freq="D"):
        for symbol, base, shares in (("CHEAP", 0.001, {"A": 900, "B": 100}), ("WIDE", 0.02, {"A": 100, "B": 900})):
            for venue, edge in (("A", 0.001), ("B", 0.0)):
                q = shares[venue]
                pi = base + edge + rng.normal(0, 0.0002)
                rows.append({"venue": venue, "is_sp500": True, "order_category": "market", "symbol": symbol,
                             "size_bucket": "1k-5k", "month": "2026-07", "receipt_date": day,
                             "orders": 1.0, "fills": 1.0, "executed_shares": float(q), "net_pi_usd": q * pi})
    return pd.DataFrame(rows)


def test_like_for_like_sign_where_raw_averages_disagree():
    sums = simpson_sums()
    raw = sums.groupby("venue")[["net_pi_usd", "executed_shares"]].sum()
    raw = raw["net_pi_usd"] / raw["executed_shares"]
    assert raw["A"] < raw["B"]  # the raw averages say A is worse...
    df = compare(sums, "net_pi_ps", threshold=0.0005, replicates=1000, seed=3, min_symbol_days=20)
    a, b = row(df, "A"), row(df, "B")
    assert a["difference"] > 0 > b["difference"]  # ...like for like A is better
    assert a["difference"] == pytest.approx(0.001, abs=1e-4) and a["ci_low"] > 0
    assert a["status"] == "better" and b["status"] == "material" and b["is_material"]


# -- the bootstrap ----------------------------------------------------------------------------------

def test_reproducible_for_a_seed_and_independent_of_the_batch_size(monkeypatch):
    sums = simpson_sums()
    first = compare(sums, "net_pi_ps", threshold=0.0005, replicates=1000, seed=11)
    again = compare(sums, "net_pi_ps", threshold=0.0005, replicates=1000, seed=11)
    pd.testing.assert_frame_equal(first, again)
    monkeypatch.setattr(resample, "COUNTS_PER_BATCH", 64)  # many small batches, same draws
    monkeypatch.setattr(resample, "UNITS_PER_CHUNK", 64)  # and many small chunks of blocks
    pd.testing.assert_frame_equal(first, compare(sums, "net_pi_ps", threshold=0.0005, replicates=1000, seed=11))
    other = compare(sums, "net_pi_ps", threshold=0.0005, replicates=1000, seed=12)
    assert not np.allclose(first["ci_low"], other["ci_low"])
    pd.testing.assert_series_equal(first["difference"], other["difference"])


def test_several_metrics_together_equal_each_alone():
    sums = simpson_sums().assign(es_usd=lambda d: d["executed_shares"] * 0.01,
                                 qs_usd=lambda d: d["executed_shares"] * 0.03, qs_fills=1.0)
    both = comparison.compare_many(sums, ["net_pi_ps", "eq_ratio"], thresholds={"net_pi_ps": 0.1, "eq_ratio": 0.1},
                                   replicates=1000, seed=5)
    alone = compare(sums, "eq_ratio", threshold=0.1, replicates=1000, seed=5)
    pd.testing.assert_frame_equal(both["eq_ratio"], alone)


@pytest.mark.parametrize("groups", [1, 4, 20, 40, 120])
def test_enough_replicates_for_holm(groups):
    b = required_replicates(groups, 0.05, 1000)
    assert b >= 1000 and 2 / (b + 1) < 0.05 / groups


def test_replicates_where_a_group_cannot_be_estimated_are_dropped():
    sums = simpson_sums(days=30)
    # venue C trades in a single symbol-day: most resamples do not draw it
    lone = sums[(sums["venue"] == "B") & (sums["receipt_date"] == sums["receipt_date"].min())].assign(venue="C")
    df = compare(pd.concat([sums, lone]), "net_pi_ps", threshold=0.0005, replicates=1000, seed=2)
    c = row(df, "C")
    assert 0 < c["replicates"] < row(df, "A")["replicates"] == 1000
    assert c["symbol_days"] == 2 and c["status"] == "insufficient_data"  # CHEAP and WIDE that day


def test_p_value_is_never_zero_and_the_interval_brackets_the_estimate():
    df = compare(simpson_sums(), "net_pi_ps", threshold=0.0005, replicates=1000, seed=4)
    assert (df["p_value"] >= 2 / (df["replicates"] + 1) - 1e-15).all()
    assert (df["ci_low"] <= df["difference"]).all() and (df["difference"] <= df["ci_high"]).all()


# -- Holm ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("p, expected", [
    ([0.01, 0.04, 0.03, 0.005], [0.03, 0.06, 0.06, 0.02]),
    ([0.5], [0.5]),
    ([0.3, 0.4], [0.6, 0.6]),
    ([0.001, np.nan, 0.02], [0.002, np.nan, 0.02]),
    ([0.9, 0.8, 0.7], [1.0, 1.0, 1.0]),
])
def test_holm_known_values(p, expected):
    np.testing.assert_allclose(holm(p), expected, equal_nan=True)


def test_p_value_is_cautious_when_the_bootstrap_is_skewed_away_from_zero():
    # a small group that missed the rare large outcomes: no replicate at or below zero, but a long
    # tail away from zero; the percentile p-value alone would be its minimum, 2 / (B + 1)
    reps = np.r_[np.full(700, 0.9), np.full(300, 2.5)][:, None]
    lo, hi, p, used = comparison.bootstrap_summary(np.array([1.0]), reps)
    assert used[0] == 1000 and lo[0] == pytest.approx(0.9) and hi[0] == pytest.approx(2.5)
    assert p[0] == pytest.approx(301 / 1001)  # the centred p-value: |θ* − 1| ≥ 1 in 300 replicates
    symmetric = np.random.default_rng(0).normal(1.0, 0.3, size=(4000, 1))
    _, _, p, _ = comparison.bootstrap_summary(np.array([1.0]), symmetric)
    assert p[0] < 0.01
