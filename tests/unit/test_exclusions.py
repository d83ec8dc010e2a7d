"""One test per exclusion reason, their precedence, and the reconciliation (metrics.md "Exclusions")."""

import pytest
from conftest import fill, order, quote

T = "2026-07-06T"
QUOTES = [
    quote("AAA", T + "13:30:00Z", "10.00", "10.02"),
    quote("BBB", T + "13:30:00Z", "5.00", "0"),  # one-sided
    quote("PNY", T + "13:30:00Z", "0.51", "0.50"),  # crossed
    quote("AAA", "2026-07-03T19:00:00Z", "9.00", "9.02"),  # previous day: never in force on the 6th
]
OK = T + "14:00:00Z"

# (order row, its fills, expected reason, expected scope)
CASES = [
    (order("dup", OK), [], "duplicate_order_id", "all"),
    (order("dup", OK), [], "duplicate_order_id", "all"),
    (order("nosym", OK, symbol="ZZZ"), [], "unknown_symbol", "all"),
    (order("nullsym", OK, symbol=""), [], "unknown_symbol", "all"),
    (order("novenue", OK, routed_venue="V9"), [], "unknown_venue", "all"),
    (order("zeroqty", OK, quantity="0"), [], "bad_quantity", "all"),
    (order("nullqty", OK, quantity=""), [], "bad_quantity", "all"),
    (order("nolimit", OK, order_type="limit", limit_price=""), [], "bad_limit_price", "all"),
    (order("neglimit", OK, order_type="limit", limit_price="-1"), [], "bad_limit_price", "all"),
    (order("badfill", OK), [fill("bf", "badfill", T + "14:00:01Z", "10", "0")], "bad_fill", "all"),
    (order("nullfill", OK), [fill("nf", "nullfill", T + "14:00:01Z", "", "10.01")], "bad_fill", "all"),
    (order("early_route", OK, routed_at=T + "13:59:59Z"), [], "bad_timestamps", "all"),
    (order("early_cancel", OK, canceled_at=T + "13:59:59Z"), [], "bad_timestamps", "all"),
    (order("over", OK, quantity="100"),
     [fill("ov1", "over", T + "14:00:01Z", "60", "10.01"), fill("ov2", "over", T + "14:00:02Z", "40.01", "10.01")],
     "overfilled", "all"),
    (order("prefill", OK), [fill("pf", "prefill", T + "13:59:00Z", "100", "10.01")], "fill_before_receipt", "all"),
    (order("stop", OK, order_type="stop"), [], "special_handling", "quality"),
    (order("fok", OK, order_type="limit", limit_price="10.05", time_in_force="fok"), [], "special_handling",
     "quality"),
    (order("nh", OK, is_not_held="true"), [], "not_held", "quality"),
    (order("dir", OK, is_directed="true"), [], "directed", "quality"),
    (order("unrouted", OK, routed_venue="", routed_at=""), [], "not_routed", "quality"),
    (order("late", T + "20:00:01Z"), [], "outside_regular_hours", "quality"),
    (order("preopen", T + "13:29:59Z"), [], "outside_regular_hours", "quality"),
    (order("noquote", "2026-07-06T13:35:00Z", symbol="AAA"), [], None, None),  # 09:35 NY, quote at 09:30 counts
    (order("nonbbo", "2026-07-07T14:00:00Z"), [], "no_nbbo", "quality"),  # yesterday's quote does not count
    (order("onesided", OK, symbol="BBB"), [], "one_sided_nbbo", "quality"),
    (order("crossed", OK, symbol="PNY"), [], "crossed_nbbo", "quality"),
    # precedence: a directed order outside regular hours is `directed`; a bad quantity beats directed
    (order("dir_late", T + "21:00:00Z", is_directed="true"), [], "directed", "quality"),
    (order("badqty_dir", OK, quantity="-5", is_directed="true"), [], "bad_quantity", "all"),
    (order("unknown_sym_dup_venue", OK, symbol="ZZZ", routed_venue="V9"), [], "unknown_symbol", "all"),
    # edges: the session is [09:30, 16:00) New York; a fill at the receipt instant is not before it; the
    # rounding allowance is 0.000001 share per fill; fractional shares
    (order("open_bell", T + "13:30:00Z"), [], None, None),
    (order("close_bell", T + "20:00:00Z"), [], "outside_regular_hours", "quality"),
    (order("fill_at_receipt", OK), [fill("fr", "fill_at_receipt", OK, "100", "10.01")], None, None),
    (order("within_tol", OK, quantity="100"),
     [fill("wt1", "within_tol", T + "14:00:01Z", "60", "10.01"),
      fill("wt2", "within_tol", T + "14:00:02Z", "40.000002", "10.01")], None, None),
    (order("past_tol", OK, quantity="100"),
     [fill("pt1", "past_tol", T + "14:00:01Z", "60", "10.01"),
      fill("pt2", "past_tol", T + "14:00:02Z", "40.000003", "10.01")], "overfilled", "all"),
    (order("frac", OK, quantity="0.5"), [fill("fq", "frac", T + "14:00:01Z", "0.5", "10.01")], None, None),
    (order("over_one", OK, quantity="0.5"), [fill("oo", "over_one", T + "14:00:01Z", "0.500002", "10.01")],
     "overfilled", "all"),
]


