"""Hand-computed limit-order fill likelihood, survival and Rule 5310 .05 checks (metrics.md section 6).

The case is worked by hand in tests/fixtures/limit_case.py.
"""

import math

import numpy as np
import pandas as pd
import pytest
from fixtures.limit_case import FILLS, ORDERS, QUOTES

from bestex_nb import exception_register
from bestex_nb.contract.parameters import load_decisions, load_run
from bestex_nb.dimensions.limit_fills import compute as lf_compute
from bestex_nb.dimensions.limit_fills import figures as lf_figures

LIMIT_COLUMNS = ["orders", "order_shares", "fill_rate_shares", "fill_rate_orders", "full_fill_rate_orders",
                 "cancel_rate_shares", "median_time_to_first_fill_ms", "mean_time_to_first_fill_ms"]
EXPECTED = {
    "V1": {"orders": 6, "order_shares": 850, "fill_rate_shares": 200 / 850, "fill_rate_orders": 3 / 6,
           "full_fill_rate_orders": 1 / 6, "cancel_rate_shares": 350 / 850,
           "median_time_to_first_fill_ms": 10_000,
           "mean_time_to_first_fill_ms": (50 * 10_000 + 50 * 5 + 100 * 81_900_000) / 200},
    "V2": {"orders": 1, "order_shares": 1000, "fill_rate_shares": 999.999999 / 1000, "fill_rate_orders": 1.0,
           "full_fill_rate_orders": 1.0, "cancel_rate_shares": 0.0, "median_time_to_first_fill_ms": 2000,
           "mean_time_to_first_fill_ms": (600 * 2000 + 399.999999 * 2000) / 999.999999},
}


@pytest.fixture(scope="module")
def review(tmp_path_factory):
    from conftest import write_extracts

    import bestex_nb
    from bestex_nb.build.store import build

    tmp = tmp_path_factory.mktemp("limit")
    data = write_extracts(tmp / "data", ORDERS, FILLS, QUOTES)
    r = bestex_nb.Review(build(data, tmp / "store.duckdb").store)
    yield r
    r.close()


def _committee(period) -> dict:
    """The repository's parameters and decisions for ``period``, as a notebook passes them to compute."""
    parameters, decisions = load_run(period)
    return {"parameters": parameters, "decisions": decisions}


def assert_row(row, expected):
    for col, want in expected.items():
        got = row[col]
        if want is None:
            assert got is None or (isinstance(got, float) and math.isnan(got)), f"{col}: {got} should be null"
        else:
            assert got == pytest.approx(want, rel=1e-12, abs=1e-9), f"{col}: {got} != {want}"


@pytest.mark.parametrize("venue", ["V1", "V2"])
def test_every_column_by_venue(review, venue):
    table = review.limit_fills("2026Q3", by=["venue"])
    assert list(table.columns) == ["venue", *LIMIT_COLUMNS]
    assert_row(table.set_index("venue").loc[venue], EXPECTED[venue])


def test_venue_filter_and_no_grouping(review):
    only = review.limit_fills("2026-07", by=[], venue="V1")
    assert list(only.columns) == LIMIT_COLUMNS and len(only) == 1
    assert_row(only.iloc[0], EXPECTED["V1"])
    assert review.limit_fills("2026-08").empty  # no orders then: no rows


def test_by_category_and_distance(review):
    cats = review.limit_fills("2026Q3", by=["order_category"]).set_index("order_category")
    assert cats["orders"].to_dict() == {"at_quote_limit": 4, "away_limit": 1, "inside_quote_limit": 1,
                                        "near_quote_limit": 1}
    # at the quote: L1 (50 of 100 filled), L2 (0 of 200), L4 (0 of 100), L7 (999.999999 of 1000)
    assert cats.loc["at_quote_limit", "fill_rate_shares"] == pytest.approx((50 + 999.999999) / 1400)
    assert cats.loc["at_quote_limit", "cancel_rate_shares"] == pytest.approx(350 / 1400)
    assert cats.loc["away_limit", "fill_rate_orders"] == 0
    assert pd.isna(cats.loc["away_limit", "median_time_to_first_fill_ms"])
    dist = review.limit_fills("2026Q3", by=["distance_bucket"]).set_index("distance_bucket")
    assert dist["orders"].to_dict() == {"0": 4, "3-5": 1, ">10": 1, "inside": 1}


