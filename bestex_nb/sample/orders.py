"""Synthetic customer orders: times, symbols, sides, types, sizes, limit prices and routing.

Limit prices are set against the NBBO in force at receipt so that every Rule 605 category
(marketable, inside, at, near the quote, away) occurs; the category is then recomputed with the
spec's rules (metrics.md section 2) from the prices actually written, so the generator's own view of
an order matches the one the review will compute.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .quotes import Quotes
from .strata import latin_uniform, stratified_uniform
from .universe import (
    ATSN,
    CENT,
    CLOSE_S,
    EXCH,
    LATE_CLOSE_S,
    MICRO,
    OPEN_S,
    PRE_OPEN_S,
    ROUTING_WEIGHTS,
    SECURITIES,
    US,
    WSB,
    Calendar,
)

# Coded values (index into the string vocabularies used when writing).
BUY, SELL, SHORT = 0, 1, 2
SIDES = ("buy", "sell", "sell_short")
MARKET, LIMIT, STOP = 0, 1, 2
ORDER_TYPES = ("market", "limit", "stop")
DAY, IOC, GTC, FOK = 0, 1, 2, 3
TIFS = ("day", "ioc", "gtc", "fok")
#: Category at receipt; NO_CATEGORY when the NBBO is unusable or the type is neither market nor limit.
CAT_MARKET, CAT_ML, CAT_INSIDE, CAT_AT, CAT_NEAR, CAT_AWAY, NO_CATEGORY = 0, 1, 2, 3, 4, 5, 6
NEAR_PIPS = 10 * CENT  # $0.10
NOTIONAL_LOG_SD = 0.95
_TUKEY_LAMBDA = 0.14
_TUKEY_SCALE = (0.841345**_TUKEY_LAMBDA - 0.158655**_TUKEY_LAMBDA) / _TUKEY_LAMBDA


def _normal_quantile(u: np.ndarray) -> np.ndarray:
    """Standard normal quantile, closely approximated by Tukey's lambda distribution (lambda 0.14)."""
    lam = _TUKEY_LAMBDA
    return (u**lam - (1.0 - u) ** lam) / lam / _TUKEY_SCALE


@dataclass
class Orders:
    """Customer orders, sorted by receipt time (row ``i`` becomes order id ``i``).

    Times are int64 UTC microseconds (-1 = null); prices int64 pips (-1 = null); quantities int64
    micro-shares; ``venue`` indexes ``VENUES`` (-1 = not routed). ``nbbo`` indexes the quote in force at
    receipt (-1 = none that day) and ``ref`` the latest quote of the symbol on any day (used to price
    orders that arrive before the day's first quote). ``category`` uses the ``CAT_*`` codes.
    """

    day: np.ndarray
    received_at: np.ndarray
    session: np.ndarray  # 0 pre-market, 1 regular hours, 2 after hours
    sym: np.ndarray
    side: np.ndarray
    order_type: np.ndarray
    limit: np.ndarray
    qty: np.ndarray
    is_fractional: np.ndarray
    tif: np.ndarray
    venue: np.ndarray
    routed_at: np.ndarray
    is_directed: np.ndarray
    is_not_held: np.ndarray
    nbbo: np.ndarray
    ref: np.ndarray
    category: np.ndarray
    canceled_at: np.ndarray

    def __len__(self) -> int:
        return len(self.received_at)

    @property
    def is_buy(self) -> np.ndarray:
        return self.side == BUY


