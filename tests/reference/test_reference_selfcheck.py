"""Self-checks of the reference implementation against numbers worked out by hand.

All timestamps are in July 2026 (New York = UTC-4): 09:30 NY = 13:30Z, 16:00 NY = 20:00Z.
"""

from __future__ import annotations

import csv
import math
from datetime import date
from decimal import Decimal as D

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reference import pi_reference as ref

ORDER_COLS = ["order_id", "received_at", "symbol", "side", "order_type", "limit_price", "quantity",
              "time_in_force", "routed_venue", "routed_at", "canceled_at", "is_directed", "is_not_held"]
EXEC_COLS = ["execution_id", "order_id", "executed_venue", "executed_at", "quantity", "price", "capacity"]
NBBO_COLS = ["symbol", "quoted_at", "bid_price", "ask_price", "bid_size", "ask_size", "seq"]
VENUES = [{"venue_id": "V1", "name": "One", "venue_type": "wholesaler", "is_affiliate": "false",
           "pays_pfof": "true", "mic": "", "rule605_code": ""},
          {"venue_id": "V2", "name": "Two", "venue_type": "exchange", "is_affiliate": "false",
           "pays_pfof": "false", "mic": "XTWO", "rule605_code": ""}]
SECURITIES = [{"symbol": "AAA", "name": "A", "is_sp500": "true"},
              {"symbol": "BBB", "name": "B", "is_sp500": ""}]
JULY = (date(2026, 7, 1), date(2026, 8, 1))


def o(order_id, received_at, side="buy", order_type="market", limit="", qty="100", symbol="AAA",
      venue="V1", tif="day", directed="false", not_held="false", routed_at=None, canceled_at=""):
    return {"order_id": order_id, "received_at": received_at, "symbol": symbol, "side": side,
            "order_type": order_type, "limit_price": limit, "quantity": qty, "time_in_force": tif,
            "routed_venue": venue, "routed_at": received_at if routed_at is None and venue else routed_at or "",
            "canceled_at": canceled_at, "is_directed": directed, "is_not_held": not_held}


def f(execution_id, order_id, executed_at, qty, price):
    return {"execution_id": execution_id, "order_id": order_id, "executed_venue": "V1",
            "executed_at": executed_at, "quantity": qty, "price": price, "capacity": "principal"}


def q(quoted_at, bid, ask, symbol="AAA", seq=""):
    return {"symbol": symbol, "quoted_at": quoted_at, "bid_price": bid, "ask_price": ask,
            "bid_size": "100", "ask_size": "100", "seq": seq}


def _write(path, cols, rows):
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in cols})


def make(tmp_path, orders, fills, quotes, with_seq=True):
    _write(tmp_path / "orders.csv", ORDER_COLS, orders)
    _write(tmp_path / "executions.csv", EXEC_COLS, fills)
    _write(tmp_path / "nbbo.csv", NBBO_COLS if with_seq else NBBO_COLS[:-1], quotes)
    _write(tmp_path / "venues.csv", list(VENUES[0]), VENUES)
    _write(tmp_path / "securities.csv", list(SECURITIES[0]), SECURITIES)
    return ref.load_extracts(tmp_path)


def pi(tables, by, period=JULY, venue=None):
    df = ref.price_improvement(tables, period[0], period[1], by, venue)
    return {tuple(r[c] for c in by): r for r in df.to_dict("records")}


def enriched(tables):
    return {r["order_id"]: r for r in ref.enrich_orders(tables).to_dict("records")}


def close(a, b):
    return math.isclose(a, b, rel_tol=0, abs_tol=1e-12)


# quote at 09:29 NY: NBB 10.00 / NBO 10.02, M 10.01, QS 0.02
BASE_QUOTE = q("2026-07-01T13:29:00Z", "10.00", "10.02")


