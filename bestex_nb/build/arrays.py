"""The integer arrays the build's compiled kernels share: the null sentinel, read-only views, row-order
checks, and DECIMAL(18,6) columns as int64 millionths.

Values cross between DuckDB and the kernels as int64: UTC microseconds, micro-dollars, micro-shares, with
:data:`NONE` for null, so nothing is rounded on the way.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from numba import njit

#: Sentinel for "no value" in the integer arrays (no quote, a null price, a null seq).
NONE = np.iinfo(np.int64).min
BIG = np.iinfo(np.int64).max


def readonly(a: np.ndarray) -> np.ndarray:
    """A read-only view of ``a``. The kernels take their inputs read-only, always: numba compiles one
    version per array type, and Arrow's zero-copy arrays are read-only while numpy's own are not, so
    without this a new mix of the two would be compiled (seconds) in the middle of a build."""
    v = np.asarray(a).view()
    v.flags.writeable = False
    return v


def is_identity(rows) -> bool:
    """Whether ``rows`` is 0, 1, 2, … (the callers are the rows in order). ``rows``: a numpy array, or
    an Arrow array or chunked array of int64 without nulls, checked chunk by chunk (no copy)."""
    if isinstance(rows, pa.ChunkedArray | pa.Array):
        start = 0
        for chunk in rows.chunks if isinstance(rows, pa.ChunkedArray) else [rows]:
            values = chunk.to_numpy(zero_copy_only=chunk.null_count == 0 and chunk.type == pa.int64())
            if chunk.null_count or not _is_identity(readonly(values.astype(np.int64, copy=False)), start):
                return False
            start += len(chunk)
        return True
    return _is_identity(readonly(np.asarray(rows, dtype=np.int64)), 0)


@njit(cache=True, nogil=True)
def _is_identity(rows, start) -> bool:
    for i in range(len(rows)):
        if rows[i] != start + i:
            return False
    return True


def in_row_order(table: pa.Table, column: str = "row_no") -> pa.Table:
    """``table`` ordered by its row numbers (``column``): as it is when a plain scan kept the file order
    (checked, no copy), sorted otherwise (a folder of Parquet files, whose row numbers come from a join)."""
    if not is_identity(table[column]):
        table = table.take(pa.array(np.argsort(table[column].to_numpy(), kind="stable")))
        if not is_identity(table[column].to_numpy()):
            raise ValueError("row numbers are not 0..n-1")
    return table


def micro_units(column: pa.ChunkedArray) -> np.ndarray:
    """A DECIMAL(18,6) column (Arrow decimal128(p, 6), p ≤ 18) as int64 millionths, :data:`NONE`
    for null: the low 64 bits of each 128-bit value, which hold it exactly (|value| < 10^18 < 2^63)."""
    t = column.type
    if not (pa.types.is_decimal128(t) and t.scale == 6 and t.precision <= 18):
        raise TypeError(f"expected decimal128(≤18, 6), got {t}")
    out = np.empty(len(column), np.int64)
    at = 0
    for chunk in column.chunks:
        n = len(chunk)
        low = np.frombuffer(chunk.buffers()[1], dtype=np.int64)[2 * chunk.offset:2 * (chunk.offset + n):2]
        out[at:at + n] = low
        if chunk.null_count:
            out[at:at + n][chunk.is_null().to_numpy(zero_copy_only=False)] = NONE
        at += n
    return out
