"""The build's NBBO lookups: staged orders and fills in, the answers as row-ordered views out.

Reads the lookup instants (``sql/staging/nbbo_order_instants.sql``, ``nbbo_fills.sql`` — each fill's
order row comes from the byte match of the ids, :mod:`bestex_nb.build.idmatch`, so a fill's symbol is its
order row's, looked up in numpy rather than joined on the text order id), streams the quotes once
through the kernel of :mod:`bestex_nb.build.nbbo.stream` (``sql/staging/nbbo_stream.sql``; the sorted variant when
the file is not in time order within each symbol), and puts each answer back at its caller's row: one
Arrow table per extract in row order, registered on the connection for the rest of the build, with
typed temporary views over them:

``int_order_nbbo``  row_no, nbbo_r_quoted_at (TIMESTAMPTZ), nbb_r, nbo_r (DECIMAL(18,6), the NBBO in
                    force at receipt), nbb_route, nbo_route (at routing); one row per order row; nulls
                    where there is no symbol or no same-day quote
``int_fill_mids``   row_no (execution row), mid_1s, mid_15s, mid_1m, mid_5m (DECIMAL(21,7), the
                    midpoint of the latest valid NBBO at or before min(executed_at + Δ, 16:00 New
                    York) on the fill's day; null when none); one row per attributed fill
``int_fill_exec_nbbo`` (stored after fct_orders, build/layout.py) nbb_x, nbo_x: the latest valid NBBO at
                    or before executed_at on the fill's day (the NBBO at execution), for the fills of
                    marketable limit orders (the Rule 5310 .05 check); the pass answers it for every
                    attributed fill (``x_bid_us``, ``x_ask_us`` in ``nbbo_fill_answers``)

and two small stored tables:

``int_nbbo_extent`` one row: quotes (read), last_quoted_at (TIMESTAMPTZ, the latest quote of any
                    symbol: where the data ends, for open GTC orders)
``int_nbbo_stream`` what the pass saw: quotes read, quotes of symbols nobody asked about, updates
                    superseded at their instant, the last quote time, and whether it had to sort

Values move between DuckDB and the kernel as integers (UTC microseconds, micro-dollars), so the
decimals come back exactly (``sql/staging/int_order_nbbo.sql``, ``int_fill_mids.sql`` convert them).
"""

from __future__ import annotations

import time as _time
from concurrent.futures import ThreadPoolExecutor

import duckdb
import numpy as np
import pyarrow as pa

from bestex_nb import query
from bestex_nb.build import sql_steps
from bestex_nb.build.arrays import NONE, in_row_order, is_identity, micro_units
from bestex_nb.build.clock import new_york_wall_us
from bestex_nb.build.exclusion_candidates import answer_candidates
from bestex_nb.build.fill_sums import fill_sums
from bestex_nb.build.nbbo import stream
from bestex_nb.contract.errors import ExtractError

#: Quote rows per batch asked of DuckDB (it hands Parquet over a row group at a time at most).
BATCH_ROWS = 1 << 20


def _quote_batches(con: duckdb.DuckDBPyConnection, name: str):
    """Batches of (hash, quoted_at_us, bid_us, ask_us, seq) numpy arrays from a stream query."""
    reader = con.sql(query.text(name), params={"none": NONE}).to_arrow_reader(batch_size=BATCH_ROWS)
    try:
        for batch in reader:
            yield tuple(np.ascontiguousarray(batch.column(i).to_numpy()) for i in range(5))
    finally:  # also when the kernel stops early: the connection must be free for the next query
        reader.close()


def symbol_table(con: duckdb.DuckDBPyConnection):
    """The kernel's symbol table for dim_symbol; refuses a quote-file symbol whose hash collides."""
    symbols = query.run(con, "staging/nbbo_symbols")
    clash = symbols[symbols["foreign_collisions"] > 0]
    if len(clash):
        raise ExtractError(f"nbbo: symbols {clash['symbol'].tolist()[:5]} share a 64-bit hash with another "
                           "symbol of the quote file; the streaming lookups cannot tell them apart")
    hashes = symbols["symbol_hash"].to_numpy(dtype=np.uint64)
    return stream.symbol_table(hashes), len(hashes)


def _at_rows(values: np.ndarray, rows: np.ndarray | None, n_rows: int, missing) -> np.ndarray:
    """``values`` (one per caller) placed at the callers' rows of an array of ``n_rows``, ``missing``
    elsewhere; with ``rows`` None the callers are the rows in order and ``values`` is returned as it is."""
    if rows is None:
        return values
    out = np.full(n_rows, missing, values.dtype)
    out[rows] = values
    return out


