"""The build asks numpy for plain pages while it runs and gives numpy its setting back."""

import pytest
from numpy._core import multiarray

from bestex_nb.build import memory


@pytest.mark.parametrize("before", [True, False])
def test_small_pages_turns_numpys_huge_pages_off_inside_and_restores_them(before):
    previous = multiarray._set_madvise_hugepage(before)
    try:
        with memory.small_pages():
            assert multiarray._get_madvise_hugepage() is False
        assert multiarray._get_madvise_hugepage() is before
        with pytest.raises(RuntimeError), memory.small_pages():
            raise RuntimeError("a failed build")
        assert multiarray._get_madvise_hugepage() is before
    finally:
        multiarray._set_madvise_hugepage(previous)


def test_a_build_runs_with_small_pages(tmp_path, monkeypatch):
    from conftest import fill, order, quote, write_extracts

    from bestex_nb.build import store

    seen = []
    real = store._build_into

    def spy(*args, **kwargs):
        seen.append(multiarray._get_madvise_hugepage())
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "_build_into", spy)
    data = write_extracts(tmp_path / "data", [order("O1", "2026-07-01T14:00:00Z")],
                          [fill("E1", "O1", "2026-07-01T14:00:01Z", "100", "10.00")],
                          [quote("AAA", "2026-07-01T13:59:00Z", "9.99", "10.01")])
    previous = multiarray._set_madvise_hugepage(True)  # numpy's default on Linux; set, not assumed
    try:
        store.build(data, tmp_path / "s.duckdb")
        assert seen == [False]
        assert multiarray._get_madvise_hugepage() is True
    finally:
        multiarray._set_madvise_hugepage(previous)


def test_overlapping_blocks_on_two_threads_share_the_switch():
    """Two builds on two threads: the switch stays off until the last one leaves, then comes back."""
    import threading

    previous = multiarray._set_madvise_hugepage(True)
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    during = {}

    def a():
        with memory.small_pages():
            a_in.set()
            b_in.wait()
        a_out.set()

    def b():
        a_in.wait()
        with memory.small_pages():
            b_in.set()
            a_out.wait()
            during["b after a left"] = multiarray._get_madvise_hugepage()

    try:
        threads = [threading.Thread(target=a), threading.Thread(target=b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert during == {"b after a left": False}
        assert multiarray._get_madvise_hugepage() is True
    finally:
        multiarray._set_madvise_hugepage(previous)
