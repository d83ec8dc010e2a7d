"""Hand-computed price-improvement tables (metrics.md section 5).

Day: Monday 2026-07-06; New York is UTC−4, so 14:00Z is 10:00 New York (regular hours).

AAA quotes: 13:30:00 10.00/10.02; 14:00:00 10.00/10.04; 14:00:00.5 10.01/10.03; 14:00:01.2 10.02/10.04.
BBB quotes: 13:30:00 5.00/5.00 (locked); 14:10:00 5.00/5.02.

O1 buy market 100 AAA at 14:00:00 (the quote stamped exactly then counts: 10.00/10.04, mid 10.02)
   F1 100 @ 10.03 after 10 ms: PI 0.01, ES 2·(10.03−10.02) = 0.02, QS 0.04; M(+1m) = 10.03 → RS 0.
O2 sell market 300 AAA at 14:00:00.6 (10.01/10.03, mid 10.02), partial: 200 of 300 filled
   F2 100 @ 10.0150 (sub-penny) after 50 ms: PI 0.005, ES 0.01, QS 0.02, RS_1m −2·(10.015−10.03) = 0.03
   F3 100 @ 10.01 after 100 ms: PI 0, ES 0.02, QS 0.02, RS_1m 0.04
O5 buy limit 10.03 × 1 AAA at 14:00:00.6: marketable (limit ≥ NBO 10.03); three fills of 0.333334 @ 10.03
   after 100/200/300 ms (Σ 1.000002 ≤ 1 + 3 × 0.000001: not an over-fill): PI 0, ES 0.02, QS 0.02, RS 0.
O3 sell_short market 0.375 AAA at 14:00:01.5 (10.02/10.04, mid 10.03) at V2
   F4 0.375 @ 10.0149 after 100 ms: PI −0.0051 (dis-improved), ES 0.0302, QS 0.02, RS_1m 0.0302
O4 buy limit 5.00 × 90 BBB at 13:45 in the locked market 5.00/5.00: marketable (limit ≥ NBO) at V2
   F5 90 @ 5.00 after 2 ms: PI 0, ES 0, QS 0; M(+1m) = 5.00 → RS 0.
"""

import math

import pytest
from conftest import fill, order
from fixtures.pi_case import FILLS, ORDERS, QUOTES, T