def _by_row(n_rows: int, caller_rows: np.ndarray | None, lookups: stream.Lookups, names: list[str | None]) -> dict:
    """The answers of ``lookups`` as nullable Arrow columns of length ``n_rows``, each at its row
    (``caller_rows[k]`` is the row of the k-th caller, None: the k-th row itself; rows without a lookup
    or an answer are null). ``names`` names the answer columns in order; None skips one. When the
    callers are the rows in order, Arrow takes the kernel's arrays as they are (no copy)."""
    out = {}
    for j, name in enumerate(names):
        if name is not None:
            col = _at_rows(lookups.out[j], caller_rows, n_rows, NONE)
            out[name] = pa.array(col, mask=col == NONE)
    return out


def _row_count(row_no: np.ndarray) -> int:
    return int(row_no.max()) + 1 if len(row_no) else 0


def _absent(n_rows: int) -> pa.Array:
    """A column the caller did not ask for: Arrow's null type, all null, holding no memory (a typed
    all-null int64 column of 10M rows is 80 MB of zeros to write first)."""
    return pa.nulls(n_rows, pa.null())


def _fetch_fills(con: duckdb.DuckDBPyConnection, ids) -> pa.Table:
    """Every fill, once (``staging/nbbo_fills``, in execution row order), with its order row and whether
    it is attributed, from the byte match of the ids (``ids``, a :class:`bestex_nb.build.idmatch.IdMatch`):
    for the fill sums and the markouts. A fill whose order id repeats on several order rows is listed
    once per row (``staging/int_repeated_id_fills``), none of them attributed. The fills whose order id
    matches no order row (``order_row`` −1: the sums skip them, and no markout is looked up) are also
    registered on the connection as ``int_orphan_fills`` (execution_row), which ``marts/exclusions``
    lists."""
    table = in_row_order(sql_steps.arrow(con, "staging/nbbo_fills", {"none": NONE}), "execution_row")
    order_row = ids.fill_order_row
    if len(order_row) != table.num_rows:
        raise ValueError("the id match and the fills disagree on the number of fills")
    shared = np.zeros(len(order_row), np.bool_)
    known = order_row >= 0
    shared[known] = ids.order_repeated[order_row[known]]
    table = table.append_column("order_row", pa.array(order_row)).append_column(
        "is_attributed", pa.array(known & ~shared))
    if shared.any():  # every copy of a repeated id gets the id's fills
        copies = sql_steps.arrow(con, "staging/int_repeated_id_fills")
        if not np.array_equal(np.unique(copies["execution_row"].to_numpy()), np.flatnonzero(shared)):
            raise ValueError("the fills of repeated order ids disagree between the id match and the join")
        rest = table.filter(pa.array(~shared))
        again = table.take(copies["execution_row"]).set_column(
            table.column_names.index("order_row"), "order_row", copies["order_row"])
        table = pa.concat_tables([rest, again])
    orphan = pa.array(table["order_row"].to_numpy() < 0)
    con.register("int_orphan_fills", pa.table({"execution_row": table["execution_row"].filter(orphan)}))
    return table


#: The order answers' fill-sum columns (null without fills; all null in the receipt step alone).
FILL_SUM_COLUMNS = ("fill_count", "filled_qty_micro", "has_bad_fill", "first_fill_us", "last_fill_us")


def _order_fill_sums(f: pa.Table, n_orders: int) -> tuple[dict, dict]:
    """Per order row: fill_count, filled_qty_micro, has_bad_fill, first_fill_us, last_fill_us (nullable
    Arrow columns, null where the row has no fill, as a left join to a SQL aggregate gives), and the
    sums as numpy arrays. One pass over ``staging/nbbo_fills`` (:func:`bestex_nb.build.fill_sums.fill_sums`)
    instead of a 10M-group aggregate and a join back."""
    s = fill_sums(n_orders, f["order_row"].to_numpy(), micro_units(f["quantity"]),
                       f["executed_us"].to_numpy(), f["is_bad_fill"].to_numpy())
    none = s["count"] == 0
    return dict(zip(FILL_SUM_COLUMNS, (
        pa.array(s["count"], mask=none), pa.array(s["qty_sum"], mask=s["qty_n"] == 0),
        pa.array(s["any_bad"], mask=none), pa.array(s["first"], mask=s["first"] == NONE),
        pa.array(s["last"], mask=s["last"] == NONE)), strict=True)), s


