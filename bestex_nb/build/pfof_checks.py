"""Checks of the optional PFOF extracts that a column's type and enum cannot express (extracts.md):
a rate's validity interval must not be empty nor overlap another rate of the same key (a receipt date
would have two rates, and the payment owed would be ambiguous), and a ledger month must read ``YYYY-MM``
(another spelling would match no flow, and its payment would be reconciled against nothing).

Each raises :class:`ExtractError` naming the rows, as :mod:`bestex_nb.build.staging` does for a bad value.
"""

from __future__ import annotations

import duckdb

from bestex_nb.build.staging import SHOW_ROWS, Source, _row_label
from bestex_nb.contract.errors import ExtractError


def _labeller(con: duckdb.DuckDBPyConnection, src: Source):
    offsets = con.execute(f"select * from raw_{src.table}_files").fetchall() if len(src.files) > 1 else []
    return lambda row_no: _row_label(row_no, src, offsets)


def check_pfof_rates(con: duckdb.DuckDBPyConnection, src: Source) -> None:
    """Raise naming the rows of ``stg_pfof_rates`` (loaded by ``load_table``) whose validity ends on or
    before it starts, or that overlap another rate of the same venue, security group and order group."""
    label = _labeller(con, src)
    empty = con.execute("select row_no from stg_pfof_rates where effective_to <= effective_from "
                        f"order by row_no limit {SHOW_ROWS}").fetchall()
    if empty:
        rows = ", ".join(f"row {label(r[0])}" for r in empty)
        raise ExtractError(f"{src.describe()}: effective_to on or before effective_from (an empty validity "
                           f"interval) in {rows}")
    pairs = con.execute(
        "select a.row_no, b.row_no, a.venue_id, a.security_group, a.order_group from stg_pfof_rates a "
        "join stg_pfof_rates b on a.venue_id = b.venue_id and a.security_group = b.security_group "
        "and a.order_group = b.order_group and a.row_no < b.row_no "
        "and a.effective_from < coalesce(b.effective_to, date '9999-12-31') "
        "and b.effective_from < coalesce(a.effective_to, date '9999-12-31') "
        f"order by a.row_no, b.row_no limit {SHOW_ROWS}").fetchall()
    if pairs:
        shown = "; ".join(f"rows {label(a)} and {label(b)} ({v} / {sg} / {og})" for a, b, v, sg, og in pairs)
        raise ExtractError(f"{src.describe()}: overlapping rates for the same venue, security group and order "
                           f"group (a receipt date would have two rates): {shown}")


def check_pfof_payments(con: duckdb.DuckDBPyConnection, src: Source) -> None:
    """Raise naming the rows of ``stg_pfof_payments`` whose month is not a ``YYYY-MM`` month."""
    label = _labeller(con, src)
    bad = con.execute(
        "select row_no, month from stg_pfof_payments "
        "where not regexp_full_match(month, '[0-9]{4}-(0[1-9]|1[0-2])') "
        f"order by row_no limit {SHOW_ROWS}").fetchall()
    if bad:
        shown = "; ".join(f"row {label(r)}: {m!r}" for r, m in bad)
        raise ExtractError(f"{src.describe()}: column month: values that are not a YYYY-MM month (the month of "
                           f"the order flow paid for): {shown}")
