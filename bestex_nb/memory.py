"""How the build's arrays get their memory.

numpy asks the kernel for transparent huge pages (``madvise(MADV_HUGEPAGE)``) for every array of 4 MB
or more. On a virtual machine whose host takes back the guest's free memory (virtio free page
reporting, as here: it reports free 2 MB blocks, exactly what a huge page is made of), a huge page is
memory the host must map afresh, while 4 kB pages come from memory the guest freed a moment ago. Measured
on this project's 2-core VM (``benchmarks/README.md``): the build's NBBO lookup step took 9.6-10.1 s
with 4 kB pages against 12.5-12.8 s with huge pages; sorting and summing 10M fills ran 3-5x faster.
On a machine without that reclaim the difference is small either way (a few more page faults against
fewer TLB misses), so the build asks for plain pages while it runs and restores numpy's setting after.
"""

from __future__ import annotations

from contextlib import contextmanager

try:  # numpy >= 2 (the project pins numpy); older numpy kept it in numpy.core
    from numpy._core.multiarray import _set_madvise_hugepage
except ImportError:  # pragma: no cover - a numpy without the switch: nothing to change
    _set_madvise_hugepage = None


@contextmanager
def small_pages():
    """Within the block numpy does not ask for huge pages for new arrays (process-wide: numpy's switch
    is global); numpy's previous setting is restored on leaving, also on an error."""
    if _set_madvise_hugepage is None:
        yield
        return
    previous = _set_madvise_hugepage(False)
    try:
        yield
    finally:
        _set_madvise_hugepage(previous)
