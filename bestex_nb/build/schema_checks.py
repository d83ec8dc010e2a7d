"""Check the files of a Parquet folder against each other before they are read as one table.

DuckDB reads a folder ``<table>/`` with ``union_by_name``: a file that lacks a column gives nulls for
its rows, and files that disagree on a column's type are read as some common type. Either hides a
broken extract (a file without ``is_directed`` would make its directed orders non-directed), so
:func:`check_parquet_files` reads every file's schema first (the footer only: no data) and stops with
an :class:`ExtractError` naming the file and the column:

* a required contract column missing from one file (an ``optional`` column such as ``nbbo.seq`` may
  be absent; a column given by a hive partition folder ``<column>=<value>/`` counts as present);
* a contract column whose type the contract cannot read (an integer ``order_id``);
* a contract column whose type differs between files (compared by kind: integer, floating, decimal,
  string, boolean, date, zoned or naive timestamp; a column whose values are all null in one file has
  Arrow's null type there and agrees with any type).

:func:`row_label` names a file and its row for a row number across a folder's files, so an offending
value is reported where the analyst can find it.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from bestex_nb.contract.errors import ExtractError
from bestex_nb.contract.extracts import TABLES


def _kind(t: pa.DataType) -> str | None:
    """The kind of an Arrow type the comparison uses (None: all-null, agrees with any kind)."""
    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_null(t):
        return None
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t):
        return "floating"
    if pa.types.is_decimal(t):
        return "decimal"
    is_string_view = getattr(pa.types, "is_string_view", lambda _: False)
    if pa.types.is_string(t) or pa.types.is_large_string(t) or is_string_view(t):
        return "string"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamp with time zone" if t.tz else "timestamp without time zone"
    return str(t)


#: Kinds a Parquet column may have for each contract type (what the loader's casts accept; a naive
#: timestamp is left to the loader, whose message explains the zone).
ACCEPTED = {
    "string": {"string"}, "enum": {"string"}, "decimal": {"integer", "floating", "decimal"},
    "integer": {"integer"}, "boolean": {"boolean", "string"}, "date": {"date", "string"},
    "timestamp": {"timestamp with time zone", "timestamp without time zone", "string"},
}


def _hive_columns(folder: Path, file: Path) -> set[str]:
    """Columns a hive partition path gives the file's rows (``<folder>/date=2026-07-01/x.parquet``)."""
    return {part.split("=", 1)[0] for part in file.relative_to(folder).parent.parts if "=" in part}


def check_parquet_files(table: str, folder: Path, files: list[Path]) -> None:
    """Raise :class:`ExtractError` when the Parquet ``files`` of ``folder`` (table ``table``) disagree
    on the contract's columns: one lacks a required column, or gives a column a type of another kind."""
    if len(files) < 2:
        return  # one file: the loader names it with any missing column or unreadable type
    columns = TABLES[table].columns
    first: dict[str, tuple[str, Path, pa.DataType]] = {}  # column -> (kind, file, type) first seen
    for file in files:
        try:
            schema = pq.read_schema(file)
        except (OSError, pa.ArrowException) as exc:
            raise ExtractError(f"{file}: cannot be read as parquet (table {table}): {exc}") from exc
        hive = _hive_columns(folder, file)
        for col in columns:
            if col.name in hive:
                continue
            if col.name not in schema.names:
                if col.optional:
                    continue
                raise ExtractError(
                    f"{file}: required column {col.name} of table {table} is missing from this file "
                    f"(the folder {folder} holds {len(files)} files; read together, its rows would get "
                    f"nulls in {col.name}). Every file must carry every required column"
                )
            arrow_type = schema.field(col.name).type
            kind = _kind(arrow_type)
            if kind is None:
                continue
            if kind not in ACCEPTED[col.type]:
                raise ExtractError(
                    f"{file}: column {col.name} of table {table} has type {arrow_type}, which cannot be "
                    f"read as the contract's {col.type}"
                )
            seen = first.setdefault(col.name, (kind, file, arrow_type))
            if seen[0] != kind:
                raise ExtractError(
                    f"{file}: column {col.name} of table {table} has type {arrow_type} ({kind}), but "
                    f"{seen[1]} gives it {seen[2]} ({seen[0]}); every file of the folder {folder} must "
                    "give a column the same type"
                )


def row_label(folder: Path, offsets: list[tuple[str, int]], row_no: int) -> str:
    """``<n> of <file>`` (1-based, the file's own row; the file relative to ``folder``) for ``row_no``,
    the 0-based row across the folder's files, whose first rows are at ``offsets`` (file, offset)."""
    start = [(offset, name) for name, offset in sorted(offsets, key=lambda x: (x[1], x[0])) if offset <= row_no]
    if not start:
        return str(row_no + 1)
    offset, name = start[-1]
    return f"{row_no - offset + 1} of {Path(name).relative_to(folder)}"
