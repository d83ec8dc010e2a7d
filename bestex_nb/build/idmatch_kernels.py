"""The compiled kernels of the id match (:mod:`bestex_nb.build.idmatch`, which describes the method): the
hash of an id's bytes, the partitioning scatter, the per-partition match of fills to orders, the check
for repeated hashes, and the walk back from partition order to row order."""

from __future__ import annotations

import numpy as np
from numba import njit

_SEED = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, nogil=True, inline="always")
def _fmix(h):
    """MurmurHash3's 64-bit finalizer: every input bit moves every output bit."""
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


@njit(cache=True, nogil=True, inline="always")
def _word(data, start, length, w):
    """Bytes ``8w .. 8w+7`` of the id at ``data[start : start + length]``, little-endian, zero padded."""
    lo = 8 * w
    p = start + lo
    if lo + 8 <= length:  # a whole word: eight loads the compiler folds into one
        return (np.uint64(data[p]) | (np.uint64(data[p + 1]) << np.uint64(8))
                | (np.uint64(data[p + 2]) << np.uint64(16)) | (np.uint64(data[p + 3]) << np.uint64(24))
                | (np.uint64(data[p + 4]) << np.uint64(32)) | (np.uint64(data[p + 5]) << np.uint64(40))
                | (np.uint64(data[p + 6]) << np.uint64(48)) | (np.uint64(data[p + 7]) << np.uint64(56)))
    v = np.uint64(0)
    for j in range(min(length, lo + 8) - 1, lo - 1, -1):
        v = (v << np.uint64(8)) | np.uint64(data[start + j])
    return v


