"""Stratified sampling: random assignment that splits each stream's weight in exact proportions.

Independent draws per order or fill make share-weighted figures of a small venue swing by 10-30% from
month to month, because a few large orders carry much of the weight. The generator instead reads every
outcome that a review aggregates (routing, price-improvement band, limit fill, order size) off the
stratified positions below, so the figures the review computes per venue and month sit close to their
nominal values and the planted problems stand out from the noise. Which order gets which outcome stays
random.
"""

from __future__ import annotations

import numpy as np


def stratified_spans(
    rng: np.random.Generator, stream: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Lay each stream's items end to end, in random order, on a circle of circumference 1.

    Item ``i`` covers ``[start_i, start_i + width_i)`` (mod 1) with ``width_i`` = its weight over the
    stream's total weight; a random rotation per stream makes every item's position uniform.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the random order and rotations.
    stream : numpy.ndarray
        Integer stream key per item.
    weight : numpy.ndarray
        Positive weight per item (shares, or shares x quoted spread).

    Returns
    -------
    start, width : numpy.ndarray
        float64, in the input order; ``start`` in [0, 1).
    """
    n = len(stream)
    if n == 0:
        return np.zeros(0), np.zeros(0)
    order = np.lexsort((rng.random(n), stream))
    key, w = stream[order], np.asarray(weight, dtype=float)[order]
    is_first = np.r_[True, key[1:] != key[:-1]]
    first, group = np.flatnonzero(is_first), np.cumsum(is_first) - 1
    csum = np.cumsum(w)
    before = (csum - w)[first]
    total = np.add.reduceat(w, first)[group]
    start, width = np.empty(n), np.empty(n)
    start[order] = np.mod((csum - w - before[group]) / total + rng.random(len(first))[group], 1.0)
    width[order] = w / total
    return start, width


def stratified_uniform(rng: np.random.Generator, stream: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """One uniform per item: the midpoint of its span from :func:`stratified_spans`.

    Any interval of ``u`` (an outcome class) collects that share of each stream's weight, up to the
    items on its edges. Returns float64 in [0, 1), in the input order.
    """
    start, width = stratified_spans(rng, stream, weight)
    return np.minimum(np.mod(start + width / 2.0, 1.0), np.nextafter(1.0, 0.0))


def share_below(start: np.ndarray, width: np.ndarray, cut: np.ndarray) -> np.ndarray:
    """Fraction of each span ``[start, start + width)`` (mod 1) that lies in ``[0, cut)`` (mod 1).

    Used as the filled fraction of a resting limit order: summed over a stream, exactly ``cut`` of
    its weight, and a large order straddling the edge is filled in part.
    """

    def measure(x):  # length of [0, x) inside the periodic region
        return np.floor(x) * cut + np.minimum(np.mod(x, 1.0), cut)

    covered = measure(start + width) - measure(start)
    return np.where(width > 0, np.clip(covered / np.where(width > 0, width, 1.0), 0.0, 1.0), 0.0)


def latin_uniform(rng: np.random.Generator, stream: np.ndarray) -> np.ndarray:
    """Latin-hypercube uniforms: within a stream of ``m`` items, exactly one in each ``[k/m, (k+1)/m)``.

    Feeding them to a quantile function gives every stream (here symbol x month x order kind) the same
    spread of sizes, so a month's share volume does not hinge on how many giant orders it happened to
    draw. Returns float64 in (0, 1), in the input order.
    """
    n = len(stream)
    if n == 0:
        return np.zeros(0)
    order = np.lexsort((rng.random(n), stream))
    key = stream[order]
    is_first = np.r_[True, key[1:] != key[:-1]]
    first, group = np.flatnonzero(is_first), np.cumsum(is_first) - 1
    size = np.diff(np.r_[first, n])
    u = np.empty(n)
    u[order] = (np.arange(n) - first[group] + rng.uniform(0.01, 0.99, size=n)) / size[group]
    return u
