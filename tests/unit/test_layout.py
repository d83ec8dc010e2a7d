"""The store's physical form (bestex_nb/build/layout.py) on a mid-size generated quarter: fct_orders is a
table sorted by receipt date, venue and row, carrying each order's fill sums; those sums are what grouping
fct_fills by order gives when read (the metric queries' old definition, row by row); and a period's read
skips the other periods' row groups (DuckDB's profile of the query, not a timing)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from bestex_nb import query
from bestex_nb.build import layout
from bestex_nb.build.store import build
from bestex_nb.review import Review
from bestex_nb.sample import generate

#: Orders in the mid-size quarter: four row groups of fct_orders (DuckDB's row groups hold 122,880 rows).
ORDERS = 400_000

#: The per-order sums as the metric queries computed them before the build stored them: fct_fills grouped
#: by order, read from the store (the old CTEs of price_improvement and comparison_pi_sums, together).
OLD_PER_ORDER = """
with fills as (
    select order_id, quantity::decimal(38, 6) as qty, pi_ps, es_ps, qs_ps, exec_ms, rs_1m_ps, rs_5m_ps
    from fct_fills
)
select
    order_id,
    count(*) as attributed_fills,
    count(*) filter (where qs_ps > 0) as qs_fills,
    count(rs_1m_ps) as rs_1m_fills,
    sum(qty) as executed_shares,
    sum(qty) filter (where pi_ps > 0) as improved_shares,
    sum(qty) filter (where pi_ps = 0) as at_quote_shares,
    sum(qty) filter (where pi_ps < 0) as outside_shares,
    sum(qty * pi_ps) filter (where pi_ps > 0) as pi_usd,
    sum(qty * -pi_ps) filter (where pi_ps < 0) as disimprovement_usd,
    sum(qty * pi_ps) as net_pi_usd,
    sum(qty * es_ps) as es_usd,
    sum(qty * qs_ps) as qs_usd,
    sum(qty * exec_ms) as exec_share_ms,
    sum(qty) filter (where rs_1m_ps is not null) as rs_1m_shares,
    sum(qty * rs_1m_ps) as rs_1m_usd,
    sum(qty) filter (where rs_5m_ps is not null) as rs_5m_shares,
    sum(qty * rs_5m_ps) as rs_5m_usd,
from fills
group by order_id
order by order_id
"""


@pytest.fixture(scope="module")
def mid_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("layout")
    generate(folder / "data", seed=18, orders=ORDERS, quotes_target=1_500_000)
    return build(folder / "data", folder / "store.duckdb").store


def test_fct_orders_is_a_table_sorted_by_receipt_date_venue_and_row(mid_store):
    with query.connect(mid_store) as con:
        kinds = dict(con.execute("select table_name, table_type from information_schema.tables "
                                 "where table_name in ('fct_orders', 'fct_fills', 'fct_limit_orders')").fetchall())
        assert kinds == {"fct_orders": "BASE TABLE", "fct_fills": "BASE TABLE", "fct_limit_orders": "BASE TABLE"}
        stored = con.execute("select receipt_date, venue, row_no from fct_orders").fetchall()
        assert len(stored) == ORDERS
        key = [(d is None, d, v is None, v, r) for d, v, r in stored]  # nulls last, as ORDER BY puts them
        assert key == sorted(key)


def test_the_stored_sums_are_the_fills_grouped_by_order(mid_store):
    """Row by row, every column the build summed equals fct_fills grouped by order when read."""
    with query.connect(mid_store) as con:
        old = con.execute(OLD_PER_ORDER).df()
        cols = ", ".join(c for c in old.columns if c != "order_id")
        new = con.execute(f"select order_id, {cols} from fct_orders where attributed_fills is not null "
                          "order by order_id").df()
        none = con.execute("select count(*) from fct_orders where attributed_fills is null and order_id in "
                           "(select order_id from fct_fills)").fetchone()[0]
    assert len(old) > ORDERS // 2 and none == 0
    pd.testing.assert_frame_equal(old, new)


def _scans(con, sql_text: str, params: dict, table: str = "fct_orders") -> list[dict]:
    """The TABLE_SCAN operators of ``table`` in DuckDB's profile of ``sql_text``."""
    path = con.execute("select current_setting('temp_directory')").fetchone()[0]
    con.execute("set enable_profiling = 'json'")
    con.execute("set profiling_mode = 'detailed'")
    out = f"{path}-profile.json" if path else "profile.json"
    con.execute("set profiling_output = $p", {"p": out})
    con.execute(sql_text, params).fetchall()
    con.execute("set enable_profiling = 'no_output'")
    with open(out) as fh:
        profile = json.load(fh)
    found = []

    def walk(node):
        if node.get("type") == "TABLE_SCAN" and node.get("extra_info", {}).get("Table", "").endswith(f".{table}"):
            found.append(node)
        for child in node.get("children", []):
            walk(child)

    for op in profile["operator"]:
        walk(op)
    return found


