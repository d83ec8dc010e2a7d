"""Price improvement model of immediate fills, per executing venue.

Each venue has a profile along a stream's stratified circle (see :mod:`bestex_nb.sample.strata`):
the first ``p_dis`` of it is outside the quote (by 50% down to 10% of the spread), the next ``p_at``
at the quote, and the rest improved by a fraction of the quoted spread at receipt rising from ``f_lo``
to ``f_hi``. A fill's price improvement is the profile averaged over the fill's span on the circle:
a fill inside one band gets that band's price (the exchange's improved fills are midpoint fills against
hidden liquidity, the ATS fills at the midpoint); the few fills straddling a band edge get a blended,
average price. Summed over a stream this reproduces the profile's mean exactly, so a venue's monthly
net price improvement per share moves only with the spreads its customers faced.

Exchange and ATS prints follow Reg NMS Rule 612 (:func:`lit_prices`): for a stock of $1 or more they
are on the $0.01 grid (at the quote, or a spread outside it) or exactly at the midpoint of the NBBO
in force at the execution. Wholesalers and the desk keep their sub-penny price improvement, as retail
wholesalers do; sub-dollar stocks stay on the $0.0001 grid everywhere.

Planted problem 1 lives here: from September WSB passes a smaller share of the spread to customers.
"""

from __future__ import annotations

import numpy as np

from .strata import share_below
from .universe import ATSN, CENT, EXCH, KEST, WSA, WSB

#: Rows WSA, WSB, EXCH, ATSN, KEST; columns p_dis, p_at, f_lo, f_hi.
PI_MODEL = np.zeros((5, 4))
PI_MODEL[WSA] = (0.02, 0.08, 0.22, 0.40)
PI_MODEL[WSB] = (0.02, 0.09, 0.20, 0.38)
PI_MODEL[EXCH] = (0.02, 0.80, 0.50, 0.50)
PI_MODEL[ATSN] = (0.02, 0.08, 0.50, 0.50)
PI_MODEL[KEST] = (0.02, 0.10, 0.15, 0.30)
#: WSB from the month below on (planted problem 1).
WSB_DETERIORATED = (0.02, 0.14, 0.10, 0.24)
WSB_DETERIORATION_MONTH = 9
#: Dis-improvement in a locked market (spread 0) is measured against one cent.
LOCKED_DIS_BASE = CENT


def _cumulative(x: np.ndarray, model: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integrals from 0 to ``x`` (``x`` >= 0, periodic with period 1) of the profile's outside-the-quote
    part (negative, in spreads) and of its improvement part (in spreads)."""
    p_dis, p_at, f_lo, f_hi = model.T

    def within(y):  # y in [0, 1]
        yd = np.minimum(y, p_dis)
        dis = -(0.5 * yd - 0.2 * yd**2 / p_dis)  # profile -(0.5 - 0.4 t / p_dis)
        a = p_dis + p_at
        yi = np.maximum(y - a, 0.0)
        imp = f_lo * yi + (f_hi - f_lo) * yi**2 / (2.0 * (1.0 - a))
        return dis, imp

    whole = np.floor(x)
    dis_1, imp_1 = within(np.ones_like(x))
    dis_f, imp_f = within(x - whole)
    return whole * dis_1 + dis_f, whole * imp_1 + imp_f


def _models(venue: np.ndarray, month: np.ndarray) -> np.ndarray:
    """The profile (p_dis, p_at, f_lo, f_hi) of each fill's executing venue and month."""
    model = PI_MODEL[venue]
    model[(venue == WSB) & (month >= WSB_DETERIORATION_MONTH)] = WSB_DETERIORATED
    return model


def venue_price_improvement(
    venue: np.ndarray, month: np.ndarray, spread: np.ndarray, start: np.ndarray, width: np.ndarray
) -> np.ndarray:
    """Price improvement per share of each fill against the far touch at receipt.

    Parameters
    ----------
    venue : numpy.ndarray
        Executing venue index per fill.
    month : numpy.ndarray
        Calendar month number (7, 8, 9) of the order's receipt.
    spread : numpy.ndarray
        Quoted spread at receipt, pips (0 for a locked quote: no improvement possible).
    start, width : numpy.ndarray
        The fill's span on its stream's circle (:func:`bestex_nb.sample.strata.stratified_spans`).

    Returns
    -------
    numpy.ndarray
        int64 pips: > 0 improved, 0 at the quote, < 0 outside the quote.
    """
    model = _models(venue, month)
    dis_0, imp_0 = _cumulative(start, model)
    dis_1, imp_1 = _cumulative(start + width, model)
    w = np.maximum(width, 1e-15)
    dis_base = np.where(spread > 0, spread, LOCKED_DIS_BASE)
    return np.rint(spread * (imp_1 - imp_0) / w + dis_base * (dis_1 - dis_0) / w).astype(np.int64)


def lit_prices(venue, month, start, width, is_buy, bid, ask, exec_bid, exec_ask, tick) -> tuple[np.ndarray, ...]:
    """Exchange and ATS prints of penny-ticked stocks under Rule 612 (the sub-penny rule).

    Such a fill is cut along its venue's profile into up to three prints, one per band its span covers
    (in proportion): outside the quote by the quoted spread, at the quote, and improved, at the midpoint of the
    NBBO in force at the execution (``exec_bid``/``exec_ask``; -1 when the symbol has no quote yet that
    day). Where that midpoint is missing or has left the quote at receipt, the improved print is at the
    quote. Every price is on the $0.01 grid or at that midpoint (a half-penny midpoint is allowed). As a
    fill inside one band keeps its whole quantity, a stream's shares split between the bands in the
    profile's proportions, like the other venues' blended prices.

    Parameters
    ----------
    venue, month, start, width :
        As for :func:`venue_price_improvement`.
    is_buy : numpy.ndarray
        Side of the order.
    bid, ask : numpy.ndarray
        NBBO at receipt (pips).
    exec_bid, exec_ask : numpy.ndarray
        NBBO at the execution (pips; -1 = none that day).
    tick : numpy.ndarray
        The symbol's tick in pips ($0.01 = 100, or 1 below $1).

    Returns
    -------
    applies : numpy.ndarray
        Where the rule applies: exchange or ATS, penny tick.
    share, price : numpy.ndarray
        ``(n, 3)``: the fraction of the fill in each band (outside, at, improved) and its price (pips).
    """
    applies = ((venue == EXCH) | (venue == ATSN)) & (tick == CENT)
    model = _models(venue, month)
    below_at = share_below(start, width, model[:, 0])
    below_improved = share_below(start, width, model[:, 0] + model[:, 1])
    share = np.stack([below_at, below_improved - below_at, 1.0 - below_improved], axis=1)
    # outside by the quoted spread (one tick in a locked market): proportional to the stratification
    # weight (shares x spread) like the other bands, so a stream's net figure stays exact
    gap = np.maximum(ask - bid, tick)
    outside = np.where(is_buy, ask + gap, bid - gap)
    at = np.where(is_buy, ask, bid)
    mid = (exec_bid + exec_ask) // 2  # exact: both on the penny grid, so the sum is even
    usable = (exec_bid > 0) & (bid <= mid) & (mid <= ask)
    price = np.stack([outside, at, np.where(usable, mid, at)], axis=1)
    return applies, np.clip(share, 0.0, 1.0), price
