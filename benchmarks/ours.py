"""Our build as the benchmark runs it: the compiled kernels loaded before the clock starts, and the
build's NBBO-at-receipt step on its own (the ``ours_receipt`` contender).

Neither is part of the build: a build compiles (or loads from numba's cache) each kernel when it first
calls it, and it never runs the receipt step alone.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from bestex_nb.build import sql_steps
from bestex_nb.build.arrays import NONE, is_identity
from bestex_nb.build.clock import new_york_wall_us
from bestex_nb.build.exclusion_candidates import answer_candidates
from bestex_nb.build.fill_sums import fill_sums
from bestex_nb.build.idmatch import MAX_WORDS, match
from bestex_nb.build.nbbo import answers
from bestex_nb.build.nbbo.stream import StreamReport, codes, in_force, lookup, symbol_table, valid_after
from bestex_nb.build.staging import Source, _cast_expr, _q, _register_raw
from bestex_nb.contract.extracts import TABLES, Table


def warm_up() -> None:
    """Compile (or load from numba's cache) every kernel of the build on a tiny input, so that a timed
    run measures the work, not the compiler (the kernels take their inputs read-only whatever they are
    given: :func:`bestex_nb.build.arrays.readonly`, so one version of each serves every caller)."""
    table = symbol_table(np.array([1, 2], dtype=np.uint64))
    one = (np.array([1], np.uint64), np.array([5], np.int64), np.array([1], np.int64),
           np.array([2], np.int64), np.array([NONE], np.int64))
    lookup([one], table, 2, in_force([0], [10]), in_force([1], [10]), valid_after([0], [10]))
    # and every branch of Lookups.sort: out of order, with and without lookups left out
    lookup([one], table, 2, in_force([1, 0], [20, 10]), in_force([1, -1, 0], [20, 5, 10]), valid_after([0], [10]))
    codes(table, np.array([1], np.uint64))
    is_identity(np.array([0]))
    new_york_wall_us(np.array([0, NONE]))
    fill_sums(1, np.array([0]), np.array([1]), np.array([5]), np.array([False]))
    one = np.array([1])
    answer_candidates(one, one, one, one, one, one, one, np.array([False]), one, one)
    # the id match: repeated ids, ids longer than the longest key, a fill of no order and a repeated
    # execution id
    long = "x" * (8 * MAX_WORDS + 3)
    match(pa.array(["a", "bb", "a", long, long + "y"]), pa.array(["a", long, "zz"]),
          pa.array(["f1", "f2", "f1"]))


def receipt_only(con: duckdb.DuckDBPyConnection, sources: dict) -> StreamReport:
    """The NBBO-at-receipt step of the build on its own: typed views of the orders, securities and
    quotes (no checks, no copies), the receipt lookups in one pass over the quotes (the build's own
    :func:`bestex_nb.build.nbbo.answers.run`, without routing, markouts or fill sums), and the table
    ``orders_at_receipt`` (order_id, nbbo_r_quoted_at, nbb_r, nbo_r), one row per order."""
    from bestex_nb.build.memory import small_pages

    with small_pages():  # as the build runs (bestex_nb/build/store.py)
        for name in ("orders", "securities", "nbbo"):
            register_view(con, sources[name])
        sql_steps.materialize(con, "staging/dim_symbol", "dim_symbol")
        report = answers.run(con, fills=False, route=False, local=False)
        sql_steps.create_table(con, "orders_at_receipt", "select orders.order_id, nbbo.nbbo_r_quoted_at, "
                           "nbbo.nbb_r, nbbo.nbo_r from stg_orders as orders "
                           "left join int_order_nbbo as nbbo on orders.row_no = nbbo.row_no")
    return report


def register_view(con: duckdb.DuckDBPyConnection, src: Source) -> None:
    """``stg_<table>`` as a typed view over the file(s), with ``row_no``, *without* the checks of
    :func:`bestex_nb.build.staging.load_table` (the receipt step measures the join alone): the build's
    own raw relation and casts."""
    table: Table = TABLES[src.table]
    raw_name = f"raw_{table.name}"
    _register_raw(con, src, raw_name)
    raw_types = dict(con.execute(f"select column_name, column_type from (describe {raw_name})").fetchall())
    exprs = [f"{_cast_expr(c, raw_types[c.name], src)[0]} as {_q(c.name)}" if c.name in raw_types
             else f"null as {_q(c.name)}" for c in table.columns]
    con.execute(f"create or replace temp view stg_{table.name} as select row_no, {', '.join(exprs)} from {raw_name}")
    con.execute(f"create or replace temp view stg_{table.name}_scan as select * exclude (row_no) from stg_{table.name}")