def _order_quantities(con: duckdb.DuckDBPyConnection) -> np.ndarray:
    """Each order row's quantity in micro-shares (:data:`bestex_nb.build.arrays.NONE`: null), by row."""
    return micro_units(in_row_order(sql_steps.arrow(con, "staging/nbbo_order_quantities"))["quantity"])


def _publish(con: duckdb.DuckDBPyConnection, tables: dict[str, pa.Table], sidecar) -> None:
    """Each ``name: table`` as the build's answers: the Arrow table registered on the connection, or
    (with a :class:`bestex_nb.build.sidecar.Sidecar`) written beside the store, the tables in parallel (the
    Parquet writer releases the GIL; one 10M-row table takes about a second), with stored views over them.
    A ``row_no`` that is the row's own position is not written: the view reads it back as the file's
    row number (80 MB less to write per 10M rows)."""
    if sidecar is None:
        for name, table in tables.items():
            con.register(name, table)
        return
    positional = {name for name, t in tables.items() if is_identity(t["row_no"])}
    tables = {name: t.drop_columns(["row_no"]) if name in positional else t for name, t in tables.items()}
    with ThreadPoolExecutor(max_workers=len(tables)) as pool:
        files = dict(zip(tables, pool.map(sidecar.write, tables, tables.values())))
    for name, file_name in files.items():  # names of ours (hex tag + these constants): see sidecar.py
        if name in positional:
            con.execute(f"create or replace view {name} as select file_row_number as row_no, "
                        f"* exclude (file_row_number) from read_parquet('{file_name}', file_row_number = true)")
        else:
            con.execute(f"create or replace view {name} as select * from read_parquet('{file_name}')")


