"""The replicates of the cell-matched comparison (:class:`bestex_nb.stats.comparison.CellMatched`), block by
block, in float64.

Every cell and every symbol-day lies in one block (symbol × month), so a replicate's sums in a block depend
only on how often it drew each of the block's symbol-days: its *tuple* of counts. Per block, the replicates
of a batch are reduced to their distinct tuples (with a few symbol-days per block, as in a short period, a
few dozen tuples stand for thousands of replicates; with twenty, each replicate has its own), and each
tuple is evaluated once: its per (venue, cell) sums are one product of the tuples with the block's dense
symbol-days × (pairs · quantities) sums, the cell-matched differences follow elementwise, and the results
are summed per block, tuple and review group. A replicate's group sums are then the sum over blocks of its
tuple's sums. The work grows with the blocks' symbol-days, cells and distinct tuples, never with orders.

The counts are drawn exactly as before (:func:`bootstrap.cluster_counts`, one stream, batch after batch),
so the replicates are the same resamples; their sums are float64 (the code before summed replicates in
float32, whose rounding moved intervals by about 1e-7 of their width).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from bestex_nb.stats.bootstrap import batches, cluster_counts

#: Threads evaluating chunks of blocks (numpy releases the GIL in this elementwise work).
THREADS = min(2, os.cpu_count() or 1)
#: Replicate × symbol-day counts held at once (float64): bounds the memory of a batch of replicates.
COUNTS_PER_BATCH = 8_000_000
#: (tuple, venue-cell) evaluations per chunk of blocks, times the quantities: bounds the working arrays.
UNITS_PER_CHUNK = 1_000_000
#: Replicate × block-group values gathered at once.
GATHER_ELEMENTS = 4_000_000
#: A block's tuples are deduplicated when there are at most this many possible ones (and fewer than
#: replicates): with a handful of symbol-days per block.
CODES_PER_BLOCK = 4096


class Blocks:
    """Per block: its symbol-days, its pair range, its dense sums and its review groups (built once)."""

    def __init__(self, row_block, row_cluster, row_pair, values, block_pairs, group_of_pair):
        n_blocks = len(block_pairs) - 1
        n_q = values.shape[1]
        n_clusters = int(row_cluster.max()) + 1 if len(row_cluster) else 1
        key, local = np.unique(row_block * n_clusters + row_cluster, return_inverse=True)
        key_block = key // n_clusters
        first = np.searchsorted(key_block, np.arange(n_blocks + 1))
        self.clusters = [key[first[b]:first[b + 1]] - b * n_clusters for b in range(n_blocks)]
        self.k = np.diff(first)
        self.j0, self.n_pairs = block_pairs[:-1], np.diff(block_pairs)
        size = self.k * self.n_pairs * n_q
        self.offset = np.r_[0, np.cumsum(size)]
        kl = local - first[row_block]  # the row's symbol-day within its block
        jl = row_pair - self.j0[row_block]
        pos = self.offset[row_block] + (kl * self.n_pairs[row_block] + jl) * n_q
        self.dense = np.zeros(int(self.offset[-1]))
        self.dense[pos[:, None] + np.arange(n_q)] = values
        # review groups local to a block (a block holds few of them), numbered in order of the global ones
        n_groups = int(group_of_pair.max()) + 1 if len(group_of_pair) else 1
        pair_block = np.repeat(np.arange(n_blocks), self.n_pairs)
        gkey, lgroup = np.unique(pair_block * n_groups + group_of_pair, return_inverse=True)
        gfirst = np.searchsorted(gkey // n_groups, np.arange(n_blocks + 1))
        self.pair_lgroup = lgroup - gfirst[pair_block]
        self.n_lgroups = np.diff(gfirst)
        self.lgroup_global = gkey % n_groups
        self.lgroup_offset = gfirst[:-1]
        self.n_q = n_q

    def matrix(self, b: int) -> np.ndarray:
        return self.dense[self.offset[b]:self.offset[b + 1]].reshape(self.k[b], -1)


def tuples(counts: np.ndarray, blocks: Blocks, ids: np.ndarray):
    """Per block of ``ids``: the distinct rows of its replicates × symbol-days counts and each replicate's
    row among them (with ``None``: every replicate is its own row), for blocks with few symbol-days."""
    nb = counts.shape[0]
    base = int(counts.max()) + 1 if counts.size else 1
    out = [None] * len(ids)
    for k in np.unique(blocks.k[ids]):
        same = np.flatnonzero(blocks.k[ids] == k)
        n_codes = base ** int(k)
        if k == 0 or n_codes > CODES_PER_BLOCK or n_codes > nb:
            continue  # as many distinct rows as replicates, nearly: no saving
        cols = np.stack([blocks.clusters[ids[i]] for i in same], axis=1)  # k × blocks
        code = np.zeros((nb, len(same)), dtype=np.int64)
        for i in range(int(k)):
            code = code * base + counts[:, cols[i]].astype(np.int64)
        key = code + np.arange(len(same)) * n_codes
        seen = np.bincount(key.ravel(), minlength=len(same) * n_codes).reshape(len(same), n_codes) > 0
        number = np.cumsum(seen, axis=1) - 1
        inverse = np.take_along_axis(number, code.T, axis=1)
        for j, i in enumerate(same):
            present = np.flatnonzero(seen[j])
            digits = (present[:, None] // base ** np.arange(int(k) - 1, -1, -1)) % base
            out[i] = (digits.astype(float), inverse[j])
    return out


def replicate_sums(est, n: int, seed: int, outputs) -> list[np.ndarray]:
    """Replicates × review groups × outputs sums of ``n`` resamples: ``outputs(own, other)`` gives, per
    (tuple, pair) unit, the values to sum (one row per output); ``est`` is the CellMatched."""
    rng = np.random.default_rng(seed)
    per = max(1, COUNTS_PER_BATCH // max(1, est.n_clusters))
    return [_batch(est, cluster_counts(est.n_clusters, b, rng), outputs) for b in batches(n, per)]


def _batch(est, counts: np.ndarray, outputs) -> np.ndarray:
    blocks = est.blocks
    nb, n_blocks = counts.shape[0], len(blocks.k)
    found = tuples(counts, blocks, np.arange(n_blocks))
    chunks, chunk, units = [], [], 0
    for b in range(n_blocks):
        t, inv = found[b] if found[b] is not None else (counts[:, blocks.clusters[b]], None)
        chunk.append((b, t, inv))
        units += len(t) * blocks.n_pairs[b] * blocks.n_q
        if units >= UNITS_PER_CHUNK or b == n_blocks - 1:
            chunks.append(chunk)
            chunk, units = [], 0
    workers = max(1, min(THREADS, len(chunks)))
    if workers > 1:  # numpy releases the GIL in this work; the parts are added in order, as with one thread
        with ThreadPoolExecutor(workers, thread_name_prefix="bestex-bootstrap") as pool:
            parts = list(pool.map(lambda c: _chunk(est, c, nb, outputs), chunks))
    else:
        parts = [_chunk(est, c, nb, outputs) for c in chunks]
    result = parts[0] if parts else np.zeros((nb, len(est.groups), 0))
    for part in parts[1:]:
        result = result + part
    return result


def _chunk(est, chunk, nb, outputs) -> np.ndarray:
    blocks = est.blocks
    ids = np.array([b for b, _, _ in chunk])
    n_t = np.array([len(t) for _, t, _ in chunk])
    n_p = blocks.n_pairs[ids]
    # units (block, tuple, pair), block by block and tuple by tuple: each cell's pairs are contiguous
    # einsum, not @: a multi-threaded BLAS on a busy machine spends longer synchronising than computing
    own = np.concatenate([np.einsum("tk,kj->tj", t, blocks.matrix(b)).reshape(-1, blocks.n_q)
                          for b, t, _ in chunk])
    own = np.ascontiguousarray(own.T)
    n_units = n_t * n_p
    unit_block = np.repeat(np.arange(len(ids)), n_units)
    local = np.arange(own.shape[1]) - np.repeat(np.r_[0, np.cumsum(n_units)[:-1]], n_units)
    tuple_offset = np.r_[0, np.cumsum(n_t)[:-1]]
    tuple_of_unit = tuple_offset[unit_block] + local // n_p[unit_block]
    pair = blocks.j0[ids][unit_block] + local % n_p[unit_block]
    cell = est.cell_of_pair[pair]
    new = np.r_[True, (cell[1:] != cell[:-1]) | (tuple_of_unit[1:] != tuple_of_unit[:-1])]
    starts = np.flatnonzero(new)
    other = np.repeat(np.add.reduceat(own, starts, axis=1), np.diff(np.r_[starts, len(new)]), axis=1) - own
    values = outputs(own, other)  # outputs × units
    n_l = int(blocks.n_lgroups[ids].max())
    slot = tuple_of_unit * n_l + blocks.pair_lgroup[pair]
    n_slots = int(n_t.sum()) * n_l
    sums = np.stack([np.bincount(slot, weights=v, minlength=n_slots) for v in values], axis=1)
    sums = sums.reshape(-1, n_l, len(values))  # tuples × local groups × outputs
    # each replicate's tuple in each block, summed over the blocks whose local groups are the same review
    # groups (blocks of one kind of symbol), then added into those groups
    inv = np.stack([tuple_offset[i] + (c[2] if c[2] is not None else np.arange(nb))
                    for i, c in enumerate(chunk)], axis=1)  # replicates × blocks: the tuple
    global_of = np.full((len(ids), n_l), -1)
    for i, b in enumerate(ids):
        global_of[i, :blocks.n_lgroups[b]] = blocks.lgroup_global[blocks.lgroup_offset[b]:
                                                                  blocks.lgroup_offset[b] + blocks.n_lgroups[b]]
    kinds, kind_of_block = np.unique(global_of, axis=0, return_inverse=True)
    out = np.zeros((nb, len(est.groups), len(values)))
    step = max(1, GATHER_ELEMENTS // max(1, nb * n_l * len(values)))
    for kind, groups in enumerate(kinds):
        members = np.flatnonzero(kind_of_block.ravel() == kind)
        acc = np.zeros((nb, n_l, len(values)))
        for a in range(0, len(members), step):
            acc += sums[inv[:, members[a:a + step]]].sum(axis=1)
        out[:, groups[groups >= 0]] += acc[:, groups >= 0]
    return out