def _receipt_times(rng: np.random.Generator, cal: Calendar, n: int) -> tuple[np.ndarray, ...]:
    """Trading day, session and UTC receipt time of ``n`` orders (1.5% outside regular hours)."""
    dw = rng.lognormal(0.0, 0.15, size=cal.n)
    day = np.sort(rng.choice(cal.n, size=n, p=dw / dw.sum())).astype(np.int16)
    u = rng.random(n)
    session = np.where(u < 0.0105, 0, np.where(u < 0.015, 2, 1)).astype(np.int8)
    minutes = (CLOSE_S - OPEN_S) // 60
    m = np.arange(minutes, dtype=float)
    w = 1.0 + 1.5 * np.exp(-m / 20.0) + 1.0 * np.exp(-(minutes - 1 - m) / 30.0)
    regular = OPEN_S * US + rng.choice(minutes, size=n, p=w / w.sum()) * 60 * US
    regular += rng.integers(0, 60 * US, size=n)
    pre = rng.integers(PRE_OPEN_S * US, OPEN_S * US, size=n)
    after = rng.integers(CLOSE_S * US, LATE_CLOSE_S * US, size=n)
    tod = np.select([session == 0, session == 2], [pre, after], regular)
    received_at = cal.midnight_us[day] + tod
    order = np.argsort(received_at, kind="stable")
    return day[order], session[order], received_at[order]


