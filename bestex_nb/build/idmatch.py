"""The build's text-id work in one compiled pass: which order ids repeat, which order row each fill's
order id names, and whether any execution id repeats (metrics.md "Exclusions"; the contract's unique
``execution_id``).

DuckDB answers these with three hash tables over 10M texts each (a GROUP BY of the order ids, a GROUP
BY of the execution ids and a join of the fills to the orders on the text id: about 4 s of the build
at 10M orders on two cores). Here the ids arrive as Arrow strings (one fetch per column) and are
matched on their bytes:

* every id is hashed over all its bytes, and the ids are **partitioned** by the hash's top bits, each
  copied with its first ``8 * words`` bytes (zero padded: the "key"), its length and its row into the
  partition's stretch of one array (a counting sort: two sequential passes);
* each partition (about ten thousand ids at 10M: :data:`PART_TARGET`) is then matched in a small
  open-addressing table that stays in the CPU cache: orders inserted, fills probed.

Equality is **exact**: two ids match only when their lengths, their keys and (for ids longer than the
key, ``> 8 * words`` bytes) the rest of their bytes are equal; the hash only decides where to look.
``words`` covers the longest id up to :data:`MAX_WORDS` words, so ids of up to 32 bytes are compared
inside the partition and only longer ones read their tails from the Arrow buffers.

What a build does with the answers (:mod:`bestex_nb.build.nbbo`, :mod:`bestex_nb.build.store`): the order rows
whose id repeats become ``int_duplicate_order_ids`` (every copy excluded as duplicate_order_id); each
fill's order row gives its symbol, the fill sums and whether it is attributed (an id that occurs once);
a fill whose id matches no order row is an orphan; a repeated execution id stops the build with the
staging error that names the rows.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from numba import njit

from bestex_nb.build.nbbo_kernels import readonly

#: Key width cap (8-byte words): ids up to 32 bytes are matched on their keys alone.
MAX_WORDS = 4
#: Ids per partition the partitioning aims at: a partition's records and table fit in the L2 cache, and
#: there are few enough partitions (about a thousand at 10M ids) for the scatter's write streams to
#: stay in the TLB.
PART_TARGET = 16384
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


def _chunks(ids) -> list[tuple[np.ndarray, np.ndarray]]:
    """(offsets, bytes) of each chunk of a string column: Arrow's ``string`` without a copy; a large
    string or a string view is cast to one (int32 offsets, so the kernels are compiled once), or, past
    2 GB of text in one chunk, kept as a large string (int64 offsets). A string view goes through a large
    string: pyarrow casts it straight to ``string`` without checking the offsets fit. Nulls are refused
    (the contract has none where this is used; a null's slot may even span bytes)."""
    chunks = ids.chunks if isinstance(ids, pa.ChunkedArray) else [ids]
    out = []
    for c in chunks:
        if not (pa.types.is_string(c.type) or pa.types.is_large_string(c.type) or pa.types.is_string_view(c.type)):
            raise TypeError(f"ids must be strings, not {c.type}")
        if c.null_count:
            raise ValueError("ids must not be null")
        if pa.types.is_string_view(c.type):
            c = c.cast(pa.large_string())
        if pa.types.is_large_string(c.type):
            try:
                c = c.cast(pa.string())
            except pa.ArrowInvalid:  # offsets past 2^31: stay a large string
                pass
        width = np.int32 if pa.types.is_string(c.type) else np.int64
        offsets = np.frombuffer(c.buffers()[1], width)[c.offset: c.offset + len(c) + 1] if len(c) else \
            np.zeros(1, width)
        data = c.buffers()[2]
        data = np.frombuffer(data, np.uint8) if data is not None and data.size else np.zeros(1, np.uint8)
        out.append((readonly(offsets), readonly(data)))  # one compiled version (bestex_nb.build.nbbo_kernels.readonly)
    return out


def _flat(chunks: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """One (int64 offsets, bytes) for all chunks: only ids longer than the key need it (their tails are
    compared from it), so the copy is made only then."""
    if not chunks:
        return np.zeros(1, np.int64), np.zeros(1, np.uint8)
    parts, offsets, at = [], [np.zeros(1, np.int64)], 0
    for off, data in chunks:
        used = data[off[0]:off[-1]]
        offsets.append(off[1:].astype(np.int64) - off[0] + at)
        parts.append(used)
        at += len(used)
    return np.concatenate(offsets), np.concatenate(parts) if at else np.zeros(1, np.uint8)


def _bits(n: int) -> int:
    """Partition bits for ``n`` ids: at least one (a shift by 64 is undefined), at most 20."""
    bits = 1
    while (n >> bits) > PART_TARGET:
        bits += 1
    return min(bits, 20)


class _Column:
    """One column of ids: its chunks, each id's hash and the partition counts (first pass)."""

    def __init__(self, ids, bits: int):
        self.chunks = _chunks(ids)
        self.n = sum(len(off) - 1 for off, _ in self.chunks)
        if self.n >= 1 << 40:  # a record keeps the row in 40 bits
            raise ValueError("more than 2^40 ids")
        self.shift = np.uint64(64 - bits)
        counts = np.zeros((1 << bits) + 1, np.int64)
        self.hashes = np.empty(self.n, np.uint64)
        base, self.longest = 0, 0
        for off, data in self.chunks:
            self.longest = max(self.longest, int(_hashes(off, data, base, self.shift, counts, self.hashes)))
            base += len(off) - 1
        if self.longest >= 1 << 24:  # a record keeps the length in the 24 bits above the row
            raise ValueError("an id of 16 MiB or more")
        self.starts = np.cumsum(counts)

    def partition(self, words: int, rec: np.ndarray | None = None) -> np.ndarray:
        """The records, in partition order (into ``rec`` when it is large enough: a buffer reused)."""
        if rec is None or rec.shape[0] < self.n or rec.shape[1] != words + 2:
            rec = np.empty((self.n, words + 2), np.uint64)
        rec = rec[:self.n]
        nxt = self.starts[:-1].copy()
        base = 0
        for off, data in self.chunks:
            _scatter(off, data, base, self.hashes, self.shift, nxt, words, rec)
            base += len(off) - 1
        return rec

    def flat(self, words: int) -> tuple[np.ndarray, np.ndarray]:
        return _flat(self.chunks) if self.longest > 8 * words else (np.zeros(1, np.int64), np.zeros(1, np.uint8))


@dataclass
class IdMatch:
    """The answers, indexed by row number: ``order_repeated[r]`` (the id of order row ``r`` occurs on
    another order row too), ``fill_order_row[e]`` (the order row whose id execution row ``e`` names, the
    lowest such row when the id repeats; −1: no order row), and ``execution_id_repeats`` (rows whose
    execution id occurs on another row too; 0 unless the extract breaks the contract)."""

    order_repeated: np.ndarray
    fill_order_row: np.ndarray
    execution_id_repeats: int


def match(order_ids, fill_order_ids, execution_ids) -> IdMatch:
    """Match the ids (Arrow string arrays or chunked arrays, each in row order: element ``r`` is row
    ``r``): every order row's id (``order_ids``), every execution row's order id and execution id.

    The kernels release the GIL, so the columns are hashed and partitioned on two threads (the orders'
    on one, the fills' on the other), and the execution ids are checked while the orders are matched."""
    bits = _bits(max(len(order_ids), len(fill_order_ids), 1))
    with ThreadPoolExecutor(max_workers=2) as pool:
        o_job = pool.submit(_Column, order_ids, bits)
        e = _Column(fill_order_ids, bits)
        x = _Column(execution_ids, bits)
        o = o_job.result()
        words = max(1, min(MAX_WORDS, (max(o.longest, e.longest, x.longest) + 7) // 8))
        o_job = pool.submit(o.partition, words)
        e_rec = e.partition(words)
        o_rec = o_job.result()
        x_job = pool.submit(_hash_repeats, x.hashes, x.shift, x.starts)
        (o_off, o_data), (e_off, e_data) = o.flat(words), e.flat(words)
        repeated = np.zeros(o.n, np.bool_)
        matched = np.empty(e.n, np.int64)
        _match(o_rec, o.starts, o_off, o_data, e_rec, e.starts, e_off, e_data, words, repeated, matched)
        order_row = np.empty(e.n, np.int64)
        _unpartition(e.hashes, e.shift, e.starts, matched, order_row)
        del matched, e_rec
        repeats = 0
        if x_job.result():  # two execution ids share a hash: only then compare the ids themselves
            x_rec = x.partition(words, o_rec)  # the orders' records are done with: their memory is reused
            x_off, x_data = x.flat(words)
            x_repeated = np.zeros(x.n, np.bool_)  # the execution ids matched against themselves, no fills
            _match(x_rec, x.starts, x_off, x_data, x_rec[:0], np.zeros_like(x.starts), x_off, x_data, words,
                   x_repeated, np.empty(0, np.int64))
            repeats = int(x_repeated.sum())
    return IdMatch(repeated, order_row, repeats)


def in_row_order(table: pa.Table, column: str = "row_no") -> pa.Table:
    """``table`` ordered by its row numbers (``column``): as it is when a plain scan kept the file order
    (checked, no copy), sorted otherwise (a folder of Parquet files, whose row numbers come from a join)."""
    from bestex_nb.build.nbbo_kernels import is_identity

    if not is_identity(table[column]):
        table = table.take(pa.array(np.argsort(table[column].to_numpy(), kind="stable")))
        if not is_identity(table[column].to_numpy()):
            raise ValueError("row numbers are not 0..n-1")
    return table


def match_store(con) -> IdMatch:
    """:func:`match` on the build's staged orders and executions (``staging/idmatch_orders``,
    ``idmatch_executions``), and the order rows whose id repeats registered on the connection as
    ``int_order_id_repeats`` (row_no), which ``staging/int_duplicate_order_ids`` and
    ``int_repeated_id_fills`` read."""
    from bestex_nb import query

    orders = in_row_order(query.arrow(con, "staging/idmatch_orders"))
    fills = in_row_order(query.arrow(con, "staging/idmatch_executions"))
    found = match(orders["order_id"], fills["order_id"], fills["execution_id"])
    con.register("int_order_id_repeats", pa.table({"row_no": pa.array(np.flatnonzero(found.order_repeated),
                                                                     pa.int64())}))
    return found


def warm_up() -> None:
    """Compile (or load from numba's cache) every kernel on a tiny input: repeated ids, ids longer than
    the longest key, a fill of no order and a repeated execution id."""
    long = "x" * (8 * MAX_WORDS + 3)
    match(pa.array(["a", "bb", "a", long, long + "y"]), pa.array(["a", long, "zz"]),
          pa.array(["f1", "f2", "f1"]))