def run(con: duckdb.DuckDBPyConnection, *, fills: bool = True, route: bool = True, local: bool = True,
        sidecar=None, ids=None) -> stream.StreamReport:
    """Answer every order's receipt and routing lookup (and, with ``fills``, every attributed fill's
    markout lookups, their order rows from ``ids``: the :class:`bestex_nb.build.idmatch.IdMatch` of the
    build); register the answers and create the temporary views
    ``int_order_nbbo`` and (with ``fills``) ``int_fill_mids``, and register ``int_orphan_fills`` (the
    fills of no order row, for the exclusions: on this connection only, so ``exclusions`` is a table
    built here); write ``int_nbbo_extent`` and ``int_nbbo_stream``. Without ``route`` the routing
    columns are null, without ``local`` the New York wall clock of receipt, without ``fills`` the fill
    sums (the benchmark's receipt step: none of them).
    The registered answers live as long as the connection; with a ``sidecar``
    (:mod:`bestex_nb.build.sidecar`) they are written beside the store instead, and the views are stored."""
    if fills and (ids is None or not local):
        raise ValueError("the fill answers need the id match (ids) and the New York wall clock (local)")
    started = _time.perf_counter()
    table, n_symbols = symbol_table(con)
    orders = sql_steps.arrays(con, "staging/nbbo_order_instants", {"none": NONE})
    order_rows = np.asarray(orders["row_no"], dtype=np.int64)
    n_orders = _row_count(order_rows)
    # the query gives the order rows in row order (a plain scan): then the answers need no scatter
    scatter = None if len(order_rows) == n_orders and is_identity(order_rows) else order_rows
    sym = np.where(orders["has_symbol"], stream.codes(table, orders["symbol_hash"]), -1).astype(np.int32, copy=False)
    routed = orders["routed_us"]
    receipt = stream.in_force(sym, orders["received_us"])
    # without routing lookups (the receipt step alone) the routing columns are null
    routing = stream.in_force(np.where(routed != NONE, sym, -1) if route else np.empty(0, np.int32),
                            routed if route else np.empty(0, np.int64))
    fill_table = _fetch_fills(con, ids) if fills else None
    if fills:
        attributed = fill_table["is_attributed"].to_numpy()
        fill_rows = {c: fill_table[c].to_numpy() for c in ("execution_row", "order_row", "executed_us")}
        if not attributed.all():
            fill_rows = {c: v[attributed] for c, v in fill_rows.items()}
        marks = stream.valid_after(_at_rows(sym, scatter, n_orders, -1)[fill_rows["order_row"]],
                                 fill_rows["executed_us"])
    else:
        marks = stream.valid_after(np.empty(0, np.int32), np.empty(0, np.int64))
    execs = stream.valid_at(marks.sym, marks.t_us)  # the NBBO at execution: the same lookups, sorted once
    report = stream.lookup(_quote_batches(con, "staging/nbbo_stream"), table, n_symbols, receipt, routing, marks,
                         sorted_batches=lambda: _quote_batches(con, "staging/nbbo_stream_sorted"),
                         at_execution=execs)
    wall = _at_rows(new_york_wall_us(orders["received_us"]), scatter, n_orders, NONE) if local else None
    answers = {"row_no": pa.array(np.arange(n_orders, dtype=np.int64)),
               "received_local_us": pa.array(wall, mask=wall == NONE) if local else _absent(n_orders),
               **_by_row(n_orders, scatter, receipt, ["r_quoted_at_us", "r_bid_us", "r_ask_us"]),
               **(_by_row(n_orders, scatter, routing, [None, "o_bid_us", "o_ask_us"]) if route
                  else {"o_bid_us": _absent(n_orders), "o_ask_us": _absent(n_orders)})}
    if fills:
        fill_answers = pa.table({
            "row_no": pa.array(fill_rows["execution_row"]), "order_row": pa.array(fill_rows["order_row"]),
            **_by_row(len(fill_rows["execution_row"]), None, marks, [f"mid2_{h}" for h in stream.HORIZON_NAMES]),
            **_by_row(len(fill_rows["execution_row"]), None, execs, ["x_bid_us", "x_ask_us"])})
        del fill_rows
    counts = f"{len(receipt.rows):,}, {len(routing.rows):,}", f"{len(marks.t_us):,}"
    nbbo_r = [_at_rows(receipt.out[j], scatter, n_orders, NONE) for j in range(3)]  # no copy in row order
    received = _at_rows(orders["received_us"], scatter, n_orders, NONE)
    # The answers hold the kernel's output arrays; the instants, codes and sorted copies go before the
    # fill sums allocate theirs (0.7 GB at 10M orders: a lower peak, and memory freed a moment ago is
    # cheaper to hand out again than fresh memory on this VM: bestex_nb/build/memory.py)
    del orders, order_rows, sym, routed, receipt, routing, marks, execs
    if fills:
        sums, s = _order_fill_sums(fill_table, n_orders)
        del fill_table
        # the rows an exclusion rule that reads these answers may apply to (the build reads only them
        # and the rows the order columns alone may exclude: staging/int_exclusion_candidates)
        flagged = answer_candidates(*nbbo_r, wall, s["count"], s["qty_sum"], s["first"], s["any_bad"],
                                         received, _order_quantities(con))
        con.register("int_answer_candidates", pa.table({"row_no": pa.array(np.flatnonzero(flagged))}))
        del s, flagged
        published = {"nbbo_order_answers": pa.table({**answers, **sums}),
                     "nbbo_fill_answers": fill_answers}
    else:
        published = {"nbbo_order_answers": pa.table({**answers, **{n: _absent(n_orders) for n in FILL_SUM_COLUMNS}})}
    del nbbo_r, received
    _publish(con, published, sidecar)
    sql_steps.materialize(con, "staging/int_order_nbbo", "int_order_nbbo", view=True, temp=sidecar is None)
    if fills:
        sql_steps.materialize(con, "staging/int_fill_mids", "int_fill_mids", view=True, temp=sidecar is None)
    con.execute("create or replace table int_nbbo_extent as select $n::bigint as quotes, "
                "make_timestamptz($last::bigint) as last_quoted_at",
                {"n": report.quotes, "last": None if report.max_quoted_at_us == NONE else report.max_quoted_at_us})
    con.execute("create or replace table int_nbbo_stream (item varchar, value varchar)")
    items = {
        "quotes read": report.quotes,
        "quotes of symbols in no order or security": report.unknown_symbol_quotes,
        "updates superseded at the same instant": report.superseded,
        "last quote (UTC)": "" if report.max_quoted_at_us == NONE
        else str(np.datetime64(report.max_quoted_at_us, "us")) + "Z",
        "streamed sorted (file not in time order within a symbol)": report.sorted_fallback,
        "order lookups (receipt, routing)": counts[0],
        "fill lookups (x 4 horizons)": counts[1],
        "seconds": round(_time.perf_counter() - started, 2),
    }
    con.executemany("insert into int_nbbo_stream values ($i, $v)", [{"i": k, "v": str(v)} for k, v in items.items()])
    return report