def _quantities(rng, stream, price_usd, median_usd, is_resting, is_fractional) -> np.ndarray:
    """Order sizes in micro-shares.

    Dollar amounts are lognormal (median ``median_usd``, the symbol's ``notional``: $1,500 for most
    names; log-sd 0.95: many odd lots, a long tail), drawn as
    Latin-hypercube quantiles within each ``stream`` (see :func:`latin_uniform`); 40% of orders of 100
    shares or more are rounded to round lots, and 0.4% of the non-marketable limits (``is_resting``) are
    blocks of 2,000-9,000 shares. Fractional orders hold 3-decimal quantities (about $120 worth).
    """
    n = len(price_usd)
    z = _normal_quantile(latin_uniform(rng, stream))
    shares = median_usd * np.exp(NOTIONAL_LOG_SD * z) / price_usd
    whole = np.maximum(1, np.rint(shares))
    round_lot = (whole >= 100) & (rng.random(n) < 0.4)
    whole = np.where(round_lot, np.rint(whole / 100) * 100, whole)
    block = is_resting & (rng.random(n) < 0.004)
    whole = np.where(block, rng.integers(20, 90, size=n) * 100, whole)
    qty = whole.astype(np.int64) * MICRO
    frac = rng.lognormal(np.log(120.0), 0.9, size=n) / price_usd
    frac_micro = np.maximum(1, np.rint(frac * 1000)).astype(np.int64) * 1000  # 3 decimals
    frac_micro = np.where(frac_micro % MICRO == 0, frac_micro + MICRO // 2, frac_micro)
    return np.where(is_fractional, frac_micro, qty)


def _limit_prices(rng, intent, is_buy, bid, ask, tick) -> np.ndarray:
    """Limit prices in pips for the intended category, on the order tick grid."""
    n = len(intent)
    lim = np.full(n, -1, dtype=np.int64)
    k_spread = (ask - bid) // tick
    # marketable: at the far touch or a few ticks through it
    through = np.where(rng.random(n) < 0.35, 0, rng.geometric(0.3, size=n)) * tick
    ml = np.where(is_buy, ask + through, np.maximum(bid - through, tick))
    # inside: strictly between the quotes (needs a spread of two ticks or more, else at the quote)
    k_in = rng.integers(1, np.maximum(k_spread, 2))
    inside = np.where(is_buy, bid + k_in * tick, ask - k_in * tick)
    at = np.where(is_buy, bid, ask)
    inside = np.where(k_spread >= 2, inside, at)
    # near: up to $0.10 behind the same-side quote; away: further
    d_near = rng.integers(1, NEAR_PIPS // tick + 1) * tick
    near = np.where(is_buy, bid - d_near, ask + d_near)
    mid = (bid + ask) // 2
    d_away = NEAR_PIPS + np.maximum(tick, (mid * rng.uniform(0.005, 0.08, size=n)) // tick * tick)
    away = np.where(is_buy, bid - d_away, ask + d_away)
    choices = [ml, inside, at, near, away]
    for code, value in zip((CAT_ML, CAT_INSIDE, CAT_AT, CAT_NEAR, CAT_AWAY), choices, strict=True):
        lim = np.where(intent == code, value, lim)
    return np.where(intent == CAT_MARKET, -1, np.maximum(lim, tick))


def categorize(order_type, is_buy, limit, nbbo, bid, ask) -> np.ndarray:
    """Category at receipt per metrics.md section 2 (first matching row wins).

    Parameters
    ----------
    order_type, is_buy, limit : numpy.ndarray
        Coded order type, side flag and limit price (pips).
    nbbo : numpy.ndarray
        Index of the NBBO at receipt (-1 = none that day).
    bid, ask : numpy.ndarray
        NBBO at receipt in pips (ignored where ``nbbo`` is -1).

    Returns
    -------
    numpy.ndarray
        ``CAT_*`` codes; ``NO_CATEGORY`` for an unusable NBBO or an order type other than market/limit.
    """
    usable = (nbbo >= 0) & (bid > 0) & (ask > 0) & (bid <= ask)
    same, far = np.where(is_buy, bid, ask), np.where(is_buy, ask, bid)
    sign = np.where(is_buy, 1, -1)  # distances measured in the buyer's direction
    through_far = sign * (limit - far) >= 0
    inside = (limit > bid) & (limit < ask)
    behind = sign * (same - limit)  # > 0: behind the same-side quote
    cat = np.select(
        [through_far, inside, behind == 0, behind <= NEAR_PIPS],
        [CAT_ML, CAT_INSIDE, CAT_AT, CAT_NEAR],
        CAT_AWAY,
    )
    cat = np.where(order_type == MARKET, CAT_MARKET, np.where(order_type == LIMIT, cat, NO_CATEGORY))
    return np.where(usable, cat, NO_CATEGORY).astype(np.int8)


def _routing(rng, stream: np.ndarray, qty: np.ndarray, is_fractional, is_regular) -> tuple[np.ndarray, ...]:
    """Routed venue and the directed / not-held flags.

    Like a broker's routing table, each venue receives a fixed share of every symbol's flow: venues are
    allocated by shares within each stream (symbol x month x intended category x spread at receipt x
    fractional x quality flag) with :func:`stratified_uniform`, so that every venue sees the same mix
    of names and spreads. Fractional orders go only to the wholesalers and the desk.
    About 0.5% of orders are directed (mostly to the exchange), 0.2% not held, 0.2% not routed.
    """
    n = len(stream)
    is_directed = ~is_fractional & (rng.random(n) < 0.005)
    is_not_held = rng.random(n) < 0.002
    not_routed = ~is_directed & (rng.random(n) < 0.002)
    quality = is_regular & ~is_directed & ~is_not_held & ~not_routed
    u = stratified_uniform(rng, (stream * 2 + is_fractional) * 2 + quality, qty)
    lit_free = np.where(np.isin(np.arange(len(ROUTING_WEIGHTS)), [EXCH, ATSN]), 0.0, ROUTING_WEIGHTS)
    cuts = np.cumsum(ROUTING_WEIGHTS) / ROUTING_WEIGHTS.sum()
    cuts_fractional = np.cumsum(lit_free) / lit_free.sum()
    venue = np.where(
        is_fractional,
        np.searchsorted(cuts_fractional, u, side="right"),
        np.searchsorted(cuts, u, side="right"),
    )
    directed_to = rng.choice([EXCH, ATSN, WSB], size=n, p=[0.6, 0.2, 0.2])
    venue = np.where(is_directed, directed_to, venue)
    venue = np.where(not_routed, -1, venue).astype(np.int8)
    return venue, is_directed, is_not_held


def generate_orders(rng: np.random.Generator, cal: Calendar, quotes: Quotes, n: int) -> Orders:
    """Generate ``n`` customer orders over the quarter.

    Mix: about 56% market, 16% marketable limit, 28% non-marketable limit (inside / at / near / away),
    0.3% stop; 52% buy, 43% sell, 5% short; ~8% fractional; 1.5% outside regular hours.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    cal : Calendar
        Trading days.
    quotes : Quotes
        The NBBO the orders are priced against.
    n : int
        Number of orders.

    Returns
    -------
    Orders
        Sorted by receipt time; ``canceled_at`` is all null here (set by the fill model).
    """
    day, session, received_at = _receipt_times(rng, cal, n)
    order_w = np.array([sec.order_w for sec in SECURITIES])
    sym = rng.choice(len(SECURITIES), size=n, p=order_w / order_w.sum()).astype(np.int16)
    side = rng.choice(3, size=n, p=[0.52, 0.43, 0.05]).astype(np.int8)
    is_buy = side == BUY
    intent = rng.choice(
        [CAT_MARKET, CAT_ML, CAT_INSIDE, CAT_AT, CAT_NEAR, CAT_AWAY, NO_CATEGORY],
        size=n,
        p=[0.562, 0.158, 0.055, 0.097, 0.07, 0.055, 0.003],
    )
    order_type = np.select([intent == CAT_MARKET, intent == NO_CATEGORY], [MARKET, STOP], LIMIT)
    order_type = order_type.astype(np.int8)

    ref = quotes.latest(sym, received_at)
    ref = np.where(ref >= 0, ref, quotes.start[sym])  # before the quarter's first quote: use it
    nbbo = np.where(quotes.day[ref] == day, ref, -1)
    bid, ask = quotes.bid[ref], quotes.ask[ref]
    tick = np.array([sec.tick for sec in SECURITIES])[sym]

    price_usd = (bid + ask) / 2.0 / 1e4
    frac_p = np.where(order_type == MARKET, 0.12, np.where(order_type == LIMIT, 0.04, 0.0))
    is_fractional = (price_usd >= 5.0) & (rng.random(n) < frac_p)
    is_resting = (order_type == LIMIT) & (intent != CAT_ML)
    kind = (sym.astype(np.int64) * 16 + cal.month_num[day]) * 8 + intent
    median_usd = np.array([sec.notional for sec in SECURITIES])[sym]
    qty = _quantities(rng, kind, price_usd, median_usd, is_resting & ~is_fractional, is_fractional)
    limit = np.where(order_type == LIMIT, _limit_prices(rng, intent, is_buy, bid, ask, tick), -1)
    category = categorize(order_type, is_buy, limit, nbbo, bid, ask)

    u = rng.random(n)
    tif_market = np.where(u < 0.02, IOC, DAY)
    tif_ml = np.select([u < 0.15, u < 0.19, u < 0.2], [IOC, GTC, FOK], DAY)
    tif_rest = np.select([u < 0.03, u < 0.18], [IOC, GTC], DAY)
    tif_stop = np.where(u < 0.3, GTC, DAY)
    tif = np.select(
        [order_type == MARKET, order_type == STOP, intent == CAT_ML], [tif_market, tif_stop, tif_ml], tif_rest
    ).astype(np.int8)

    spread_class = np.minimum(np.rint(np.log2((ask - bid) // tick + 1)), 4).astype(np.int64)
    stream = kind * 8 + spread_class
    venue, is_directed, is_not_held = _routing(rng, stream, qty, is_fractional, session == 1)
    route_delay = np.clip(rng.lognormal(np.log(1500.0), 0.5, size=n), 200, 20_000).astype(np.int64)
    routed_at = np.where(venue >= 0, received_at + route_delay, -1)

    return Orders(
        day=day,
        received_at=received_at,
        session=session,
        sym=sym,
        side=side,
        order_type=order_type,
        limit=limit,
        qty=qty,
        is_fractional=is_fractional,
        tif=tif,
        venue=venue,
        routed_at=routed_at,
        is_directed=is_directed,
        is_not_held=is_not_held,
        nbbo=nbbo,
        ref=ref,
        category=category,
        canceled_at=np.full(n, -1, dtype=np.int64),
    )
