"""The store in awkward places (issue 17, item 5): opened from a read-only folder when up to date, cleaned
up after a failed or killed build, and self-contained once built (reads nothing from the data folder).

Tests run as root, where permission bits do not stop a write: a read-only folder is simulated by making
the lock's creation fail (EROFS, EACCES), or by a directory standing where the lock file goes."""

import errno
import os
import signal
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import read_csv_typed, write_extracts
from fixtures.pi_case import FILLS, ORDERS, QUOTES

import bestex_nb
from bestex_nb import query
from bestex_nb.build import cleanup, layout, store
from bestex_nb.build.store import build
from bestex_nb.contract.errors import BestexError


@pytest.fixture
def data(tmp_path):
    return write_extracts(tmp_path / "data", ORDERS, FILLS, QUOTES)


def parquet_copy(data: Path, folder: Path) -> Path:
    folder.mkdir()
    for name in ("orders", "executions", "venues", "securities", "nbbo"):
        pq.write_table(read_csv_typed(data / f"{name}.csv"), folder / f"{name}.parquet")
    return folder


def read_only_lock(monkeypatch, err=errno.EROFS):
    def refuse(path):
        raise OSError(err, os.strerror(err), str(path))
    monkeypatch.setattr(cleanup, "_open_lock", refuse)


def test_up_to_date_store_opens_from_a_read_only_folder(data, tmp_path, monkeypatch):
    folder = tmp_path / "stores"
    s = folder / "s.duckdb"
    build(data, s)
    read_only_lock(monkeypatch)
    os.chmod(s, 0o444)
    os.chmod(folder, 0o555)
    try:
        before = sorted(p.name for p in folder.iterdir())
        with bestex_nb.open_review(data, s) as review:  # build=True: checks, finds it up to date, opens
            assert review.price_improvement("2026Q3", ["venue"])["orders"].sum() == 5
        assert build(data, s).reused
        assert sorted(p.name for p in folder.iterdir()) == before
    finally:
        os.chmod(folder, 0o755)
        os.chmod(s, 0o644)


def test_reusing_a_store_needs_no_lock_file(data, tmp_path):
    s = tmp_path / "s.duckdb"
    build(data, s)
    cleanup.lock_path(s).unlink()
    assert build(data, s).reused
    assert not cleanup.lock_path(s).exists()


def change_content(path) -> None:
    """New bytes in an input (a blank line at the end: the same rows), so a rebuild is due: the store
    is reused while every input holds the bytes it was built from, whatever its times say."""
    with open(path, "a") as f:
        f.write("\n")


@pytest.mark.parametrize("err", [errno.EROFS, errno.EACCES])
def test_a_rebuild_in_a_read_only_folder_names_the_folder(data, tmp_path, monkeypatch, err):
    s = tmp_path / "stores" / "s.duckdb"
    build(data, s)
    change_content(data / "nbbo.csv")  # inputs changed: a rebuild is due
    read_only_lock(monkeypatch, err)
    with pytest.raises(BestexError, match=f"{tmp_path / 'stores'}: cannot build the review store s.duckdb"):
        bestex_nb.open_review(data, s)
    with pytest.raises(BestexError, match="read-only"):
        build(data, tmp_path / "stores" / "new.duckdb")  # no store yet


def test_a_lock_that_cannot_be_opened_is_a_clear_error(data, tmp_path):
    """Unmocked: a directory where the lock file goes cannot be opened for writing, even by root."""
    s = tmp_path / "s.duckdb"
    cleanup.lock_path(s).mkdir()
    with pytest.raises(BestexError, match=str(tmp_path)):
        build(data, s)
    assert not s.exists()


def leftovers(folder: Path, s: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in {s.name, cleanup.lock_path(s).name})


@pytest.mark.parametrize("large", [False, True])
def test_a_failed_build_removes_its_temporaries(data, tmp_path, monkeypatch, large):
    """The build fails late (after the quote pass, with DuckDB's temp_directory in use); nothing of it
    stays: not the file being built, its WAL, its temp_directory, nor (large store) the sidecar files."""
    if large:
        data = parquet_copy(data, tmp_path / "pq")
        monkeypatch.setattr(layout, "TABLES_BELOW_ORDERS", 0)
    folder = tmp_path / "stores"
    s = folder / "s.duckdb"

    def fail(con):
        tmp = cleanup.building_path(s)
        assert tmp.exists()
        Path(f"{tmp}.tmp").mkdir(exist_ok=True)
        (Path(f"{tmp}.tmp") / "spill.block").write_bytes(b"x")  # as DuckDB spilling to disk would
        assert (store.folder_of(s).is_dir()) == large
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "_exclusions", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        build(data, s)
    assert leftovers(folder, s) == [] and not s.exists()


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_the_next_build_removes_what_builds_of_dead_processes_left(data, tmp_path):
    folder = tmp_path / "stores"
    folder.mkdir()
    s = folder / "s.duckdb"
    dead = cleanup.building_path(s, dead_pid())
    dead.write_bytes(b"half a store")
    Path(f"{dead}.wal").write_bytes(b"wal")
    Path(f"{dead}.tmp").mkdir()
    (Path(f"{dead}.tmp") / "duckdb_temp_storage-0.tmp").write_bytes(b"x")
    mine = cleanup.building_path(s)  # this process's, from an earlier build that could not clean up
    mine.write_bytes(b"x")
    alive = cleanup.building_path(s, os.getppid())  # a live process's (not ours to touch)
    alive.write_bytes(b"x")
    other = folder / "other.duckdb.building-1.wal"  # another store's
    other.write_bytes(b"x")
    store.folder_of(s).mkdir()
    (store.folder_of(s) / ("ab" * 16 + "-orders.parquet")).write_bytes(b"a killed large build's copy")
    report = build(data, s)
    assert not report.reused
    assert leftovers(folder, s) == sorted([alive.name, other.name])
    with bestex_nb.open_review(data, s, build=False) as review:
        assert review.price_improvement("2026Q3", ["venue"])["orders"].sum() == 5


