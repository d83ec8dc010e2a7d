"""The Parquet files a large store keeps beside it, in ``<store>.files/``.

From :data:`bestex_nb.build.layout.TABLES_BELOW_ORDERS` order rows up, when the orders and executions
extracts are single Parquet files, the store does not copy their 10M-row columns into DuckDB tables:
writing them was the largest cost of the build (at 10M orders x 100M quotes about 13 s of 35, against
well under a second to copy the two files). Instead the folder beside the store holds

- a byte-for-byte copy of ``orders.parquet`` and ``executions.parquet`` (hashed while copied: the
  SHA-256 recorded in ``input_files`` is the copy's), so the store never depends on the data folder
  staying as it was;
- the streaming lookups' answers (:mod:`bestex_nb.build.nbbo.answers`) as uncompressed Parquet, one row per
  order row and one per attributed fill;

and the store's ``stg_orders``, ``stg_executions``, ``nbbo_order_answers`` and ``nbbo_fill_answers`` are
views over them, so ``fct_orders_base`` and ``fct_fills_base`` are views of the same SQL as the tables of
a small store (tests/unit/test_store.py compares the two row by row).

Every file name starts with the build's random hex tag; the views name files without a folder, found
through DuckDB's ``file_search_path``, which :func:`bestex_nb.query.connect` sets to this folder: the
store and its folder can move together, and no path text enters SQL. A rebuild writes new tagged files
and removes the old ones after the new store is in place.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from bestex_nb.build.hashing import sha256_file
from bestex_nb.build.staging import SIDECAR_FILE
from bestex_nb.query import folder_of


class Sidecar:
    """The files one build writes: ``<tag>-<name>.parquet`` in :func:`folder_of` the final store."""

    def __init__(self, store: Path):
        self.folder = folder_of(store)
        if "," in str(self.folder):  # file_search_path is a comma-separated list
            raise ValueError(f"{self.folder}: a store folder path cannot contain a comma")
        self.tag = secrets.token_hex(16)
        self.written: list[str] = []
        self.folder.mkdir(parents=True, exist_ok=True)

    def name(self, what: str) -> str:
        name = f"{self.tag}-{what}.parquet"
        if not SIDECAR_FILE.match(name):
            raise ValueError(what)
        return name

    def write(self, what: str, table: pa.Table) -> str:
        """``table`` as ``<tag>-<what>.parquet``, uncompressed (integers that compress poorly, read once
        per query: writing them plain costs ~0.1 s per 10M-row column); returns the file name."""
        name = self.name(what)
        pq.write_table(table, self.folder / name, compression="none", use_dictionary=False,
                       write_statistics=False, row_group_size=1 << 20)
        self.written.append(name)
        return name

    def copy(self, what: str, source: Path) -> tuple[str, str]:
        """A byte-for-byte copy of ``source`` as ``<tag>-<what>.parquet``; returns (file name, SHA-256)."""
        name = self.name(what)
        self.written.append(name)
        return name, sha256_file(source, copy_to=self.folder / name)

    def discard(self) -> None:
        """Remove this build's files (the build failed)."""
        for name in self.written:
            (self.folder / name).unlink(missing_ok=True)
        try:
            os.rmdir(self.folder)
        except OSError:
            pass  # another build's files are still there

    def keep_only_mine(self) -> None:
        """Remove every other build's files (this build's store is now in place)."""
        prune(self.folder, keep=self.tag)


def prune(folder: Path, keep: str | None = None) -> None:
    """Remove the tagged files in ``folder`` except those of build ``keep``; the folder when empty."""
    if not folder.is_dir():
        return
    for f in folder.iterdir():
        if SIDECAR_FILE.match(f.name) and not f.name.startswith(f"{keep}-"):
            f.unlink(missing_ok=True)
    try:
        os.rmdir(folder)
    except OSError:
        pass  # not empty: this build's files, or something that is not ours
