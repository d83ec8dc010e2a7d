"""PFOF reconciliation (metrics.md section 7, issue 20): hand-computed on a small case, the build's refusal
of overlapping rates, and the planted underpayment of the default sample.

The case (AAA is S&P 500, quoted 10.00 x 10.02 on 07-01, 07-20 and 08-03; no quote on 07-02):

V1 (pays) rates, sp500: market 10 cph until 2026-07-15 (exclusive), 20 cph from then; marketable_limit
12; non_marketable_limit 1; other 5. V3 (pays): sp500 market 30, nothing else. V2 (exchange) and V4 have no
rates; V4 pays and its ledger shows a July payment with no flow.

| order | venue | day | kind | counted shares | cph | expected USD |
|---|---|---|---|---:|---:|---:|
| A1 | V1 | 07-01 | market | 10,000 | 10 | 10.00 |
| A2 | V1 | 07-20 | market, 3,000 at V1 + 2,000 executed away at V2 | 5,000 | 20 | 10.00 |
| A3 | V1 | 07-20 | market, directed | — | | |
| A4 | V1 | 07-20 | market, overfilled (scope all) | — | | |
| A5 | V1 | 07-20 | market, not held (excluded from quality only) | 2,000 | 20 | 4.00 |
| A6 | V1 | 07-01 | limit 10.05 buy: marketable | 1,000 | 12 | 1.20 |
| A7 | V1 | 07-01 | limit 9.95 buy: non-marketable | 3,000 | 1 | 0.30 |
| A8 | V1 | 07-02 | limit, no NBBO at receipt: other | 2,000 | 5 | 1.00 |
| A9 | V1 | 07-01 | stop: other | 1,000 | 5 | 0.50 |
| A10 | V1 | 08-03 | market | 10,000 | 20 | 20.00 |
| A11 | V2 | 07-01 | market (no rates, does not pay) | — | | |
| A12 | V3 | 07-01 | market | 1,000 | 30 | 3.00 |
| A13 | V3 | 07-01 | limit 10.05: marketable, no rate | 500 (no_rate) | | |

V1 July: 24,000 shares, expected 27.00, paid 27.54 (+2%: under 5%). V1 August: 10,000 shares, expected
20.00, paid 18.00 (−10%: over). V3 July: no ledger row (flow without payment) and 500 shares without rate.
V4 July: paid 50.00 with no flow.
"""

import pandas as pd
import pytest
from conftest import DEFAULT_VENUES, fill, order, quote, write_csv, write_extracts

from bestex_nb.contract.errors import ExtractError

PFOF_RATE_COLS = ["venue_id", "effective_from", "effective_to", "security_group", "order_group", "rate_cph"]
PFOF_PAYMENT_COLS = ["venue_id", "month", "amount_usd", "security_group", "order_group"]
D1, D2, D3, D4 = "2026-07-01T", "2026-07-02T", "2026-07-20T", "2026-08-03T"
VENUES = DEFAULT_VENUES + [
    {"venue_id": "V3", "name": "Wholesaler Three", "venue_type": "wholesaler", "is_affiliate": "false",
     "pays_pfof": "true", "mic": "", "rule605_code": "WH3"},
    {"venue_id": "V4", "name": "Wholesaler Four", "venue_type": "wholesaler", "is_affiliate": "false",
     "pays_pfof": "true", "mic": "", "rule605_code": "WH4"},
]
QUOTES = [quote("AAA", day + "13:30:00Z", "10.00", "10.02") for day in (D1, D3, D4)]
ORDERS = [
    order("A1", D1 + "14:00:00Z", quantity="10000"),
    order("A2", D3 + "14:00:00Z", quantity="5000"),
    order("A3", D3 + "14:01:00Z", quantity="4000", is_directed="true"),
    order("A4", D3 + "14:02:00Z", quantity="1000"),
    order("A5", D3 + "14:03:00Z", quantity="2000", is_not_held="true"),
    order("A6", D1 + "14:01:00Z", order_type="limit", limit_price="10.05", quantity="1000"),
    order("A7", D1 + "14:02:00Z", order_type="limit", limit_price="9.95", quantity="3000"),
    order("A8", D2 + "14:00:00Z", order_type="limit", limit_price="10.05", quantity="2000"),
    order("A9", D1 + "14:03:00Z", order_type="stop", quantity="1000"),
    order("A10", D4 + "14:00:00Z", quantity="10000"),
    order("A11", D1 + "14:04:00Z", quantity="700", routed_venue="V2"),
    order("A12", D1 + "14:05:00Z", quantity="1000", routed_venue="V3"),
    order("A13", D1 + "14:06:00Z", order_type="limit", limit_price="10.05", quantity="500", routed_venue="V3"),
]
FILLS = [
    fill("F1", "A1", D1 + "14:00:01Z", "10000", "10.02"),
    fill("F2a", "A2", D3 + "14:00:01Z", "3000", "10.02"),
    fill("F2b", "A2", D3 + "14:00:02Z", "2000", "10.02", executed_venue="V2"),
    fill("F3", "A3", D3 + "14:01:01Z", "4000", "10.02"),
    fill("F4", "A4", D3 + "14:02:01Z", "1500", "10.02"),
    fill("F5", "A5", D3 + "14:03:01Z", "2000", "10.02"),
    fill("F6", "A6", D1 + "14:01:01Z", "1000", "10.02"),
    fill("F7", "A7", D1 + "15:00:00Z", "3000", "9.95"),
    fill("F8", "A8", D2 + "14:00:01Z", "2000", "10.02"),
    fill("F9", "A9", D1 + "14:03:01Z", "1000", "10.02"),
    fill("F10", "A10", D4 + "14:00:01Z", "10000", "10.02"),
    fill("F11", "A11", D1 + "14:04:01Z", "700", "10.02", executed_venue="V2"),
    fill("F12", "A12", D1 + "14:05:01Z", "1000", "10.02", executed_venue="V3"),
    fill("F13", "A13", D1 + "14:06:01Z", "500", "10.02", executed_venue="V3"),
]


