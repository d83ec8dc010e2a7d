"""Rule 5310 .05 exceptions told apart by the NBBO at execution and grouped by venue × cause; decisions
by group id with member overrides; the groups ranked by dollar impact. Worked by hand below.

Day: Monday 2026-07-06 (New York UTC−4: 14:00Z is 10:00). Quotes (bid/ask):
  AAA 13:30Z 10.00/10.02; 14:00:00.005Z 10.03/10.05 (the market moved up); 14:00:00.030Z 10.04/10.04 (locked)
  BBB 13:30Z 5.00/5.01;   14:00:00.005Z 4.97/4.99 (the market moved down)
  PNY 13:30Z 20.00/20.02 and nothing on 2026-07-07
Marketable limit orders received 14:00:00Z (PI: buy NBO_r − P, sell P − NBB_r; F_x: the far touch at
execution, NBO_x for a buy, NBB_x for a sell; through the quote when s·(P − F_x) > 0):
  M1 buy AAA V1 100 @ 10.04 at .010: PI −0.02 → $2.00; F_x 10.05, 10.04 ≤ 10.05 → market_moved
  M2 buy AAA V1  50 @ 10.06 at .010: PI −0.04 → $2.00; 10.06 > 10.05 → through_quote, $0.50 through
  M3 buy AAA V1  10 @ 10.04 at .040: PI −0.02 → $0.20; locked 10.04/10.04: at the quote → market_moved
  M4 buy AAA V1  10 @ 10.05 at .040: PI −0.03 → $0.30; 10.05 > 10.04 (locked) → through_quote, $0.10
  M5 sell BBB V2 100 @ 4.98 at .010: PI −0.02 → $2.00; F_x = NBB_x 4.97, 4.98 ≥ 4.97 → market_moved
  M6 sell BBB V2 100 @ 4.96 at .010: PI −0.04 → $4.00; 4.96 < 4.97 → through_quote, $1.00 through
  M7 buy PNY V1 gtc 10 @ 20.05 on 2026-07-07 13:00Z: PI −0.03 → $0.30; no quote that day → no_quote_at_execution
Groups (open, by dollars): V2 through $4.00, V1 through $2.30 (M2, M4), V1 moved $2.20 (M1, M3),
V2 moved $2.00, V1 no quote $0.30.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import fill, order, quote

from bestex_nb import exception_register
from bestex_nb.contract.parameters import ParameterError, load

T, T2 = "2026-07-06T", "2026-07-07T"
G = "GROUP-R5310.05-2026Q3-"
ONLY_05 = [exception_register.rule5310_05_exceptions]


def mkt_limit(order_id, side, limit, qty, symbol="AAA", venue="V1", tif="day"):
    return order(order_id, T + "14:00:00Z", symbol=symbol, side=side, order_type="limit", limit_price=limit,
                 quantity=qty, time_in_force=tif, routed_venue=venue)


ORDERS = [mkt_limit("M1", "buy", "10.05", "100"), mkt_limit("M2", "buy", "10.10", "50"),
          mkt_limit("M3", "buy", "10.10", "10"), mkt_limit("M4", "buy", "10.10", "10"),
          mkt_limit("M5", "sell", "4.95", "100", "BBB", "V2"), mkt_limit("M6", "sell", "4.90", "100", "BBB", "V2"),
          mkt_limit("M7", "buy", "20.10", "10", "PNY", tif="gtc")]
FILLS = [fill("F1", "M1", T + "14:00:00.010Z", "100", "10.04"), fill("F2", "M2", T + "14:00:00.010Z", "50", "10.06"),
         fill("F3", "M3", T + "14:00:00.040Z", "10", "10.04"), fill("F4", "M4", T + "14:00:00.040Z", "10", "10.05"),
         fill("F5", "M5", T + "14:00:00.010Z", "100", "4.98", "V2"),
         fill("F6", "M6", T + "14:00:00.010Z", "100", "4.96", "V2"),
         fill("F7", "M7", T2 + "13:00:00Z", "10", "20.05")]
QUOTES = [quote("AAA", T + "13:30:00Z", "10.00", "10.02"), quote("BBB", T + "13:30:00Z", "5.00", "5.01"),
          quote("PNY", T + "13:30:00Z", "20.00", "20.02"),
          quote("AAA", T + "14:00:00.005Z", "10.03", "10.05"), quote("BBB", T + "14:00:00.005Z", "4.97", "4.99"),
          quote("AAA", T + "14:00:00.030Z", "10.04", "10.04")]

JUSTIFIED = """
  disposition: justified
  rationale: The market moved between receipt and execution; every fill was within the quote then.
  decided_on: 2026-10-14
  decided_by: Best Execution Committee
"""
CHANGED = """
  disposition: routing_changed
  rationale: This fill at a locked quote is being reviewed with the venue.
  decided_on: 2026-10-14
  decided_by: Best Execution Committee
