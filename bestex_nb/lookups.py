"""The build's NBBO lookups: staged tables in, ``int_order_nbbo`` and ``int_fill_mids`` out.

Reads the lookup instants (``sql/staging/asof_order_instants.sql``, ``asof_fill_instants.sql``), streams
the quotes once through the kernel of :mod:`bestex_nb.asof` (``sql/staging/nbbo_stream.sql``; the sorted
variant when the file is not in time order within each symbol), and writes the answers as tables the
marts join on the order or execution row:

``int_order_nbbo``  row_no, nbbo_r_quoted_at (TIMESTAMPTZ), nbb_r, nbo_r (DECIMAL(18,6), the NBBO in
                    force at receipt), nbbo_route_quoted_at, nbb_route, nbo_route (at routing); one row
                    per order row with a symbol; nulls where there is no same-day quote
``int_fill_mids``   row_no (execution row), mid_1s, mid_15s, mid_1m, mid_5m (DECIMAL(21,7), the
                    midpoint of the latest valid NBBO at or before min(executed_at + Δ, 16:00 New
                    York) on the fill's day; null when none)
``int_nbbo_extent`` one row: quotes (read), last_quoted_at (TIMESTAMPTZ, the latest quote of any
                    symbol: where the data ends, for open GTC orders)
``int_nbbo_stream`` what the pass saw: quotes read, quotes of symbols nobody asked about, updates
                    superseded at their instant, the last quote time, and whether it had to sort

Values move between DuckDB and the kernel as integers (UTC microseconds, micro-dollars), so the
decimals come back exactly (``sql/staging/int_order_nbbo.sql``, ``int_fill_mids.sql`` convert them).
"""

from __future__ import annotations

import time as _time

import duckdb
import numpy as np
import pyarrow as pa

from . import asof, sql
from .errors import ExtractError

#: Quote rows per batch asked of DuckDB (it hands Parquet over a row group at a time at most).
BATCH_ROWS = 1 << 20


def _stream(con: duckdb.DuckDBPyConnection, name: str):
    """Batches of (hash, quoted_at_us, bid_us, ask_us, seq) numpy arrays from a stream query."""
    reader = con.sql(sql.text(name), params={"none": asof.NONE}).to_arrow_reader(batch_size=BATCH_ROWS)
    try:
        for batch in reader:
            yield tuple(np.ascontiguousarray(batch.column(i).to_numpy()) for i in range(5))
    finally:  # also when the kernel stops early: the connection must be free for the next query
        reader.close()


def symbol_table(con: duckdb.DuckDBPyConnection):
    """The kernel's symbol table for dim_symbol; refuses a quote-file symbol whose hash collides."""
    symbols = sql.run(con, "staging/asof_symbols")
    clash = symbols[symbols["foreign_collisions"] > 0]
    if len(clash):
        raise ExtractError(f"nbbo: symbols {clash['symbol'].tolist()[:5]} share a 64-bit hash with another "
                           "symbol of the quote file; the streaming lookups cannot tell them apart")
    hashes = symbols["symbol_hash"].to_numpy(dtype=np.uint64)
    return asof.symbol_table(hashes), len(hashes)


def _answers(rows: np.ndarray, lookups: asof.Lookups) -> pa.Table:
    """``row_no, answer`` (a fixed-size list per lookup) over the kernel's arrays, without copying them."""
    flat = pa.array(lookups.answers.reshape(-1))
    return pa.table({"row_no": pa.array(rows[lookups.rows]),
                     "answer": pa.FixedSizeListArray.from_arrays(flat, lookups.answers.shape[1])})


def _materialize_from(con: duckdb.DuckDBPyConnection, name: str, table: str, views: dict[str, pa.Table]) -> None:
    for view, arrow in views.items():
        con.register(view, arrow)
    try:
        sql.materialize(con, name, table, {"none": asof.NONE})
    finally:
        for view in views:
            con.unregister(view)


