"""Synthetic consolidated NBBO: a reflected log random walk per symbol, quoted on a tick grid.

Updates run from 08:00 to 16:00 New York on each trading day with a U-shaped intraday rhythm (thin
pre-market, busy open and close). Every array is vectorised over a symbol's whole quarter; the only loop
is over the ~25 symbols.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .universe import CLOSE_S, OPEN_S, PIP, PRE_OPEN_S, SECURITIES, US, Calendar

#: Probability that a regular-hours update is a locked quote (bid == ask).
P_LOCKED = 2e-4
_MINUTES = (CLOSE_S - PRE_OPEN_S) // 60  # 480 one-minute slots from 08:00
_PRE_MINUTES = (OPEN_S - PRE_OPEN_S) // 60  # 90 of them before the open


@dataclass(frozen=True)
class Quotes:
    """NBBO updates, symbol-major and in time order within each symbol.

    Attributes
    ----------
    sym, day : numpy.ndarray
        Symbol index into ``SECURITIES`` and trading-day index into the calendar.
    t : numpy.ndarray
        int64 UTC microseconds (``quoted_at``).
    bid, ask : numpy.ndarray
        int64 pips ($0.0001).
    bid_size, ask_size : numpy.ndarray
        int64 shares.
    start : numpy.ndarray
        ``start[s]:start[s + 1]`` is the slice of symbol ``s``.
    """

    sym: np.ndarray
    day: np.ndarray
    t: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    bid_size: np.ndarray
    ask_size: np.ndarray
    start: np.ndarray

    def __len__(self) -> int:
        return len(self.t)

    def latest(self, sym: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Index of the latest update of ``sym`` with ``quoted_at <= t`` (any day), -1 if none.

        Parameters
        ----------
        sym : numpy.ndarray
            Symbol indexes.
        t : numpy.ndarray
            int64 UTC microseconds.

        Returns
        -------
        numpy.ndarray
            int64 indexes into this object's arrays.
        """
        out = np.full(len(t), -1, dtype=np.int64)
        for s in np.unique(sym):
            rows = np.flatnonzero(sym == s)
            lo, hi = self.start[s], self.start[s + 1]
            pos = np.searchsorted(self.t[lo:hi], t[rows], side="right") - 1
            out[rows] = np.where(pos >= 0, pos + lo, -1)
        return out

    def at_receipt(self, sym: np.ndarray, day: np.ndarray, t: np.ndarray) -> np.ndarray:
        """NBBO in force at ``t``: the latest update of the same symbol and New York day, else -1."""
        idx = self.latest(sym, t)
        same_day = (idx >= 0) & (self.day[np.maximum(idx, 0)] == day)
        return np.where(same_day, idx, -1)

    def file_order(self) -> np.ndarray:
        """Permutation putting the updates in global time order (ties keep symbol order)."""
        return np.argsort(self.t, kind="stable")


def _minute_weights() -> np.ndarray:
    """Relative quote intensity of each minute from 08:00 to 16:00 New York."""
    m = np.arange(_MINUTES, dtype=float)
    reg = m - _PRE_MINUTES
    w = 1.0 + 3.0 * np.exp(-reg / 15.0) + 2.0 * np.exp(-(_MINUTES - _PRE_MINUTES - 1 - reg) / 20.0)
    w[:_PRE_MINUTES] = 0.12
    return w / w.sum()


def _p_one_tick(sec) -> float:
    """Geometric parameter of the spread in ticks of a penny-wide name: liquid cheap large caps are
    one tick wide nearly all day, dearer ones a little less, small caps often wider."""
    if not sec.is_sp500:
        return 0.6
    return 0.995 if sec.price < 50 else (0.95 if sec.price < 150 else 0.75)


def _reflect(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Reflect ``x`` into ``[lo, hi]`` (a triangle wave), keeping a random walk a random walk."""
    width = hi - lo
    y = np.mod(x - lo, 2.0 * width)
    return lo + np.where(y > width, 2.0 * width - y, y)


def _symbol_quotes(rng: np.random.Generator, s: int, cal: Calendar, counts: np.ndarray) -> dict:
    """All updates of one symbol over the quarter; ``counts`` is the number per trading day."""
    sec = SECURITIES[s]
    n = int(counts.sum())
    day = np.repeat(np.arange(cal.n, dtype=np.int16), counts)
    minute = rng.choice(_MINUTES, size=n, p=_minute_weights())
    offset = minute * 60 * US + rng.integers(0, 60 * US, size=n)
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    offset[first] = rng.integers(0, 60 * US, size=cal.n)  # every day opens with a quote by 08:01
    t = np.sort(cal.midnight_us[day] + PRE_OPEN_S * US + offset)

    # Log price: intraday steps scaled so each day has variance vol^2, plus an overnight gap.
    step = rng.standard_normal(n) * (sec.vol / np.sqrt(counts[day]))
    step[first[1:]] += rng.standard_normal(cal.n - 1) * sec.vol * 0.4
    step[0] = 0.0
    lo, hi = sec.band or (sec.price / 3.0, sec.price * 3.0)
    mid = np.exp(_reflect(np.log(sec.price) + np.cumsum(step), np.log(lo), np.log(hi))) * PIP

    tod = (t - cal.midnight_us[day]) // US
    pre = tod < OPEN_S
    if sec.spread == 1:
        k = rng.geometric(_p_one_tick(sec), size=n)
    else:
        k = np.maximum(1, np.rint(sec.spread * rng.lognormal(0.0, 0.35, size=n))).astype(np.int64)
    k = np.where(pre, 2 * k + rng.geometric(0.5, size=n), k)
    k = np.where(~pre & (rng.random(n) < P_LOCKED), 0, k)
    tick = sec.tick
    bid = np.maximum(np.floor(mid / tick - k / 2.0), 1).astype(np.int64) * tick
    ask = bid + k * tick

    lot_mult = 1 if sec.price > 100 else (3 if sec.price > 20 else (10 if sec.price > 2 else 50))
    bid_size = 100 * lot_mult * rng.geometric(0.3, size=n)
    ask_size = 100 * lot_mult * rng.geometric(0.3, size=n)
    return {"day": day, "t": t, "bid": bid, "ask": ask, "bid_size": bid_size, "ask_size": ask_size}


def generate_quotes(rng: np.random.Generator, cal: Calendar, target: int) -> Quotes:
    """Generate about ``target`` NBBO updates for every symbol and trading day.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness (consumed deterministically).
    cal : Calendar
        Trading days.
    target : int
        Approximate total number of updates.

    Returns
    -------
    Quotes
        Symbol-major arrays; use :meth:`Quotes.file_order` for the file's global time order.
    """
    weights = np.array([sec.quote_w for sec in SECURITIES])
    per_day = target * weights / weights.sum() / cal.n
    parts = []
    for s in range(len(SECURITIES)):
        factor = rng.lognormal(0.0, 0.2, size=cal.n)
        counts = np.maximum(20, np.rint(per_day[s] * factor / factor.mean())).astype(np.int64)
        part = _symbol_quotes(rng, s, cal, counts)
        part["sym"] = np.full(len(part["t"]), s, dtype=np.int16)
        parts.append(part)
    sizes = np.array([len(p["t"]) for p in parts])
    start = np.concatenate(([0], np.cumsum(sizes)))
    cols = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    return Quotes(start=start, **cols)
