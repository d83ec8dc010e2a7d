"""Value-weighted figures of the price-improvement table (metrics.md section 5): executed_usd = Σ q·P and
net_pi_bps, eff_spread_bps, quoted_spread_bps = Σ q·PI, Σ q·ES, Σ q·QS over Σ q·M_r, × 10⁴, computed by hand
for a buy and a sell in a $0.40 stock and in a $400 stock.

Day: Monday 2026-07-06, 14:00Z = 10:00 New York. Quotes at 13:30Z:
  PNY 0.39 / 0.41 (mid 0.40, QS 0.02);  HHH 399.90 / 400.10 (mid 400.00, QS 0.20).
Orders at V1 (market):
  P1 buy  PNY 10,000, filled 10,000 @ 0.405:  PI 0.41 − 0.405 = 0.005, ES 2·(0.405 − 0.40) = 0.01
  P2 sell PNY 5,000, partial: 2,000 @ 0.395:  PI 0.395 − 0.39 = 0.005, ES −2·(0.395 − 0.40) = 0.01
  H1 buy  HHH 10, filled 10 @ 400.05:         PI 400.10 − 400.05 = 0.05, ES 2·0.05 = 0.10
  H2 sell HHH 2.5 (fractional) @ 399.98:      PI 399.98 − 399.90 = 0.08, ES −2·(399.98 − 400) = 0.04
  U1 buy PNY 100 at V2, never filled: every sum 0, every bps figure null.
In basis points of the mid: P1 and P2 improve by 0.005 / 0.40 = 125 bp, H1 by 0.05 / 400 = 1.25 bp and
H2 by 0.08 / 400 = 2 bp. The venue's per-share net PI is led by the penny stock's 12,000 shares; its bps
figure weighs each fill by its value at the mid: Σ q·PI = 50 + 10 + 0.5 + 0.2 = 60.7 over
Σ q·M_r = 4,000 + 800 + 4,000 + 1,000 = 9,800.
"""

import math

import pytest
from conftest import DEFAULT_SECURITIES, fill, order, quote

T = "2026-07-06T"
SECURITIES = DEFAULT_SECURITIES + [{"symbol": "HHH", "name": "High Price Inc", "is_sp500": "true"}]
QUOTES = [quote("PNY", T + "13:30:00Z", "0.39", "0.41"), quote("HHH", T + "13:30:00Z", "399.90", "400.10")]
ORDERS = [
    order("P1", T + "14:00:00Z", symbol="PNY", quantity="10000"),
    order("P2", T + "14:00:01Z", symbol="PNY", side="sell", quantity="5000"),
    order("H1", T + "14:00:02Z", symbol="HHH", quantity="10"),
    order("H2", T + "14:00:03Z", symbol="HHH", side="sell", quantity="2.5"),
    order("U1", T + "14:00:04Z", symbol="PNY", routed_venue="V2"),
]
FILLS = [
    fill("F1", "P1", T + "14:00:00.010Z", "10000", "0.405"),
    fill("F2", "P2", T + "14:00:01.010Z", "2000", "0.395"),
    fill("F3", "H1", T + "14:00:02.010Z", "10", "400.05"),
    fill("F4", "H2", T + "14:00:03.010Z", "2.5", "399.98"),
]

# (symbol, side) → executed_usd, net_pi_bps, eff_spread_bps, quoted_spread_bps
BY_ORDER = {
    ("PNY", "buy"): (10000 * 0.405, 125.0, 250.0, 500.0),
    ("PNY", "sell"): (2000 * 0.395, 125.0, 250.0, 500.0),
    ("HHH", "buy"): (10 * 400.05, 1.25, 2.5, 5.0),
    ("HHH", "sell"): (2.5 * 399.98, 2.0, 1.0, 5.0),
}
BPS = ("executed_usd", "net_pi_bps", "eff_spread_bps", "quoted_spread_bps")


@pytest.fixture
def review(build_review):
    return build_review(ORDERS, FILLS, QUOTES, securities=SECURITIES)


def test_bps_per_stock_and_side(review):
    table = review.price_improvement("2026Q3", by=["venue", "symbol", "side"]).set_index(["venue", "symbol", "side"])
    for (symbol, side), want in BY_ORDER.items():
        got = table.loc[("V1", symbol, side)]
        for col, value in zip(BPS, want):
            assert got[col] == pytest.approx(value, rel=1e-12), (symbol, side, col)
    # the partial fill's figures are over its 2,000 executed shares, not the 5,000 ordered
    assert table.loc[("V1", "PNY", "sell"), "order_shares"] == 5000


def test_venue_bps_is_value_weighted(review):
    v1 = review.price_improvement("2026Q3", by=["venue"]).set_index("venue").loc["V1"]
    assert v1["executed_usd"] == pytest.approx(4050 + 790 + 4000.5 + 999.95, rel=1e-12)
    assert v1["net_pi_bps"] == pytest.approx(60.7 / 9800 * 1e4, rel=1e-12)
    assert v1["eff_spread_bps"] == pytest.approx((100 + 20 + 1.0 + 0.1) / 9800 * 1e4, rel=1e-12)
    assert v1["quoted_spread_bps"] == pytest.approx((200 + 40 + 2 + 0.5) / 9800 * 1e4, rel=1e-12)
    # the per-share figure divides by 12,012.5 shares instead (12,000 of them in the $0.40 stock)
    assert v1["net_pi_ps"] == pytest.approx(60.7 / 12012.5, rel=1e-12)


def test_group_without_fills_has_zero_value_and_null_bps(review):
    v2 = review.price_improvement("2026Q3", by=["venue"]).set_index("venue").loc["V2"]
    assert v2["orders"] == 1 and v2["executed_usd"] == 0
    for col in BPS[1:]:
        assert math.isnan(v2[col]), col


def test_explorer_figures_carry_net_pi_bps(review):
    df = review.pi_filtered("2026Q3", by=["symbol"], venue="V1").set_index("symbol")
    assert df.loc["PNY", "net_pi_bps"] == pytest.approx(60 / 4800 * 1e4, rel=1e-12)
    assert df.loc["HHH", "net_pi_bps"] == pytest.approx(0.7 / 5000 * 1e4, rel=1e-12)
    assert df.loc["HHH", "mid_usd"] == pytest.approx(5000, rel=1e-12)
    filtered = review.pi_filtered("2026Q3", by=["venue"], symbol="PNY").set_index("venue")
    assert math.isnan(filtered.loc["V2", "net_pi_bps"])  # U1 never filled: Σ q·M_r = 0


def test_order_sums_are_stored_as_exact_decimals(review):
    rows = {r[0]: r[1:] for r in review.con.execute(
        "select order_id, executed_usd, mid_usd from fct_orders where order_id in ('P2', 'H2', 'U1')").fetchall()}
    assert [float(x) for x in rows["P2"]] == [790.0, 800.0]
    assert [float(x) for x in rows["H2"]] == [999.95, 1000.0]
    assert rows["U1"] == (None, None)  # no fill: null sums, as every other fill sum
    types = dict(review.con.execute(
        "select column_name, data_type from duckdb_columns() where table_name = 'fct_orders' "
        "and column_name in ('executed_usd', 'mid_usd')").fetchall())
    assert set(types) == {"executed_usd", "mid_usd"} and all(t.startswith("DECIMAL") for t in types.values())