def run(con: duckdb.DuckDBPyConnection, *, fills: bool = True, route: bool = True) -> asof.StreamReport:
    """Answer every order's receipt and routing lookup (and, with ``fills``, every fill's markout
    lookups) and write ``int_order_nbbo``, ``int_fill_mids`` (when ``fills``), ``int_nbbo_extent`` and
    ``int_nbbo_stream``. Without ``route`` the routing columns are null (the benchmark's receipt step)."""
    started = _time.perf_counter()
    table, n_symbols = symbol_table(con)
    orders = sql.arrays(con, "staging/asof_order_instants", {"none": asof.NONE})
    sym = asof.codes(table, orders["symbol_hash"])
    routed = orders["routed_us"]
    receipt = asof.in_force(sym, orders["received_us"])
    route = asof.in_force(np.where((routed != asof.NONE) & route, sym, -1), routed)
    if fills:
        fill_rows = sql.arrays(con, "staging/asof_fill_instants")
        marks = asof.valid_after(asof.codes(table, fill_rows["symbol_hash"]), fill_rows["executed_us"])
    else:
        fill_rows = {"row_no": np.empty(0, np.int64)}
        marks = asof.valid_after(np.empty(0, np.int32), np.empty(0, np.int64))
    report = asof.lookup(_stream(con, "staging/nbbo_stream"), table, n_symbols, receipt, route, marks,
                         sorted_batches=lambda: _stream(con, "staging/nbbo_stream_sorted"))
    order_rows = orders["row_no"].astype(np.int64)
    _materialize_from(con, "staging/int_order_nbbo", "int_order_nbbo",
                      {"asof_receipt": _answers(order_rows, receipt), "asof_route": _answers(order_rows, route)})
    if fills:
        _materialize_from(con, "staging/int_fill_mids", "int_fill_mids",
                          {"asof_fills": _answers(fill_rows["row_no"].astype(np.int64), marks)})
    con.execute("create or replace table int_nbbo_extent as select $n::bigint as quotes, "
                "make_timestamptz($last::bigint) as last_quoted_at",
                {"n": report.quotes, "last": None if report.max_quoted_at_us == asof.NONE else report.max_quoted_at_us})
    con.execute("create or replace table int_nbbo_stream (item varchar, value varchar)")
    items = {
        "quotes read": report.quotes,
        "quotes of symbols in no order or security": report.unknown_symbol_quotes,
        "updates superseded at the same instant": report.superseded,
        "last quote (UTC)": "" if report.max_quoted_at_us == asof.NONE
        else str(np.datetime64(report.max_quoted_at_us, "us")) + "Z",
        "streamed sorted (file not in time order within a symbol)": report.sorted_fallback,
        "order lookups (receipt, routing)": f"{len(receipt.rows):,}, {len(route.rows):,}",
        "fill lookups (x 4 horizons)": f"{len(marks.t_us):,}",
        "seconds": round(_time.perf_counter() - started, 2),
    }
    con.executemany("insert into int_nbbo_stream values ($i, $v)", [{"i": k, "v": str(v)} for k, v in items.items()])
    return report


def receipt_only(con: duckdb.DuckDBPyConnection, sources: dict) -> asof.StreamReport:
    """The NBBO-at-receipt step of the build on its own (``bestex bench``): typed views of the orders,
    securities and quotes (no checks, no copies), the receipt lookups in one pass over the quotes, and
    the table ``orders_at_receipt`` (order_id, nbbo_r_quoted_at, nbb_r, nbo_r), one row per order."""
    from .staging import register_view

    for name in ("orders", "securities", "nbbo"):
        register_view(con, sources[name])
    sql.materialize(con, "staging/dim_symbol", "dim_symbol")
    report = run(con, fills=False, route=False)
    con.execute("create or replace table orders_at_receipt as select orders.order_id, nbbo.nbbo_r_quoted_at, "
                "nbbo.nbb_r, nbbo.nbo_r from stg_orders as orders "
                "left join int_order_nbbo as nbbo on orders.row_no = nbbo.row_no")
    return report
