"""The build's prefilter never misses a row the rulebook excludes (sql/macros/rulebook.sql).

The exclusions table applies fct_orders' query to the candidate rows only: those the order columns alone
may exclude (``staging/int_exclusion_candidates.sql``) and those whose lookups' answers may meet a rule
(``answer_candidates`` in ``bestex_nb.build.nbbo_kernels``). Here seeded random order rows, drawn on both
sides of every rule's edge, go through the same steps as in the build (the answers in the kernels' integer
units, ``staging/int_order_nbbo.sql``, ``fct_orders`` over ``fct_orders_base``, the rulebook's macros from
their file), and every row fct_orders excludes must be a candidate. The test reads the rulebook itself, not
a copy of it: a rulebook changed at one edge (the macro file's text patched) makes it fail.
"""

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from bestex_nb import query
from bestex_nb.build import nbbo_kernels
from bestex_nb.build.nbbo import FILL_SUM_COLUMNS

NONE = nbbo_kernels.NONE
US = 1_000_000
DAY = np.datetime64("2026-07-06T00:00:00", "us").astype(np.int64)  # a Monday; New York is UTC-4
OPEN, CLOSE = DAY + (13 * 3600 + 30 * 60) * US, DAY + 20 * 3600 * US  # 09:30 and 16:00 New York


