"""Arrow columns of the exact physical types the sample data promises.

Timestamps ``timestamp[us, tz=UTC]``; prices, quantities and money ``decimal128(18, 6)`` built from
exact integers (no float ever reaches a decimal); identifiers and codes ``string``; flags ``bool``;
dates ``date32``.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

DECIMAL = pa.decimal128(18, 6)
TIMESTAMP = pa.timestamp("us", tz="UTC")
PIP_TO_UNSCALED = 100  # $0.0001 = 100 units of 1e-6


def _validity(valid: np.ndarray | None) -> tuple[pa.Buffer | None, int]:
    if valid is None or valid.all():
        return None, 0
    return pa.py_buffer(np.packbits(valid, bitorder="little")), int((~valid).sum())


def decimal_array(unscaled: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """``decimal128(18, 6)`` from int64 values in units of 1e-6 (``valid`` False = null)."""
    lo = np.ascontiguousarray(unscaled, dtype=np.int64)
    if valid is not None:
        lo = np.where(valid, lo, 0)
    words = np.empty((len(lo), 2), dtype="<i8")  # little-endian two's complement, low word first
    words[:, 0] = lo
    words[:, 1] = lo >> 63
    bitmap, nulls = _validity(valid)
    return pa.Array.from_buffers(DECIMAL, len(lo), [bitmap, pa.py_buffer(words)], null_count=nulls)


def price_array(pips: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Prices given in pips ($0.0001) as ``decimal128(18, 6)``."""
    return decimal_array(np.asarray(pips, dtype=np.int64) * PIP_TO_UNSCALED, valid)


def timestamp_array(us: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """UTC microseconds as ``timestamp[us, tz=UTC]`` (``valid`` False = null)."""
    mask = None if valid is None else ~valid
    return pa.array(np.asarray(us, dtype=np.int64), type=TIMESTAMP, mask=mask)


def coded_strings(codes: np.ndarray, vocabulary, valid: np.ndarray | None = None) -> pa.Array:
    """Strings from integer codes into ``vocabulary`` (``valid`` False = null)."""
    indices = pa.array(np.asarray(codes, dtype=np.int32), mask=None if valid is None else ~valid)
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(vocabulary), pa.string())).cast(pa.string())


def id_strings(prefix: str, n: int, width: int) -> pa.Array:
    """``prefix`` + the 1-based row number zero-padded to ``width`` digits."""
    digits = np.char.zfill(np.arange(1, n + 1).astype(str), width)
    return pa.array(np.char.add(prefix, digits), pa.string())


def money_array(values) -> pa.Array:
    """Small lists of numbers (rates, amounts) as ``decimal128(18, 6)``; None stays null."""
    return pa.array([None if v is None else Decimal(str(v)) for v in values], DECIMAL)


def rows_table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    """A table from a few Python rows, decimals converted through :func:`money_array`."""
    cols = []
    for field in schema:
        values = [r[field.name] for r in rows]
        cols.append(money_array(values) if field.type == DECIMAL else pa.array(values, field.type))
    return pa.Table.from_arrays(cols, schema=schema)


def write_parquet(table: pa.Table, path: Path) -> None:
    """Write one table, zstd-compressed (deterministic: same table, same bytes)."""
    pq.write_table(table, path, compression="zstd")
