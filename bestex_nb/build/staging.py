"""Load one extract table into a typed ``stg_<table>`` table, or stop with an :class:`ExtractError`.

Schema problems (a missing required table or column, a physical type the contract does not accept, a
naive timestamp, an unparseable or out-of-range value, a null where the contract forbids one, a value
outside an enumeration, a duplicate key) stop the build with a message naming the file, the column and
the first offending rows. Row problems the spec turns into exclusions are *not* checked here; the marts
layer records them (see ``sql/marts/fct_orders.sql``).

The SQL built here only ever interpolates identifiers from :mod:`bestex_nb.contract.extracts` (an allow-list
under our control); values reach DuckDB as named parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from bestex_nb.build.schema_checks import check_parquet_files, row_label
from bestex_nb.contract.errors import ExtractError
from bestex_nb.contract.extracts import DECIMAL_SQL, TABLES, Column, Table

INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                 "UINTEGER", "UBIGINT", "UHUGEINT"}
FLOAT_TYPES = {"FLOAT", "DOUBLE", "REAL"}
SMALL_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT", "UINTEGER"}
#: Integer types whose every value is a BIGINT.
BIGINT_TYPES = SMALL_INTEGER_TYPES | {"BIGINT"}
# ISO-8601 date and time with a required zone designator (Z or +hh[:mm]).
TZ_PATTERN = r"^\s*\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)\s*$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
SHOW_ROWS = 5


@dataclass(frozen=True)
class Source:
    """Where a table's data comes from: one CSV, one Parquet file or a folder of Parquet files."""

    table: str
    path: Path
    kind: str  # "csv" | "parquet" | "parquet_dir"

    @property
    def files(self) -> list[Path]:
        if self.kind == "parquet_dir":
            return sorted(p for p in self.path.rglob("*.parquet") if p.is_file())
        return [self.path]

    def describe(self) -> str:
        return str(self.path)