def test_buy_improved_with_realized_spreads(tmp_path):
    t = make(tmp_path,
             [o("B1", "2026-07-01T13:30:00Z")],  # exactly 09:30:00 NY: inside regular hours
             [f("E1", "B1", "2026-07-01T13:30:00.250Z", "100", "10.01")],
             [BASE_QUOTE,
              q("2026-07-01T13:30:30Z", "10.02", "10.04"),   # M 10.03
              q("2026-07-01T13:33:00Z", "10.05", "10.04"),   # crossed: not valid, skipped for M_{t+5m}
              q("2026-07-01T13:40:00Z", "10.10", "10.12")])  # after t+5m: not used
    e = enriched(t)["B1"]
    assert e["reason"] is None and e["order_category"] == "market"
    assert (e["nbb_r"], e["nbo_r"], e["mid_r"]) == (D("10.00"), D("10.02"), D("10.01"))
    assert e["month"] == "2026-07" and e["receipt_date"] == date(2026, 7, 1)
    # notional 100 × 10.01 = 1001 -> 1k-5k; 100 shares -> 100-499 (edge goes up)
    assert (e["size_bucket"], e["share_bucket"]) == ("1k-5k", "100-499")
    r = pi(t, ["venue"])[("V1",)]
    # PI = 10.02 - 10.01 = 0.01 on 100 shares
    assert r["orders"] == 1 and r["order_shares"] == D(100) and r["executed_shares"] == D(100)
    assert (r["improved_shares"], r["at_quote_shares"], r["outside_shares"]) == (D(100), D(0), D(0))
    assert r["pi_usd"] == D("1.00") and r["disimprovement_usd"] == 0 and r["net_pi_usd"] == D("1.00")
    assert close(r["avg_improvement_ps"], 0.01) and close(r["net_pi_ps"], 0.01)
    assert math.isnan(r["avg_disimprovement_ps"])
    assert close(r["pct_shares_improved"], 1) and close(r["pct_shares_at_or_better"], 1)
    # ES = 2(10.01 - 10.01) = 0; QS = 0.02; E/Q = 0
    assert close(r["eff_spread_ps"], 0) and close(r["quoted_spread_ps"], 0.02) and close(r["eq_ratio"], 0)
    # M_{t+1m}: latest valid quote <= 13:31:00.25 is 13:30:30 (M 10.03): RS = 2(10.01 - 10.03) = -0.04
    # M_{t+5m}: <= 13:35:00.25; the 13:33 crossed quote is skipped, so again M 10.03 -> -0.04
    assert close(r["realized_spread_1m_ps"], -0.04) and close(r["realized_spread_5m_ps"], -0.04)
    assert close(r["avg_exec_ms"], 250.0) and close(r["pct_orders_improved"], 1)


def test_sell_at_quote_and_sell_short_disimproved(tmp_path):
    t = make(tmp_path,
             [o("S1", "2026-07-01T14:00:00Z", side="sell", qty="200"),
              o("SS1", "2026-07-01T14:00:00Z", side="sell_short", order_type="limit", limit="9.99",
                qty="50")],
             [f("E1", "S1", "2026-07-01T14:00:01Z", "200", "10.00"),
              f("E2", "SS1", "2026-07-01T14:00:00.5Z", "50", "9.99")],
             [BASE_QUOTE])
    e = enriched(t)
    assert e["S1"]["order_category"] == "market"
    assert e["SS1"]["order_category"] == "marketable_limit"  # sell limit 9.99 <= NBB 10.00
    rows = pi(t, ["side"])
    s, ss = rows[("sell",)], rows[("sell_short",)]
    # sell: PI = P - NBB = 10.00 - 10.00 = 0; ES = -2(10.00 - 10.01) = 0.02; E/Q = 0.02/0.02 = 1
    assert s["at_quote_shares"] == D(200) and s["improved_shares"] == 0 and s["outside_shares"] == 0
    assert close(s["pct_shares_improved"], 0) and close(s["pct_shares_at_or_better"], 1)
    assert math.isnan(s["avg_improvement_ps"]) and math.isnan(s["avg_disimprovement_ps"])
    assert close(s["eff_spread_ps"], 0.02) and close(s["eq_ratio"], 1.0) and close(s["avg_exec_ms"], 1000)
    # no later quote: M_{t+Δ} = 10.01, RS = -2(10.00 - 10.01) = 0.02
    assert close(s["realized_spread_1m_ps"], 0.02) and close(s["realized_spread_5m_ps"], 0.02)
    assert close(s["pct_orders_improved"], 0)
    # sell_short: PI = 9.99 - 10.00 = -0.01 on 50 -> dis-improvement 0.50 USD, 0.01 per share
    assert ss["outside_shares"] == D(50) and ss["disimprovement_usd"] == D("0.50")
    assert ss["net_pi_usd"] == D("-0.50") and ss["pi_usd"] == 0
    assert close(ss["avg_disimprovement_ps"], 0.01) and close(ss["net_pi_ps"], -0.01)
    assert close(ss["pct_shares_at_or_better"], 0)
    # ES = -2(9.99 - 10.01) = 0.04; E/Q = 2
    assert close(ss["eff_spread_ps"], 0.04) and close(ss["eq_ratio"], 2.0)
    assert close(ss["avg_exec_ms"], 500)


