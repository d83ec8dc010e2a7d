"""The compiled kernels of the streaming NBBO pass (:mod:`bestex_nb.build.nbbo.stream`, which describes
the rules): the symbol table, the merge of a batch of quotes with the sorted lookups, the answers after
the last quote, the markout targets, and the gathers that sort a set of lookups."""

from __future__ import annotations

import numpy as np
from numba import njit

from bestex_nb.build.arrays import BIG, NONE


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
           lv_bid, lv_ask):
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
            o[frow[c]] = lv_bid[s] + lv_ask[s]
        c += 1
    pos[h] = c
    return tg[c] if c < n else BIG


@njit(cache=True, nogil=True, inline="always")
def _valid_at(before, pos, xsym, xt, xday, xrow, out, midnights, cur_t, cur_bid, cur_ask, cur_valid, lv_t, lv_bid,
              lv_ask):
    """Answer the lookups of the latest valid state at or before their instant itself (``xt``, in time
    order, not clipped at the close: the NBBO at execution) that are before ``before``, from the
    lookup's New York day (``xday``); ``pos[0]`` is the next lookup, ``xrow[c]`` its caller row.
    ``out`` rows (caller order): bid, ask."""
    c = pos[0]
    n = len(xt)
    while c < n and xt[c] < before:
        s = xsym[c]
        r = xrow[c]
        if cur_valid[s]:
            if cur_t[s] != NONE and cur_t[s] >= midnights[xday[c]]:
                out[0, r] = cur_bid[s]
                out[1, r] = cur_ask[s]
        elif lv_t[s] != NONE and lv_t[s] >= midnights[xday[c]]:
            out[0, r] = lv_bid[s]
            out[1, r] = lv_ask[s]
        c += 1
    pos[0] = c
    return xt[c] if c < n else BIG


@njit(cache=True, nogil=True)
def _consume(keys, vals, qh, qt, qbid, qask, qseq, midnights,
             r_pos, r_sym, r_t, r_row, r_out, o_pos, o_sym, o_t, o_row, o_out, f_pos, f_sym, f_tg, f_day, f_row,
             f_out, x_pos, x_sym, x_t, x_day, x_row, x_out, nxt, cur_t, cur_seq, cur_bid, cur_ask, cur_valid, lv_t,
             lv_bid, lv_ask, stats):
    """Merge one batch of quotes (file order = time order) with the sorted lookups.

    Before a quote at ``t`` is applied, every lookup at an instant before ``t`` is answered from the
    state so far, so a lookup at exactly ``t`` sees every quote at ``t``. Lookup sets: two in-force
    (``r_*`` receipt, ``o_*`` routing; ``*_pos`` = [next lookup, day index]) and the fills at several
    horizons (``f_tg``: horizons × fills, the targets; ``f_pos``: one cursor per horizon), and the valid
    state at each fill's own instant (``x_*``: the NBBO at execution; ``x_pos``: one cursor). ``nxt`` holds
    each set's next instant: [receipt, routing, fill horizon 0, 1, ..., at execution]. Returns −1, or the batch row at which time went backwards.
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
                                    cur_t, cur_bid, cur_ask, cur_valid, lv_t, lv_bid, lv_ask)
        if nxt[2 + n_h] < ti:
            nxt[2 + n_h] = _valid_at(ti, x_pos, x_sym, x_t, x_day, x_row, x_out, midnights,
                                     cur_t, cur_bid, cur_ask, cur_valid, lv_t, lv_bid, lv_ask)
        s = _find(keys, vals, qh[i])
        if s < 0:
            unknown += 1
            continue
        b, a, q = qbid[i], qask[i], qseq[i]
        if ti > cur_t[s]:  # a new instant for the symbol: the one before it is final
            if cur_t[s] != NONE and cur_valid[s]:
                lv_t[s] = cur_t[s]
                lv_bid[s] = cur_bid[s]
                lv_ask[s] = cur_ask[s]
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
            f_day, f_row, f_out, x_pos, x_sym, x_t, x_day, x_row, x_out, cur_t, cur_bid, cur_ask, cur_valid, lv_t,
            lv_bid, lv_ask):
    """After the last quote: answer every lookup still waiting, from the final state."""
    _in_force(BIG, r_pos, r_sym, r_t, r_row, r_out, midnights, cur_t, cur_bid, cur_ask)
    _in_force(BIG, o_pos, o_sym, o_t, o_row, o_out, midnights, cur_t, cur_bid, cur_ask)
    for h in range(len(f_tg)):
        _valid(BIG, h, f_pos, f_sym, f_tg, f_day, f_row, f_out, midnights, cur_t, cur_bid, cur_ask, cur_valid,
               lv_t, lv_bid, lv_ask)
    _valid_at(BIG, x_pos, x_sym, x_t, x_day, x_row, x_out, midnights, cur_t, cur_bid, cur_ask, cur_valid, lv_t,
              lv_bid, lv_ask)


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