def test_per_order_end_states_and_times(review):
    o = review.limit_orders("2026Q3").set_index("order_id")
    assert sorted(o.index) == ["L1", "L2", "L3", "L4", "L5", "L6", "L7"]  # L8 directed, L9–L12 marketable
    assert o["end_state"].to_dict() == {"L1": "cancelled", "L2": "expired", "L3": "filled", "L4": "cancelled",
                                        "L5": "open", "L6": "open", "L7": "filled"}
    ended = pd.to_datetime(o["ended_at"], utc=True)
    assert ended["L2"] == pd.Timestamp("2026-07-06T20:00:00Z")  # 16:00 New York
    assert ended["L4"] == pd.Timestamp("2026-07-06T14:30:00Z")  # ioc without canceled_at: at receipt
    assert ended["L6"] == pd.Timestamp("2026-07-07T14:00:00Z")  # gtc: the last instant in the data
    assert o["cancelled_qty"].to_dict() == {"L1": 50, "L2": 200, "L3": 0, "L4": 100, "L5": 0, "L6": 0, "L7": 0}
    assert o.loc["L7", "is_full_fill"] and not o.loc["L1", "is_full_fill"]
    assert o.loc["L3", "time_to_full_fill_ms"] == 5 and o.loc["L7", "time_to_full_fill_ms"] == 3000
    assert o["survival_ms"].to_dict() == {"L1": 10_000, "L2": 21_600_000, "L3": 5, "L4": 0, "L5": 81_900_000,
                                          "L6": 82_800_000, "L7": 2000}
    assert o["is_fill_event"].to_dict() == {"L1": True, "L2": False, "L3": True, "L4": False, "L5": True,
                                            "L6": False, "L7": True}


def test_fill_survival_by_hand(review):
    grid = [1, 5, 100, 10_000, 1e6, 9e7]
    s = review.fill_survival("2026Q3", by=["venue"], grid_ms=grid, ci="linear")
    v1 = s[s["venue"] == "V1"].reset_index(drop=True)
    np.testing.assert_allclose(v1["survival"], [1, 0.8, 0.8, 0.6, 0.6, 0.3])
    assert v1["at_risk"].tolist() == [5, 5, 4, 4, 3, 0]
    assert v1["filled"].tolist() == [0, 1, 1, 2, 2, 3]
    assert v1["censored"].tolist() == [1, 1, 1, 1, 1, 3]
    greenwood = 1 / (5 * 4) + 1 / (4 * 3)
    assert v1.loc[3, "std_err"] == pytest.approx(0.6 * math.sqrt(greenwood))
    assert v1.loc[3, "ci_low"] == pytest.approx(0.6 - 1.959963984540054 * 0.6 * math.sqrt(greenwood))
    assert (s[s["venue"] == "V2"]["orders"] == 1).all()


def test_fill_survival_refuses_unknown_grouping(review):
    with pytest.raises(ValueError, match="cannot group by"):
        review.fill_survival("2026Q3", by=["order_id"])