def test_partial_fill_and_group_without_fills(tmp_path):
    t = make(tmp_path,
             [o("B2", "2026-07-01T14:00:00Z", qty="300"),
              o("B3", "2026-07-01T14:00:00Z", venue="V2")],  # covered, never filled
             [f("E1", "B2", "2026-07-01T14:00:00.100Z", "100", "10.01"),
              f("E2", "B2", "2026-07-01T14:00:00.300Z", "100", "10.02")],
             [BASE_QUOTE])
    rows = pi(t, ["venue"])
    v1, v2 = rows[("V1",)], rows[("V2",)]
    # two fills of a third each: 200 of 300 shares executed (2/3)
    assert v1["order_shares"] == D(300) and v1["executed_shares"] == D(200)
    assert v1["executed_shares"] / v1["order_shares"] == D(2) / D(3)
    # first fill PI 0.01 (improved), second PI 0 (at the quote)
    assert v1["improved_shares"] == D(100) and v1["at_quote_shares"] == D(100)
    assert close(v1["pct_shares_improved"], 0.5) and close(v1["pct_shares_at_or_better"], 1)
    assert v1["pi_usd"] == D("1.00") and close(v1["net_pi_ps"], 0.005) and close(v1["avg_improvement_ps"], 0.01)
    # (100 × 100 ms + 100 × 300 ms) / 200 = 200 ms
    assert close(v1["avg_exec_ms"], 200)
    # order's share-weighted PI = 0.005 > 0 -> improved
    assert close(v1["pct_orders_improved"], 1)
    # V2: a covered order without fills still gets a row: zero sums, null ratios
    assert v2["orders"] == 1 and v2["order_shares"] == D(100) and v2["executed_shares"] == 0
    assert v2["pi_usd"] == 0 and v2["net_pi_usd"] == 0
    for c in ref.RATIO_COLUMNS:
        assert math.isnan(v2[c]), c
    per_order = ref.order_pi(t, *JULY).set_index("order_id")
    assert per_order.loc["B2", "executed_shares"] == D(200) and per_order.loc["B2", "net_pi_usd"] == D("1.00")
    assert per_order.loc["B3", "fill_count"] == 0 and per_order.loc["B3", "executed_shares"] == 0
    # another month: no covered orders -> no rows, but the columns are there
    empty = ref.price_improvement(t, date(2026, 8, 1), date(2026, 9, 1), ["venue"])
    assert empty.empty and list(empty.columns) == ["venue"] + ref.PI_COLUMNS


def test_locked_market(tmp_path):
    t = make(tmp_path,
             [o("LB", "2026-07-01T14:00:00Z", order_type="limit", limit="10.00", qty="25"),
              o("LS", "2026-07-01T14:00:00Z", side="sell", order_type="limit", limit="10.00"),
              o("LN", "2026-07-01T14:00:00Z", order_type="limit", limit="9.99"),
              o("LA", "2026-07-01T14:00:00Z", order_type="limit", limit="9.89")],
             [f("E1", "LB", "2026-07-01T14:00:01Z", "25", "10.00")],
             [q("2026-07-01T13:59:00Z", "10.00", "10.00")])
    e = enriched(t)
    # bid = ask: the first matching row wins, so a limit at the quote is marketable (both sides)
    assert e["LB"]["order_category"] == "marketable_limit" and e["LB"]["is_locked"]
    assert e["LS"]["order_category"] == "marketable_limit"
    # 9.99: NBB - 0.10 <= 9.99 < NBB -> near; 9.89 < 9.90 -> away
    assert e["LN"]["order_category"] == "near_quote_limit" and e["LA"]["order_category"] == "away_limit"
    assert e["LB"]["reason"] is None
    # notional 25 × 10.00 = 250 exactly: the edge belongs to the bucket above
    assert e["LB"]["size_bucket"] == "250-1k" and e["LS"]["size_bucket"] == "1k-5k"
    r = pi(t, ["order_category"])[("marketable_limit",)]
    # PI 0, QS 0, ES 0: E/Q has a zero denominator -> null
    assert r["at_quote_shares"] == D(25) and close(r["quoted_spread_ps"], 0) and close(r["eff_spread_ps"], 0)
    assert math.isnan(r["eq_ratio"])
    assert r["orders"] == 2  # LB and LS


