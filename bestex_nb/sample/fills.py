"""Synthetic executions and cancellations.

Three behaviours, all vectorised over the orders concerned:

- *immediate* (market orders and limits through the far touch at receipt): filled within milliseconds
  near the NBBO at receipt, at a price improvement that depends on the executing venue (and, for the
  planted problem, on the month at WSB); a few are split into 2-3 fills, a few limit orders only
  partially filled, about 1% of wholesaler fills executed away on the exchange;
- *resting* (non-marketable limits): a fill probability by category and venue (the second planted
  problem: WSB rarely fills at-the-quote limits), at the limit price after an exponential delay, never
  after the close for day orders; the unfilled rest is cancelled by the customer or expires;
- *stop* orders: triggered after a delay and filled at the far touch then, or cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .orders import (
    CAT_AT,
    CAT_AWAY,
    CAT_INSIDE,
    CAT_NEAR,
    FOK,
    GTC,
    IOC,
    LIMIT,
    MARKET,
    STOP,
    Orders,
)
from .pricing import lit_prices, venue_price_improvement
from .quotes import Quotes
from .strata import share_below, stratified_spans, stratified_uniform
from .universe import ATSN, CLOSE_S, EXCH, KEST, MICRO, SECURITIES, US, WSA, WSB, Calendar

AGENCY, PRINCIPAL, RISKLESS = 0, 1, 2
CAPACITIES = ("agency", "principal", "riskless_principal")
MS = 1000  # microseconds per millisecond
SP500 = np.array([sec.is_sp500 for sec in SECURITIES], dtype=np.int64)
TICK = np.array([sec.tick for sec in SECURITIES], dtype=np.int64)
AFTER_HOURS_END_S = 20 * 3600
#: Typical size of one print at the exchange or the ATS (shares): larger orders fill in several.
LIT_PRINT_SHARES = 200
MAX_LIT_PRINTS = 12
#: Share of wholesaler and desk fills executed away, on the exchange.
P_EXECUTED_AWAY = 0.013

#: Fill probability of a resting limit order by routed venue (rows WSA, WSB, EXCH, ATSN, KEST) and
#: category (inside, at, near, away, no usable NBBO). WSB's at-the-quote column is planted problem 2.
P_REST = np.array(
    [
        [0.74, 0.62, 0.34, 0.09, 0.30],
        [0.72, 0.30, 0.33, 0.09, 0.30],
        [0.74, 0.60, 0.35, 0.10, 0.30],
        [0.60, 0.40, 0.22, 0.05, 0.25],
        [0.70, 0.52, 0.30, 0.08, 0.30],
    ]
)
#: Share of a resting order's filled flow that is only partly filled.
P_PARTIAL_REST = 0.25
#: Mean delay to a resting fill, seconds, by category column of ``P_REST``.
MEAN_REST_DELAY_S = np.array([90.0, 480.0, 2100.0, 4800.0, 1200.0])


@dataclass
class Fills:
    """One row per fill: order row, executed venue, time (UTC us), micro-shares, pips, capacity code."""

    order: np.ndarray
    venue: np.ndarray
    t: np.ndarray
    qty: np.ndarray
    price: np.ndarray
    capacity: np.ndarray

    def __len__(self) -> int:
        return len(self.order)


def _venue_delay(rng: np.random.Generator, venue: np.ndarray) -> np.ndarray:
    """Route-to-fill latency in microseconds: wholesalers 5-50 ms, exchange 1-5 ms, ATS up to 5 s."""
    n = len(venue)
    wholesale = np.clip(rng.lognormal(np.log(15 * MS), 0.55, size=n), 5 * MS, 50 * MS)
    exchange = rng.uniform(1 * MS, 5 * MS, size=n)
    ats = np.clip(rng.lognormal(np.log(300 * MS), 1.0, size=n), 5 * MS, 5 * US)
    return np.select([venue == EXCH, venue == ATSN], [exchange, ats], wholesale).astype(np.int64)


def _capacity(rng: np.random.Generator, venue: np.ndarray) -> np.ndarray:
    """Principal at wholesalers and the desk (4% riskless principal), agency elsewhere."""
    dealer = (venue == WSA) | (venue == WSB) | (venue == KEST)
    rp = rng.random(len(venue)) < 0.04
    return np.where(dealer, np.where(rp, RISKLESS, PRINCIPAL), AGENCY).astype(np.int8)


def _split(rng, rows: np.ndarray, total: np.ndarray, pieces: np.ndarray) -> tuple[np.ndarray, ...]:
    """Split each order's filled quantity into ``pieces`` fills (whole shares when more than one).

    Orders with 0 pieces get no fill. Returns the order row, the rank of the fill within its order
    and its micro-shares.
    """
    keep = pieces > 0
    rows, total, pieces = rows[keep], total[keep], pieces[keep]
    rep = np.repeat(np.arange(len(rows)), pieces)
    starts = np.concatenate(([0], np.cumsum(pieces)[:-1])).astype(np.int64)
    rank = np.arange(len(rep)) - starts[rep]
    w = rng.uniform(0.3, 1.0, size=len(rep))
    wsum = np.add.reduceat(w, starts) if len(rep) else w
    total_sh = total[rep] // MICRO
    sh = np.floor(total_sh * w / wsum[rep]).astype(np.int64)
    is_last = rank == pieces[rep] - 1
    others = np.add.reduceat(np.where(is_last, 0, sh), starts) if len(rep) else sh
    sh = np.where(is_last, total_sh - others[rep], sh)
    qty = np.where(pieces[rep] == 1, total[rep], sh * MICRO)
    return rows[rep], rank, qty


def _n_pieces(rng, total: np.ndarray, whole: np.ndarray, p2: float, p3: float) -> np.ndarray:
    """1, 2 or 3 fills; splitting only whole-share quantities of 20 shares or more."""
    u = rng.random(len(total))
    can = whole & (total >= 20 * MICRO)
    return np.where(can & (u < p3), 3, np.where(can & (u < p2 + p3), 2, 1)).astype(np.int64)


def _partial(rng, qty: np.ndarray, whole: np.ndarray, p: float, lo: float) -> np.ndarray:
    """Filled quantity: the whole order, or for a share ``p`` of whole-share orders a part of it."""
    part = whole & (qty >= 2 * MICRO) & (rng.random(len(qty)) < p)
    shares = np.maximum(1, np.floor(qty // MICRO * rng.uniform(lo, 0.9, size=len(qty)))).astype(np.int64)
    return np.where(part, shares * MICRO, qty)


def _deadline(cal: Calendar, o: Orders, rows: np.ndarray) -> np.ndarray:
    """Last moment a day order can trade: 16:00 New York, or 20:00 for after-hours orders."""
    end_s = np.where(o.session[rows] == 2, AFTER_HOURS_END_S, CLOSE_S)
    return cal.midnight_us[o.day[rows]] + end_s * US


def _last_close(cal: Calendar) -> int:
    """16:00 New York on the quarter's last trading day (UTC microseconds): the end of the data."""
    return int(cal.midnight_us[-1]) + CLOSE_S * US


