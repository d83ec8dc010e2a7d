"""Open a built review store, load a .sql file by name, bind exactly its declared parameters, return a DataFrame.

Every file starts with a header comment; its ``-- params:`` line lists the named binds
(``$period_start``, ``$venue``) the file uses. :func:`run` refuses a call whose parameters differ from
that list, so a value can only reach DuckDB as a bound parameter. A few metric files also vary their
grouping columns; those are identifiers, written as ``/*group_by*/`` in the file, and are only ever
filled from an allow-list (:data:`GROUPABLE`) after validation.
"""

from __future__ import annotations

import os
import re
import warnings
from functools import cache
from importlib import resources
from pathlib import Path

import duckdb
import pandas as pd

PARAM_RE = re.compile(r"\$([a-z_][a-z0-9_]*)")
HEADER_PARAMS_RE = re.compile(r"^--\s*params:(.*)$", re.MULTILINE)
GROUP_MARK = "/*group_by*/"
#: Text columns of stored tables that hold one value per row (ids): written uncompressed. DuckDB's
#: default for text (DICT_FSST) spends about 2 s per 10M distinct ids finding no dictionary to share
#: (an order_id column: 2.9 s against 0.95 s), for some 100 MB of file per 10M rows saved.
UNCOMPRESSED_TEXT = frozenset({"order_id", "execution_id"})

#: Columns a caller may group a metric table by (fct_orders columns).
GROUPABLE = (
    "venue", "order_category", "size_bucket", "share_bucket", "symbol", "is_sp500", "month", "side",
    "distance_bucket",
)


@cache
def text(name: str) -> str:
    """The SQL text of ``<layer>/<query>`` (e.g. ``metrics/price_improvement``)."""
    return resources.files("bestex_nb").joinpath("sql", f"{name}.sql").read_text()


def declared_params(sql_text: str) -> set[str]:
    """The parameter names the header declares (``-- params: $a (unit), $b``).

    The declaration may continue on indented comment lines (``--   $c (unit)``).
    """
    lines = sql_text.splitlines()
    for i, line in enumerate(lines):
        m = HEADER_PARAMS_RE.match(line)
        if not m:
            continue
        decl = [m.group(1)]
        for more in lines[i + 1:]:
            if not re.match(r"^--\s{2,}", more):
                break
            decl.append(more)
        return set(PARAM_RE.findall(" ".join(decl)))
    return set()


def used_params(sql_text: str) -> set[str]:
    """The ``$names`` used in the body (comment lines are ignored)."""
    body = "\n".join(line for line in sql_text.splitlines() if not line.lstrip().startswith("--"))
    return set(PARAM_RE.findall(body))


def render(name: str, group_by: list[str] | tuple[str, ...] = ()) -> str:
    """The query text with its grouping identifiers filled from the allow-list."""
    sql_text = text(name)
    bad = [g for g in group_by if g not in GROUPABLE]
    if bad:
        raise ValueError(f"cannot group by {bad}; choose from {list(GROUPABLE)}")
    if len(set(group_by)) != len(group_by):
        raise ValueError(f"duplicate grouping columns in {list(group_by)}")
    if GROUP_MARK in sql_text:
        cols = "".join(f"{g}, " for g in group_by)
        sql_text = sql_text.replace(GROUP_MARK, cols)
    elif group_by:
        raise ValueError(f"{name} does not take grouping columns")
    return sql_text


IDENT = re.compile(r"[a-z_][a-z0-9_]*")


def _checked(name: str, sql_text: str, params: dict | None) -> dict:
    """``params`` as a dict, refused unless it binds exactly the parameters ``sql_text`` declares."""
    params = dict(params or {})
    declared = declared_params(sql_text)
    if set(params) != declared:
        raise ValueError(f"{name} takes parameters {sorted(declared)}, got {sorted(params)}")
    return params


def run(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None,
        group_by: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    """Execute the named query with exactly its declared parameters bound; return a DataFrame."""
    sql_text = render(name, group_by)
    params = _checked(name, sql_text, params)
    return frame(con.execute(sql_text, params) if params else con.execute(sql_text))


#: DuckDB types whose columns reach pandas through Arrow (:func:`frame`), with the dtype DuckDB's own
#: ``df()`` gives them: (without nulls, with nulls); None: the dtype Arrow gives is df()'s.
_VIA_ARROW = {
    "VARCHAR": None, "DOUBLE": None, "TIMESTAMP WITH TIME ZONE": None,
    "BOOLEAN": ("bool", "boolean"), "BIGINT": ("int64", "Int64"), "INTEGER": ("int32", "Int32"),
}


def frame(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The result of ``cur`` (a connection after ``execute``) as a DataFrame, the same as DuckDB's
    ``df()`` gives, faster: through Arrow when every column is of a type in :data:`_VIA_ARROW` (a
    per-order frame of 4.9 M rows took 12-35 s with ``df()`` and 1-3 s this way), with ``df()``'s dtypes
    (a boolean or integer column with nulls becomes pandas' nullable dtype, as there); ``df()`` for any
    other type (decimals, dates, lists...)."""
    types = [str(d[1]) for d in cur.description or []]
    if not types or not all(t in _VIA_ARROW for t in types):
        return cur.df()
    with warnings.catch_warnings():  # "an extra copy of the rows": a copy in Arrow, cheap beside df()
        warnings.simplefilter("ignore", UserWarning)
        table = cur.to_arrow_table()
    df = table.to_pandas()
    for column, t in zip(table.column_names, types):
        if _VIA_ARROW[t] is not None:
            plain, nullable = _VIA_ARROW[t]
            df[column] = df[column].astype(nullable if table[column].null_count else plain)
    return df


#: Arrow batch size that keeps a whole result in one chunk, so numpy can take its columns without a copy.
ONE_CHUNK = 1 << 40


def arrow(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None):
    """Like :func:`run`, but the result as one Arrow table in a single chunk."""
    sql_text = text(name)
    params = _checked(name, sql_text, params)
    return con.sql(sql_text, params=params or None).to_arrow_table(batch_size=ONE_CHUNK)


def arrays(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None) -> dict:
    """Like :func:`run`, but the columns as numpy arrays (for the kernels; no DataFrame on the way), read
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
    sql_text = text(name)
    _checked(name, sql_text, None)
    con.execute(sql_text)


def materialize(con: duckdb.DuckDBPyConnection, name: str, table: str, params: dict | None = None,
                view: bool = False, temp: bool = False) -> None:
    """``create or replace table <table> as <query>`` for a build step (``table`` is a fixed name).

    With ``view`` the query becomes a view instead (only for queries without parameters: a view
    cannot take binds). With ``temp`` the table or view is the connection's own (an intermediate of the
    build, not stored).
    """
    sql_text = text(name)
    params = _checked(name, sql_text, params)
    if not IDENT.fullmatch(table):
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
    if not IDENT.fullmatch(table):
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


# -- the store's files ----------------------------------------------------------------------------

def folder_of(store: Path) -> Path:
    """Where the Parquet files a large store reads beside it live (``<store>.files``)."""
    return store.with_name(store.name + ".files")


def connect(store: str | os.PathLike, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A connection to a built store, able to read the files a large store keeps beside it (DuckDB's
    ``file_search_path`` set to ``<store>.files``; see :mod:`bestex_nb.build.sidecar`). Open stores with
    this rather than ``duckdb.connect``: on a large store that one cannot read fct_orders."""
    store = Path(store)
    con = duckdb.connect(str(store), read_only=read_only)
    folder = folder_of(store.resolve())
    if folder.is_dir():
        con.execute("set file_search_path = $p", {"p": str(folder)})
    return con
