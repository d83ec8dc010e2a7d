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

What a build does with the answers (:mod:`bestex_nb.build.nbbo.answers`, :mod:`bestex_nb.build.store`): the order rows
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

from bestex_nb.build.arrays import in_row_order, readonly
from bestex_nb.build.idmatch_kernels import _hash_repeats, _hashes, _match, _scatter, _unpartition

#: Key width cap (8-byte words): ids up to 32 bytes are matched on their keys alone.
MAX_WORDS = 4
#: Ids per partition the partitioning aims at: a partition's records and table fit in the L2 cache, and
#: there are few enough partitions (about a thousand at 10M ids) for the scatter's write streams to
#: stay in the TLB.
PART_TARGET = 16384


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
        out.append((readonly(offsets), readonly(data)))  # one compiled version (bestex_nb.build.arrays.readonly)
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


def match_store(con) -> IdMatch:
    """:func:`match` on the build's staged orders and executions (``staging/idmatch_orders``,
    ``idmatch_executions``), and the order rows whose id repeats registered on the connection as
    ``int_order_id_repeats`` (row_no), which ``staging/int_duplicate_order_ids`` and
    ``int_repeated_id_fills`` read."""
    from bestex_nb.build import sql_steps

    orders = in_row_order(sql_steps.arrow(con, "staging/idmatch_orders"))
    fills = in_row_order(sql_steps.arrow(con, "staging/idmatch_executions"))
    found = match(orders["order_id"], fills["order_id"], fills["execution_id"])
    con.register("int_order_id_repeats", pa.table({"row_no": pa.array(np.flatnonzero(found.order_repeated),
                                                                     pa.int64())}))
    return found