def test_sub_penny_and_fractional_shares(tmp_path):
    # NBB 10.00 / NBO 10.01, M 10.005, QS 0.01
    t = make(tmp_path,
             [o("SP", "2026-07-01T14:00:00Z"), o("FR", "2026-07-01T14:00:00Z", qty="0.375")],
             [f("E1", "SP", "2026-07-01T14:00:00.001Z", "100", "10.0049"),
              f("E2", "FR", "2026-07-01T14:00:00.002Z", "0.375", "10.00")],
             [q("2026-07-01T13:59:00Z", "10.00", "10.01")])
    e = enriched(t)
    # 0.375 × 10.005 = 3.751875 -> <250; 0.375 shares -> <100
    assert e["FR"]["size_bucket"] == "<250" and e["FR"]["share_bucket"] == "<100"
    rows = pi(t, ["share_bucket"])
    sp, fr = rows[("100-499",)], rows[("<100",)]
    # PI = 10.01 - 10.0049 = 0.0051 per share, × 100 = 0.51 USD (exact)
    assert sp["pi_usd"] == D("0.51") and close(sp["avg_improvement_ps"], 0.0051)
    # ES = 2(10.0049 - 10.005) = -0.0002 (better than the midpoint); E/Q = -0.0002 / 0.01 = -0.02
    assert close(sp["eff_spread_ps"], -0.0002) and close(sp["eq_ratio"], -0.02)
    # 0.375 shares improved by 0.01 -> 0.00375 USD
    assert fr["executed_shares"] == D("0.375") and fr["pi_usd"] == D("0.00375")
    assert close(fr["net_pi_ps"], 0.01) and close(fr["avg_exec_ms"], 2.0)
    total = pi(t, ["venue"])[("V1",)]
    assert total["executed_shares"] == D("100.375") and total["pi_usd"] == D("0.51375")
    assert close(total["net_pi_ps"], 0.51375 / 100.375)


@pytest.mark.parametrize("with_seq", [True, False])
def test_quote_at_receipt_timestamp_and_seq(tmp_path, with_seq):
    t = make(tmp_path,
             [o("T1", "2026-07-01T14:00:00Z")],
             [],
             [q("2026-07-01T13:59:00Z", "20.00", "20.10"),
              q("2026-07-01T14:00:00Z", "20.02", "20.04", seq="2"),  # same instant as the receipt
              q("2026-07-01T14:00:00Z", "20.00", "20.06", seq="1"),
              q("2026-07-01T14:00:00.000001Z", "19.00", "19.01", seq="3")],  # 1 µs after receipt
             with_seq=with_seq)
    e = enriched(t)["T1"]
    if with_seq:  # seq 2 is later than seq 1 although it comes first in the file
        assert (e["nbb_r"], e["nbo_r"]) == (D("20.02"), D("20.04"))
    else:  # no seq: file order decides, the last row at 14:00:00 wins
        assert (e["nbb_r"], e["nbo_r"]) == (D("20.00"), D("20.06"))
    assert e["reason"] is None and e["order_category"] == "market"


def test_previous_day_quote_does_not_count(tmp_path):
    t = make(tmp_path,
             [o("P1", "2026-07-02T13:45:00Z"),
              o("P2", "2026-07-02T13:45:00Z", symbol="BBB"),
              o("P3", "2026-07-02T13:45:00Z", symbol="AAA", side="sell", venue="V2"),
              o("P4", "2026-07-01T14:00:00Z", symbol="BBB")],
             [],
             [q("2026-07-01T19:59:00Z", "10.00", "10.02"),   # previous day, 15:59 NY
              q("2026-07-02T02:00:00Z", "10.00", "10.02"),   # 22:00 NY on 07-01: previous NY day
              q("2026-07-02T11:00:00Z", "5.00", "5.02", symbol="BBB"),  # 07:00 NY pre-market: counts
              q("2026-07-01T13:00:00Z", "5.00", "0", symbol="BBB"),     # one-sided
              ])
    e = enriched(t)
    assert e["P1"]["reason"] == "no_nbbo" and e["P1"]["order_category"] is None
    assert e["P1"]["size_bucket"] is None and e["P1"]["scope"] == "quality"
    assert e["P2"]["reason"] is None and e["P2"]["nbb_r"] == D("5.00")
    assert e["P2"]["is_sp500"] is False  # null flag reads as false
    assert e["P3"]["reason"] == "no_nbbo"
    assert e["P4"]["reason"] == "one_sided_nbbo" and e["P4"]["order_category"] is None

    (tmp_path / "x").mkdir()
    crossed = make(tmp_path / "x", [o("C1", "2026-07-01T14:00:00Z", order_type="limit", limit="11")], [],
                   [q("2026-07-01T13:00:00Z", "10.05", "10.00")])
    assert enriched(crossed)["C1"]["reason"] == "crossed_nbbo"
    assert enriched(crossed)["C1"]["order_category"] is None


