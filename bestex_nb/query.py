"""Open a built review store, load a .sql file by name, bind exactly its declared parameters, return a DataFrame.

Every file starts with a header comment; its ``-- params:`` line lists the named binds
(``$period_start``, ``$venue``) the file uses. :func:`run` refuses a call whose parameters differ from
that list, so a value can only reach DuckDB as a bound parameter. A few metric files also vary their
grouping columns; those are identifiers, written as ``/*group_by*/`` in the file, and are only ever
filled from an allow-list (:data:`GROUPABLE`) after validation.
"""

from __future__ import annotations

import itertools
import os
import re
import tempfile
import warnings
from functools import cache
from importlib import resources
from pathlib import Path

import duckdb
import pandas as pd

PARAM_RE = re.compile(r"\$([a-z_][a-z0-9_]*)")
HEADER_PARAMS_RE = re.compile(r"^--\s*params:(.*)$", re.MULTILINE)
GROUP_MARK = "/*group_by*/"

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


def checked_params(name: str, sql_text: str, params: dict | None) -> dict:
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
    params = checked_params(name, sql_text, params)
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


# -- the store's files ----------------------------------------------------------------------------

def folder_of(store: Path) -> Path:
    """Where the Parquet files a large store reads beside it live (``<store>.files``)."""
    return store.with_name(store.name + ".files")


def connect(store: str | os.PathLike, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A connection to a built store, able to read the files a large store keeps beside it (DuckDB's
    ``file_search_path`` set to ``<store>.files``; see :mod:`bestex_nb.build.sidecar`). Open stores with
    this rather than ``duckdb.connect``: on a large store that one cannot read fct_orders.

    A read-only connection spills a query larger than memory into a folder of its own under the system's
    temporary directory (DuckDB's default, ``<store>.tmp``, needs the store's folder to be writable, and a
    reader may have only read access to it); DuckDB creates the folder when it first spills and removes it
    when the connection closes."""
    store = Path(store)
    con = duckdb.connect(str(store), read_only=read_only)
    folder = folder_of(store.resolve())
    if folder.is_dir():
        con.execute("set file_search_path = $p", {"p": str(folder)})
    if read_only:
        spill = Path(tempfile.gettempdir()) / f"bestex_nb-spill-{os.getpid()}-{next(_SPILLS)}"
        con.execute("set temp_directory = $d", {"d": str(spill)})
    return con


#: Numbers the spill folders of one process's read-only connections.
_SPILLS = itertools.count()
