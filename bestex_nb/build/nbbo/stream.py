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

import numpy as np

from bestex_nb.build.arrays import BIG, NONE, readonly
from bestex_nb.build.clock import MICROS, day_tables
from bestex_nb.build.nbbo.kernel import (
    _codes,
    _consume,
    _fill_targets,
    _finish,
    _kept_in_order,
    _table,
    _take,
    _take2,
)

#: Markout horizons in microseconds, in the order of ``fct_fills``' columns.
HORIZONS_US = np.array([1, 15, 60, 300], dtype=np.int64) * MICROS
HORIZON_NAMES = ("1s", "15s", "1m", "5m")


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
    bid + ask of the matched state in micro-dollars (twice the midpoint, an integer). The at-instant set
    (:func:`valid_at`, the NBBO at execution): columns bid_us, ask_us of the latest valid state at or
    before the instant on its New York day (no clip at the close).
    """

    sym: np.ndarray
    t_us: np.ndarray
    horizons_us: np.ndarray | None = None  # None: in force; else valid state at t + Δ, clipped at 16:00
    at_instant: bool = False  # valid state at t itself, not clipped (the NBBO at execution): bid, ask
    rows: np.ndarray = field(init=False)
    sorted_sym: np.ndarray = field(init=False)
    sorted_t_us: np.ndarray = field(init=False)
    out: np.ndarray = field(init=False)

    @property
    def is_valid_set(self) -> bool:
        return self.horizons_us is not None and not self.at_instant

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
        n_cols = 2 if self.at_instant else len(self.horizons_us) if self.is_valid_set else 3
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
           sorted_batches=None, at_execution: Lookups | None = None) -> StreamReport:
    """Answer every lookup in one pass over ``batches`` (an iterable of quote batches in file order:
    ``(hash uint64, quoted_at_us int64, bid_us int64, ask_us int64, seq int64)`` with :data:`NONE`
    for nulls). ``receipt`` and ``route`` are in-force sets, ``fills`` a valid set, ``at_execution`` (or
    None: none) an at-instant set (:func:`valid_at`); built on the same arrays as ``fills`` it reuses
    their sort.

    When time goes backwards in the stream, the answers are discarded and the pass is made again over
    ``sorted_batches()`` (a callable returning the same quotes sorted by time, seq with nulls first,
    and row).
    """
    execs = valid_at(np.empty(0, np.int32), np.empty(0, np.int64)) if at_execution is None else at_execution
    if receipt.is_valid_set or route.is_valid_set or not fills.is_valid_set or not execs.at_instant:
        raise ValueError("receipt and route must be in-force lookups, fills a valid-state one, "
                         "at_execution an at-instant one")
    keys, vals = table
    for x in (receipt, route, fills):
        x.sort()
    if execs.sym is fills.sym and execs.t_us is fills.t_us:  # the same lookups: the same order
        execs.rows, execs.sorted_sym, execs.sorted_t_us = fills.rows, fills.sorted_sym, fills.sorted_t_us
        execs.out = np.empty((2, len(execs.sym)), np.int64)
    else:
        execs.sort()
    midnights, closes = day_tables(receipt.sorted_t_us, route.sorted_t_us, fills.sorted_t_us, execs.sorted_t_us)
    horizons = np.ascontiguousarray(fills.horizons_us, dtype=np.int64)
    n_h = len(horizons)
    # each fill's New York day and, per horizon, its target min(t + Δ, 16:00 that day): in time order
    # per horizon, as the fills are (the clip keeps the order: a day's targets end before the next day)
    f_day = np.empty(len(fills.sorted_t_us), np.int32)
    f_tg = np.empty((n_h, len(fills.sorted_t_us)), np.int64)
    _fill_targets(readonly(fills.sorted_t_us), readonly(horizons), readonly(midnights), readonly(closes), f_day, f_tg)
    # the at-execution lookups' days; their targets are their instants (no clip: "closes" beyond every instant)
    x_day = np.empty(len(execs.sorted_t_us), np.int32)
    _fill_targets(readonly(execs.sorted_t_us), readonly(np.zeros(1, np.int64)), readonly(midnights),
                  readonly(np.full(len(closes), BIG, np.int64)), x_day, np.empty((1, len(x_day)), np.int64))

    def one_pass(stream) -> StreamReport | None:
        for x in (receipt, route, fills, execs):
            x.out.fill(NONE)
        r_pos, o_pos, f_pos = np.zeros(2, np.int64), np.zeros(2, np.int64), np.zeros(n_h, np.int64)
        x_pos = np.zeros(1, np.int64)
        nxt = np.full(3 + n_h, NONE, np.int64)  # answer from the first quote on
        ro = readonly
        sets = (r_pos, ro(receipt.sorted_sym), ro(receipt.sorted_t_us), ro(receipt.rows), receipt.out,
                o_pos, ro(route.sorted_sym), ro(route.sorted_t_us), ro(route.rows), route.out,
                f_pos, ro(fills.sorted_sym), ro(f_tg), ro(f_day), ro(fills.rows), fills.out,
                x_pos, ro(execs.sorted_sym), ro(execs.sorted_t_us), ro(x_day), ro(execs.rows), execs.out)
        cur_t, cur_seq, lv_t = (np.full(n_symbols, NONE, np.int64) for _ in range(3))
        cur_bid, cur_ask, lv_bid, lv_ask = (np.zeros(n_symbols, np.int64) for _ in range(4))
        cur_valid = np.zeros(n_symbols, np.bool_)
        stats = np.array([0, 0, 0, NONE], dtype=np.int64)
        for qh, qt, qbid, qask, qseq in _closing(stream):
            bad = _consume(keys, vals, ro(qh), ro(qt), ro(qbid), ro(qask), ro(qseq), ro(midnights), *sets,
                           nxt, cur_t, cur_seq, cur_bid, cur_ask, cur_valid, lv_t, lv_bid, lv_ask, stats)
            if bad >= 0:
                return None
        _finish(ro(midnights), *sets, cur_t, cur_bid, cur_ask, cur_valid, lv_t, lv_bid, lv_ask)
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


def valid_at(sym, t_us) -> Lookups:
    """The latest valid state at or before each instant, on its New York day: the NBBO at execution."""
    return Lookups(np.asarray(sym), np.asarray(t_us), np.zeros(1, np.int64), at_instant=True)