def rate(venue, order_group, cph, start="2026-01-01", end="", group="sp500"):
    return {"venue_id": venue, "effective_from": start, "effective_to": end, "security_group": group,
            "order_group": order_group, "rate_cph": cph}


RATES = [
    rate("V1", "market", "10", end="2026-07-15"), rate("V1", "market", "20", start="2026-07-15"),
    rate("V1", "marketable_limit", "12"), rate("V1", "non_marketable_limit", "1"), rate("V1", "other", "5"),
    rate("V3", "market", "30"),
]
PAYMENTS = [
    {"venue_id": "V1", "month": "2026-07", "amount_usd": "27.54"},
    {"venue_id": "V1", "month": "2026-08", "amount_usd": "18.00"},
    {"venue_id": "V4", "month": "2026-07", "amount_usd": "50.00"},
]


def write_case(folder, rates=RATES, payments=PAYMENTS):
    write_extracts(folder, ORDERS, FILLS, QUOTES, VENUES)
    write_csv(folder / "pfof_rates.csv", PFOF_RATE_COLS, rates)
    write_csv(folder / "pfof_payments.csv", PFOF_PAYMENT_COLS, payments)
    return folder


@pytest.fixture(scope="module")
def review(tmp_path_factory):
    from bestex_nb import open_review

    folder = write_case(tmp_path_factory.mktemp("pfof"))
    with open_review(folder, store=folder / "store.duckdb") as r:
        yield r


def rows(review, period):
    return review.pfof_reconciliation(period).set_index(["venue", "month"])


def test_the_order_groups_of_the_case_are_as_planned(review):
    # the table above rests on these: A8 has no NBBO at receipt, A4 is excluded from everything
    got = review.con.execute(
        "select order_id, nbbo_status = 'ok', order_category, exclusion_scope from fct_orders "
        "where order_id in ('A4', 'A5', 'A6', 'A7', 'A8') order by order_id").fetchall()
    assert got == [("A4", True, "market", "all"), ("A5", True, "market", "quality"),
                   ("A6", True, "marketable_limit", None), ("A7", True, "near_quote_limit", None),
                   ("A8", False, None, "quality")]


def test_quarter_rows_shares_and_money(review):
    t = rows(review, "2026Q3")
    assert list(t.index) == [("V1", "2026-07"), ("V1", "2026-08"), ("V3", "2026-07"), ("V4", "2026-07")]
    # counted: A1 A2 (with its 2,000 shares executed away) A5 (quality-excluded) A6 A7 A8 A9; not A3 A4
    v1 = t.loc[("V1", "2026-07")]
    assert (v1.executed_shares, v1.rated_shares, v1.no_rate_shares) == (24000, 24000, 0)
    assert v1.expected_usd == pytest.approx(27.00, abs=1e-9)  # two rates in July: 10 and 20 cph
    assert (v1.received_usd, v1.variance_usd) == (pytest.approx(27.54), pytest.approx(0.54, abs=1e-9))
    assert v1.variance_pct == pytest.approx(0.02)
    assert v1.pfof_ps == pytest.approx(27.54 / 24000)
    assert not v1.is_exception and pd.isna(v1.reason)
    aug = t.loc[("V1", "2026-08")]
    assert (aug.executed_shares, aug.expected_usd, aug.received_usd) == (10000, pytest.approx(20.0), 18.0)
    assert aug.variance_pct == pytest.approx(-0.10)
    assert (bool(aug.is_exception), aug.reason) == (True, "variance_over_threshold")