def random_orders(seed: int, n: int) -> dict:
    """``n`` order rows with their answers, in the kernels' units (µs, micro-dollars, micro-shares;
    :data:`NONE` for null), each value drawn among those on and beside the rules' edges."""
    rng = np.random.default_rng(seed)

    def pick(values, p=None):
        return np.asarray(values, dtype=object)[rng.choice(len(values), n, p=p)]

    def near(at, offsets):  # instants on an edge or a microsecond either side of it (and some later)
        return at + rng.choice(np.asarray(offsets, dtype=np.int64), n)

    received = np.where(rng.random(n) < 0.6, rng.choice([OPEN, CLOSE], n), DAY + rng.integers(0, 86_400 * US, n))
    received = received + rng.choice([-1, 0, 1], n)
    qty = rng.choice([NONE, -US, 0, 1, US // 2, 100 * US], n, p=[0.05, 0.05, 0.05, 0.1, 0.25, 0.5])
    count = rng.choice([0, 1, 2, 3], n, p=[0.3, 0.3, 0.2, 0.2])
    base_qty = np.where(qty == NONE, 50 * US, qty)
    filled = base_qty + rng.choice([-1, 0, 1, 2, 3, 4, -US], n) + np.where(rng.random(n) < 0.5, count, 0)
    filled = np.where(rng.random(n) < 0.05, NONE, filled)  # fills whose quantities are all null
    first = near(received, [-1, 0, 1, 1000])
    bid = rng.choice([NONE, -1, 0, 1, 10 * US, 10 * US + 10_000], n, p=[0.05, 0.05, 0.05, 0.05, 0.5, 0.3])
    ask = rng.choice([NONE, -1, 0, 1, 10 * US, 10 * US + 10_000], n, p=[0.05, 0.05, 0.05, 0.05, 0.3, 0.5])
    quoted = np.where(rng.random(n) < 0.08, NONE, received - rng.choice([0, 1, 3_600 * US], n))
    no_fill = count == 0
    return {
        "row_no": np.arange(n, dtype=np.int64),
        "is_duplicate": rng.random(n) < 0.03,
        "symbol": pick(["AAA", "BBB", "ZZZ", None], [0.45, 0.45, 0.05, 0.05]),
        "side": pick(["buy", "sell", "sell_short"]),
        "order_type": pick(["market", "limit", "stop"], [0.45, 0.45, 0.1]),
        "limit_price": pick([None, "-1", "0", "0.000001", "10.01"], [0.1, 0.05, 0.05, 0.1, 0.7]),
        "quantity_micro": qty,
        "time_in_force": pick(["day", "ioc", "fok", "gtc"], [0.6, 0.2, 0.1, 0.1]),
        "routed_venue": pick(["V1", "V2", "V9", None], [0.45, 0.45, 0.05, 0.05]),
        "received_us": received,
        "routed_us": np.where(rng.random(n) < 0.1, NONE, near(received, [-1, 0, 1, 500])),
        "canceled_us": np.where(rng.random(n) < 0.7, NONE, near(received, [-1, 0, 1, 500])),
        "is_directed": pick([False, True, None], [0.85, 0.1, 0.05]),
        "is_not_held": pick([False, True, None], [0.85, 0.1, 0.05]),
        "r_quoted_at_us": quoted,
        "r_bid_us": np.where(quoted == NONE, NONE, bid),
        "r_ask_us": np.where(quoted == NONE, NONE, ask),
        "fill_count": count,
        "filled_qty_micro": np.where(no_fill, NONE, filled),
        "has_bad_fill": np.where(no_fill, False, rng.random(n) < 0.05),
        "first_fill_us": np.where(no_fill, NONE, first),
        "last_fill_us": np.where(no_fill, NONE, first + 5),
    }


def _nullable(values: np.ndarray) -> pa.Array:
    return pa.array(values, mask=values == NONE)


def stage(con, rows: dict) -> None:
    """The build's relations for ``rows``: stg_orders, stg_securities, stg_venues, int_order_id_repeats,
    int_duplicate_order_ids, asof_order_answers → int_order_nbbo, and int_answer_candidates from the
    kernel, as the build registers them."""
    n = len(rows["row_no"])
    order_id = np.where(rows["is_duplicate"], "dup", np.char.add("o", rows["row_no"].astype(str)))
    micro = lambda v: pa.array(v, mask=v == NONE).cast(pa.int64())
    con.register("random_orders", pa.table({
        "row_no": rows["row_no"], "order_id": order_id, "received_us": rows["received_us"],
        "symbol": pa.array(rows["symbol"].tolist(), pa.string()), "side": rows["side"].tolist(),
        "order_type": rows["order_type"].tolist(), "limit_price": pa.array(rows["limit_price"].tolist(), pa.string()),
        "quantity_micro": micro(rows["quantity_micro"]), "time_in_force": rows["time_in_force"].tolist(),
        "routed_venue": pa.array(rows["routed_venue"].tolist(), pa.string()),
        "routed_us": micro(rows["routed_us"]), "canceled_us": micro(rows["canceled_us"]),
        "is_directed": pa.array(rows["is_directed"].tolist(), pa.bool_()),
        "is_not_held": pa.array(rows["is_not_held"].tolist(), pa.bool_()),
    }))
    con.execute("""
        create table stg_orders as select
            row_no, order_id, make_timestamptz(received_us) as received_at, symbol, side, order_type,
            limit_price::decimal(18, 6) as limit_price,
            (quantity_micro::decimal(18, 0) * 0.000001::decimal(7, 6))::decimal(18, 6) as quantity,
            time_in_force, routed_venue, make_timestamptz(routed_us) as routed_at,
            make_timestamptz(canceled_us) as canceled_at, is_directed, is_not_held,
        from random_orders order by row_no""")
    con.execute("create table stg_securities as select * from (values (0, 'AAA', 'A', true), (1, 'BBB', 'B', false)) "
                "as s (row_no, symbol, name, is_sp500)")
    con.execute("create table stg_venues as select * from (values (0, 'V1'), (1, 'V2')) as v (row_no, venue_id)")
    con.register("int_order_id_repeats", pa.table({"row_no": rows["row_no"][rows["is_duplicate"]]}))
    query.materialize(con, "staging/int_duplicate_order_ids", "int_duplicate_order_ids")
    wall = nbbo_kernels.new_york_wall_us(rows["received_us"])
    answers = {"row_no": rows["row_no"], "received_local_us": _nullable(wall),
               **{c: _nullable(rows[c]) for c in ("r_quoted_at_us", "r_bid_us", "r_ask_us")},
               "o_bid_us": _nullable(np.full(n, NONE)), "o_ask_us": _nullable(np.full(n, NONE)),
               "fill_count": pa.array(rows["fill_count"], mask=rows["fill_count"] == 0),
               "filled_qty_micro": _nullable(rows["filled_qty_micro"]),
               "has_bad_fill": pa.array(rows["has_bad_fill"], mask=rows["fill_count"] == 0),
               "first_fill_us": _nullable(rows["first_fill_us"]), "last_fill_us": _nullable(rows["last_fill_us"])}
    assert set(FILL_SUM_COLUMNS) <= set(answers)  # the columns the build publishes
    con.register("asof_order_answers", pa.table(answers))
    query.materialize(con, "staging/int_order_nbbo", "int_order_nbbo", view=True)
    # the kernel's prefilter, on the fill sums as it gets them (a sum of micro-shares; no fill: count 0)
    filled = np.where(rows["filled_qty_micro"] == NONE, 0, rows["filled_qty_micro"])
    flagged = nbbo_kernels.answer_candidates(
        rows["r_quoted_at_us"], rows["r_bid_us"], rows["r_ask_us"], wall, rows["fill_count"], filled,
        rows["first_fill_us"], rows["has_bad_fill"], rows["received_us"], rows["quantity_micro"])
    con.register("int_answer_candidates", pa.table({"row_no": pa.array(np.flatnonzero(flagged))}))


def missed(seed: int = 5310, n: int = 20_000) -> tuple[list, dict]:
    """(rows fct_orders excludes that are not candidates, reasons by count), on random rows: the rulebook
    and the order facts' macros as their files say (through :func:`bestex_nb.query.text`)."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    for name in ("macros/rulebook", "macros/order_facts"):
        query.define(con, name)
    stage(con, random_orders(seed, n))
    query.materialize(con, "marts/fct_orders_base", "fct_orders_base", view=True)
    query.materialize(con, "marts/fct_orders", "fct_orders", view=True)
    query.materialize(con, "staging/int_exclusion_candidates", "int_exclusion_candidates")
    reasons = dict(con.execute("select exclusion_reason, count(*) from fct_orders "
                               "where exclusion_reason is not null group by all").fetchall())
    lost = con.execute("""
        select row_no, exclusion_reason from fct_orders
        where exclusion_reason is not null and row_no not in (select row_no from int_exclusion_candidates)
        order by row_no""").fetchall()
    return lost, reasons


def test_the_prefilter_never_misses_a_row_the_rulebook_excludes():
    lost, reasons = missed()
    assert lost == []
    con = duckdb.connect()
    query.define(con, "macros/rulebook")
    every = [r for (r,) in con.execute("select reason from exclusion_reasons()").fetchall()]
    assert sorted(reasons) == sorted(every), "the random rows meet every rule at least once"


def test_the_random_rows_cross_each_edge():
    """Each edge the prefilter repeats is drawn on both sides: the session's open and close to the
    microsecond, a fill at and just before receipt, filled quantities at and beyond the allowance."""
    r = random_orders(5310, 20_000)
    wall = nbbo_kernels.new_york_wall_us(r["received_us"]) % (86_400 * US)
    lo, hi = nbbo_kernels.SESSION_US
    for edge in (lo, hi):
        assert {-1, 0} <= set((wall - edge).tolist())
    has = r["fill_count"] > 0
    assert {-1, 0, 1} <= set((r["first_fill_us"] - r["received_us"])[has].tolist())
    known = has & (r["quantity_micro"] > 0) & (r["filled_qty_micro"] != NONE)
    over = (r["filled_qty_micro"] - r["quantity_micro"] - r["fill_count"])[known]
    assert {0, 1} <= set(over.tolist()) and (over < 0).any()


# A rulebook changed at one edge, so that it excludes a row the prefilter does not name: the test above
# must then fail (it reads the rulebook's file, not a copy of its rules).
MUTATIONS = [
    ("time '09:30:00' and", "time '09:30:00.000002' and"),  # the session opens 2 µs later
    ("quantity + 0.000001 * fill_count", "quantity - 0.000001 * fill_count"),  # overfilled within the allowance
    ("coalesce(limit_price, 0) <= 0", "coalesce(limit_price, 0) <= 0.000001"),  # a limit of $0.000001 is bad
    ("first_fill_at < received_at", "first_fill_at <= received_at"),  # a fill at the receipt instant
]


@pytest.mark.parametrize("old, new", MUTATIONS, ids=["session_open", "overfill_allowance", "limit_price",
                                                     "fill_at_receipt"])
def test_a_rulebook_changed_at_an_edge_is_caught(monkeypatch, old, new):
    original = query.text
    rulebook = original("macros/rulebook")
    assert rulebook.count(old) == 1
    monkeypatch.setattr(query, "text", lambda name: rulebook.replace(old, new) if name == "macros/rulebook"
                        else original(name))
    lost, _ = missed()
    assert lost, f"a rulebook with {new!r} excludes rows the prefilter does not name, and the test must see them"


def test_a_rule_naming_no_reason_of_the_list_is_an_error():
    """A rule's reason is looked up in the one list by name: a misspelt name fails the query as soon as a
    row meets the rule, rather than leaving the rule without effect."""
    con = duckdb.connect()
    query.define(con, "macros/rulebook")
    assert con.execute("select exclusion_position('bad_fill'), exclusion_reason(6), exclusion_scope(6)"
                       ).fetchall() == [(6, "bad_fill", "all")]
    with pytest.raises(duckdb.Error, match="not a reason of the rulebook: bad_fills"):
        con.execute("select case when range > 1 then exclusion_position('bad_fills') end from range(3)").fetchall()