def _immediate(rng, cal, q: Quotes, o: Orders, rows: np.ndarray) -> tuple:
    """Fills of market orders and limits through the far touch at receipt (see module docstring)."""
    is_buy, venue, ref = o.is_buy[rows], o.venue[rows], o.ref[rows]
    whole = ~o.is_fractional[rows]
    is_limit = o.order_type[rows] == LIMIT
    p_fill = np.where(is_limit, np.where(o.tif[rows] == FOK, 0.97, 0.98), 0.997)
    filled = rng.random(len(rows)) < p_fill
    total = np.where(
        is_limit & (o.tif[rows] != FOK), _partial(rng, o.qty[rows], whole, 0.05, 0.2), o.qty[rows]
    )
    total = np.where(filled, total, 0)
    pieces = _n_pieces(rng, total, whole, 0.07, 0.03)
    # the exchange and the ATS fill a larger order against several resting orders
    lit = whole & ((venue == EXCH) | (venue == ATSN))
    prints = np.minimum(-(-total // (LIT_PRINT_SHARES * MICRO)), MAX_LIT_PRINTS)
    pieces = np.where(lit, np.maximum(pieces, prints), pieces)
    f_row, rank, f_qty = _split(rng, np.arange(len(rows)), total, np.where(filled, pieces, 0))

    dealer = (venue == WSA) | (venue == WSB) | (venue == KEST)
    away = dealer[f_row] & (rng.random(len(f_row)) < P_EXECUTED_AWAY)
    exec_venue = np.where(away, EXCH, venue[f_row]).astype(np.int8)
    t = o.routed_at[rows][f_row] + _venue_delay(rng, venue[f_row])
    step = np.where(
        lit[f_row], rng.integers(20, MS, size=len(f_row)), rng.integers(500, 20 * MS, size=len(f_row))
    )
    t += rank * step + away * rng.integers(500, 3 * MS, size=len(f_row))
    capacity = np.where(away, AGENCY, _capacity(rng, exec_venue)).astype(np.int8)

    bid, ask = q.bid[ref[f_row]], q.ask[ref[f_row]]
    month = cal.month_num[o.day[rows][f_row]]
    sp500 = SP500[o.sym[rows][f_row]]
    # one stream per venue x month x S&P 500 x order type x in/out of the quality statistics
    outside = (o.is_directed | o.is_not_held | (o.session != 1) | (o.tif == FOK) | (o.nbbo < 0))[rows]
    stream = (((venue[f_row].astype(np.int64) * 16 + month) * 2 + sp500) * 2 + is_limit[f_row]) * 2
    stream += outside[f_row]
    start, width = stratified_spans(rng, stream, f_qty / MICRO * np.maximum(ask - bid, 1))
    pi = venue_price_improvement(exec_venue, month, ask - bid, start, width)
    b = is_buy[f_row]
    price = np.where(b, ask - pi, bid + pi)
    sym = o.sym[rows][f_row]
    f_row, exec_venue, t, f_qty, price, capacity = _rule_612(
        q, o.day[rows], f_row, (exec_venue, t, f_qty, price, capacity), sym, month, start, width, b, bid, ask
    )
    b, lim = is_buy[f_row], o.limit[rows][f_row]
    price = np.where(is_limit[f_row], np.where(b, np.minimum(price, lim), np.maximum(price, lim)), price)
    price = np.maximum(price, 1)

    last = np.full(len(rows), -1, dtype=np.int64)
    np.maximum.at(last, f_row, t)
    rest = total < o.qty[rows]
    quick = (o.tif[rows] == IOC) | (o.tif[rows] == FOK)
    after = np.maximum(last, o.routed_at[rows])
    cancel = np.where(quick, after + rng.integers(200, 3 * MS, size=len(rows)), -1)
    market_unfilled = ~is_limit & ~filled
    cancel = np.where(market_unfilled, after + rng.integers(US // 2, 5 * US, size=len(rows)), cancel)
    slow = rest & is_limit & ~quick
    cancel = np.where(slow, _customer_cancel(rng, cal, o, rows, after), cancel)
    cancel = np.where(rest, cancel, -1)
    return (rows[f_row], exec_venue, t, f_qty, price, capacity), cancel


def _rule_612(q: Quotes, day, f_row, cols, sym, month, start, width, is_buy, bid, ask) -> tuple:
    """Exchange and ATS fills of penny-ticked stocks become prints on the $0.01 grid or at the midpoint
    of the NBBO at the execution (:func:`bestex_nb.sample.pricing.lit_prices`): a whole-share fill is cut
    into one print per band its span covers, a fractional one takes the band at the centre of its span.
    Returns ``f_row`` and ``cols`` (venue, time, micro-shares, price, capacity) with one row per print."""
    venue, t, qty, price, capacity = cols
    at_exec = q.at_receipt(sym, day[f_row], t)
    has = at_exec >= 0
    exec_bid = np.where(has, q.bid[np.maximum(at_exec, 0)], -1)
    exec_ask = np.where(has, q.ask[np.maximum(at_exec, 0)], -1)
    rule, share, band_price = lit_prices(venue, month, start, width, is_buy, bid, ask, exec_bid, exec_ask, TICK[sym])
    shares = qty // MICRO
    out = np.rint(shares * share[:, 0]).astype(np.int64)
    improved = np.minimum(np.rint(shares * share[:, 2]).astype(np.int64), shares - out)
    split = np.stack([out, shares - out - improved, improved], axis=1) * MICRO
    centre = np.eye(3, dtype=np.int64)[np.argmax(np.cumsum(share, axis=1) >= 0.5, axis=1)] * qty[:, None]
    split = np.where((qty % MICRO == 0)[:, None], split, centre)
    keep_whole = np.stack([np.zeros_like(qty), qty, np.zeros_like(qty)], axis=1)
    qty3 = np.where(rule[:, None], split, keep_whole)
    price3 = np.where(rule[:, None], band_price, price[:, None])
    pick = np.flatnonzero(qty3.ravel() > 0)
    fill = pick // 3
    return f_row[fill], venue[fill], t[fill], qty3.ravel()[pick], price3.ravel()[pick], capacity[fill]


def _customer_cancel(rng, cal, o: Orders, rows: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Cancel time of an unfilled rest: day orders cancelled (65%) before the close or left to expire;
    GTC orders cancelled some days later (50%) or left open. -1 = no cancel."""
    n = len(rows)
    deadline = _deadline(cal, o, rows)
    day_cancel = after + rng.exponential(15 * 60 * US, size=n).astype(np.int64)
    day_cancel = np.where((rng.random(n) < 0.65) & (day_cancel < deadline), day_cancel, -1)
    # an after-hours day order that was not cancelled ends at the end of the extended session
    day_cancel = np.where((o.session[rows] == 2) & (day_cancel < 0), deadline, day_cancel)
    gtc_cancel = after + rng.integers(3600 * US, 8 * 86400 * US, size=n)
    gtc_cancel = np.where((rng.random(n) < 0.5) & (gtc_cancel < _last_close(cal)), gtc_cancel, -1)
    return np.where(o.tif[rows] == GTC, gtc_cancel, day_cancel)


def _resting(rng, cal, o: Orders, rows: np.ndarray) -> tuple:
    """Fills of non-marketable limit orders at their limit price (see module docstring)."""
    n = len(rows)
    cat = o.category[rows]
    col = np.select([cat == CAT_INSIDE, cat == CAT_AT, cat == CAT_NEAR, cat == CAT_AWAY], [0, 1, 2, 3], 4)
    p = P_REST[o.venue[rows], col]
    tif, venue, routed_at = o.tif[rows], o.venue[rows], o.routed_at[rows]
    deadline = _deadline(cal, o, rows)
    quick = (tif == IOC) | (tif == FOK)
    # fill decisions stratified by shares within venue x category x S&P 500 x time in force x month
    tif_class = np.select([tif == IOC, tif == FOK], [1, 2], 0)
    stream = ((venue.astype(np.int64) * 8 + col) * 2 + SP500[o.sym[rows]]) * 4 + tif_class
    stream = stream * 16 + cal.month_num[o.day[rows]]
    start, width = stratified_spans(rng, stream, o.qty[rows])
    delay = np.where(
        quick, _venue_delay(rng, venue), rng.exponential(MEAN_REST_DELAY_S[col] * US).astype(np.int64)
    )
    t1 = routed_at + np.maximum(delay, 1 * MS)
    # the filled fraction is the share of the order's span in the fill region: exact per stream
    cut = np.select([tif == IOC, tif == FOK], [0.15 * p, 0.0], p)
    share = share_below(start, width, cut)
    whole = ~o.is_fractional[rows]
    shares = np.where(
        whole, np.floor(o.qty[rows] // MICRO * share) * MICRO, np.where(share >= 0.5, o.qty[rows], 0)
    )
    shares = np.where(share >= 1.0 - 1e-9, o.qty[rows], shares).astype(np.int64)
    # a quarter of the fully filled flow (stratified as above) is filled only in part
    u_part = stratified_uniform(rng, stream, np.where(shares == o.qty[rows], o.qty[rows], 1))
    part = whole & ~quick & (shares == o.qty[rows]) & (o.qty[rows] >= 2 * MICRO) & (u_part < P_PARTIAL_REST)
    part_shares = np.floor(o.qty[rows] // MICRO * (0.1 + 0.8 * u_part / P_PARTIAL_REST)).astype(np.int64)
    total = np.where(part, np.maximum(1, part_shares) * MICRO, shares)
    filled = (total > 0) & ((tif == IOC) | (t1 < deadline))
    total = np.where(filled, total, 0)
    pieces = np.where(filled, _n_pieces(rng, total, whole & ~quick & (total == o.qty[rows]), 0.2, 0.0), 0)
    f_row, rank, f_qty = _split(rng, np.arange(n), total, pieces)
    gap = rng.integers(100 * MS, 120 * US, size=len(f_row))
    t = np.where(rank == 0, t1[f_row], np.minimum(t1[f_row] + gap, deadline[f_row] - 1))
    fills = (rows[f_row], venue[f_row], t, f_qty, o.limit[rows][f_row], _capacity(rng, venue[f_row]))

    last = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last, f_row, t)
    after = np.maximum(last, routed_at)
    cancel = np.where(
        quick, after + rng.integers(200, 3 * MS, size=n), _customer_cancel(rng, cal, o, rows, after)
    )
    return fills, np.where(total < o.qty[rows], cancel, -1)


def _stops(rng, cal, q: Quotes, o: Orders, rows: np.ndarray) -> tuple:
    """Stop orders: 55% trigger during the session and fill at the far touch then."""
    n = len(rows)
    trigger = o.routed_at[rows] + rng.exponential(20 * 60 * US, size=n).astype(np.int64)
    close = cal.midnight_us[o.day[rows]] + CLOSE_S * US
    fire = (rng.random(n) < 0.55) & (trigger < close) & (o.session[rows] != 2)
    f_row = np.flatnonzero(fire)
    sym = o.sym[rows][f_row]
    idx = q.latest(sym, trigger[f_row])
    idx = np.where(idx >= 0, idx, q.start[sym])
    price = np.where(o.is_buy[rows][f_row], q.ask[idx], q.bid[idx])
    venue = o.venue[rows][f_row]
    t = trigger[f_row] + _venue_delay(rng, venue)
    fills = (rows[f_row], venue, t, o.qty[rows][f_row], price, _capacity(rng, venue))
    cancel = np.where(fire, -1, _customer_cancel(rng, cal, o, rows, o.routed_at[rows]))
    return fills, cancel


def generate_fills(rng: np.random.Generator, cal: Calendar, quotes: Quotes, orders: Orders) -> Fills:
    """Generate every fill and set ``orders.canceled_at`` in place.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    cal : Calendar
        Trading days (``cal.month_num`` gives each day's month number).
    quotes : Quotes
        The NBBO.
    orders : Orders
        Orders from :func:`bestex_nb.sample.orders.generate_orders`.

    Returns
    -------
    Fills
        Sorted by execution time, then order.
    """
    o = orders
    routed = o.venue >= 0
    bid, ask = quotes.bid[o.ref], quotes.ask[o.ref]
    through = np.where(o.is_buy, o.limit >= ask, o.limit <= bid)
    imm = routed & ((o.order_type == MARKET) | ((o.order_type == LIMIT) & through))
    rest = routed & (o.order_type == LIMIT) & ~through
    stop = routed & (o.order_type == STOP)
    cancel = np.full(len(o), -1, dtype=np.int64)
    parts = []
    for rows, model in (
        (np.flatnonzero(imm), lambda r: _immediate(rng, cal, quotes, o, r)),
        (np.flatnonzero(rest), lambda r: _resting(rng, cal, o, r)),
        (np.flatnonzero(stop), lambda r: _stops(rng, cal, quotes, o, r)),
    ):
        fills, cancel[rows] = model(rows)
        parts.append(fills)
    not_routed = np.flatnonzero(~routed)
    cancel[not_routed] = o.received_at[not_routed] + rng.integers(5 * MS, 500 * MS, size=len(not_routed))
    o.canceled_at = cancel
    cols = [np.concatenate([p[i] for p in parts]) for i in range(6)]
    order = np.lexsort((cols[0], cols[2]))
    return Fills(*(c[order] for c in cols))
