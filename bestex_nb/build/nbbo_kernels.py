"""The NBBO as-of lookups of the build in one streaming pass over the quotes (metrics.md section 1).

Every figure needs the NBBO *in force* at some instant: at receipt and at routing (the latest update at
or before the instant, whatever it says), and after each fill at four horizons (the latest **valid**
state — both sides > 0, bid ≤ ask — at or before min(t + Δ, 16:00 New York)), always from the same
symbol and the same New York trading day. DuckDB's ``ASOF JOIN`` answers these by sorting both sides
by (symbol, time); at 100 M quotes the sort is nearly all of the cost. But NBBO files arrive in time
order (or symbol by symbol, each in time order), so the lookups are a *merge*: read the quotes once,
keep each symbol's NBBO in force, and answer every lookup of that symbol when the stream passes its
instant. That is linear in the quotes and the lookups, holds only the lookups in memory, and is what
:func:`lookup` does, in a small compiled kernel (numba).

Exactly the rules of the SQL it replaces (the tests compare the two row by row):

* a quote stamped exactly at the instant counts (lookups at ``t`` are answered after every quote at
  ``t`` has been applied);
* updates that share a symbol and an instant: the last one wins — highest ``seq`` (a null ``seq``
  loses to any number), then the later row of the file;
* an instant's NBBO is valid or not as its winning update is: a valid update superseded at the same
  instant never was the NBBO in force;
* the matched quote must be from the lookup's New York day (quotes before the open count); a latest
  quote from an earlier day means none. Markout targets are clipped at 16:00 New York of the fill's day.

The pass is a merge in time: the quotes in the order of the file, which must be time order (a
consolidated NBBO file is written as the feed runs), and each set of lookups sorted by instant. The
kernel checks the order as it goes; a file that is not in time order (sorted by symbol, say) is
streamed again sorted by time, ``seq`` and row (DuckDB's sort: correct, slower). Prices travel as
integers of micro-dollars (the contract's DECIMAL(18,6) scaled by 10⁶), so nothing is rounded.

Why it is fast: quotes and lookups are both read and written sequentially, and the only random access
is each symbol's current NBBO, a few bytes per symbol that stay in cache. Each answer is written to its
caller's row of one array per answer column (nearly sequential: callers are nearly in time order), which
the build hands to Arrow as it is; days and closes come from a small per-date table. Symbols are matched through DuckDB's 64-bit ``hash(symbol)`` (an
order-preserving projection; a join to a symbol table would reorder the stream); :func:`symbol_table`
refuses duplicate hashes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from numba import njit

#: Sentinel for "no value" in the integer arrays (no quote, a null price, a null seq).
NONE = np.iinfo(np.int64).min
BIG = np.iinfo(np.int64).max
NEW_YORK = ZoneInfo("America/New_York")
MICROS = 1_000_000
#: Markout horizons in microseconds, in the order of ``fct_fills``' columns.
HORIZONS_US = np.array([1, 15, 60, 300], dtype=np.int64) * MICROS
HORIZON_NAMES = ("1s", "15s", "1m", "5m")


# -- the kernel ---------------------------------------------------------------------------------------

@njit(cache=True, nogil=True)
def _table(hashes):
    """Open-addressing table: symbol hash → code (its position in ``hashes``)."""
    size = 16
    while size < 4 * len(hashes):
        size *= 2
    keys = np.zeros(size, np.uint64)
    vals = np.full(size, -1, np.int32)
    mask = np.uint64(size - 1)
    for k in range(len(hashes)):
        i = hashes[k] & mask
        while vals[i] >= 0:
            i = (i + np.uint64(1)) & mask
        keys[i] = hashes[k]
        vals[i] = k
    return keys, vals


@njit(cache=True, nogil=True, inline="always")
def _find(keys, vals, h):
    mask = np.uint64(len(keys) - 1)
    i = h & mask
    while vals[i] >= 0:
        if keys[i] == h:
            return vals[i]
        i = (i + np.uint64(1)) & mask
    return -1


@njit(cache=True, nogil=True)
def _codes(keys, vals, hashes):
    out = np.empty(len(hashes), np.int32)
    for i in range(len(hashes)):
        out[i] = _find(keys, vals, hashes[i])
    return out


@njit(cache=True, nogil=True, inline="always")
def _day(d, t, midnights):
    """Advance the day index ``d`` to the New York day of ``t`` (instants come in time order)."""
    while d + 1 < len(midnights) and midnights[d + 1] <= t:
        d += 1
    return d


@njit(cache=True, nogil=True, inline="always")
def _in_force(before, pos, psym, pt, prow, out, midnights, cur_t, cur_bid, cur_ask):
    """Answer the in-force lookups (sorted by instant) from ``pos[0]`` up to the first at or after
    ``before``; ``pos`` = [next lookup, its day index]. Lookup ``c`` is the caller's row ``prow[c]``;
    ``out`` rows (caller order): quoted_at, bid, ask."""
    c, d = pos[0], pos[1]
    while c < len(pt) and pt[c] < before:
        d = _day(d, pt[c], midnights)
        s = psym[c]
        if cur_t[s] != NONE and cur_t[s] >= midnights[d]:
            r = prow[c]
            out[0, r] = cur_t[s]
            out[1, r] = cur_bid[s]
            out[2, r] = cur_ask[s]
        c += 1
    pos[0], pos[1] = c, d
    return pt[c] if c < len(pt) else BIG


@njit(cache=True, nogil=True, inline="always")
def _valid(before, h, pos, fsym, ftg, fday, frow, out, midnights, cur_t, cur_bid, cur_ask, cur_valid, lv_t,
           lv_mid2):
    """Answer the fills at horizon ``h`` whose target (``ftg[h]``: min(t + Δ, 16:00 of the fill's day),
    in time order) is before ``before``, with each symbol's latest valid state from the fill's day
    (``fday``: its index in ``midnights``); ``pos[h]`` is the next fill, ``frow[c]`` its caller row.
    ``out[h]`` (caller order): bid + ask."""
    c = pos[h]
    tg = ftg[h]
    o = out[h]
    n = len(tg)
    while c < n and tg[c] < before:
        s = fsym[c]
        if cur_valid[s]:
            if cur_t[s] != NONE and cur_t[s] >= midnights[fday[c]]:
                o[frow[c]] = cur_bid[s] + cur_ask[s]
        elif lv_t[s] != NONE and lv_t[s] >= midnights[fday[c]]:
            o[frow[c]] = lv_mid2[s]
        c += 1
    pos[h] = c
    return tg[c] if c < n else BIG


@njit(cache=True, nogil=True)
def _consume(keys, vals, qh, qt, qbid, qask, qseq, midnights,
             r_pos, r_sym, r_t, r_row, r_out, o_pos, o_sym, o_t, o_row, o_out, f_pos, f_sym, f_tg, f_day, f_row,
             f_out, nxt, cur_t, cur_seq, cur_bid, cur_ask, cur_valid, lv_t, lv_mid2, stats):
    """Merge one batch of quotes (file order = time order) with the sorted lookups.

    Before a quote at ``t`` is applied, every lookup at an instant before ``t`` is answered from the
    state so far, so a lookup at exactly ``t`` sees every quote at ``t``. Lookup sets: two in-force
    (``r_*`` receipt, ``o_*`` routing; ``*_pos`` = [next lookup, day index]) and the fills at several
    horizons (``f_tg``: horizons × fills, the targets; ``f_pos``: one cursor per horizon). ``nxt`` holds
    each set's next instant: [receipt, routing, fill horizon 0, 1, ...]. Returns −1, or the batch row at which time went backwards.
    ``stats``: [quotes read, quotes of unknown symbols, updates superseded at their instant, latest time].
    """
    n_h = len(f_tg)
    superseded = 0
    unknown = 0
    last = stats[3]
    for i in range(len(qh)):
        ti = qt[i]
        if ti < last:
            stats[3] = last
            return i
        last = ti
        if nxt[0] < ti:
            nxt[0] = _in_force(ti, r_pos, r_sym, r_t, r_row, r_out, midnights, cur_t, cur_bid, cur_ask)
        if nxt[1] < ti:
            nxt[1] = _in_force(ti, o_pos, o_sym, o_t, o_row, o_out, midnights, cur_t, cur_bid, cur_ask)
        for h in range(n_h):
            if nxt[2 + h] < ti:
                nxt[2 + h] = _valid(ti, h, f_pos, f_sym, f_tg, f_day, f_row, f_out, midnights,
                                    cur_t, cur_bid, cur_ask, cur_valid, lv_t, lv_mid2)
        s = _find(keys, vals, qh[i])
        if s < 0:
            unknown += 1
            continue
        b, a, q = qbid[i], qask[i], qseq[i]
        if ti > cur_t[s]:  # a new instant for the symbol: the one before it is final
            if cur_t[s] != NONE and cur_valid[s]:
                lv_t[s] = cur_t[s]
                lv_mid2[s] = cur_bid[s] + cur_ask[s]
        elif q < cur_seq[s]:  # same instant, lower seq: superseded, never in force
            superseded += 1
            continue
        else:
            superseded += 1  # the update it replaces is superseded
        cur_t[s] = ti
        cur_seq[s] = q
        cur_bid[s] = b
        cur_ask[s] = a
        cur_valid[s] = b > 0 and a > 0 and b <= a
    stats[0] += len(qh)
    stats[1] += unknown
    stats[2] += superseded
    stats[3] = last
    return -1


@njit(cache=True, nogil=True)
def _finish(midnights, r_pos, r_sym, r_t, r_row, r_out, o_pos, o_sym, o_t, o_row, o_out, f_pos, f_sym, f_tg,
            f_day, f_row, f_out, cur_t, cur_bid, cur_ask, cur_valid, lv_t, lv_mid2):
    """After the last quote: answer every lookup still waiting, from the final state."""
    _in_force(BIG, r_pos, r_sym, r_t, r_row, r_out, midnights, cur_t, cur_bid, cur_ask)
    _in_force(BIG, o_pos, o_sym, o_t, o_row, o_out, midnights, cur_t, cur_bid, cur_ask)
    for h in range(len(f_tg)):
        _valid(BIG, h, f_pos, f_sym, f_tg, f_day, f_row, f_out, midnights, cur_t, cur_bid, cur_ask, cur_valid,
               lv_t, lv_mid2)


@njit(cache=True, nogil=True)
def _fill_targets(t, horizons, midnights, closes, day, targets):
    """For fills in time order: ``day[c]``, the index in ``midnights`` of fill ``c``'s New York day, and
    ``targets[h, c]`` = min(t[c] + horizons[h], closes[day[c]]), in one pass (no temporaries)."""
    d = 0
    for c in range(len(t)):
        d = _day(d, t[c], midnights)
        day[c] = d
        for h in range(len(horizons)):
            targets[h, c] = min(t[c] + horizons[h], closes[d])


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


# -- Python side ----------------------------------------------------------------------------------------

@njit(cache=True, nogil=True)
def _kept_in_order(sym, t):
    """How many lookups have a symbol (``sym`` ≥ 0), and whether their instants are in time order."""
    kept, ordered, last = 0, True, NONE
    for i in range(len(sym)):
        if sym[i] >= 0:
            kept += 1
            if t[i] < last:
                ordered = False
            last = t[i]
    return kept, ordered


@njit(cache=True, nogil=True)
def _take(src, idx, out):
    """``out[k] = src[idx[k]]`` (int64)."""
    for k in range(len(idx)):
        out[k] = src[idx[k]]


@njit(cache=True, nogil=True)
def _take2(t, sym, idx, t_out, sym_out):
    """``t_out[k] = t[idx[k]]`` and ``sym_out[k] = sym[idx[k]]`` in one pass."""
    for k in range(len(idx)):
        i = idx[k]
        t_out[k] = t[i]
        sym_out[k] = sym[i]


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
    import pyarrow as pa

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


@dataclass
class Lookups:
    """One set of lookups and, after :func:`lookup`, its answers.

    Built from ``sym`` (symbol codes, −1: none; those lookups are left out) and ``t_us`` (UTC µs) per
    caller row. :meth:`sort` puts the kept lookups in order of instant: ``rows`` holds the caller's row
    of each sorted lookup, ``sorted_sym`` / ``sorted_t_us`` their symbol and instant. The kernel writes
    each answer straight to its caller row of ``out`` (one row per answer column, one column per caller
    row: :data:`NONE` where the row has no lookup, or no same-day answer, or a null price), so a column
    of ``out`` is a ready, contiguous array in the caller's order. In-force sets (receipt, routing):
    columns quoted_at_us, bid_us, ask_us. Valid sets (fills): one per horizon of ``horizons_us``, the
    bid + ask of the matched state in micro-dollars (twice the midpoint, an integer).
    """

    sym: np.ndarray
    t_us: np.ndarray
    horizons_us: np.ndarray | None = None  # None: in force; else valid state at t + Δ, clipped at 16:00
    rows: np.ndarray = field(init=False)
    sorted_sym: np.ndarray = field(init=False)
    sorted_t_us: np.ndarray = field(init=False)
    out: np.ndarray = field(init=False)

    @property
    def is_valid_set(self) -> bool:
        return self.horizons_us is not None

    @property
    def answers(self) -> np.ndarray:
        """The answers in sorted order: ``answers[k]`` belongs to caller row ``rows[k]``."""
        return self.out[:, self.rows].T

    def sort(self) -> None:
        """Keep the lookups that have a symbol, in order of instant (stable: ties keep their row order;
        a set that is already in time order, as orders by receipt usually are, is only checked, and
        then shares the caller's arrays instead of copying them)."""
        sym = np.ascontiguousarray(self.sym, dtype=np.int32)
        t = np.ascontiguousarray(self.t_us, dtype=np.int64)
        kept, ordered = _kept_in_order(readonly(sym), readonly(t)) if len(sym) else (0, True)
        if kept == len(sym) and ordered:
            self.rows, self.sorted_sym, self.sorted_t_us = np.arange(len(sym)), sym, t
        else:
            self.rows = _sorted_rows(sym, t, kept, ordered)
            self.sorted_t_us = np.empty(len(self.rows), np.int64)
            self.sorted_sym = np.empty(len(self.rows), np.int32)
            _take2(readonly(t), readonly(sym), readonly(self.rows), self.sorted_t_us, self.sorted_sym)
        n_cols = len(self.horizons_us) if self.is_valid_set else 3
        self.out = np.empty((n_cols, len(sym)), np.int64)  # filled with NONE by each pass of lookup()


def _sorted_rows(sym: np.ndarray, t: np.ndarray, kept: int, ordered: bool) -> np.ndarray:
    """The caller rows of the lookups with a symbol, in stable order of instant (not called for a set
    that is all kept and in order). Every new array is 8 bytes per lookup of fresh memory, which on a
    VM costs more to touch than the sort itself: with every lookup kept the order is the rows, and the
    kept instants are gathered through the rows in a compiled pass, not by numpy fancy indexing."""
    if kept == len(sym):
        return np.argsort(t, kind="stable")  # timsort: cheap on nearly sorted instants
    rows = np.flatnonzero(sym >= 0)
    if ordered:
        return rows
    kept_t = np.empty(kept, np.int64)
    _take(readonly(t), readonly(rows), kept_t)
    order = np.argsort(kept_t, kind="stable")
    del kept_t
    out = np.empty(kept, np.int64)
    _take(readonly(rows), readonly(order), out)
    return out


@dataclass
class StreamReport:
    """What the pass over the quotes saw (written to the store as evidence)."""

    quotes: int = 0
    unknown_symbol_quotes: int = 0
    superseded: int = 0
    max_quoted_at_us: int = int(NONE)
    sorted_fallback: bool = False


def day_tables(*instant_arrays: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """New York midnights and 16:00 closes (UTC µs) of every day from the day before the earliest
    instant (:data:`NONE` ignored) to the day after the latest, ascending."""
    spans = [_known_span(readonly(np.ascontiguousarray(a, dtype=np.int64))) for a in instant_arrays if len(a)]
    spans = [(int(lo), int(hi)) for lo, hi in spans if hi != NONE]
    if not spans:
        lo = hi = int(datetime(2000, 1, 3, tzinfo=NEW_YORK).timestamp()) * MICROS
    else:
        lo, hi = min(lo for lo, _ in spans), max(hi for _, hi in spans)
    first = datetime.fromtimestamp(lo / MICROS, NEW_YORK).date() - timedelta(days=1)
    last = datetime.fromtimestamp(hi / MICROS, NEW_YORK).date() + timedelta(days=1)
    days = [first + timedelta(days=k) for k in range((last - first).days + 1)]
    midnights = np.array([_local_us(d, time(0)) for d in days], dtype=np.int64)
    closes = np.array([_local_us(d, time(16)) for d in days], dtype=np.int64)
    return midnights, closes


@njit(cache=True, nogil=True)
def _known_span(t):
    """(earliest, latest) of the instants other than :data:`NONE`; (BIG, NONE) when there are none."""
    lo, hi = BIG, NONE
    for x in t:
        if x != NONE:
            lo = min(lo, x)
            hi = max(hi, x)
    return lo, hi


@njit(cache=True, nogil=True)
def _add_hourly_offset(t, first_hour, hour, offsets, out):
    """out[i] = t[i] + the offset of its UTC hour (``offsets[h - first_hour]``); :data:`NONE` stays."""
    for i in range(len(t)):
        x = t[i]
        out[i] = NONE if x == NONE else x + offsets[x // hour - first_hour]


def new_york_wall_us(t_us: np.ndarray) -> np.ndarray:
    """UTC microseconds → New York wall-clock microseconds (the local date and time read as if UTC:
    what DuckDB's ``timezone('America/New_York', t)`` gives, as ``epoch_us`` of that TIMESTAMP);
    :data:`NONE` stays :data:`NONE`. New York's offset changes only on the hour (UTC), so it is read
    from the zone once per hour of the instants' span, then added per instant in one compiled pass."""
    t_us = readonly(np.ascontiguousarray(t_us, dtype=np.int64))
    out = np.empty(len(t_us), np.int64)
    lo_us, hi_us = _known_span(t_us)
    hour = 3600 * MICROS
    if hi_us == NONE:
        out.fill(NONE)
        return out
    lo, hi = lo_us // hour, hi_us // hour
    utc = ZoneInfo("UTC")
    offsets = np.array([int(datetime.fromtimestamp(h * 3600, utc).astimezone(NEW_YORK).utcoffset()
                            .total_seconds()) * MICROS for h in range(lo, hi + 1)], dtype=np.int64)
    _add_hourly_offset(t_us, lo, hour, readonly(offsets), out)
    return out


def _local_us(d: date, at: time) -> int:
    return int(datetime.combine(d, at, NEW_YORK).timestamp()) * MICROS


def symbol_table(symbol_hashes: np.ndarray):
    """The kernel's lookup table for the symbols' ``hash(symbol)`` values (refuses duplicates)."""
    hashes = np.ascontiguousarray(symbol_hashes, dtype=np.uint64)
    if len(np.unique(hashes)) != len(hashes):
        raise ValueError("two symbols share a 64-bit hash; the streaming as-of cannot tell them apart")
    return _table(hashes)


def codes(table, hashes: np.ndarray) -> np.ndarray:
    """Symbol codes (−1: not a symbol of the table) for an array of ``hash(symbol)`` values."""
    return _codes(table[0], table[1], readonly(np.ascontiguousarray(hashes, dtype=np.uint64)))


def lookup(batches, table, n_symbols: int, receipt: Lookups, route: Lookups, fills: Lookups,
           sorted_batches=None) -> StreamReport:
    """Answer every lookup in one pass over ``batches`` (an iterable of quote batches in file order:
    ``(hash uint64, quoted_at_us int64, bid_us int64, ask_us int64, seq int64)`` with :data:`NONE`
    for nulls). ``receipt`` and ``route`` are in-force sets, ``fills`` a valid set.

    When time goes backwards in the stream, the answers are discarded and the pass is made again over
    ``sorted_batches()`` (a callable returning the same quotes sorted by time, seq with nulls first,
    and row).
    """
    if receipt.is_valid_set or route.is_valid_set or not fills.is_valid_set:
        raise ValueError("receipt and route must be in-force lookups, fills a valid-state one")
    keys, vals = table
    for x in (receipt, route, fills):
        x.sort()
    midnights, closes = day_tables(receipt.sorted_t_us, route.sorted_t_us, fills.sorted_t_us)
    horizons = np.ascontiguousarray(fills.horizons_us, dtype=np.int64)
    n_h = len(horizons)
    # each fill's New York day and, per horizon, its target min(t + Δ, 16:00 that day): in time order
    # per horizon, as the fills are (the clip keeps the order: a day's targets end before the next day)
    f_day = np.empty(len(fills.sorted_t_us), np.int32)
    f_tg = np.empty((n_h, len(fills.sorted_t_us)), np.int64)
    _fill_targets(readonly(fills.sorted_t_us), readonly(horizons), readonly(midnights), readonly(closes), f_day, f_tg)

    def one_pass(stream) -> StreamReport | None:
        for x in (receipt, route, fills):
            x.out.fill(NONE)
        r_pos, o_pos, f_pos = np.zeros(2, np.int64), np.zeros(2, np.int64), np.zeros(n_h, np.int64)
        nxt = np.full(2 + n_h, NONE, np.int64)  # answer from the first quote on
        ro = readonly
        sets = (r_pos, ro(receipt.sorted_sym), ro(receipt.sorted_t_us), ro(receipt.rows), receipt.out,
                o_pos, ro(route.sorted_sym), ro(route.sorted_t_us), ro(route.rows), route.out,
                f_pos, ro(fills.sorted_sym), ro(f_tg), ro(f_day), ro(fills.rows), fills.out)
        cur_t, cur_seq, lv_t = (np.full(n_symbols, NONE, np.int64) for _ in range(3))
        cur_bid, cur_ask, lv_mid2 = (np.zeros(n_symbols, np.int64) for _ in range(3))
        cur_valid = np.zeros(n_symbols, np.bool_)
        stats = np.array([0, 0, 0, NONE], dtype=np.int64)
        for qh, qt, qbid, qask, qseq in _closing(stream):
            bad = _consume(keys, vals, ro(qh), ro(qt), ro(qbid), ro(qask), ro(qseq), ro(midnights), *sets,
                           nxt, cur_t, cur_seq, cur_bid, cur_ask, cur_valid, lv_t, lv_mid2, stats)
            if bad >= 0:
                return None
        _finish(ro(midnights), *sets, cur_t, cur_bid, cur_ask, cur_valid, lv_t, lv_mid2)
        return StreamReport(quotes=int(stats[0]), unknown_symbol_quotes=int(stats[1]),
                            superseded=int(stats[2]), max_quoted_at_us=int(stats[3]))

    report = one_pass(batches)
    if report is None:
        if sorted_batches is None:
            raise ValueError("the quotes are not in time order")
        report = one_pass(sorted_batches())
        if report is None:
            raise RuntimeError("the sorted quote stream is not in time order")
        report.sorted_fallback = True
    return report


def _closing(stream):
    """Iterate ``stream`` and close it afterwards, also when the caller stops early (a generator over a
    database cursor releases it)."""
    try:
        yield from stream
    finally:
        close = getattr(stream, "close", None)
        if close:
            close()


def in_force(sym, t_us) -> Lookups:
    return Lookups(np.asarray(sym), np.asarray(t_us))


def valid_after(sym, t_us, horizons_us=HORIZONS_US) -> Lookups:
    return Lookups(np.asarray(sym), np.asarray(t_us), np.asarray(horizons_us, dtype=np.int64))


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


DAY_US = 86_400 * MICROS
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


def warm_up() -> None:
    """Compile (or load from numba's cache) every kernel on a tiny input (the kernels take their inputs
    read-only whatever they are given: :func:`readonly`, so one version of each serves every caller)."""
    table = symbol_table(np.array([1, 2], dtype=np.uint64))
    one = (np.array([1], np.uint64), np.array([5], np.int64), np.array([1], np.int64),
           np.array([2], np.int64), np.array([NONE], np.int64))
    lookup([one], table, 2, in_force([0], [10]), in_force([1], [10]), valid_after([0], [10]))
    # and every branch of Lookups.sort: out of order, with and without lookups left out
    lookup([one], table, 2, in_force([1, 0], [20, 10]), in_force([1, -1, 0], [20, 5, 10]), valid_after([0], [10]))
    codes(table, np.array([1], np.uint64))
    is_identity(np.array([0]))
    new_york_wall_us(np.array([0, NONE]))
    fill_sums(1, np.array([0]), np.array([1]), np.array([5]), np.array([False]))
    one = np.array([1])
    answer_candidates(one, one, one, one, one, one, one, np.array([False]), one, one)
