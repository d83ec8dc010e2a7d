"""Each order row's fills summed up in one compiled pass (count, quantity, first and last fill, any bad
fill): what SQL's aggregate over a left join of the fills would give, without the 10M-group aggregate."""

from __future__ import annotations

import numpy as np
from numba import njit

from bestex_nb.build.arrays import NONE, readonly


@njit(cache=True, nogil=True)
def _max_abs(qty):
    """The largest |quantity| (:data:`NONE`, null, ignored; 0 for none)."""
    m = 0
    for q in qty:
        if q != NONE and abs(q) > m:
            m = abs(q)
    return m


@njit(cache=True, nogil=True)
def _fill_sums(order_row, qty, executed_us, bad, count, qty_sum, qty_n, first, last, any_bad):
    """Per order row: fills, the sum and count of non-null quantities, first and last fill instant
    (:data:`NONE`: none), any bad fill. One pass; ``order_row`` indexes the output arrays (−1: a fill of
    no order row, skipped)."""
    for i in range(len(order_row)):
        r = order_row[i]
        if r < 0:
            continue
        count[r] += 1
        if qty[i] != NONE:
            qty_sum[r] += qty[i]
            qty_n[r] += 1
        t = executed_us[i]
        if t != NONE:
            if first[r] == NONE or t < first[r]:
                first[r] = t
            if last[r] == NONE or t > last[r]:
                last[r] = t
        if bad[i]:
            any_bad[r] = True


def fill_sums(n_rows: int, order_row, qty, executed_us, bad) -> dict:
    """The fills of each of ``n_rows`` order rows summed up, exactly as SQL's ``count(*)``,
    ``sum(quantity)``, ``min``/``max(executed_at)`` and ``bool_or`` over a left join would (integers:
    quantities in micro-shares, instants in UTC µs, :data:`NONE` for null). Returns ``count``,
    ``qty_sum``, ``qty_n`` (non-null quantities), ``first``, ``last``, ``any_bad`` per row. A fill whose
    ``order_row`` is −1 belongs to no order row and is left out (the caller need not copy the fills
    without it)."""
    order_row = np.ascontiguousarray(order_row, dtype=np.int64)
    if len(order_row) and (order_row.min() < -1 or order_row.max() >= n_rows):
        raise ValueError("a fill's order row is outside the orders")
    qty = np.ascontiguousarray(qty, dtype=np.int64)
    out = {"count": np.zeros(n_rows, np.int64), "qty_sum": np.zeros(n_rows, np.int64),
           "qty_n": np.zeros(n_rows, np.int64), "first": np.full(n_rows, NONE, np.int64),
           "last": np.full(n_rows, NONE, np.int64), "any_bad": np.zeros(n_rows, np.bool_)}
    _fill_sums(readonly(order_row), readonly(qty), readonly(np.ascontiguousarray(executed_us, dtype=np.int64)),
               readonly(np.ascontiguousarray(bad, dtype=np.bool_)), out["count"], out["qty_sum"], out["qty_n"], out["first"], out["last"], out["any_bad"])
    # an order's int64 sum of micro-shares could have overflowed only if its fills' |quantities| reach
    # 2^62: bounded by (most fills of one order) x (largest |quantity|), summed exactly only when that fails
    if len(order_row) and int(out["count"].max()) * float(_max_abs(readonly(qty))) >= 2.0**62:
        known = (qty != NONE) & (order_row >= 0)
        approx = np.bincount(order_row[known], weights=np.abs(qty[known]).astype(np.float64), minlength=n_rows)
        if approx.max() >= 2.0**62:
            raise ValueError("an order's fill quantities are too large to sum exactly in 64-bit micro-shares")
    return out
