"""The build's prefilter never misses a row the rulebook excludes (sql/macros/rulebook.sql).

The exclusions table applies fct_orders' query to the candidate rows only: those the order columns alone
may exclude (``staging/int_exclusion_candidates.sql``) and those whose lookups' answers may meet a rule
(``answer_candidates`` in ``bestex_nb.build.exclusion_candidates``). Here seeded random order rows, drawn on both
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
from bestex_nb.build import arrays, clock, exclusion_candidates, sql_steps
from bestex_nb.build.nbbo.answers import FILL_SUM_COLUMNS

NONE = arrays.NONE
US = 1_000_000
DAY = np.datetime64("2026-07-06T00:00:00", "us").astype(np.int64)  # a Monday; New York is UTC-4
OPEN, CLOSE = DAY + (13 * 3600 + 30 * 60) * US, DAY + 20 * 3600 * US  # 09:30 and 16:00 New York


def random_orders(seed: int, n: int) -> dict:
    """``n`` order rows with their answers, in the kernels' units (µs, micro-dollars, micro-shares;
    :data:`NONE` for null). Most rows are clean; each rule's input is drawn, now and then, on its edge
    or a step either side of it, so that the prefilter is tried on rows that no rule excludes too."""
    rng = np.random.default_rng(seed)

    def pick(values, p=None, dtype=object):
        return np.asarray(values, dtype=dtype)[rng.choice(len(values), n, p=p)]

    def ints(values, p=None):
        return pick(values, p, np.int64)

    when = rng.random(n)
    received = np.where(when < 0.7, OPEN + rng.integers(0, CLOSE - OPEN, n),  # in the session
                        np.where(when < 0.8, DAY + rng.integers(0, 86_400 * US, n),  # any time of day
                                 rng.choice([OPEN, CLOSE], n) + ints([-1, 0, 1])))  # on its edges
    qty = ints([100 * US, US // 2, 1, 0, -US, NONE], [0.8, 0.05, 0.05, 0.04, 0.03, 0.03])
    count = ints([0, 1, 2, 3], [0.3, 0.3, 0.2, 0.2])
    base_qty = np.where(qty == NONE, 50 * US, qty)
    # filled: partly, fully, or 1 to 4 micro-shares more, with or without the allowance of 1 per fill
    filled = (base_qty + ints([-US // 4, 0, 1, 2, 3, 4], [0.6, 0.1, 0.1, 0.1, 0.05, 0.05])
              + np.where(rng.random(n) < 0.5, count, 0))
    filled = np.where(rng.random(n) < 0.03, NONE, filled)  # fills whose quantities are all null
    first = received + ints([1000, 1, 0, -1], [0.85, 0.05, 0.05, 0.05])
    bid = ints([10 * US, 1, 0, -1, NONE], [0.9, 0.04, 0.02, 0.02, 0.02])
    ask = np.where(bid == NONE, 10 * US, bid) + ints([10_000, 0, -1], [0.86, 0.1, 0.04])  # locked, crossed
    ask = np.where(rng.random(n) < 0.04, ints([NONE, 0, -1]), ask)
    quoted = np.where(rng.random(n) < 0.03, NONE, received - ints([0, 1, 3_600 * US]))
    no_fill = count == 0
    return {
        "row_no": np.arange(n, dtype=np.int64),
        "is_duplicate": rng.random(n) < 0.02,
        "symbol": pick(["AAA", "BBB", "ZZZ", None], [0.47, 0.47, 0.03, 0.03]),
        "side": pick(["buy", "sell", "sell_short"]),
        "order_type": pick(["market", "limit", "stop"], [0.5, 0.45, 0.05]),
        "limit_price": pick(["10.01", "0.000001", None, "0", "-1"], [0.85, 0.06, 0.03, 0.03, 0.03]),
        "quantity_micro": qty,
        "time_in_force": pick(["day", "ioc", "fok", "gtc"], [0.7, 0.15, 0.05, 0.1]),
        "routed_venue": pick(["V1", "V2", "V9", None], [0.47, 0.47, 0.03, 0.03]),
        "received_us": received,
        "routed_us": np.where(rng.random(n) < 0.03, NONE, received + ints([500, 1, 0, -1], [0.85, 0.05, 0.05, 0.05])),
        "canceled_us": np.where(rng.random(n) < 0.7, NONE, received + ints([500, 1, 0, -1], [0.7, 0.1, 0.1, 0.1])),
        "is_directed": pick([False, True, None], [0.93, 0.05, 0.02]),
        "is_not_held": pick([False, True, None], [0.93, 0.05, 0.02]),
        "r_quoted_at_us": quoted,
        "r_bid_us": np.where(quoted == NONE, NONE, bid),
        "r_ask_us": np.where(quoted == NONE, NONE, ask),
        "fill_count": count,
        "filled_qty_micro": np.where(no_fill, NONE, filled),
        "has_bad_fill": np.where(no_fill, False, rng.random(n) < 0.03),
        "first_fill_us": np.where(no_fill, NONE, first),
        "last_fill_us": np.where(no_fill, NONE, first + 5),
    }


def _nullable(values: np.ndarray) -> pa.Array:
    return pa.array(values, mask=values == NONE)


def stage(con, rows: dict) -> None:
    """The build's relations for ``rows``: stg_orders, stg_securities, stg_venues, int_order_id_repeats,
    int_duplicate_order_ids, nbbo_order_answers → int_order_nbbo, and int_answer_candidates from the
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
    sql_steps.materialize(con, "staging/int_duplicate_order_ids", "int_duplicate_order_ids")
    wall = clock.new_york_wall_us(rows["received_us"])
    answers = {"row_no": rows["row_no"], "received_local_us": _nullable(wall),
               **{c: _nullable(rows[c]) for c in ("r_quoted_at_us", "r_bid_us", "r_ask_us")},
               "o_bid_us": _nullable(np.full(n, NONE)), "o_ask_us": _nullable(np.full(n, NONE)),
               "fill_count": pa.array(rows["fill_count"], mask=rows["fill_count"] == 0),
               "filled_qty_micro": _nullable(rows["filled_qty_micro"]),
               "has_bad_fill": pa.array(rows["has_bad_fill"], mask=rows["fill_count"] == 0),
               "first_fill_us": _nullable(rows["first_fill_us"]), "last_fill_us": _nullable(rows["last_fill_us"])}
    assert set(FILL_SUM_COLUMNS) <= set(answers)  # the columns the build publishes
    con.register("nbbo_order_answers", pa.table(answers))
    sql_steps.materialize(con, "staging/int_order_nbbo", "int_order_nbbo", view=True)
    # the kernel's prefilter, on the fill sums as it gets them (a sum of micro-shares; no fill: count 0)
    filled = np.where(rows["filled_qty_micro"] == NONE, 0, rows["filled_qty_micro"])
    flagged = exclusion_candidates.answer_candidates(
        rows["r_quoted_at_us"], rows["r_bid_us"], rows["r_ask_us"], wall, rows["fill_count"], filled,
        rows["first_fill_us"], rows["has_bad_fill"], rows["received_us"], rows["quantity_micro"])
    con.register("int_answer_candidates", pa.table({"row_no": pa.array(np.flatnonzero(flagged))}))


