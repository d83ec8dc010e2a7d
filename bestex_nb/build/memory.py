"""How the build's arrays get their memory.

numpy asks the kernel for transparent huge pages (``madvise(MADV_HUGEPAGE)``) for every array of 4 MB
or more. On a virtual machine whose host takes back the guest's free memory (virtio free page
reporting, as here: it reports free 2 MB blocks, exactly what a huge page is made of), a huge page is
memory the host must map afresh, while 4 kB pages come from memory the guest freed a moment ago. Measured
on this project's 2-core VM (``benchmarks/README.md``, 4 alternating pairs): the build's NBBO lookup
step took 7.6-10.2 s with 4 kB pages against 12.5-13.3 s with huge pages; sorting and summing 10M fills
ran 3-5x faster.
On a machine without that reclaim the difference is small either way (a few more page faults against
fewer TLB misses), so the build asks for plain pages while it runs and restores numpy's setting after.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

try:  # numpy >= 2 (the project pins numpy); older numpy kept it in numpy.core
    from numpy._core.multiarray import _set_madvise_hugepage
except ImportError:  # pragma: no cover - a numpy without the switch: nothing to change
    _set_madvise_hugepage = None

_lock = threading.Lock()
_depth = 0  # blocks open now, in any thread: the switch is numpy's, one for the process
_saved = None  # numpy's setting before the first of them


@contextmanager
def small_pages():
    """Within the block numpy does not ask for huge pages for new arrays. numpy's switch is global, so
    blocks that overlap (two builds on two threads) share it: the first to enter turns it off, the last
    to leave restores numpy's setting from before the first, also on an error."""
    global _depth, _saved
    if _set_madvise_hugepage is None:
        yield
        return
    with _lock:
        if _depth == 0:
            _saved = _set_madvise_hugepage(False)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _set_madvise_hugepage(_saved)
