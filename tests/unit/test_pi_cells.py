"""The price-improvement cube (marts/agg_pi_cells, bestex_nb/build/layout.py) on a store of many symbols,
whose cells fill more than one of DuckDB's row groups (122,880 rows): a day's price-improvement table
reads the row groups holding that day's cells, not every cell (DuckDB's profile of the query, not a
timing), and reads no order row; it is the table grouped from the orders. test_layout checks the cells
themselves against fct_orders grouped by cell."""

from __future__ import annotations

import pytest
from test_layout import _scans

from benchmarks import bench_data
from bestex_nb import query
from bestex_nb.build.store import build
from bestex_nb.review import Review

#: 400,000 orders over 5 days and 1,200 symbols (bench_data: a symbol per 5,000 quotes): about 200,000
#: cells, two row groups of agg_pi_cells.
ORDERS, QUOTES, DAYS = 400_000, 6_000_000, 5


@pytest.fixture(scope="module")
def wide_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cells")
    bench_data.generate(folder / "data", ORDERS, QUOTES, days=DAYS)
    return build(folder / "data", folder / "store.duckdb").store


COVERED = "exclusion_reason is null and order_category in ('market', 'marketable_limit')"


def test_a_days_price_improvement_reads_only_that_days_cells(wide_store, tmp_path):
    with Review(wide_store) as r:
        r.con.execute("set temp_directory = $d", {"d": str(tmp_path / "spill")})
        groups = r.con.execute("select count(distinct row_group_id) "
                               "from pragma_storage_info('agg_pi_cells')").fetchone()[0]
        days = [d for (d,) in r.con.execute("select distinct receipt_date from agg_pi_cells order by 1").fetchall()]
        text = query.render("metrics/price_improvement", ["venue"])
        quarter = r.period("2026Q3").params()
        [q] = _scans(r.con, text, {**quarter, "venue": None}, "agg_pi_cells")
        assert len(days) == DAYS and groups >= 2 and q["row_groups_scanned"] == q["total_row_groups_to_scan"]
        for day in (days[0], days[-1]):  # the first day's cells lie in the first row group, the last's in the last
            one = {"period_start": day, "period_end": day + (days[1] - days[0])}
            n = r.con.execute("select count(*) from agg_pi_cells where receipt_date = $d", {"d": day}).fetchone()[0]
            [m] = _scans(r.con, text, {**one, "venue": None}, "agg_pi_cells")
            assert _scans(r.con, text, {**one, "venue": None}) == []  # no order row is read
            assert m["row_groups_scanned"] < m["total_row_groups_to_scan"] == q["total_row_groups_to_scan"]
            assert n <= m["rows_scanned"] <= n + 122_880 and m["rows_scanned"] < q["rows_scanned"]
            table = r.price_improvement((str(day), str(one["period_end"])), ["venue"])
            orders = r.con.execute(
                f"select venue, count(*), sum(quantity), sum(executed_shares), sum(net_pi_usd), sum(mid_usd) "
                f"from fct_orders where {COVERED} and receipt_date = $d group by venue order by venue",
                {"d": day}).fetchall()
            assert len(table) == len(orders) == 3
            for row, (venue, k, shares, executed, net_pi, mid) in zip(table.itertuples(), orders, strict=True):
                assert (row.venue, row.orders) == (venue, k)
                assert (row.order_shares, row.executed_shares, row.net_pi_usd, row.net_pi_bps) == pytest.approx(
                    (float(shares), float(executed), float(net_pi), float(net_pi / mid * 10_000)), rel=1e-12)