"""


@pytest.fixture(scope="module")
def review(tmp_path_factory):
    from conftest import write_extracts

    import bestex_nb
    from bestex_nb.build.store import build

    tmp = tmp_path_factory.mktemp("groups")
    r = bestex_nb.Review(build(write_extracts(tmp / "data", ORDERS, FILLS, QUOTES), tmp / "s.duckdb").store)
    yield r
    r.close()


def test_cause_by_the_nbbo_at_execution_for_buys_and_sells(review):
    ex = review.marketable_limit_exceptions("2026Q3").set_index("order_id")
    assert ex["cause"].to_dict() == {"M1": "market_moved", "M2": "through_quote", "M3": "market_moved",
                                     "M4": "through_quote", "M5": "market_moved", "M6": "through_quote",
                                     "M7": "no_quote_at_execution"}
    assert ex["shortfall_usd"].to_dict() == pytest.approx({"M1": 2.0, "M2": 2.0, "M3": 0.2, "M4": 0.3, "M5": 2.0,
                                                           "M6": 4.0, "M7": 0.3})
    assert (ex.loc["M1", "nbb_r"], ex.loc["M1", "nbo_r"], ex.loc["M1", "nbb_x"], ex.loc["M1", "nbo_x"]) == (
        10.00, 10.02, 10.03, 10.05)
    assert ex.loc["M1", "far_touch"] == 10.02 and ex.loc["M1", "far_touch_x"] == 10.05
    assert (ex.loc["M3", "nbb_x"], ex.loc["M3", "nbo_x"]) == (10.04, 10.04)  # locked at execution: valid
    assert (ex.loc["M6", "nbb_x"], ex.loc["M6", "far_touch_x"]) == (4.97, 4.97)
    assert ex["through_usd"].to_dict() == pytest.approx({"M1": 0, "M2": 0.5, "M3": 0, "M4": 0.1, "M5": 0,
                                                         "M6": 1.0, "M7": 0})
    assert pd.isna(ex.loc["M7", "nbb_x"]) and ex.loc["M7", "no_quote_fills"] == 1
    assert pd.Timestamp(ex.loc["M7", "worst_executed_at"]) == pd.Timestamp(T2 + "13:00:00Z")
    assert "THROUGH the quote" in ex.loc["M6", "detail"] and "$1.00 beyond" in ex.loc["M6", "detail"]
    assert "market moved" in ex.loc["M1", "detail"] and "10.0300 x 10.0500" in ex.loc["M1", "detail"]


def test_members_keep_their_ids_and_carry_group_and_both_nbbos(review, tmp_path):
    table = review.exceptions("2026Q3", parameters=load("2026Q3"), decisions={}, providers=ONLY_05)
    rows = table.set_index("exception_id")
    assert sorted(rows.index) == [f"R5310.05-M{i}" for i in range(1, 8)]
    assert rows["group_id"].to_dict() == {
        "R5310.05-M1": G + "V1-market_moved", "R5310.05-M2": G + "V1-through_quote",
        "R5310.05-M3": G + "V1-market_moved", "R5310.05-M4": G + "V1-through_quote",
        "R5310.05-M5": G + "V2-market_moved", "R5310.05-M6": G + "V2-through_quote",
        "R5310.05-M7": G + "V1-no_quote_at_execution"}
    assert (rows.loc["R5310.05-M5", "nbb_r"], rows.loc["R5310.05-M5", "nbb_x"]) == (5.00, 4.97)
    assert rows.loc["R5310.05-M6", "usd_impact"] == pytest.approx(4.0)
    assert list(table.columns) == exception_register.EXCEPTION_COLUMNS


def test_groups_ranked_by_dollar_impact(review):
    g = review.exception_groups("2026Q3", parameters=load("2026Q3"), decisions={}, providers=ONLY_05)
    assert g["group_id"].tolist() == [G + "V2-through_quote", G + "V1-through_quote", G + "V1-market_moved",
                                      G + "V2-market_moved", G + "V1-no_quote_at_execution"]
    assert g["usd_impact"].tolist() == pytest.approx([4.0, 2.3, 2.2, 2.0, 0.3])
    assert g["members"].tolist() == [1, 2, 2, 1, 1] and g["open_members"].tolist() == [1, 2, 2, 1, 1]
    by = g.set_index("group_id")
    assert by.loc[G + "V1-through_quote", "worst_ids"] == "R5310.05-M2, R5310.05-M4"
    assert by.loc[G + "V1-market_moved", "worst_ids"] == "R5310.05-M1, R5310.05-M3"
    assert (by.loc[G + "V1-market_moved", "venue"], by.loc[G + "V1-market_moved", "cause"]) == ("V1", "market_moved")
    assert "2 marketable limit outside quote exception(s) at V1" in by.loc[G + "V1-market_moved", "description"]
    assert "$2.20" in by.loc[G + "V1-market_moved", "description"]
    assert list(g.columns) == exception_register.GROUP_COLUMNS


def test_a_group_decision_applies_to_its_members_and_a_member_decision_overrides_it(review, tmp_path):
    path = tmp_path / "decisions.yaml"
    path.write_text(f"{G}V1-market_moved:" + JUSTIFIED + "R5310.05-M3:" + CHANGED)
    table = review.exceptions("2026Q3", parameters=load("2026Q3"), decisions=path, providers=ONLY_05)
    rows = table.set_index("exception_id")
    assert rows.loc["R5310.05-M1", ["disposition", "decision_id"]].tolist() == ["justified", G + "V1-market_moved"]
    assert rows.loc["R5310.05-M1", "rationale"].startswith("The market moved")
    assert rows.loc["R5310.05-M3", ["disposition", "decision_id"]].tolist() == ["routing_changed", "R5310.05-M3"]
    assert rows.loc["R5310.05-M2", ["disposition", "rationale", "decision_id"]].tolist() == [
        "open", "no decision recorded", ""]
    g = review.exception_groups("2026Q3", parameters=load("2026Q3"), decisions=path, providers=ONLY_05)
    by = g.set_index("group_id")
    assert by.loc[G + "V1-market_moved", ["open_members", "disposition"]].tolist() == [0, "mixed"]
    # a decided group goes after every open one, whatever its dollars
    assert g["group_id"].iloc[-1] == G + "V1-market_moved"
    # every member justified by the group alone: the group's disposition is theirs
    path.write_text(f"{G}V1-market_moved:" + JUSTIFIED)
    g = review.exception_groups("2026Q3", parameters=load("2026Q3"), decisions=path, providers=ONLY_05)
    assert g.set_index("group_id").loc[G + "V1-market_moved", "disposition"] == "justified"


def test_an_unknown_group_id_of_the_period_stops_the_review_another_periods_does_not(review, tmp_path):
    path = tmp_path / "decisions.yaml"
    path.write_text(f"{G}V9-market_moved:" + JUSTIFIED)
    with pytest.raises(ParameterError) as info:
        review.exceptions("2026Q3", parameters=load("2026Q3"), decisions=path, providers=ONLY_05)
    assert "no R5310.05 group with this id was raised for 2026Q3" in str(info.value)
    assert f"closest existing id: {G}V2-market_moved" in str(info.value)  # V1 and V2 as close: difflib's pick
    path.write_text("GROUP-R5310.05-2026Q2-V1-market_moved:" + JUSTIFIED + "GROUP-XYZ-2026Q3-V1:" + JUSTIFIED)
    with pytest.raises(ParameterError, match="unknown kind 'XYZ'"):
        review.exceptions("2026Q3", parameters=load("2026Q3"), decisions=path, providers=ONLY_05)
    path.write_text("GROUP-R5310.05-2026Q2-V1-market_moved:" + JUSTIFIED)
    table = review.exceptions("2026Q3", parameters=load("2026Q3"), decisions=path, providers=ONLY_05)
    assert table.attrs["unmatched_decisions"] == ["GROUP-R5310.05-2026Q2-V1-market_moved"]
    assert (table["disposition"] == "open").all()


def test_group_ids_are_stable_across_builds(review, build_review):
    again = build_review(ORDERS, FILLS, QUOTES)
    first, second = (r.exception_groups("2026Q3", parameters=load("2026Q3"), decisions={}, providers=ONLY_05)
                     for r in (review, again))
    pd.testing.assert_frame_equal(first, second)
    # a month's groups carry the month: a decision for the quarter's group does not reach the month's
    month = again.exception_groups("2026-07", parameters=load("2026-07"), decisions={}, providers=ONLY_05)
    assert month["group_id"].str.startswith("GROUP-R5310.05-2026-07-").all() and len(month) == len(first)


def _row(exception_id, group_id, impact, disposition="open", kind="material_difference", venue="V1"):
    return {"exception_id": exception_id, "group_id": group_id, "usd_impact": impact, "disposition": disposition,
            "kind": kind, "venue": venue, "period": "2026Q3", "cause": None, "detail": f"{exception_id} text"}


def test_groups_sort_open_first_by_absolute_dollars_nulls_after():
    table = pd.DataFrame([
        _row("MAT-a", "MAT-a", 5.0), _row("MAT-b", "MAT-b", None), _row("MAT-c", "MAT-c", -9.0),
        _row("DET-d", "DET-d", None, kind="deterioration"), _row("MAT-e", "MAT-e", 100.0, "justified"),
        _row("R-1", "GROUP-R-x", 1.0, kind="marketable_limit_outside_quote"),
        _row("R-2", "GROUP-R-x", 3.0, kind="marketable_limit_outside_quote"),
        _row("R-3", "GROUP-R-x", None, kind="marketable_limit_outside_quote")])
    g = exception_register.groups(table)
    assert g["group_id"].tolist() == ["MAT-c", "MAT-a", "GROUP-R-x", "DET-d", "MAT-b", "MAT-e"]
    by = g.set_index("group_id")
    assert by.loc["GROUP-R-x", "usd_impact"] == 4.0 and by.loc["GROUP-R-x", "worst_ids"] == "R-2, R-1, R-3"
    assert pd.isna(by.loc["MAT-b", "usd_impact"]) and by.loc["MAT-a", "description"] == "MAT-a text"