@njit(cache=True, nogil=True, inline="always")
def _hash(data, s, n):
    """The 64-bit hash of the id ``data[s : s + n]``: each word multiplied in, one finalizer."""
    h = _SEED ^ np.uint64(n)
    for w in range((n + 7) // 8):
        h = (h ^ _word(data, s, n, w)) * np.uint64(0x9FB21C651E98DF25)
        h ^= h >> np.uint64(29)
    return _fmix(h)


@njit(cache=True, nogil=True)
def _hashes(offsets, data, base, shift, counts, out):
    """For the ids of one Arrow chunk (``offsets``, ``data``), the ``base``-th id onwards: ``out`` their
    hashes (all their bytes and their length), ``counts[p + 1]`` how many fall in partition ``p`` (the
    hash's top bits: ``hash >> shift``); returns the longest id's length."""
    longest = 0
    for i in range(len(offsets) - 1):
        s = offsets[i]
        n = offsets[i + 1] - s
        longest = max(longest, n)
        h = _hash(data, s, n)
        out[base + i] = h
        counts[(h >> shift) + np.uint64(1)] += 1
    return longest


#: A partitioned id is one record (a row of a uint64 array): its key words, then its hash, then its
#: length (bits 40 and up) and its row (the low 40 bits): one write stream per partition.
_ROW_BITS = np.uint64(40)
_ROW_MASK = np.uint64((1 << 40) - 1)


@njit(cache=True, nogil=True)
def _scatter(offsets, data, base, hashes, shift, nxt, words, rec):
    """Write the record of each id of one chunk (the ``base``-th id onwards) to the next free place of
    its partition (``nxt[p]``, advanced)."""
    for i in range(len(offsets) - 1):
        h = hashes[base + i]
        p = h >> shift
        k = nxt[p]
        nxt[p] = k + 1
        s = offsets[i]
        n = offsets[i + 1] - s
        for w in range(words):
            rec[k, w] = _word(data, s, n, w)
        rec[k, words] = h
        rec[k, words + 1] = (np.uint64(n) << _ROW_BITS) | np.uint64(base + i)


@njit(cache=True, nogil=True, inline="always")
def _same(a, i, b, j, words):
    """Whether record ``i`` of ids a and record ``j`` of ids b have the same length and key (the same
    text, for ids no longer than the key; see :func:`_same_tail`)."""
    if (a[i, words + 1] >> _ROW_BITS) != (b[j, words + 1] >> _ROW_BITS):
        return False
    for w in range(words):
        if a[i, w] != b[j, w]:
            return False
    return True


@njit(cache=True, nogil=True, inline="always")
def _short(a, i, words):
    """Whether the id of record ``i`` fits in the key (then equal keys and lengths are equal texts)."""
    return np.int64(a[i, words + 1] >> _ROW_BITS) <= 8 * words


@njit(cache=True, nogil=True)
def _same_tail(a, a_off, a_data, i, b, b_off, b_data, j, words):
    """For two long records of the same length and key: whether the bytes after the key are equal too,
    read from the Arrow buffers. Not inlined, and called only for ids longer than the key (guard with
    :func:`_short`): a call that passes arrays costs more than the whole comparison of short ids."""
    n = np.int64(a[i, words + 1] >> _ROW_BITS)
    sa = a_off[np.int64(a[i, words + 1] & _ROW_MASK)]
    sb = b_off[np.int64(b[j, words + 1] & _ROW_MASK)]
    for t in range(8 * words, n):
        if a_data[sa + t] != b_data[sb + t]:
            return False
    return True


@njit(cache=True, nogil=True)
def _table_size(starts):
    size = 16
    for p in range(len(starts) - 1):
        size = max(size, starts[p + 1] - starts[p])
    cap = 16
    while cap < 2 * size:
        cap *= 2
    return cap


@njit(cache=True, nogil=True)
def _match(o, o_starts, o_off, o_data, e, e_starts, e_off, e_data, words, repeated, order_row):
    """Per partition: insert the order ids (a repeat marks both copies in ``repeated``, by row), then
    look up each fill's order id (``order_row[k]`` for the k-th partitioned fill: the lowest order row
    with that id, as a partition keeps the rows' order and a repeat never takes the first copy's slot;
    −1 when none; written in partition order, sequentially). The table keeps each
    slot's hash beside it, so a probe reads a record only when the hashes agree. (The equality test is
    spelled out in both loops: behind an inlined helper numba's code ran 4-6x slower.)"""
    cap = _table_size(o_starts)
    slots = np.empty(cap, np.int64)
    hashes = np.empty(cap, np.uint64)
    mask = cap - 1
    for p in range(len(o_starts) - 1):
        slots[:] = -1
        for k in range(o_starts[p], o_starts[p + 1]):
            h = o[k, words]
            i = np.int64(h & np.uint64(mask))
            while True:
                s = slots[i]
                if s < 0:
                    slots[i] = k
                    hashes[i] = h
                    break
                if hashes[i] == h and _same(o, s, o, k, words) and (
                        _short(o, s, words) or _same_tail(o, o_off, o_data, s, o, o_off, o_data, k, words)):
                    repeated[np.int64(o[s, words + 1] & _ROW_MASK)] = True
                    repeated[np.int64(o[k, words + 1] & _ROW_MASK)] = True
                    break
                i = (i + 1) & mask
        for k in range(e_starts[p], e_starts[p + 1]):
            h = e[k, words]
            i = np.int64(h & np.uint64(mask))
            r = -1
            while True:
                s = slots[i]
                if s < 0:
                    break
                if hashes[i] == h and _same(o, s, e, k, words) and (
                        _short(o, s, words) or _same_tail(o, o_off, o_data, s, e, e_off, e_data, k, words)):
                    r = np.int64(o[s, words + 1] & _ROW_MASK)
                    break
                i = (i + 1) & mask
            order_row[k] = r


@njit(cache=True, nogil=True)
def _hash_repeats(hashes, shift, starts):
    """Whether any two ids share a hash (no shared hash proves no repeated id): the hashes alone,
    partitioned as the records would be and checked a partition at a time."""
    part = np.empty(len(hashes), np.uint64)
    nxt = starts[:-1].copy()
    for i in range(len(hashes)):
        p = hashes[i] >> shift
        part[nxt[p]] = hashes[i]
        nxt[p] += 1
    cap = _table_size(starts)
    table = np.empty(cap, np.uint64)
    used = np.zeros(cap, np.bool_)
    mask = cap - 1
    for p in range(len(starts) - 1):
        used[:] = False
        for k in range(starts[p], starts[p + 1]):
            h = part[k]
            i = np.int64(h & np.uint64(mask))
            while used[i]:
                if table[i] == h:
                    return True
                i = (i + 1) & mask
            used[i] = True
            table[i] = h
    return False


@njit(cache=True, nogil=True)
def _unpartition(hashes, shift, starts, values, out):
    """``out[i]`` = the value of id ``i``'s record: the scatter's walk again, so the reads run along each
    partition as its writes did (a write per id straight to its row would miss the cache each time)."""
    nxt = starts[:-1].copy()
    for i in range(len(hashes)):
        p = hashes[i] >> shift
        out[i] = values[nxt[p]]
        nxt[p] += 1