def test_exclusion_precedence(tmp_path):
    at = "2026-07-01T14:00:00Z"
    orders = [
        o("D1", "2026-07-01T12:00:00Z", directed="true"),            # 08:00 NY and directed -> directed
        o("DUP", at, directed="true"), o("DUP", at),                    # both copies -> duplicate_order_id
        o("N1", at, directed="true", not_held="true"),                  # not_held before directed
        o("K1", at, tif="fok", not_held="true"),                        # special_handling first
        o("ST", at, order_type="stop", limit="9"),                      # special_handling
        o("U1", at, symbol="ZZZ", directed="true"),                     # unknown_symbol
        o("UV", at, venue="ZZ"),                                        # unknown_venue
        o("R1", "2026-07-01T20:00:00Z", venue=""),                     # not_routed before outside hours
        o("H1", "2026-07-01T20:00:00Z"),                                # 16:00:00 NY -> outside
        o("H2", "2026-07-01T13:29:59.999999Z"),                        # 09:29:59.999999 -> outside
        o("BQ", at, order_type="limit", limit="0", qty="0"),            # bad_quantity before bad_limit
        o("BL", at, order_type="limit"),                                # limit order without a limit
        o("BF", at),                                                    # a fill priced 0
        o("BT", at, canceled_at="2026-07-01T13:59:59Z"),                # cancelled before receipt
        o("OF1", at),                                                   # 50.000002 + 50.000001 > 100.000002
        o("OF2", at),                                                   # 50.000001 + 50.000001 <= 100.000002
        o("FB", "2026-07-01T12:00:00Z"),                                # fill before receipt (and pre-market)
        o("OK", at),
    ]
    fills = [f("E1", "BF", at, "10", "0"),
             f("E2", "OF1", at, "50.000002", "10.02"), f("E3", "OF1", at, "50.000001", "10.02"),
             f("E4", "OF2", at, "50.000001", "10.02"), f("E5", "OF2", at, "50.000001", "10.02"),
             f("E6", "FB", "2026-07-01T11:59:59Z", "100", "10.02"),
             f("E7", "NOPE", at, "1", "10.02")]
    quotes = [q("2026-07-01T11:00:00Z", "10.00", "10.02")]
    t = make(tmp_path, orders, fills, quotes)
    got = [(r["order_id"], r["reason"], r["scope"]) for r in ref.enrich_orders(t).to_dict("records")]
    assert got == [
        ("D1", "directed", "quality"),
        ("DUP", "duplicate_order_id", "all"), ("DUP", "duplicate_order_id", "all"),
        ("N1", "not_held", "quality"),
        ("K1", "special_handling", "quality"),
        ("ST", "special_handling", "quality"),
        ("U1", "unknown_symbol", "all"),
        ("UV", "unknown_venue", "all"),
        ("R1", "not_routed", "quality"),
        ("H1", "outside_regular_hours", "quality"),
        ("H2", "outside_regular_hours", "quality"),
        ("BQ", "bad_quantity", "all"),
        ("BL", "bad_limit_price", "all"),
        ("BF", "bad_fill", "all"),
        ("BT", "bad_timestamps", "all"),
        ("OF1", "overfilled", "all"),
        ("OF2", None, None),
        ("FB", "fill_before_receipt", "all"),
        ("OK", None, None),
    ]
    ex = ref.exclusions(t)
    orphan = ex[ex["table"] == "executions"].to_dict("records")
    assert orphan == [{"table": "executions", "order_id": "NOPE", "execution_id": "E7",
                       "reason": "unknown_order", "scope": "all"}]
    # excluded orders still get a category when the NBBO was usable (PFOF uses it)
    e = enriched(t)
    assert e["D1"]["order_category"] == "market" and e["ST"]["order_category"] is None
    # only OF2 and OK are covered
    assert pi(t, ["venue"])[("V1",)]["orders"] == 2


