"""The store's physical form: which model is a stored table, a view, a view over the files beside the
store or a temporary table of the build, decided here and nowhere else.

The rule (issue 18): **what the review reads is stored; what only the build or a drill-down reads is
computed when read.**

- ``fct_orders`` is a table at every scale, with each order's fill sums on its row
  (``marts/int_order_fill_sums``), sorted by New York receipt date, routed venue and row. Every metric
  table of the review (limit fills, the exclusions' reconciliation, the Rule 5310 .05 check; price
  improvement and the venue comparison's sums through the aggregates below, summed from it) reads its
  orders there and groups their sums: no read groups the fills by order or evaluates the order facts
  again. The sort gives each row group of 122,880 rows a narrow range of receipt dates and venues, so
  DuckDB's zone maps skip the row groups of other periods and venues (tests/unit/test_layout.py reads
  that from DuckDB's profile). The sums are exact decimals, so a table grouped from them equals the old
  per-query group by, digit for digit.
- ``agg_pi_symbol_days`` and ``agg_fill_symbol_days``, the venue comparison's sums per venue × cell ×
  symbol-day (what its bootstrap resamples), are tables summed once from fct_orders and sorted by
  receipt date: a period's comparison reads its rows (tens of thousands at 10M orders) instead of
  grouping millions of orders, in every notebook of a batch.
- ``agg_pi_cells``, the price-improvement table's sums per cell of every column the table may be
  grouped by × receipt date, is a table summed once from fct_orders and sorted by receipt date and
  venue: a period's table (metrics/price_improvement) sums the period's cells instead of its orders
  (137,521 cells for 1.40M covered orders in a generated 2M-order sample quarter), exact decimals of
  the same digits, so the same table (tests/unit/test_pi_cells.py reads the pruning from DuckDB's
  profile); where a day's cells fill several row groups, a venue's read skips other venues' too.
- ``fct_fills`` and ``fct_limit_orders`` are views over fct_orders from :data:`TABLES_BELOW_ORDERS` order rows
  up: arithmetic on one row and a join on row numbers, read whole only by the drill-down to the fill and
  the limit-order tables (which filter by period first). Below that they are tables too: writing them
  costs a fraction of a second there.
- ``fct_orders_base`` and ``fct_fills_base`` (the stored NBBO answers) are views over the Parquet files
  beside a large store when orders and executions are single Parquet files
  (:mod:`bestex_nb.build.sidecar`), tables otherwise; only the build reads them whole.
- ``int_fill_exec_nbbo``, the NBBO at execution of marketable limit orders' fills (the Rule 5310 .05
  check's cause), is a table at every scale: a few percent of the fills, read by order row.
- ``int_order_facts`` is a temporary view of the build (the fill sums read only the few order columns
  a fill needs, which DuckDB projects out of it; fct_orders reads it whole, once) and
  ``int_order_fill_sums`` a temporary table.

What this costs the build and saves the reads is measured by ``make bench`` (benchmarks/README.md).
"""

from __future__ import annotations

from enum import Enum


class Form(Enum):
    TABLE = "stored table"
    TEMP = "temporary table of the build"
    TEMP_VIEW = "temporary view of the build"
    VIEW_AT_SCALE = "view from TABLES_BELOW_ORDERS order rows up, table below"
    BASE = "view over the files beside a large store, table otherwise"
    MACROS = "table macros, created once the relations they read exist"


#: Below this many order rows the VIEW_AT_SCALE models are stored as tables after all; from here up, when
#: orders and executions are single Parquet files, the BASE models are views over files beside the store.
TABLES_BELOW_ORDERS = 2_000_000

#: Build steps after the NBBO lookups (:mod:`bestex_nb.build.nbbo.answers`), in order: (query name, table it
#: creates, its form).
MARTS = (
    ("staging/int_data_end", "int_data_end", Form.TABLE),
    ("marts/fct_orders_base", "fct_orders_base", Form.BASE),
    ("marts/fct_fills_base", "fct_fills_base", Form.BASE),
    ("marts/int_order_facts", "int_order_facts", Form.TEMP_VIEW),
    ("marts/int_order_fill_sums", "int_order_fill_sums", Form.TEMP),
    ("marts/fct_orders", "fct_orders", Form.TABLE),
    ("staging/int_fill_exec_nbbo", "int_fill_exec_nbbo", Form.TABLE),  # reads fct_orders' categories
    ("marts/fct_fills", "fct_fills", Form.VIEW_AT_SCALE),
    ("marts/fct_limit_orders", "fct_limit_orders", Form.VIEW_AT_SCALE),
    ("macros/coverage", "coverage", Form.MACROS),  # reads fct_orders and fct_limit_orders; the aggs read it
    ("marts/agg_pi_symbol_days", "agg_pi_symbol_days", Form.TABLE),
    ("marts/agg_fill_symbol_days", "agg_fill_symbol_days", Form.TABLE),
    ("marts/agg_pi_cells", "agg_pi_cells", Form.TABLE),
)


def materialize_kwargs(form: Form, *, small: bool, sidecar: bool) -> dict:
    """How :func:`bestex_nb.build.sql_steps.materialize` makes a model of ``form`` in a store with
    ``small`` (fewer than :data:`TABLES_BELOW_ORDERS` order rows) and ``sidecar`` (files beside it)."""
    if form is Form.TEMP:
        return {"temp": True}
    if form is Form.TEMP_VIEW:
        return {"temp": True, "view": True}
    if form is Form.VIEW_AT_SCALE:
        return {"view": not small}
    if form is Form.BASE:
        return {"view": sidecar}
    return {}