def test_flow_without_payment_and_shares_without_rate(review):
    v3 = rows(review, "2026Q3").loc[("V3", "2026-07")]
    assert (v3.executed_shares, v3.rated_shares, v3.no_rate_shares) == (1500, 1000, 500)
    assert v3.expected_usd == pytest.approx(3.00)  # the rated shares only, never a silent zero rate
    assert pd.isna(v3.received_usd)  # no ledger row: null
    assert v3.variance_usd == pytest.approx(-3.00)
    assert (bool(v3.is_exception), v3.reason) == (True, "flow_without_payment, no_rate")


def test_payment_without_flow(review):
    v4 = rows(review, "2026Q3").loc[("V4", "2026-07")]
    assert (v4.executed_shares, v4.expected_usd, v4.received_usd, v4.variance_usd) == (0, 0, 50.0, 50.0)
    assert pd.isna(v4.variance_pct)  # null: no expected payment to divide by
    assert (bool(v4.is_exception), v4.reason) == (True, "payment_without_flow")


def test_a_month_sees_only_its_flow_and_ledger(review):
    t = rows(review, "2026-08")
    assert list(t.index) == [("V1", "2026-08")]
    assert (t.iloc[0].expected_usd, t.iloc[0].received_usd) == (pytest.approx(20.0), 18.0)
    assert list(rows(review, "2026-07").index) == [("V1", "2026-07"), ("V3", "2026-07"), ("V4", "2026-07")]


def test_the_threshold_comes_from_the_parameters(review):
    from dataclasses import replace

    from bestex_nb.contract import parameters

    loose = replace(parameters.load(), pfof_variance_threshold=0.15)
    t = review.pfof_reconciliation("2026-08", parameters=loose)
    assert not t.is_exception.any()
    tight = replace(parameters.load(), pfof_variance_threshold=0.01)
    t = review.pfof_reconciliation("2026-07", parameters=tight).set_index("venue")
    assert t.loc["V1", "reason"] == "variance_over_threshold"  # +2% is over 1%
    assert parameters.load().pfof_variance_threshold == 0.05


def test_an_itemised_ledger_is_reconciled_by_group(tmp_path):
    from bestex_nb import open_review

    payments = [
        {"venue_id": "V1", "month": "2026-08", "amount_usd": "20.00", "security_group": "sp500",
         "order_group": "market"},
        {"venue_id": "V1", "month": "2026-08", "amount_usd": "1.00", "security_group": "sp500",
         "order_group": "other"},  # no August flow in that group
    ]
    folder = write_case(tmp_path / "data", payments=payments)
    with open_review(folder, store=tmp_path / "store.duckdb") as r:
        t = r.pfof_reconciliation("2026-08")
    assert t[["security_group", "order_group", "executed_shares", "received_usd"]].values.tolist() == [
        ["sp500", "market", 10000, 20.0], ["sp500", "other", 0, 1.0]]
    assert pd.isna(t.reason[0]) and t.reason[1] == "payment_without_flow"
    assert t.variance_usd.tolist() == [pytest.approx(0.0), pytest.approx(1.0)]


def test_overlapping_rates_stop_the_build_naming_the_rows(tmp_path):
    from bestex_nb.build.store import build

    overlapping = RATES + [rate("V1", "market", "15", start="2026-07-01", end="2026-08-01")]
    folder = write_case(tmp_path / "data", rates=overlapping)
    with pytest.raises(ExtractError, match=r"overlapping rates.*rows 2 \(line\) and 8 \(line\).*"
                                           r"rows 3 \(line\) and 8 \(line\) \(V1 / sp500 / market\)"):
        build(folder, tmp_path / "store.duckdb")


def test_an_empty_validity_interval_stops_the_build(tmp_path):
    from bestex_nb.build.store import build

    folder = write_case(tmp_path / "data", rates=RATES + [rate("V3", "other", "1", start="2026-07-01",
                                                                end="2026-07-01")])
    with pytest.raises(ExtractError, match=r"empty validity interval.*row 8 \(line\)"):
        build(folder, tmp_path / "store.duckdb")


def test_a_ledger_month_not_in_yyyy_mm_stops_the_build(tmp_path):
    from bestex_nb.build.store import build

    folder = write_case(tmp_path / "data", payments=PAYMENTS + [{"venue_id": "V1", "month": "2026-8",
                                                                  "amount_usd": "1"}])
    with pytest.raises(ExtractError, match=r"not a YYYY-MM month.*row 5 \(line\): '2026-8'"):
        build(folder, tmp_path / "store.duckdb")


