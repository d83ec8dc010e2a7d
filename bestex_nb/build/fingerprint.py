"""Inputs identified by their content: what the store records of each input file, and the check that
the files still hold the bytes the store was built from.

The store's ``input_stats`` table holds, per input file, its absolute path, the SHA-256 of the bytes the
build read, and the file's status as it was then: size, mtime_ns, ctime_ns, inode and device. A file
whose status still equals the recorded one is trusted unchanged without reading it (a stat, not a hash:
opening a store stays cheap). Any other file is hashed and compared with the recorded SHA-256: the same
bytes (a file only touched, or copied back in place) keep the store; other bytes make it stale.

Why the status can be trusted: ``cp -p``, ``rsync -t`` and tar extraction set a file's mtime back, but
not its ctime, which the kernel sets to the current time on every write or metadata change and no
system call sets back (only changing the system clock or editing the disk would). A file rewritten in
place with its size kept and its mtime restored therefore has a new ctime; a file replaced by another
(rename, rsync's temporary file) has a new inode as well. See docs/methods.md, "Store reuse".
"""

from __future__ import annotations

import os
from pathlib import Path

from bestex_nb.build.hashing import sha256_file

#: The table of the store recording each input's status and SHA-256 (``input_files``, which the
#: evidence shows, keeps its columns: path relative to the data folder, bytes, sha256).
TABLE = "input_stats"


def file_status(path: str | os.PathLike[str]) -> tuple[int, int, int, int, int]:
    """(size, mtime_ns, ctime_ns, inode, device) of ``path``."""
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev


def record(con, files: list[Path], hashes: dict[Path, str]) -> None:
    """Create ``input_stats`` on ``con``: each file's absolute path, status now and SHA-256 (``hashes``)."""
    con.execute(f"create or replace table {TABLE} (path varchar, bytes bigint, mtime_ns bigint, "
                "ctime_ns bigint, inode ubigint, device ubigint, sha256 varchar)")
    rows = []
    for f in files:
        size, mtime, ctime, ino, dev = file_status(f)
        rows.append({"p": str(Path(f).resolve()), "b": size, "m": mtime, "c": ctime, "i": ino, "d": dev,
                     "s": hashes[f]})
    if rows:
        con.executemany(f"insert into {TABLE} values ($p, $b, $m, $c, $i, $d, $s)", rows)


def recorded(con) -> list[tuple] | None:
    """The rows of ``input_stats`` (None when the store has no such table: built by older code)."""
    if not con.execute("select count(*) from information_schema.tables where table_name = $t",
                       {"t": TABLE}).fetchall()[0][0]:
        return None
    return con.execute(f"select path, bytes, mtime_ns, ctime_ns, inode, device, sha256 from {TABLE}").fetchall()


def unchanged(rows: list[tuple]) -> bool:
    """Whether every recorded file still holds the bytes it held at the build: same status (a stat), or
    else the same SHA-256 (the file is read). A missing file or another size is a change."""
    for path, size, mtime, ctime, ino, dev, sha in rows:
        try:
            now = file_status(path)
        except OSError:
            return False
        if now == (size, mtime, ctime, ino, dev):
            continue
        if now[0] != size or sha256_file(path) != sha:
            return False
    return True
