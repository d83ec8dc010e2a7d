"""Issue 18: the dimensions and explorers get aggregates and one page of orders from DuckDB, never a row per
order. Each new query is checked by hand on a small case, then against the per-order pandas computations
it replaced (tests/reference/drill_reference.py) on a generated sample store."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fixtures import limit_case, pi_case
from fixtures.drill_case import pi_store
from reference import drill_reference as old

from bestex_nb import query
from bestex_nb.contract.parameters import load_run
from bestex_nb.dimensions.limit_fills import compute as lf_compute
from bestex_nb.dimensions.price_improvement import compute as pi_compute

PERIOD = {"period_start": "2026-07-01", "period_end": "2026-10-01"}


def _distribution(con, venue=None, bins=4) -> pd.DataFrame:
    return query.run(con, "metrics/pi_distribution", {**PERIOD, "venue": venue, "bins": bins})


def test_distribution_bins_by_hand():
    """201 filled orders with net PI 0, 1, …, 200 (A: 0–100, B: 101–200): the 0.5th and 99.5th percentiles
    are 1 and 199, so 4 bins have edges 1, 50.5, 100, 149.5, 199; 0 and 200 are clipped into the end bins
    and 100, on an inner edge, goes to the bin above. An unfilled order (A) and a filled one without a net
    PI (B) are not counted."""
    orders = [(f"O{i}", "A" if i <= 100 else "B") for i in range(201)] + [("U", "A"), ("N", "B")]
    con = pi_store(orders, [(f"O{i}", float(i)) for i in range(201)] + [("N", None)])
    d = _distribution(con)
    assert list(d.columns) == ["venue", "bin", "bin_lo", "bin_hi", "orders", "pct"]
    assert d[["venue", "bin", "orders"]].values.tolist() == [["A", 0, 51], ["A", 1, 49], ["A", 2, 1],
                                                             ["B", 2, 49], ["B", 3, 51]]
    assert d["bin_lo"].tolist() == [1.0, 50.5, 100.0, 100.0, 149.5]
    assert d["bin_hi"].tolist() == [50.5, 100.0, 149.5, 149.5, 199.0]
    np.testing.assert_allclose(d["pct"], [100 * 51 / 101, 100 * 49 / 101, 100 / 101, 49.0, 51.0])
    assert _distribution(con, venue="B")["orders"].sum() == 100  # percentiles of B's orders alone
    assert _distribution(con, bins=80)["orders"].sum() == 201


def test_distribution_of_one_value_and_of_no_filled_order():
    con = pi_store([("O1", "A"), ("O2", "B"), ("U", "B")], [("O1", 0.0012), ("O2", 0.0012)])
    d = _distribution(con)
    assert d[["venue", "bin", "orders", "pct"]].values.tolist() == [["A", 0, 1, 100.0], ["B", 0, 1, 100.0]]
    np.testing.assert_allclose(d[["bin_lo", "bin_hi"]].values[0], [0.00115, 0.00125])
    assert _distribution(pi_store([("U", "A")], [])).empty


@pytest.fixture
def pi_review(build_review):
    return build_review(pi_case.ORDERS, pi_case.FILLS, pi_case.QUOTES)


def test_worst_orders_pages_and_filters(pi_review):
    """Net PI USD: O3 −0.375·0.0051, O4 0, O5 0 (ties broken by net PI per share, then id), O2 0.5, O1 1.0."""
    def ids(**kw):
        return pi_review.worst_orders("2026Q3", **kw)["order_id"].tolist()

    assert ids() == ["O3", "O4", "O5", "O2", "O1"]
    assert ids(limit=2) == ["O3", "O4"] and ids(limit=2, offset=2) == ["O5", "O2"] and ids(limit=2, offset=4) == ["O1"]
    assert ids(limit=2, offset=6) == []
    assert ids(venue="V1") == ["O5", "O2", "O1"]
    assert ids(order_category="market") == ["O3", "O2", "O1"]
    assert ids(symbol="BBB") == ["O4"] and ids(symbol="BBB", venue="V1") == []
    # the segment filter: BBB is the only stock outside the S&P 500
    assert ids(is_sp500=False) == ["O4"] and ids(is_sp500=True) == ["O3", "O5", "O2", "O1"]
    row = pi_review.worst_orders("2026Q3", limit=1).iloc[0]
    assert list(row.index) == old.WORST_COLUMNS
    assert row["net_pi_usd"] == pytest.approx(-0.375 * 0.0051) and row["executed_shares"] == 0.375


def test_filtered_sums_by_hand_and_like_the_table(pi_review):
    table = pi_review.price_improvement("2026Q3", by=["venue"]).set_index("venue")
    mine = pi_review.pi_filtered("2026Q3", ["venue"]).set_index("venue")
    for col in ("orders", "executed_shares", "net_pi_usd", "net_pi_ps", "eq_ratio", "pct_orders_improved"):
        np.testing.assert_allclose(mine[col], table[col], rtol=1e-12)
    market = pi_review.pi_filtered("2026Q3", ["venue", "month"], order_category="market").set_index("venue")
    assert market.loc["V1", "orders"] == 2 and market.loc["V1", "net_pi_ps"] == pytest.approx(1.5 / 300)
    assert market.loc["V2", "net_pi_usd"] == pytest.approx(-0.375 * 0.0051)
    assert pi_review.pi_filtered("2026Q3", [], symbol="BBB")["orders"].tolist() == [1]
    assert pi_review.pi_filtered("2026Q3", [], symbol="ZZZ").empty
    assert pi_review.pi_filtered("2026Q3", [], is_sp500=False)["orders"].tolist() == [1]
    assert pi_review.pi_filtered("2026Q3", [], is_sp500=True)["orders"].tolist() == [4]


@pytest.fixture(scope="module")
def limit_review(tmp_path_factory):
    from conftest import write_extracts

    import bestex_nb
    from bestex_nb.build.store import build

    tmp = tmp_path_factory.mktemp("drill_limit")
    data = write_extracts(tmp / "data", limit_case.ORDERS, limit_case.FILLS, limit_case.QUOTES)
    r = bestex_nb.Review(build(data, tmp / "store.duckdb").store)
    yield r
    r.close()


def test_survival_counts_by_hand(limit_review):
    """V1's survival times (limit_case): L4 0 censored, L3 5 fill, L1 10,000 fill, L2 21.6M censored, L5 81.9M
    fill, L6 82.8M censored; V2: L7 2,000 fill."""
    c = limit_review.survival_counts("2026Q3", ["venue"])
    assert list(c.columns) == ["venue", "survival_ms", "filled", "censored"]
    assert c.values.tolist() == [["V1", 0.0, 0, 1], ["V1", 5.0, 1, 0], ["V1", 10_000.0, 1, 0],
                                 ["V1", 21_600_000.0, 0, 1], ["V1", 81_900_000.0, 1, 0], ["V1", 82_800_000.0, 0, 1],
                                 ["V2", 2000.0, 1, 0]]
    near = limit_review.survival_counts("2026Q3", [], distance_bucket="3-5")
    assert near.values.tolist() == [[81_900_000.0, 1, 0]]  # L5 only
    assert limit_review.survival_counts("2026Q3", ["venue"], venue="V2", symbol="AAA").empty
    # the segment filter: V1's orders are in AAA (S&P 500), V2's L7 in BBB (other stocks)
    assert limit_review.survival_counts("2026Q3", ["venue"], is_sp500=True).values.tolist() == c.values.tolist()[:6]
    assert limit_review.survival_counts("2026Q3", ["venue"], is_sp500=False).values.tolist() == [["V2", 2000.0, 1, 0]]
    with pytest.raises(ValueError, match="filter on"):
        limit_review.survival_counts("2026Q3", ["venue"], side="buy")


def test_explorer_symbols(limit_review, pi_review):
    assert limit_review.symbols("2026Q3", "fills") == ["AAA", "BBB"]  # L1–L7 (L8 directed)
    assert limit_review.symbols("2026Q3", "fills", venue="V2") == ["BBB"]
    assert limit_review.symbols("2026Q3", "pi") == ["AAA", "BBB"]  # L9–L11 are marketable limits
    assert limit_review.symbols("2026-08", "fills") == []
    assert pi_review.symbols("2026Q3", "pi", venue="V1") == ["AAA"] and pi_review.symbols("2026Q3", "fills") == []
    with pytest.raises(ValueError, match="coverage"):
        pi_review.symbols("2026Q3", "limit")


def test_time_to_fill_and_end_states_by_hand(limit_review):
    t = limit_review.time_to_fill("2026Q3").set_index(["venue", "order_category"])
    at_v1 = t.loc[("V1", "at_quote_limit")]  # L1 (fill after 10 s), L2, L4
    assert at_v1["orders"] == 3 and at_v1["orders_filled"] == 1
    assert at_v1[["p10_ms", "q1_ms", "median_ms", "q3_ms", "p90_ms", "mean_ms"]].tolist() == [10_000.0] * 6
    assert t.loc[("V1", "away_limit"), "orders_filled"] == 0 and np.isnan(t.loc[("V1", "away_limit"), "median_ms"])
    firm = limit_review.time_to_fill("2026Q3", by=[]).iloc[0]  # L1 10,000, L3 5, L5 81.9M, L7 2,000 ms
    assert firm["orders_filled"] == 4
    assert firm["q1_ms"] == pytest.approx(np.quantile([5, 2000, 10_000, 81_900_000], 0.25))
    assert firm["median_ms"] == 6000 and firm["p90_ms"] == pytest.approx(np.quantile([5, 2000, 10_000, 81_900_000], 0.9))
    e = limit_review.end_states("2026Q3").set_index(["venue", "end_state"])
    assert e["orders"].to_dict() == {("V1", "cancelled"): 2, ("V1", "expired"): 1, ("V1", "filled"): 1,
                                     ("V1", "open"): 2, ("V2", "filled"): 1}
    assert e.loc[("V1", "cancelled"), "cancelled_shares"] == 150 and e.loc[("V1", "expired"), "order_shares"] == 200
    assert e.loc[("V1", "cancelled"), "filled_shares"] == 50


def test_filtered_fill_rates_like_the_table(limit_review):
    table = limit_review.limit_fills("2026Q3", by=["venue"]).set_index("venue")
    mine = limit_review.limit_filtered("2026Q3", ["venue"]).set_index("venue")
    for col in ("orders", "order_shares", "fill_rate_shares", "fill_rate_orders", "cancel_rate_shares"):
        np.testing.assert_allclose(mine[col], table[col], rtol=1e-12)
    at = limit_review.limit_filtered("2026Q3", ["venue"], order_category="at_quote_limit", venue="V1")
    assert at["orders"].tolist() == [3] and at["fill_rate_shares"].tolist() == [pytest.approx(50 / 400)]


def _forbid_per_order(monkeypatch, review):
    def refuse(*_a, **_k):
        raise AssertionError("a row per order was asked for")
    monkeypatch.setattr(review, "order_pi", refuse)
    monkeypatch.setattr(review, "limit_orders", refuse)


def test_pi_compute_and_explorer_never_read_a_row_per_order(pi_review, monkeypatch):
    import plotly.io as pio

    from bestex_nb.interactive import price_improvement as explorer

    monkeypatch.setattr(pio.renderers, "default", "json")
    _forbid_per_order(monkeypatch, pi_review)
    pi = pi_compute.compute(pi_review, "2026Q3", worst_n=3)
    assert pi.worst_orders["order_id"].tolist() == ["O3", "O4", "O5"]
    asked = []
    real = pi_review.worst_orders
    monkeypatch.setattr(pi_review, "worst_orders", lambda *a, **k: asked.append(k) or real(*a, **k))
    box = explorer.pi_explorer(pi_review, pi, {"V1": "#4E79A7", "V2": "#F28E2B"}, page_size=2)
    # only O3 lost money (O4 and O5 are at zero): the drill-down lists only it, one row beyond asked for
    assert box.shown["order_id"].tolist() == ["O3"] and asked[-1]["limit"] == 3
    previous, following = box.children[3].children
    assert previous.disabled and following.disabled
    venue, segment, symbol = (box.controls[k] for k in ("venue", "is_sp500", "symbol"))
    assert venue.options == (("(all)", None), ("V1", "V1"), ("V2", "V2"))
    assert segment.options == (("(all)", None), ("S&P 500", True), ("other stocks", False))
    assert box.controls["order_category"].options == (("(all)", None), ("market", "market"),
                                                       ("marketable limit", "marketable_limit"))
    venue.value = "V1"  # V1's orders all improved: nothing cost money, and the explorer says so
    assert box.shown.empty and asked[-1]["venue"] == "V1" and asked[-1]["offset"] == 0
    venue.value = None
    segment.value = False  # other stocks: BBB's O4, at zero
    assert box.shown.empty and asked[-1]["is_sp500"] is False
    assert 'drill = "is_sp500=false"' in box.children[-1].value
    assert "bestex run --period 2026Q3 --notebook price_improvement --drill &quot;is_sp500=false&quot;" \
        in box.children[-1].value
    segment.value = None
    symbol.value = "BBB"
    venue.value = "V1"  # V1 has no BBB order
    assert box.shown.empty and following.disabled


def test_explorer_pages_through_the_losing_orders_only():
    from bestex_nb.interactive.price_improvement import worst_page

    class Fake:
        def worst_orders(self, period, *, limit, offset, **filters):
            usd = [-3.0, -2.0, -1.0, 0.0, 1.0][offset:offset + limit]
            return pd.DataFrame({"order_id": [f"O{x}" for x in usd], "net_pi_usd": usd})

    rows, more = worst_page(Fake(), "2026Q3", {}, 0, page_size=2)
    assert rows["net_pi_usd"].tolist() == [-3.0, -2.0] and more
    rows, more = worst_page(Fake(), "2026Q3", {}, 1, page_size=2)
    assert rows["net_pi_usd"].tolist() == [-1.0] and not more


def test_explorer_starts_from_a_drill_text(pi_review):
    from bestex_nb.contract.drill import parse_drill
    from bestex_nb.interactive import price_improvement as explorer

    pi = pi_compute.compute(pi_review, "2026Q3", worst_n=3)
    box = explorer.pi_explorer(pi_review, pi, {}, drill=parse_drill("is_sp500=true order_category=market"))
    assert box.controls["is_sp500"].value is True and box.controls["order_category"].value == "market"
    assert box.shown["order_id"].tolist() == ["O3"]


def test_limit_compute_and_explorer_never_read_a_row_per_order(limit_review, monkeypatch):
    import plotly.io as pio

    from bestex_nb.interactive import limit_fills as explorer

    monkeypatch.setattr(pio.renderers, "default", "json")
    _forbid_per_order(monkeypatch, limit_review)
    parameters, decisions = load_run("2026Q3")
    lf = lf_compute.compute(limit_review, "2026Q3", parameters=parameters, decisions=decisions)
    assert lf.time_to_fill.set_index(["venue", "order_category"]).loc[("V1", "at_quote_limit"), "km_median_ms"] == 10_000
    box = explorer.limit_fill_explorer(limit_review, lf, {"V1": "#4E79A7", "V2": "#F28E2B"})
    assert box.controls["order_category"].options == (
        ("(all)", None), ("Inside the quote", "inside_quote_limit"), ("At the quote", "at_quote_limit"),
        ("Near the quote", "near_quote_limit"), ("Away from the quote", "away_limit"))
    for control in box.controls.values():
        for index in range(1, len(control.options)):
            control.index = index
        control.index = 0


# -- equality with the per-order pandas code on a generated sample store -----------------------------

@pytest.fixture(scope="module")
def sample_review(tmp_path_factory):
    import bestex_nb
    from bestex_nb.sample import generate

    root = tmp_path_factory.mktemp("drill_sample")
    generate(root / "data", seed=7, orders=3000, quotes_target=150_000)
    review = bestex_nb.open_review(root / "data", store=root / "store.duckdb")
    yield review
    review.close()


@pytest.mark.parametrize("venue", [None, "WSB"])
def test_pi_frames_equal_the_pandas_ones_on_the_sample(sample_review, venue):
    orders = sample_review.order_pi("2026Q3", venue)
    # to the last bit: the percentiles are interpolated as numpy does (quantile_cont differs in the last
    # bit when the fraction is ≥ 1/2, enough to change a figure of the CSV on a tie at 10 digits)
    pd.testing.assert_frame_equal(sample_review.pi_distribution("2026Q3", venue), old.distribution(orders),
                                  check_exact=True)
    pd.testing.assert_frame_equal(sample_review.worst_orders("2026Q3", venue, limit=25),
                                  old.worst_orders(orders, 25), check_exact=True)
    chosen = {"order_category": "market", "size_bucket": None, "symbol": None}
    mine = sample_review.pi_filtered("2026Q3", ["venue", "month"], venue, **chosen)
    want = old.aggregate_orders(old.filter_by(orders, **chosen), ["venue", "month"])
    pd.testing.assert_frame_equal(mine[want.columns], want, rtol=1e-12, check_dtype=False)


@pytest.mark.parametrize("venue", [None, "WSB"])
def test_limit_frames_equal_the_pandas_ones_on_the_sample(sample_review, venue):
    from bestex_nb.stats.survival import survival_curves, survival_curves_from_counts

    orders = sample_review.limit_orders("2026Q3", venue)
    by = ["venue", "order_category"]
    counts = sample_review.survival_counts("2026Q3", by, venue)
    pd.testing.assert_frame_equal(survival_curves_from_counts(counts, by), survival_curves(orders, by),
                                  check_exact=True)
    mine, want = lf_compute.time_to_fill(sample_review.time_to_fill("2026Q3", by, venue), counts), old.time_to_fill(orders)
    # quantiles to the last bit (interpolated as numpy does); the mean is an exact decimal sum in SQL, a
    # float sum in pandas
    pd.testing.assert_frame_equal(mine.drop(columns="mean_ms"), want.drop(columns="mean_ms"), check_exact=True)
    np.testing.assert_allclose(mine["mean_ms"], want["mean_ms"], rtol=1e-13)
    pd.testing.assert_frame_equal(sample_review.end_states("2026Q3", venue), old.end_states(orders), rtol=1e-12)
    chosen = {"size_bucket": "<250", "distance_bucket": None}
    mine = sample_review.limit_filtered("2026Q3", by, venue, **chosen)
    want = old.fill_rates(old.filter_by(orders, **chosen), by)
    pd.testing.assert_frame_equal(mine, want, rtol=1e-12, check_dtype=False)