def test_rule5310_05_exceptions(review):
    ex = review.marketable_limit_exceptions("2026Q3")
    assert ex["order_id"].tolist() == ["L10", "L9"]
    row = ex.set_index("order_id")
    assert row.loc["L9", "shortfall_usd"] == pytest.approx(0.40)
    assert row.loc["L9", "fills"] == 1 and row.loc["L9", "order_fills"] == 2
    assert row.loc["L9", "outside_shares"] == 40 and row.loc["L9", "worst_price"] == 10.03
    assert row.loc["L9", "far_touch"] == 10.02 and row.loc["L10", "far_touch"] == 5.00
    assert row.loc["L10", "shortfall_usd"] == pytest.approx(0.05)
    assert {"order_id", "venue", "symbol", "side", "received_at", "limit_price", "nbb_r", "nbo_r",
            "shortfall_usd", "fills"} <= set(ex.columns)
    assert review.marketable_limit_exceptions("2026Q3", venue="V2")["order_id"].tolist() == ["L10"]
    wider = review.marketable_limit_exceptions("2026Q3", include_excluded=True).set_index("order_id")
    assert wider.loc["L12", "exclusion_reason"] == "outside_regular_hours"
    assert wider.loc["L12", "shortfall_usd"] == pytest.approx(0.10)


def test_exception_provider_rows(review):
    rows = exception_register.rule5310_05_exceptions(review, "2026Q3", None)
    assert rows["exception_id"].tolist() == ["R5310.05-L10", "R5310.05-L9"]
    assert rows["value"].tolist() == pytest.approx([0.05, 0.40])
    try:
        from bestex_nb.exception_register import PROVIDER_COLUMNS
    except ImportError:  # the exceptions module is another dimension's; the shape is what matters here
        return
    assert set(rows.columns) <= set(PROVIDER_COLUMNS)


def test_compute_frames(review):
    lf = lf_compute.compute(review, "2026Q3", **_committee("2026Q3"))
    assert set(lf.tables()) >= {"limit_fills_by_venue_category", "limit_fill_survival", "rule5310_05_exceptions"}
    ttf = lf.time_to_fill.set_index(["venue", "order_category"])
    assert ttf.loc[("V1", "at_quote_limit"), "orders_filled"] == 1
    assert ttf.loc[("V1", "at_quote_limit"), "km_median_ms"] == 10_000  # S falls to 1/2 at L1's fill
    figs = lf_figures.figures(lf, {"V1": "#4E79A7", "V2": "#F28E2B"})
    assert {"fill_rate_by_cell", "fill_rate_by_distance", "survival", "time_to_fill"} <= set(figs)
    with pytest.raises(Exception, match="no non-marketable limit orders"):
        lf_compute.compute(review, "2026-08", **_committee("2026-08"))


def test_widget_reaggregation_matches_the_api(review, monkeypatch):
    import plotly.io as pio

    from bestex_nb.interactive import limit_fills

    monkeypatch.setattr(pio.renderers, "default", "json")
    lf = lf_compute.compute(review, "2026Q3", **_committee("2026Q3"))
    mine = review.limit_filtered("2026Q3", ["venue"]).set_index("venue")
    api = review.limit_fills("2026Q3", by=["venue"]).set_index("venue")
    for col in ("orders", "order_shares", "fill_rate_shares", "fill_rate_orders", "cancel_rate_shares"):
        np.testing.assert_allclose(mine[col], api[col])
    assert review.limit_filtered("2026Q3", [], venue="V2")["orders"].tolist() == [1]  # L7
    box = limit_fills.limit_fill_explorer(review, lf, {"V1": "#4E79A7", "V2": "#F28E2B"})
    box.controls["venue"].value = "V1"  # redraws without error
    from bestex_nb.dimensions.limit_fills.tables import rates_display
    table = rates_display(review.limit_filtered("2026Q3", ["venue", "order_category"]))
    # categories in distance order (not alphabetical: "Away" would come first), in words
    assert table["order category"].tolist()[:3] == ["Inside the quote", "At the quote", "Near the quote"]
    assert list(table.columns) == ["venue", "order category", "orders", "order shares", "fill rate (shares)",
                                   "orders with a fill", "cancelled shares"]