def test_a_store_without_pfof_extracts_says_so(tmp_path):
    from bestex_nb import open_review
    from bestex_nb.review_pfof import MissingPfofError

    folder = write_extracts(tmp_path / "data", ORDERS, FILLS, QUOTES, VENUES)
    with open_review(folder, store=tmp_path / "store.duckdb") as r:
        assert not r.has_pfof()
        with pytest.raises(MissingPfofError, match="without the PFOF extracts"):
            r.pfof_reconciliation("2026-07")


# -- the planted underpayment of the generated sample (data/sample/README.md, "PFOF") ---------------------

def sample_table(root, **sizes):
    from bestex_nb import open_review
    from bestex_nb.sample import generate

    generate(root / "data", **sizes)
    with open_review(root / "data", store=root / "store.duckdb") as r:
        return r.pfof_reconciliation("2026Q3"), r.pfof_reconciliation("2026-08")


def check_planted(quarter, august):
    t = quarter.set_index(["venue", "month"])
    assert sorted(t.index) == [(v, f"2026-0{m}") for v in ("WSA", "WSB") for m in (7, 8, 9)]
    assert t.security_group.isna().all() and t.order_group.isna().all()  # the ledger does not itemise
    assert (t.no_rate_shares == 0).all()  # every key has a rate throughout the quarter
    flagged = t[t.is_exception]
    assert list(flagged.index) == [("WSB", "2026-08")]
    assert flagged.reason.tolist() == ["variance_over_threshold"]
    assert t.variance_pct.drop(("WSB", "2026-08")).abs().max() < 0.008  # the generator's ±0.8% noise
    # a month alone gives that month's rows, the same figures
    pd.testing.assert_frame_equal(august.reset_index(drop=True),
                                  quarter[quarter.month == "2026-08"].reset_index(drop=True))
    return t


def test_the_sample_underpayment_is_the_one_exception(tmp_path):
    t = check_planted(*sample_table(tmp_path, seed=7, orders=3000, quotes_target=150_000))
    assert t.loc[("WSB", "2026-08"), "variance_pct"] == pytest.approx(-0.08, abs=0.0045)


@pytest.mark.slow
def test_the_default_sample_matches_its_readme(tmp_path):
    t = check_planted(*sample_table(tmp_path))
    # README: expected and paid per venue-month (USD, to the cent) and WSB August −8.05%
    readme = {("WSA", "2026-07"): (1497.57, 1494.66), ("WSA", "2026-08"): (1479.58, 1476.41),
              ("WSA", "2026-09"): (1550.22, 1556.67), ("WSB", "2026-07"): (1563.09, 1573.48),
              ("WSB", "2026-08"): (1603.34, 1474.30), ("WSB", "2026-09"): (1697.61, 1691.40)}
    for key, (expected, paid) in readme.items():
        assert (round(t.loc[key, "expected_usd"], 2), t.loc[key, "received_usd"]) == (expected, paid), key
    assert round(t.loc[("WSB", "2026-08"), "variance_pct"], 4) == -0.0805
    assert t.variance_pct.drop(("WSB", "2026-08")).abs().max() < 0.007


def test_pfof_exceptions_join_the_one_exceptions_table(tmp_path):
    """The planted WSB August underpayment is a row of review.exceptions with a stable id, its group and an
    open disposition, so the committee decides it in decisions.yaml like any other exception."""
    from bestex_nb import open_review
    from bestex_nb.contract.parameters import load_run
    from bestex_nb.sample import generate

    generate(tmp_path / "data", seed=7, orders=3000, quotes_target=150_000)
    review = open_review(tmp_path / "data", store=tmp_path / "store.duckdb")
    params, decisions = load_run("2026-08")
    exc = review.exceptions("2026-08", parameters=params, decisions=decisions)
    mine = exc[exc["kind"] == "pfof"]
    rec = review.pfof_reconciliation("2026-08", parameters=params)
    flagged = rec[rec["is_exception"]]
    assert len(mine) == len(flagged) >= 1
    row = mine[mine["venue"] == "WSB"].iloc[0]
    assert row["exception_id"] == "PFOF-2026-08-WSB" and row["group_id"] == "GROUP-PFOF-2026-08-WSB"
    wsb = flagged[flagged["venue"] == "WSB"].iloc[0]
    assert row["value"] == pytest.approx(wsb["variance_usd"]) and row["usd_impact"] == pytest.approx(abs(wsb["variance_usd"]))
    assert row["disposition"] == "open" and "owed by the rate card" in row["detail"]
    review.close()