@pytest.fixture(scope="module", params=["tables", "views over files"])
def review(tmp_path_factory, request):
    """The cases built as a small store (stored tables) and as a large one: orders and executions as
    Parquet files, the facts views over copies of them kept beside the store (bestex_nb.build.sidecar)."""
    import pyarrow.parquet as pq
    from conftest import read_csv_typed, write_extracts

    import bestex_nb
    from bestex_nb.build import layout, store

    folder = tmp_path_factory.mktemp("excl")
    orders = [c[0] for c in CASES]
    fills = [f for c in CASES for f in c[1]] + [fill("orphan", "no_such_order", OK, "1", "10")]
    data = write_extracts(folder / "data", orders, fills, QUOTES)
    large = request.param == "views over files"
    if large:
        for name in ("orders", "executions"):
            pq.write_table(read_csv_typed(data / f"{name}.csv"), data / f"{name}.parquet")
            (data / f"{name}.csv").unlink()
    with pytest.MonkeyPatch.context() as mp:
        if large:
            mp.setattr(layout, "TABLES_BELOW_ORDERS", 0)
        report = store.build(data, folder / "store.duckdb")
    with bestex_nb.Review(report.store) as r:
        if large:
            assert r.con.execute("select count(*) from store_files").fetchone()[0] >= 4  # the copies + answers
        yield r


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]['order_id']}" for c in CASES])
def test_reason_and_scope(review, case):
    row, _, reason, scope = case
    got = review.con.execute(
        "select distinct exclusion_reason, exclusion_scope from fct_orders where order_id = $id",
        {"id": row["order_id"]},
    ).fetchall()
    assert got == [(reason, scope)]


def test_exclusions_lists_every_excluded_row_and_the_orphan_fill(review):
    excl = review.exclusions()
    assert {"table", "order_id", "reason", "scope"} <= set(excl.columns)
    orders_part = excl[excl["table"] == "orders"]
    assert len(orders_part) == sum(1 for c in CASES if c[2])  # both duplicate copies are listed
    orphan = excl[excl["table"] == "executions"]
    assert orphan[["execution_id", "order_id", "reason", "scope"]].values.tolist() == [
        ["orphan", "no_such_order", "unknown_order", "all"]]


def test_reconciliation_adds_up(review):
    rec = review.reconciliation().set_index("label")
    orders_in = rec.loc["orders in", "order_rows"]
    assert orders_in == len(CASES)
    excluded = rec[rec.index.str.startswith("excluded: ")]["order_rows"].sum()
    assert rec.loc["analysed", "order_rows"] + excluded == orders_in
    assert rec.loc["analysed", "order_rows"] == sum(1 for c in CASES if c[2] is None)
    assert rec.loc["excluded: duplicate_order_id", "order_rows"] == 2
    assert rec.loc["fills with no order (unknown_order)", "executions"] == 1


def test_categories_are_computed_for_excluded_orders_too(review):
    cat = review.con.execute("select order_category from fct_orders where order_id = 'dir'").fetchall()
    assert cat == [("market",)]


def test_the_exclusions_are_every_order_row_fct_orders_excludes(review):
    """The build applies fct_orders' rules only to candidate rows (staging/int_exclusion_candidates): on
    rows that meet every rule and its edges, they are exactly the rows fct_orders itself excludes, read
    whole."""
    listed = review.con.execute("select order_id, reason, scope from exclusions where \"table\" = 'orders' "
                                "order by all").fetchall()
    every = review.con.execute("select order_id, exclusion_reason, exclusion_scope from fct_orders "
                               "where exclusion_reason is not null order by all").fetchall()
    assert listed == every and len(every) == sum(1 for c in CASES if c[2])
