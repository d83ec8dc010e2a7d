"""The models of ``sql/`` run as build steps on the build's connection: stored tables (ids uncompressed),
temporary tables and views, the macros, and results handed to the compiled kernels as one Arrow chunk or
numpy arrays. Values are still bound, never formatted (:func:`bestex_nb.query.checked_params`); table names are
fixed identifiers of the build."""

from __future__ import annotations

import duckdb

from bestex_nb import query  # by module: a test that swaps query.text swaps it here too

#: Text columns of stored tables that hold one value per row (ids): written uncompressed. DuckDB's
#: default for text (DICT_FSST) spends about 2 s per 10M distinct ids finding no dictionary to share
#: (an order_id column: 2.9 s against 0.95 s), for some 100 MB of file per 10M rows saved.
UNCOMPRESSED_TEXT = frozenset({"order_id", "execution_id"})


#: Arrow batch size that keeps a whole result in one chunk, so numpy can take its columns without a copy.
ONE_CHUNK = 1 << 40


def arrow(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None):
    """Like :func:`bestex_nb.query.run`, but the result as one Arrow table in a single chunk."""
    sql_text = query.text(name)
    params = query.checked_params(name, sql_text, params)
    return con.sql(sql_text, params=params or None).to_arrow_table(batch_size=ONE_CHUNK)


def arrays(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None) -> dict:
    """Like :func:`bestex_nb.query.run`, but the columns as numpy arrays (for the kernels; no DataFrame on the way), read
    from Arrow without a copy (DuckDB's ``fetchnumpy`` takes three times as long). The query must give
    no nulls (the kernels take a sentinel instead: coalesce in the SQL); a null is refused."""
    table = arrow(con, name, params)
    nulls = [c for c in table.column_names if table[c].null_count]
    if nulls:
        raise ValueError(f"{name}: columns {nulls} have nulls")
    return {c: table[c].to_numpy() for c in table.column_names}


def define(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Run a file of definitions (``macros/<name>``: ``create or replace macro`` statements, no
    parameters) on ``con``: the macros live in its database, for the views that use them."""
    sql_text = query.text(name)
    query.checked_params(name, sql_text, None)
    con.execute(sql_text)


def materialize(con: duckdb.DuckDBPyConnection, name: str, table: str, params: dict | None = None,
                view: bool = False, temp: bool = False) -> None:
    """``create or replace table <table> as <query>`` for a build step (``table`` is a fixed name).

    With ``view`` the query becomes a view instead (only for queries without parameters: a view
    cannot take binds). With ``temp`` the table or view is the connection's own (an intermediate of the
    build, not stored).
    """
    sql_text = query.text(name)
    params = query.checked_params(name, sql_text, params)
    if not query.IDENT.fullmatch(table):
        raise ValueError(table)
    if view:
        if params:
            raise ValueError(f"{name}: a view cannot take parameters")
        con.execute(f"create or replace {'temp ' if temp else ''}view {table} as\n{sql_text}")
        return
    if temp:
        con.execute(f"create or replace temp table {table} as\n{sql_text}", params or None)
    else:
        create_table(con, table, sql_text, params)


def create_table(con: duckdb.DuckDBPyConnection, table: str, sql_text: str, params: dict | None = None) -> None:
    """``create or replace table <table> as <sql_text>``, stored, with the :data:`UNCOMPRESSED_TEXT`
    columns declared ``using compression uncompressed`` (same rows, same types, same order: the table
    is declared from the query's own column types, then filled by ``insert ... <sql_text>``)."""
    if not query.IDENT.fullmatch(table):
        raise ValueError(table)
    rel = con.sql(sql_text, params=params or None)
    names, types = rel.columns, [str(t) for t in rel.types]
    if not UNCOMPRESSED_TEXT.intersection(n for n, t in zip(names, types) if t == "VARCHAR"):
        con.execute(f"create or replace table {table} as\n{sql_text}", params or None)
        return
    cols = ", ".join(
        f'"{n}" {t}' + (" using compression uncompressed" if n in UNCOMPRESSED_TEXT and t == "VARCHAR" else "")
        for n, t in zip(names, types))
    con.execute(f"create or replace table {table} ({cols})")
    con.execute(f"insert into {table}\n{sql_text}", params or None)