def missed(seed: int = 5310, n: int = 20_000) -> tuple[list, dict, int]:
    """(rows fct_orders excludes that are not candidates, reasons by count, candidates), on random rows:
    the rulebook and the order facts' macros as their files say (through :func:`bestex_nb.query.text`)."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    for name in ("macros/rulebook", "macros/order_facts"):
        sql_steps.define(con, name)
    stage(con, random_orders(seed, n))
    sql_steps.materialize(con, "marts/fct_orders_base", "fct_orders_base", view=True)
    sql_steps.materialize(con, "marts/int_order_facts", "fct_orders", view=True)  # fct_orders without its fill sums
    sql_steps.materialize(con, "staging/int_exclusion_candidates", "int_exclusion_candidates")
    reasons = dict(con.execute("select exclusion_reason, count(*) from fct_orders "
                               "where exclusion_reason is not null group by all").fetchall())
    lost = con.execute("""
        select row_no, exclusion_reason from fct_orders
        where exclusion_reason is not null and row_no not in (select row_no from int_exclusion_candidates)
        order by row_no""").fetchall()
    return lost, reasons, con.execute("select count(*) from int_exclusion_candidates").fetchone()[0]


def test_the_prefilter_never_misses_a_row_the_rulebook_excludes():
    lost, reasons, candidates = missed()
    assert lost == []
    # a superset, but not every row: one whose test holds for the stand-ins of the answers that
    # int_exclusion_candidates passes the rulebook would make every row a candidate (slow, not wrong)
    assert candidates < sum(reasons.values()) + 0.5 * (20_000 - sum(reasons.values()))
    con = duckdb.connect()
    sql_steps.define(con, "macros/rulebook")
    every = [r for (r,) in con.execute("select reason from exclusion_reasons()").fetchall()]
    assert sorted(reasons) == sorted(every), "the random rows meet every rule at least once"


def test_the_random_rows_cross_each_edge():
    """Each edge the prefilter repeats is drawn on both sides: the session's open and close to the
    microsecond, a fill at and just before receipt, filled quantities at and beyond the allowance."""
    r = random_orders(5310, 20_000)
    wall = clock.new_york_wall_us(r["received_us"]) % (86_400 * US)
    lo, hi = exclusion_candidates.SESSION_US
    for edge in (lo, hi):
        assert {-1, 0} <= set((wall - edge).tolist())
    has = r["fill_count"] > 0
    assert {-1, 0, 1} <= set((r["first_fill_us"] - r["received_us"])[has].tolist())
    known = has & (r["quantity_micro"] > 0) & (r["filled_qty_micro"] != NONE)
    over = (r["filled_qty_micro"] - r["quantity_micro"] - r["fill_count"])[known]
    assert {0, 1} <= set(over.tolist()) and (over < 0).any()
    bid, ask = r["r_bid_us"], r["r_ask_us"]
    assert ((bid == ask) & (bid > 0)).any() and ((bid == ask + 1) & (ask > 0)).any()  # locked, crossed by 1


# A rulebook changed at one edge of a rule on the lookups' answers, so that it excludes a row the kernel's
# prefilter does not name: the test above must then fail (it reads the rulebook's file, not a copy).
MUTATIONS = {
    "session_open": ("time '09:30:00' and", "time '09:30:00.000002' and"),  # opens 2 µs later
    "session_close": ("< time '16:00:00'", "< time '15:59:59.999999'"),  # closes 1 µs earlier
    "overfill_allowance": ("quantity + 0.000001 * fill_count", "quantity - 0.000001 * fill_count"),
    "fill_at_receipt": ("first_fill_at < received_at", "first_fill_at <= received_at"),
    "locked_nbbo": ("when nbb > nbo then", "when nbb >= nbo then"),  # a locked NBBO excluded too
}


def patched_rulebook(monkeypatch, old: str, new: str) -> None:
    original = query.text
    rulebook = original("macros/rulebook")
    assert rulebook.count(old) == 1
    monkeypatch.setattr(query, "text", lambda name: rulebook.replace(old, new) if name == "macros/rulebook"
                        else original(name))


@pytest.mark.parametrize("old, new", MUTATIONS.values(), ids=MUTATIONS.keys())
def test_a_rulebook_changed_at_an_edge_is_caught(monkeypatch, old, new):
    patched_rulebook(monkeypatch, old, new)
    lost, _, _ = missed()
    assert lost, f"a rulebook with {new!r} excludes rows the prefilter does not name, and the test must see them"


def test_the_prefilter_on_order_columns_is_the_rulebook_itself(monkeypatch):
    """staging/int_exclusion_candidates applies exclusion_rule to the order columns: a rule on them
    changed in the rulebook changes the prefilter with it (here a limit of $0.000001 becomes bad)."""
    _, before, _ = missed()
    patched_rulebook(monkeypatch, "coalesce(limit_price, 0) <= 0", "coalesce(limit_price, 0) <= 0.000001")
    lost, after, _ = missed()
    assert lost == [] and after["bad_limit_price"] > before["bad_limit_price"]


def test_a_rule_naming_no_reason_of_the_list_is_an_error():
    """A rule's reason is looked up in the one list by name: a misspelt name fails the query as soon as a
    row meets the rule, rather than leaving the rule without effect."""
    con = duckdb.connect()
    sql_steps.define(con, "macros/rulebook")
    assert con.execute("select exclusion_position('bad_fill'), exclusion_reason(6), exclusion_scope(6)"
                       ).fetchall() == [(6, "bad_fill", "all")]
    with pytest.raises(duckdb.Error, match="not a reason of the rulebook: bad_fills"):
        con.execute("select case when range > 1 then exclusion_position('bad_fills') end from range(3)").fetchall()
