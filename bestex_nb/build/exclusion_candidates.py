"""The order rows that may meet an exclusion rule reading the NBBO answers and fill sums: a superset,
computed in one compiled pass from the arrays the build already holds, so that only those rows (and the
ones the order columns alone may exclude) are read in full by the exclusion rules in SQL."""

from __future__ import annotations

import numpy as np
from numba import njit

from bestex_nb.build.arrays import NONE, readonly
from bestex_nb.build.clock import DAY_US, MICROS

#: The regular session on New York's wall clock, microseconds after midnight: [09:30, 16:00).
SESSION_US = (34_200 * MICROS, 57_600 * MICROS)


@njit(cache=True, nogil=True)
def _answer_candidates(r_t, r_bid, r_ask, wall, count, qty_sum, first, any_bad, received, quantity, out):
    """``out[r]``: order row ``r`` may meet an exclusion rule that reads its answers (see
    :func:`answer_candidates`)."""
    lo, hi = SESSION_US
    for r in range(len(out)):
        b, a = r_bid[r], r_ask[r]
        tod = wall[r] % DAY_US
        out[r] = (r_t[r] == NONE or b == NONE or a == NONE or b <= 0 or a <= 0 or b > a  # NBBO not ok
                  or any_bad[r]  # bad_fill
                  or count[r] > 0 and (quantity[r] == NONE or qty_sum[r] > quantity[r])  # overfilled
                  or first[r] != NONE and first[r] < received[r]  # fill_before_receipt
                  or wall[r] == NONE or tod < lo or tod >= hi)  # outside_regular_hours


def answer_candidates(r_t, r_bid, r_ask, wall, count, qty_sum, first, any_bad, received, quantity) -> np.ndarray:
    """Per order row, whether it may meet one of the exclusion rules that read the lookups' answers
    (``marts/fct_orders.sql``): the NBBO at receipt not usable (no quote, a missing, zero or negative
    side, crossed), a bad fill, more filled than ordered, a fill before receipt, received outside the
    regular session. A superset: the rules themselves are applied in SQL to these rows and to those the
    order columns alone may exclude (``staging/int_exclusion_candidates.sql``), and only their rows
    are read in full. Overfilled is flagged without the rounding allowance (a row filled within it is
    read and then not excluded).

    All arrays are per order row: the receipt NBBO (``r_t`` quote instant, ``r_bid``, ``r_ask``
    micro-dollars), ``wall`` (New York wall clock of receipt, µs), the fill sums (``count``, ``qty_sum``
    micro-shares, ``first`` instant, ``any_bad``), ``received`` (UTC µs) and ``quantity`` (micro-shares),
    :data:`NONE` for null."""
    args = [readonly(np.ascontiguousarray(a, dtype=np.int64)) for a in
            (r_t, r_bid, r_ask, wall, count, qty_sum, first)]
    out = np.empty(len(r_t), np.bool_)
    _answer_candidates(*args, readonly(np.ascontiguousarray(any_bad, dtype=np.bool_)),
                       readonly(np.ascontiguousarray(received, dtype=np.int64)),
                       readonly(np.ascontiguousarray(quantity, dtype=np.int64)), out)
    return out