EXEC_V1 = 100 + 200 + 1.000002
EXPECTED = {
    "V1": {
        "orders": 3, "order_shares": 401, "executed_shares": EXEC_V1, "improved_shares": 200,
        "at_quote_shares": 101.000002, "outside_shares": 0,
        "pct_shares_improved": 200 / EXEC_V1, "pct_shares_at_or_better": 1.0,
        "avg_improvement_ps": (100 * 0.01 + 100 * 0.005) / 200, "avg_disimprovement_ps": None,
        "net_pi_ps": 1.5 / EXEC_V1, "pi_usd": 1.5, "disimprovement_usd": 0.0, "net_pi_usd": 1.5,
        "eff_spread_ps": (100 * 0.02 + 100 * 0.01 + 100 * 0.02 + 1.000002 * 0.02) / EXEC_V1,
        "quoted_spread_ps": (100 * 0.04 + 200 * 0.02 + 1.000002 * 0.02) / EXEC_V1,
        "eq_ratio": (5 + 1.000002 * 0.02) / (8 + 1.000002 * 0.02),
        "realized_spread_1m_ps": (100 * 0.03 + 100 * 0.04) / EXEC_V1,
        "realized_spread_5m_ps": (100 * 0.03 + 100 * 0.04) / EXEC_V1,
        "avg_exec_ms": (100 * 10 + 100 * 50 + 100 * 100 + 0.333334 * (100 + 200 + 300)) / EXEC_V1,
        "pct_orders_improved": 2 / 3,
        # Σ q·M_r = 100·10.02 + 200·10.02 + 1.000002·10.02 (every V1 order's mid at receipt is 10.02)
        "executed_usd": 100 * 10.03 + 100 * 10.015 + 100 * 10.01 + 1.000002 * 10.03,
        "net_pi_bps": 1.5 / (EXEC_V1 * 10.02) * 1e4,
        "eff_spread_bps": (5 + 1.000002 * 0.02) / (EXEC_V1 * 10.02) * 1e4,
        "quoted_spread_bps": (8 + 1.000002 * 0.02) / (EXEC_V1 * 10.02) * 1e4,
    },
    "V2": {
        "orders": 2, "order_shares": 90.375, "executed_shares": 90.375, "improved_shares": 0,
        "at_quote_shares": 90, "outside_shares": 0.375,
        "pct_shares_improved": 0.0, "pct_shares_at_or_better": 90 / 90.375,
        "avg_improvement_ps": None, "avg_disimprovement_ps": 0.0051,
        "net_pi_ps": -0.375 * 0.0051 / 90.375, "pi_usd": 0.0, "disimprovement_usd": 0.375 * 0.0051,
        "net_pi_usd": -0.375 * 0.0051,
        "eff_spread_ps": 0.375 * 0.0302 / 90.375, "quoted_spread_ps": 0.375 * 0.02 / 90.375,
        "eq_ratio": 0.0302 / 0.02,
        "realized_spread_1m_ps": 0.375 * 0.0302 / 90.375, "realized_spread_5m_ps": 0.375 * 0.0302 / 90.375,
        "avg_exec_ms": (0.375 * 100 + 90 * 2) / 90.375,
        "pct_orders_improved": 0.0,
        # Σ q·M_r = 0.375·10.03 + 90·5.00
        "executed_usd": 0.375 * 10.0149 + 90 * 5.00,
        "net_pi_bps": -0.375 * 0.0051 / (0.375 * 10.03 + 450) * 1e4,
        "eff_spread_bps": 0.375 * 0.0302 / (0.375 * 10.03 + 450) * 1e4,
        "quoted_spread_bps": 0.375 * 0.02 / (0.375 * 10.03 + 450) * 1e4,
    },
}


def assert_row(row, expected):
    for col, want in expected.items():
        got = row[col]
        if want is None:
            assert got is None or (isinstance(got, float) and math.isnan(got)), f"{col}: {got} should be null"
        else:
            assert got == pytest.approx(want, abs=1e-9), f"{col}: {got} != {want}"


@pytest.fixture
def review(build_review):
    return build_review(ORDERS, FILLS, QUOTES)


@pytest.mark.parametrize("venue", ["V1", "V2"])
def test_every_column_by_venue(review, venue):
    table = review.price_improvement("2026Q3", by=["venue"])
    assert list(table.columns) == ["venue", *EXPECTED["V1"].keys()]
    assert_row(table.set_index("venue").loc[venue], EXPECTED[venue])


@pytest.mark.parametrize("period", ["2026Q3", "2026-07", ("2026-07-06", "2026-07-07")])
def test_period_forms_agree(review, period):
    table = review.price_improvement(period, by=["venue"])
    assert_row(table.set_index("venue").loc["V1"], EXPECTED["V1"])


def test_venue_argument_filters(review):
    table = review.price_improvement("2026Q3", by=["venue"], venue="V2")
    assert list(table["venue"]) == ["V2"]
    assert_row(table.iloc[0], EXPECTED["V2"])


def test_quote_at_receipt_timestamp_counts(review):
    # O1 was received at 14:00:00 exactly, when the 10.00/10.04 quote was stamped.
    o1 = review.con.execute("select nbb_r, nbo_r from fct_orders where order_id = 'O1'").fetchall()[0]
    assert [float(x) for x in o1] == [10.00, 10.04]


def test_locked_market_is_kept_and_limit_at_quote_is_marketable(review):
    row = review.con.execute(
        "select order_category, is_locked, exclusion_reason from fct_orders where order_id = 'O4'"
    ).fetchall()[0]
    assert row == ("marketable_limit", True, None)
    table = review.price_improvement("2026Q3", by=["venue", "symbol"]).set_index(["venue", "symbol"])
    locked = table.loc[("V2", "BBB")]
    assert locked["quoted_spread_ps"] == 0 and math.isnan(locked["eq_ratio"])  # E/Q undefined when QS = 0