def find_sources(data_dir: Path) -> dict[str, Source]:
    """Locate every contract table in ``data_dir``; raise when a required table is missing."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise ExtractError(f"{data_dir}: data folder not found")
    found: dict[str, Source] = {}
    for table in TABLES.values():
        candidates = [
            Source(table.name, data_dir / f"{table.name}.parquet", "parquet"),
            Source(table.name, data_dir / f"{table.name}.csv", "csv"),
            Source(table.name, data_dir / table.name, "parquet_dir"),
        ]
        present = [s for s in candidates if s.path.exists()]
        if len(present) > 1:
            names = ", ".join(s.path.name for s in present)
            raise ExtractError(f"{data_dir}: table {table.name} is given more than once ({names}); keep one")
        if not present:
            if table.required:
                raise ExtractError(
                    f"{data_dir}: required table {table.name} is missing "
                    f"(expected {table.name}.parquet, {table.name}.csv or a folder {table.name}/)"
                )
            continue
        src = present[0]
        if src.kind == "parquet_dir" and not src.files:
            raise ExtractError(f"{src.path}: folder for table {table.name} holds no .parquet files")
        found[table.name] = src
    return found


def _raw_relation(con: duckdb.DuckDBPyConnection, src: Source) -> duckdb.DuckDBPyRelation:
    files = [str(p) for p in src.files]
    try:
        if src.kind == "csv":
            return con.read_csv(files[0], header=True, all_varchar=True)
        return con.read_parquet(files, hive_partitioning=src.kind == "parquet_dir", union_by_name=True)
    except duckdb.Error as exc:  # unreadable file: name it
        raise ExtractError(f"{src.describe()}: cannot be read as {src.kind}: {exc}") from exc


def _q(name: str) -> str:
    if not IDENT.match(name):  # contract names only; guard anyway
        raise ValueError(f"not an identifier: {name!r}")
    return f'"{name}"'


def _cast_expr(col: Column, raw_type: str, src: Source) -> tuple[str, str | None]:
    """Return (SQL expression producing the contract type, failure predicate or None).

    The failure predicate is true for rows whose raw value is present but cannot be read.
    """
    c = _q(col.name)
    t = raw_type.upper()
    csv = src.kind == "csv"
    bad_type = ExtractError(
        f"{src.describe()}: column {col.name} has type {raw_type}, which cannot be read as the "
        f"contract's {col.type}"
    )
    if t == '"NULL"' or t == "NULL":
        t = "NULL"
    if col.type in ("string", "enum"):
        if t in ("VARCHAR", "NULL"):
            return f"{c}::VARCHAR", None
        raise bad_type
    if col.type == "decimal":
        if _fits_decimal(t):  # every value is exactly a DECIMAL(18,6): nothing to check
            return (c if t == DECIMAL_SQL else f"{c}::{DECIMAL_SQL}"), None
        if t == "VARCHAR" and csv or t in INTEGER_TYPES or t in FLOAT_TYPES or t.startswith("DECIMAL") \
                or t == "NULL":
            expr = f"try_cast({c} as {DECIMAL_SQL})"
            return expr, f"({c} is not null and {expr} is null)"
        raise bad_type
    if col.type == "integer":
        if t in BIGINT_TYPES:  # every value is a BIGINT: nothing to check
            return (c if t == "BIGINT" else f"{c}::BIGINT"), None
        if t == "VARCHAR" and csv or t in INTEGER_TYPES or t == "NULL":
            expr = f"try_cast({c} as BIGINT)"
            return expr, f"({c} is not null and {expr} is null)"
        raise bad_type
    if col.type == "boolean":
        if t == "BOOLEAN":
            return f"coalesce({c}, false)", None
        if t == "NULL":
            return "false", None
        if t == "VARCHAR":
            low = f"lower(trim({c}))"
            expr = f"coalesce(case {low} when 'true' then true when 'false' then false end, false)"
            return expr, f"({c} is not null and {low} not in ('true', 'false'))"
        raise bad_type
    if col.type == "date":
        if t == "DATE":
            return c, None
        if t == "NULL":
            return "null::DATE", None
        if t == "VARCHAR":
            expr = f"try_cast({c} as DATE)"
            return expr, f"({c} is not null and (not regexp_matches({c}, '{DATE_PATTERN}') or {expr} is null))"
        raise bad_type
    if col.type == "timestamp":
        if t == "TIMESTAMP WITH TIME ZONE":
            return c, None
        if "TIME ZONE" in t or t.startswith("TIMESTAMPTZ"):  # other units, e.g. nanoseconds
            return f"{c}::TIMESTAMPTZ", None
        if t == "NULL":
            return "null::TIMESTAMPTZ", None
        if t.startswith("TIMESTAMP"):
            raise ExtractError(
                f"{src.describe()}: column {col.name} holds naive timestamps ({raw_type}); the contract "
                "requires a time zone (write TIMESTAMP WITH TIME ZONE, e.g. pyarrow timestamp('us', tz='UTC'))"
            )
        if t == "VARCHAR":
            expr = f"try_cast({c} as TIMESTAMPTZ)"
            return expr, f"({c} is not null and (not regexp_matches({c}, '{TZ_PATTERN}') or {expr} is null))"
        raise bad_type
    raise AssertionError(col.type)


def _fits_decimal(raw_type: str) -> bool:
    """Whether every value of ``raw_type`` is exactly representable in DECIMAL(18,6): small integer
    types, and decimals with at most 6 decimals and 12 integer digits."""
    if raw_type in SMALL_INTEGER_TYPES:
        return True
    m = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", raw_type)
    return bool(m) and int(m.group(2)) <= 6 and int(m.group(1)) - int(m.group(2)) <= 12


def _raise_offending(con, raw_name: str, col: Column, predicate: str, count: int, src: Source,
                     problem: str) -> None:
    rows = con.execute(
        f"select row_no, {_q(col.name)}::VARCHAR as value from {raw_name} "
        f"where {predicate} order by row_no limit {SHOW_ROWS}"
    ).fetchall()
    offsets = con.execute(f"select * from {raw_name}_files").fetchall() if len(src.files) > 1 else []
    shown = "; ".join(f"row {_row_label(r[0], src, offsets)}: {r[1]!r}" for r in rows)
    raise ExtractError(f"{src.describe()}: column {col.name}: {problem} in {count} row(s); first: {shown}")


def _row_label(row_no: int, src: Source, offsets: list) -> str:
    # CSV: the line in the file (header is line 1); Parquet: 1-based data row (of its file in a folder).
    if src.kind == "csv":
        return f"{row_no + 2} (line)"
    return row_label(src.path, offsets, row_no) if offsets else str(row_no + 1)


def _register_raw(con: duckdb.DuckDBPyConnection, src: Source, raw_name: str) -> None:
    """Expose the file(s) as ``raw_name`` with a ``row_no`` column giving the file order, and as
    ``<raw_name>_scan``: the same rows in file order without it (what the quote stream reads).

    CSV is materialised once (DuckDB keeps insertion order, so ``rowid`` is the line order). Parquet is
    only viewed: ``row_no`` is the row's position across the files in sorted path order, from DuckDB's
    ``file_row_number``, so a 100M-row quotes file is never copied twice. The file order is what orders
    NBBO updates that share a timestamp when there is no ``seq``. With several files the offsets come
    from a join, which does not keep the scan's order: only ``<raw_name>_scan`` does.
    """
    if src.kind == "parquet_dir":  # before union_by_name can turn a missing column into nulls
        check_parquet_files(src.table, src.path, src.files)
    rel = _raw_relation(con, src)
    if src.kind == "csv":
        rel.create_view(f"{raw_name}_file", replace=True)
        con.execute(f"create or replace temp table {raw_name}_csv as select * from {raw_name}_file")
        con.execute(f"create or replace temp view {raw_name} as select rowid as row_no, * from {raw_name}_csv")
        con.execute(f"create or replace temp view {raw_name}_scan as select * from {raw_name}_csv")
        return
    files = [str(p) for p in src.files]
    hive = src.kind == "parquet_dir"
    con.read_parquet(files, hive_partitioning=hive, union_by_name=True).create_view(f"{raw_name}_scan", replace=True)
    if len(files) == 1:
        scan = con.read_parquet(files, hive_partitioning=hive, union_by_name=True, file_row_number=True)
        scan.create_view(f"{raw_name}_numbered", replace=True)
        con.execute(f"create or replace temp view {raw_name} as select * exclude (file_row_number), "
                    f"file_row_number as row_no from {raw_name}_numbered")
        return
    con.execute(f"create or replace temp table {raw_name}_files (filename varchar, row_offset bigint)")
    offsets = con.execute(
        "select file_name, sum(num_rows) from parquet_file_metadata($files) group by file_name", {"files": files}
    ).fetchall()
    counts = dict(offsets)
    start = 0
    for f in files:  # sorted path order
        con.execute(f"insert into {raw_name}_files values ($f, $o)", {"f": f, "o": start})
        start += int(counts.get(f, 0))
    scan = con.read_parquet(files, hive_partitioning=hive, union_by_name=True,
                            file_row_number=True, filename=True)
    scan.create_view(f"{raw_name}_numbered", replace=True)
    con.execute(
        f"create or replace temp view {raw_name} as select scan.* exclude (file_row_number, filename), "
        f"files.row_offset + scan.file_row_number as row_no from {raw_name}_numbered as scan "
        f"join {raw_name}_files as files on scan.filename = files.filename"
    )


def check_unique(con: duckdb.DuckDBPyConnection, src: Source, column: str) -> None:
    """Raise :class:`ExtractError` naming the rows when a value of ``column`` (a ``unique`` contract
    column of ``src``'s table, loaded by :func:`load_table`) repeats.

    One aggregation counts the rows whose value repeats, first on the values' 64-bit hashes, cheaper to
    group than text: equal values have equal hashes, so no repeated hash proves no repeated value; only
    when a hash repeats (a duplicate, or two values that share a hash) are the values themselves
    grouped, and the rows looked up."""
    col = TABLES[src.table].column(column)
    raw_name = f"raw_{src.table}"
    for key in (f"hash({_q(col.name)})", _q(col.name)):
        count = con.execute(f"select coalesce(sum(n), 0)::bigint from (select count(*) as n from "
                            f"{raw_name}_scan group by {key} having count(*) > 1)").fetchall()[0][0]
        if not count:
            return
    dup = f"{_q(col.name)} in (select {_q(col.name)} from {raw_name} group by all having count(*) > 1)"
    _raise_offending(con, raw_name, col, dup, count, src, "duplicate values (must be unique)")


def load_table(con: duckdb.DuckDBPyConnection, src: Source, *, view: bool = False,
               unique_elsewhere: frozenset[str] = frozenset()) -> list[str]:
    """Create ``stg_<table>`` from ``src`` or raise :class:`ExtractError` naming file, column and rows.

    With ``view`` nothing is copied: ``stg_<table>`` is a typed view over the file(s) with ``row_no``,
    and ``stg_<table>_scan`` the same rows in file order without it (what the quote stream reads). The
    build reads orders, fills and quotes that way: a 10M-row copy into the store costs more than the
    few scans of the file that use it, and a 100M-row quote file is read once, by the streaming
    lookups (:mod:`bestex_nb.build.nbbo.answers`), after the checks here.

    ``unique_elsewhere`` names unique columns whose check the caller makes itself (the build matches
    the execution ids in :mod:`bestex_nb.build.idmatch`, and calls :func:`check_unique` when one repeats).

    Returns the typed select list (``<cast of the raw column> as <column>``, contract order), which
    :func:`persist_view` reuses over a copy of the file.
    """
    table: Table = TABLES[src.table]
    raw_name = f"raw_{table.name}"
    _register_raw(con, src, raw_name)
    raw_types = dict(con.execute(f"select column_name, column_type from (describe {raw_name})").fetchall())
    raw_types.pop("row_no", None)
    present = [c for c in table.columns if c.name in raw_types]
    for col in table.columns:
        if col.name not in raw_types and not col.optional:
            raise ExtractError(
                f"{src.describe()}: required column {col.name} is missing from table {table.name} "
                f"(found: {', '.join(raw_types)})"
            )
    # count(*) and count(column) come from the Parquet footer's statistics where it has them (no scan
    # of 100M quotes to find that symbol and quoted_at have no nulls); the checks below that need the
    # values (casts that can fail, enums) are counted in one scan
    *non_null, n_rows = con.execute(
        f"select {', '.join(f'count({_q(c.name)})' for c in present)}, count(*) from {raw_name}_scan"
    ).fetchall()[0]
    exprs, checks = [], []  # checks: (column, problem, predicate, count: None until the scan counts it)
    for col, n in zip(present, non_null):
        # all null: any physical type is accepted (a not-nullable column is then reported by its nulls)
        raw_type = "NULL" if n == 0 else raw_types[col.name]
        expr, failure = _cast_expr(col, raw_type, src)
        if failure:
            checks.append((col, f"values that cannot be read as {col.type}", failure, None))
        if not col.nullable:
            checks.append((col, "null values (not allowed)", f"{_q(col.name)} is null", n_rows - n))
        if col.values:
            allowed = ", ".join(f"'{v}'" for v in col.values)  # contract constants, not user values
            checks.append((col, f"values outside {{{', '.join(col.values)}}}",
                           f"{_q(col.name)} is not null and {_q(col.name)} not in ({allowed})", None))
        exprs.append(f"{expr} as {_q(col.name)}")
    exprs += [f"null as {_q(c.name)}" for c in table.columns if c.name not in raw_types]
    scanned = [p for _, _, p, n in checks if n is None]
    if scanned:  # one scan counts every problem it must; rows are fetched only for the first one found
        counts = iter(con.execute(
            f"select {', '.join(f'count(*) filter (where {p})' for p in scanned)} from {raw_name}_scan"
        ).fetchall()[0])
        checks = [(col, problem, p, next(counts) if n is None else n) for col, problem, p, n in checks]
    for col, problem, predicate, count in checks:  # the first problem in contract order is reported
        if count:
            _raise_offending(con, raw_name, col, predicate, count, src, problem)
    for col in table.columns:
        if col.unique and col.name not in unique_elsewhere:
            check_unique(con, src, col.name)
    if view:
        con.execute(f"create or replace temp view stg_{table.name} as select row_no, {', '.join(exprs)} "
                    f"from {raw_name}")
        con.execute(f"create or replace temp view stg_{table.name}_scan as select {', '.join(exprs)} "
                    f"from {raw_name}_scan")
    else:
        con.execute(f"create or replace table stg_{table.name} as select row_no, {', '.join(exprs)} "
                    f"from {raw_name}")
    return exprs


#: Names of the files a store keeps beside it (``<store>.files/``): a hex build tag, a dash, a name.
SIDECAR_FILE = re.compile(r"^[0-9a-f]{32}-[a-z_]+\.parquet$")


def persist_view(con: duckdb.DuckDBPyConnection, table: str, exprs: list[str], file_name: str) -> None:
    """Replace the build's temporary ``stg_<table>`` by a stored view of the same typed rows over
    ``file_name``, a byte-for-byte copy of the table's single Parquet file kept beside the store, found
    through DuckDB's ``file_search_path`` (:func:`bestex_nb.query.connect` sets it). ``exprs`` is what
    :func:`load_table` returned for the original; ``row_no`` is again the file row number.

    The file name is ours (:data:`SIDECAR_FILE`: a random hex tag and a contract table name) and is
    the only text this puts into the view besides contract identifiers: a view cannot take parameters.
    """
    if table not in TABLES or not SIDECAR_FILE.match(file_name):
        raise ValueError(f"persist_view: {table!r}, {file_name!r}")
    con.execute(f"drop view if exists temp.stg_{table}")
    con.execute(f"create or replace view stg_{table} as select file_row_number as row_no, {', '.join(exprs)} "
                f"from read_parquet('{file_name}', file_row_number = true)")
