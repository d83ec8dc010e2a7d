"""Housekeeping around a build: its lock, the temporaries it writes, what a killed build left behind, and
the build-only views that would keep a store reading the data folder.

A build of the store ``<store>`` writes beside it (and nowhere else):

- ``<store>.building-<pid>``: the store being built, renamed onto ``<store>`` once complete;
- ``<store>.building-<pid>.wal``: DuckDB's write-ahead log of that file;
- ``<store>.building-<pid>.tmp/``: DuckDB's ``temp_directory`` (intermediates spilled to disk);
- for a large store, ``<store>.files/<tag>-*.parquet`` (:mod:`bestex_nb.build.sidecar`): a failed build
  removes its own; a successful build removes every other build's;
- ``<store stem>.lock``: the lock, an empty file left in place (its ``flock`` dies with its process).

A build removes its own temporaries whether it succeeds or fails (:func:`remove_build_files`); a build
that was killed cannot, so the next build, holding the lock, first removes the temporaries of processes
that are gone (:func:`remove_stale`).
"""

from __future__ import annotations

import fcntl
import glob
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import duckdb

from bestex_nb.contract.errors import BestexError

BUILDING = ".building-"


def lock_path(store: Path) -> Path:
    return store.with_suffix(".lock")


def _open_lock(path: Path):
    return open(path, "w")


@contextmanager
def lock(store: Path):
    """Hold the build lock of ``store``; a folder where it cannot be created (read-only) is a
    :class:`~bestex_nb.contract.errors.BestexError` naming the folder."""
    try:
        store.parent.mkdir(parents=True, exist_ok=True)
        fh = _open_lock(lock_path(store))
    except OSError as exc:
        raise BestexError(
            f"{store.parent}: cannot build the review store {store.name} there "
            f"({exc.strerror or exc}; a read-only folder?). An up-to-date store opens from a read-only "
            "folder; to build or rebuild one, name a writable place (BESTEX_STORE_DIR, or store=)") from exc
    with fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def building_path(store: Path, pid: int | None = None) -> Path:
    """The file a build by process ``pid`` (this one by default) writes the store into."""
    return store.with_name(f"{store.name}{BUILDING}{os.getpid() if pid is None else pid}")


def build_files(tmp: Path) -> list[Path]:
    """The temporaries of the build writing ``tmp``: the file, its WAL and its temp_directory."""
    return [tmp, Path(f"{tmp}.wal"), Path(f"{tmp}.tmp")]


def remove_build_files(tmp: Path) -> None:
    for f in build_files(tmp):
        if f.is_dir() and not f.is_symlink():
            shutil.rmtree(f, ignore_errors=True)
        else:
            f.unlink(missing_ok=True)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def remove_stale(store: Path) -> list[int]:
    """Remove the temporaries of builds of ``store`` by processes that are gone (or by this process: under
    the lock no build of it is running); returns their pids. Call it holding the lock."""
    pids = set()
    for f in store.parent.glob(glob.escape(store.name) + BUILDING + "*"):
        digits = f.name[len(store.name) + len(BUILDING):].split(".", 1)[0]
        if digits.isdigit() and int(digits) > 0:
            pids.add(int(digits))
    stale = sorted(p for p in pids if p == os.getpid() or not pid_alive(p))
    for pid in stale:
        remove_build_files(building_path(store, pid))
    return stale


def drop_input_views(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the stored views staging created over the input files (``raw_*``: DuckDB relations'
    ``create_view`` stores them in the database, with the files' absolute paths). Only the build reads them;
    left in the store they would be its one tie to the data folder."""
    names = [r[0] for r in con.execute(
        "select view_name from duckdb_views() where not temporary and not internal "
        "and database_name = current_database() and schema_name = 'main' and view_name like 'raw\\_%' escape '\\'"
    ).fetchall()]
    for name in names:
        con.execute(f'drop view if exists main."{name}"')