def test_a_month_reads_only_that_months_row_groups(mid_store, tmp_path):
    """The review's orders for July (macros/coverage.sql, which every metric reading orders goes through)
    come from the row groups holding July's orders, not the quarter's."""
    with Review(mid_store) as r:
        r.con.execute("set temp_directory = $d", {"d": str(tmp_path / "spill")})
        month, quarter = r.period("2026-07").params(), r.period("2026Q3").params()
        july = r.con.execute("select count(*) from fct_orders where month = '2026-07'").fetchone()[0]
        text = ("select venue, count(*), sum(net_pi_usd) from pi_orders($period_start, $period_end, $venue) "
                "group by venue")
        [m] = _scans(r.con, text, {**month, "venue": None})
        [q] = _scans(r.con, text, {**quarter, "venue": None})
    assert q["total_row_groups_to_scan"] >= 4 and q["row_groups_scanned"] == q["total_row_groups_to_scan"]
    assert m["row_groups_scanned"] < m["total_row_groups_to_scan"]
    # at most July's rows and the two row groups it shares with June and August
    assert july <= m["rows_scanned"] <= july + 2 * 122_880
    assert m["rows_scanned"] < q["rows_scanned"]


#: The price-improvement table's sums grouped straight from fct_orders per cell (agg_pi_cells' grain): the
#: covered orders (metrics.md section 5) with their stored fill sums, written out here, not through the macro.
CELLS = ("receipt_date, venue, order_category, size_bucket, share_bucket, symbol, side, is_sp500, month, "
         "distance_bucket")
SUMS = ("order_shares", "executed_shares", "improved_shares", "at_quote_shares", "outside_shares", "pi_usd",
        "disimprovement_usd", "net_pi_usd", "es_usd", "qs_usd", "executed_usd", "mid_usd", "exec_share_ms",
        "rs_1m_shares", "rs_1m_usd", "rs_5m_shares", "rs_5m_usd")
ORDERS_BY_CELL = f"""
select
    {CELLS},
    count(*) as orders,
    count(*) filter (where attributed_fills > 0) as orders_filled,
    count(*) filter (where net_pi_usd > 0) as orders_improved,
    sum(quantity) as order_shares,
    {", ".join(f"sum({c}) as {c}" for c in SUMS[1:])},
from fct_orders
where exclusion_reason is null and order_category in ('market', 'marketable_limit')
group by all
order by all
"""


def _rows(cur) -> tuple[list, list]:
    return [(d[0], d[1]) for d in cur.description], cur.fetchall()


def test_the_cells_are_the_covered_orders_grouped_by_cell(mid_store):
    """agg_pi_cells holds, cell by cell, the covered orders' stored sums grouped from fct_orders: the same
    exact decimals (Python Decimals compared, not floats) and the same types; a table, sorted by receipt
    date and venue, with cells of several orders and cells none of whose orders filled."""
    cols = f"{CELLS}, orders, orders_filled, orders_improved, {', '.join(SUMS)}"
    with query.connect(mid_store) as con:
        kind = con.execute("select table_type from information_schema.tables "
                           "where table_name = 'agg_pi_cells'").fetchone()[0]
        expected_types, expected = _rows(con.execute(ORDERS_BY_CELL))
        types, stored = _rows(con.execute(f"select {cols} from agg_pi_cells order by all"))
        covered = con.execute("select count(*) from fct_orders where exclusion_reason is null "
                              "and order_category in ('market', 'marketable_limit')").fetchone()[0]
        key = con.execute("select receipt_date, venue from agg_pi_cells").fetchall()
    assert kind == "BASE TABLE"
    assert types == expected_types and stored == expected
    n = {name: i for i, (name, _) in enumerate(types)}
    assert sum(r[n["orders"]] for r in stored) == covered > ORDERS // 2
    assert len(stored) < covered and any(r[n["orders"]] > 1 for r in stored)
    assert any(r[n["executed_shares"]] is None for r in stored)  # a cell of orders none of which filled
    assert dict(types)["pi_usd"] == "DECIMAL(38,12)" and dict(types)["orders"] == "BIGINT"
    key = [(d is None, d, v is None, v) for d, v in key]  # nulls last, as ORDER BY puts them
    assert key == sorted(key)


def test_the_layout_names_every_model_once():
    tables = [t for _, t, _ in layout.MARTS]
    assert len(tables) == len(set(tables)) and "fct_orders" in tables
    assert {t: f for _, t, f in layout.MARTS}["fct_orders"] is layout.Form.TABLE


def test_the_build_gives_duckdb_three_quarters_of_its_memory_budget():
    from bestex_nb.build.store import _duckdb_share
    from bestex_nb.contract.errors import BestexError

    assert _duckdb_share("12GB") == "8583MiB"  # 12·10^9 · 0.75 = 9·10^9 bytes = 8583.07 MiB
    assert _duckdb_share("8GiB") == "6144MiB"
    assert _duckdb_share("1.5 gb") == "1072MiB"  # 1.125·10^9 bytes
    with pytest.raises(BestexError, match="write a size"):
        _duckdb_share("a lot")