KILLED_BUILD = """
import os, signal, sys
from bestex_nb.build import layout, store
def die(con):
    con.execute("checkpoint")
    os.kill(os.getpid(), signal.SIGKILL)
store._exclusions = die
if sys.argv[3] == "large":
    layout.TABLES_BELOW_ORDERS = 0
store.build(sys.argv[1], sys.argv[2])
"""


@pytest.mark.parametrize("large", [False, True])
def test_a_killed_build_leaves_nothing_the_next_build_does_not_remove(data, tmp_path, large):
    """A real SIGKILL in the middle of a build (after the quote pass)."""
    if large:
        data = parquet_copy(data, tmp_path / "pq")
    folder = tmp_path / "stores"
    s = folder / "s.duckdb"
    proc = subprocess.run([sys.executable, "-c", KILLED_BUILD, str(data), str(s), "large" if large else "small"],
                          check=False, capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    left = leftovers(folder, s)
    assert any(".building-" in n for n in left) and not s.exists()
    if large:
        assert any(store.folder_of(s).iterdir())
    report = build(data, s)
    assert not report.reused and leftovers(folder, s) == []
    assert build(data, s).reused


def test_failed_rebuild_keeps_the_old_store(data, tmp_path, monkeypatch):
    s = tmp_path / "s.duckdb"
    build(data, s)

    def fail(con):
        raise RuntimeError("boom")

    monkeypatch.setattr(store, "_exclusions", fail)
    with pytest.raises(RuntimeError):
        build(data, s, force=True)  # a rebuild that fails late
    assert leftovers(tmp_path, s) == ["data"]
    monkeypatch.undo()
    with query.connect(s) as con:
        assert con.execute("select count(*) from fct_orders").fetchall()[0][0] == 5


@pytest.mark.parametrize("kind", ["csv", "parquet", "parquet_large", "csv_large"])
def test_a_built_store_reads_nothing_from_the_data_folder(data, tmp_path, monkeypatch, kind):
    """Build, then move the data folder away: every stored view still reads, and a Review gives the
    facts, exclusions and reconciliation. A large store reads the files beside it (<store>.files), which
    move with it."""
    if kind.startswith("parquet"):
        data = parquet_copy(data, tmp_path / "pq")
    if kind.endswith("large"):
        monkeypatch.setattr(layout, "TABLES_BELOW_ORDERS", 0)
    s = tmp_path / "stores" / "s.duckdb"
    build(data, s)
    assert store.folder_of(s).is_dir() == (kind == "parquet_large")
    data.rename(tmp_path / "moved")
    moved = tmp_path / "elsewhere"
    s.parent.rename(moved)  # the store and the folder beside it move together
    s = moved / "s.duckdb"
    with query.connect(s) as con:
        views = [r[0] for r in con.execute(
            "select view_name from duckdb_views() where not internal and not temporary").fetchall()]
        assert not [v for v in views if v.startswith("raw_")]
        for v in views:
            con.execute(f'select count(*) from "{v}"').fetchall()
        assert con.execute("select count(*) from fct_orders").fetchall()[0][0] == 5
        assert con.execute("select count(*) from fct_fills").fetchall()[0][0] == len(FILLS)
    with bestex_nb.Review(s) as review:
        assert review.price_improvement("2026Q3", ["venue"])["orders"].sum() == 5
        review.exclusions()
        rec = review.reconciliation()
        assert len(rec) >= 2


def test_a_reader_spills_outside_a_read_only_store_folder(data, tmp_path):
    """A query larger than memory on a read-only connection spills under the system's temporary folder,
    never beside the store (a reader may not be able to write there), and the spill is gone on close."""
    s = tmp_path / "stores" / "s.duckdb"
    build(data, s)
    before = sorted(p.name for p in s.parent.iterdir())
    with query.connect(s) as con:
        spill = Path(con.execute("select current_setting('temp_directory')").fetchone()[0])
        assert s.parent not in spill.parents and spill != s.parent
        for setting in ("memory_limit = '100MB'", "threads = 1", "preserve_insertion_order = false",
                        "enable_progress_bar = false"):
            con.execute(f"set {setting}")
        n = con.execute("select count(*) from (select range as r, md5(range::varchar) as h "
                        "from range(4000000) order by h limit 3999999)").fetchone()[0]
        assert n == 3_999_999 and spill.is_dir()  # it did spill, there
    assert sorted(p.name for p in s.parent.iterdir()) == before
    assert not spill.exists()