def test_reading_tables(review):
    from bestex_nb.dimensions.limit_fills import tables

    lf = lf_compute.compute(review, "2026Q3", **_committee("2026Q3"))
    summary = tables.summary_table(lf.by_venue)
    assert summary["category"].iloc[0] == "Inside the quote" and len(summary) == len(lf.by_venue)
    assert tables.fmt_ms(5) == "5.00 ms" and tables.fmt_ms(90_000) == "1.5 min" and tables.fmt_ms(None) == "—"
    assert tables.time_to_fill_display(lf.time_to_fill).shape[0] == len(lf.time_to_fill)
    assert list(tables.monthly_pivot(lf.monthly).columns) == ["category", "venue", "2026-07"]
    assert len(tables.comparison_display(lf.comparison)) == len(lf.comparison)
    _, top = tables.exceptions_views(lf.exceptions, 1)
    assert "L9" in top.to_html() and "L10" not in top.to_html()  # the largest shortfall first
    assert tables.exceptions_summary(lf.exceptions).set_index("venue")["shortfall_usd"].to_dict() == \
        pytest.approx({"V1": 0.40, "V2": 0.05})
    (only,) = tables.exceptions_views(lf.exceptions.iloc[:0])
    assert "No fill" in only.data


def test_rule5310_05_exceptions_join_the_one_exceptions_table(review, tmp_path):
    from bestex_nb.contract.parameters import ReviewParameters
    from bestex_nb.dimensions.venues.tables import exceptions_summary

    params = ReviewParameters(material_difference={"fill_rate_shares": 0.10}, replicates=1000, seed=1,
                              material_metrics=("fill_rate_shares",))
    decisions = tmp_path / "decisions.yaml"
    decisions.write_text("R5310.05-L9:\n  disposition: justified\n  rationale: fill at 10.03 was the "
                         "customer's own limit\n  decided_on: 2026-08-01\n  decided_by: committee\n")
    every = review.exceptions("2026Q3", parameters=params, decisions=decisions)
    ours = every[every["kind"] == "marketable_limit_outside_quote"].set_index("exception_id")
    assert sorted(ours.index) == ["R5310.05-L10", "R5310.05-L9"]
    assert ours.loc["R5310.05-L9", "value"] == pytest.approx(0.40) and ours.loc["R5310.05-L9", "unit"] == "USD"
    assert ours.loc["R5310.05-L10", "value"] == pytest.approx(0.05) and ours.loc["R5310.05-L10", "venue"] == "V2"
    assert ours.loc["R5310.05-L9", "disposition"] == "justified" and ours.loc["R5310.05-L10", "disposition"] == "open"
    # the limit-order review's own list: the same rows, ids and dispositions
    own = lf_compute.dimension_exceptions(review, "2026Q3", params, load_decisions(decisions))
    pd.testing.assert_frame_equal(own.reset_index(drop=True),
                                  every[every["kind"].isin(own["kind"].unique())].reset_index(drop=True))
    summary = exceptions_summary(every).set_index(["kind", "venue"])
    assert summary.loc[("marketable limit outside quote", "V1"), ["exceptions", "open", "justified"]].tolist() == [1, 0, 1]
    assert summary.loc[("marketable limit outside quote", "V2"), "total"] == "$0.05"


def test_the_review_keeps_its_rows_of_a_table_it_already_has(review, tmp_path):
    """dimension_exceptions over the period's whole table gives the rows its own providers give."""
    from bestex_nb.contract.parameters import ReviewParameters

    params = ReviewParameters(material_difference={"fill_rate_shares": 0.10, "net_pi_ps": 0.0005}, replicates=1000,
                              seed=1, material_metrics=("fill_rate_shares", "net_pi_ps"))
    every = review.exceptions("2026Q3", parameters=params, decisions={})
    kept = lf_compute.dimension_exceptions(review, "2026Q3", params, {}, every)
    ran = lf_compute.dimension_exceptions(review, "2026Q3", params, {})
    pd.testing.assert_frame_equal(kept, ran.reset_index(drop=True))
