"""New York's clock for the build: each day's midnight and 16:00 close as UTC microseconds (the NBBO
lookups' same-day rule and markout clip), and UTC instants as New York wall-clock microseconds."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from numba import njit

from bestex_nb.build.arrays import BIG, NONE, readonly

NEW_YORK = ZoneInfo("America/New_York")
MICROS = 1_000_000
DAY_US = 86_400 * MICROS


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