def test_thirds_summing_to_the_whole_are_not_an_overfill(review):
    reason = review.con.execute("select exclusion_reason from fct_orders where order_id = 'O5'").fetchall()
    assert reason == [(None,)]


def test_groups_by_side_and_category(review):
    table = review.price_improvement("2026Q3", by=["side", "order_category"]).set_index(["side", "order_category"])
    assert table.loc[("sell_short", "market"), "net_pi_usd"] == pytest.approx(-0.375 * 0.0051)
    assert table.loc[("sell", "market"), "net_pi_ps"] == pytest.approx(0.5 / 200)
    assert table.loc[("buy", "marketable_limit"), "orders"] == 2  # O4 and O5


def test_firm_total_with_no_grouping(review):
    table = review.price_improvement("2026Q3", by=[])
    assert len(table) == 1 and table["orders"].iloc[0] == 5
    assert table["net_pi_usd"].iloc[0] == pytest.approx(1.5 - 0.375 * 0.0051)


def test_empty_period_returns_no_rows(review):
    table = review.price_improvement("2026-08", by=["venue"])
    assert table.empty and "net_pi_ps" in table.columns


def test_group_with_unfilled_orders_has_zero_sums_and_null_ratios(build_review):
    review = build_review([order("U1", T + "14:00:00Z")], [], QUOTES)
    row = review.price_improvement("2026Q3", by=["venue"]).iloc[0]
    assert row["orders"] == 1 and row["executed_shares"] == 0 and row["net_pi_usd"] == 0
    assert math.isnan(row["net_pi_ps"]) and math.isnan(row["pct_orders_improved"])


def test_large_order_slow_fill_does_not_overflow(build_review):
    # 5,000,000 shares × 3 h: q·exec_ms = 5e6 × 1.08e7 would overflow DECIMAL(18,12) (stack-check §6)
    big = [order("B1", T + "14:00:00Z", quantity="5000000")]
    fills = [fill("BF1", "B1", T + "17:00:00Z", "5000000", "10.03")]
    row = build_review(big, fills, QUOTES).price_improvement("2026Q3", by=["venue"]).iloc[0]
    assert row["avg_exec_ms"] == pytest.approx(3 * 3600 * 1000)
    assert row["net_pi_usd"] == pytest.approx(5_000_000 * 0.01)


def test_unknown_grouping_column_is_refused(review):
    with pytest.raises(ValueError, match="cannot group by"):
        review.price_improvement("2026Q3", by=["venue; drop table fct_orders"])


def test_distribution_chart_is_binned_by_hand_and_embeds_no_order_values():
    """pi_distribution: the share of each venue's filled orders by order net PI per share, binned in
    SQL (plotly's histogram would put every order's value in the HTML: 94 MB at 8.8 M orders).
    201 filled orders with net PI 0, 1, …, 200 (venue A: 0–100, B: 101–200): the 0.5th and 99.5th
    percentiles are 1 and 199, so 4 bins have edges 1, 50.5, 100, 149.5, 199 (the binning itself is
    checked in tests/unit/test_drill_down.py)."""
    from fixtures.drill_case import pi_store

    from bestex_nb import query
    from bestex_nb.dimensions.price_improvement.figures import distribution_figure

    con = pi_store([(f"O{i}", "A" if i <= 100 else "B") for i in range(201)], [(f"O{i}", float(i)) for i in range(201)])
    d = query.run(con, "metrics/pi_distribution", {"period_start": "2026-07-01", "period_end": "2026-10-01",
                                                   "venue": None, "bins": 4})
    fig = distribution_figure(d, {"B": "#222222", "A": "#111111"})
    assert [t.name for t in fig.data] == ["B", "A"]  # the venues in the colour map's order
    assert [len(t.x) for t in fig.data] == [2, 3]  # a bar per bin, not a value per order
    assert list(fig.data[1].x) == [25.75, 75.25, 124.75] and list(fig.data[1].width) == [49.5, 49.5, 49.5]
    assert [round(sum(t.y), 9) for t in fig.data] == [100.0, 100.0]
    assert fig.layout.showlegend and fig.layout.barmode == "overlay"