def test_realized_spread_cut_at_close_and_missing(tmp_path):
    t = make(tmp_path,
             [o("A1", "2026-07-01T19:59:20Z"), o("B1", "2026-07-01T19:59:20Z", symbol="BBB")],
             [f("E1", "A1", "2026-07-01T19:59:30Z", "100", "10.02"),
              f("E2", "B1", "2026-07-02T13:35:00Z", "100", "5.02")],  # filled next day, no BBB quotes then
             [q("2026-07-01T19:59:00Z", "10.00", "10.02"),
              q("2026-07-01T20:00:00Z", "10.10", "10.12"),          # exactly 16:00:00 NY: used
              q("2026-07-01T20:00:00.000001Z", "11.00", "11.02"),   # after the close: never used
              q("2026-07-01T19:59:00Z", "5.00", "5.02", symbol="BBB")])
    rows = pi(t, ["symbol"])
    a, b = rows[("AAA",)], rows[("BBB",)]
    # cutoff min(15:59:30 + Δ, 16:00:00) = 16:00:00 for both Δ: M = 10.11, RS = 2(10.02 - 10.11) = -0.18
    assert close(a["realized_spread_1m_ps"], -0.18) and close(a["realized_spread_5m_ps"], -0.18)
    # BBB: no quote on the fill's NY date -> M_{t+Δ} missing -> null, though shares executed
    assert b["executed_shares"] == D(100) and math.isnan(b["realized_spread_1m_ps"])
    # 07-01 15:59:20 NY -> 07-02 09:35:00 NY = 17 h 35 min 40 s = 63,340,000 ms
    assert close(b["avg_exec_ms"], 63_340_000.0)
    v = pi(t, ["venue"])[("V1",)]
    # over the venue, RS uses only the AAA fill (numerator and denominator): -0.18
    assert v["executed_shares"] == D(200) and close(v["realized_spread_1m_ps"], -0.18)
    # ES averages both: AAA 2(10.02 - 10.01) = 0.02, BBB 2(5.02 - 5.01) = 0.02
    assert close(v["eff_spread_ps"], 0.02)


def test_parquet_matches_csv_and_naive_timestamps_rejected(tmp_path):
    (tmp_path / "csv").mkdir()
    orders = [o("B1", "2026-07-01T09:30:00-04:00"), o("S1", "2026-07-01T14:00:00Z", side="sell")]
    fills = [f("E1", "B1", "2026-07-01T13:30:00.250Z", "100", "10.01"),
             f("E2", "S1", "2026-07-01T14:00:01Z", "40", "10.005")]
    t_csv = make(tmp_path / "csv", orders, fills, [BASE_QUOTE])
    pdir = tmp_path / "pq"
    pdir.mkdir()
    dec, ts = pa.decimal128(18, 6), pa.timestamp("us", tz="UTC")
    for name, df in t_csv.items():
        cols = {}
        for c in df.columns:
            kind = ref.SCHEMAS[name][c]
            if kind == "ts":
                cols[c] = pa.array([None if pd.isna(v) else v for v in df[c].tolist()], ts)
            elif kind == "dec":
                cols[c] = pa.array(df[c].tolist(), dec)
            elif kind == "int":
                cols[c] = pa.array([None if pd.isna(v) else int(v) for v in df[c].tolist()], pa.int64())
            else:
                cols[c] = pa.array(df[c].tolist())
        pq.write_table(pa.table(cols), pdir / f"{name}.parquet")
    t_pq = ref.load_extracts(pdir)
    a = ref.price_improvement(t_csv, *JULY, ["venue", "side"])
    b = ref.price_improvement(t_pq, *JULY, ["venue", "side"])
    assert a.equals(b)
    # S1: PI = 10.005 - 10.00 = 0.005 × 40 = 0.20
    assert b.set_index("side").loc["sell", "pi_usd"] == D("0.20")

    (tmp_path / "naive").mkdir()
    make(tmp_path / "naive", orders, fills, [BASE_QUOTE])
    _write(tmp_path / "naive" / "orders.csv", ORDER_COLS, [o("B1", "2026-07-01T13:30:00")])
    with pytest.raises(ValueError, match="time zone"):
        ref.load_extracts(tmp_path / "naive")
