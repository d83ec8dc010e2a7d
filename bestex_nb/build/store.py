"""Build and open the review store: one DuckDB file per data folder, rebuilt only when inputs change.

The store lives outside the data folder (data folders may be read-only). By default it is
``$BESTEX_STORE_DIR`` or ``~/.cache/bestex_nb/stores``, named after the data folder plus a hash of its
absolute path. A build writes a temporary file and renames it into place, under a lock, so a notebook
never sees half a store and two builds never race; notebooks open it read-only.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import duckdb
import pandas as pd

from bestex_nb import query
from bestex_nb.build import cleanup, layout, sql_steps
from bestex_nb.build import fingerprint as content
from bestex_nb.build.hashing import sha256_file
from bestex_nb.build.memory import small_pages
from bestex_nb.build.pfof_checks import check_pfof_payments, check_pfof_rates
from bestex_nb.build.sidecar import Sidecar, prune
from bestex_nb.build.staging import Source, check_unique, find_sources, load_table, persist_view
from bestex_nb.contract.errors import BestexError, ExtractError
from bestex_nb.query import connect, folder_of

#: Extracts staged as checked views over their files rather than copied (large, read only by the build).
STREAMED = {"orders", "executions"}
#: Unique contract columns the build checks in :mod:`bestex_nb.build.idmatch` rather than in staging: the
#: execution ids are matched there anyway, with the fills' order ids against the orders'.
UNIQUE_IN_IDMATCH = {"executions": frozenset({"execution_id"})}
#: Macros the build creates first, in the store (the views that use them read them there): the exclusion
#: rulebook, which fct_orders, the exclusions and the reconciliation apply, and the order facts' queries
#: over the relations they read (fct_orders_base and fct_orders over all rows, the exclusions over some),
#: the fill facts' (fct_fills, and the build's per-order fill sums), and which orders each review covers
#: (macros/coverage, read by the metric files: created among the marts, once fct_orders exists). Which model
#: is a table or a view: :mod:`bestex_nb.build.layout`.
MACROS = ("macros/rulebook", "macros/order_facts", "macros/fill_facts")
STORE_FORMAT = 4


@dataclass
class BuildReport:
    """What a build did: the store path, whether it was reused, warnings and the reconciliation."""

    store: Path
    reused: bool
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    reconciliation: list[tuple[str, str, int]] = field(default_factory=list)

    def text(self) -> str:
        lines = [f"store: {self.store} ({'reused, inputs unchanged' if self.reused else f'built in {self.seconds:.1f} s'})"]
        lines += [f"warning: {w}" for w in self.warnings]
        lines += ["reconciliation of order rows (orders in = analysed + excluded):"]
        lines += [f"  {label:<38} {scope:<8} {n:>10,}" for label, scope, n in self.reconciliation]
        return "\n".join(lines)


def default_store_path(data_dir: str | os.PathLike) -> Path:
    """Where the store for ``data_dir`` lives unless the caller names one."""
    data_dir = Path(data_dir).resolve()
    root = Path(os.environ.get("BESTEX_STORE_DIR") or Path.home() / ".cache" / "bestex_nb" / "stores")
    tag = hashlib.sha256(str(data_dir).encode()).hexdigest()[:10]
    return root / f"{data_dir.name}-{tag}.duckdb"


def _build_sources(folder, prefix: str = "") -> list:
    """Every ``.py`` file under ``folder`` (the build's code, subpackages included) as (path relative to
    it, file), sorted by that path."""
    found = []
    for f in folder.iterdir():
        if f.is_dir() and f.name != "__pycache__":
            found += _build_sources(f, f"{prefix}{f.name}/")
        elif f.name.endswith(".py"):
            found.append((prefix + f.name, f))
    return sorted(found, key=lambda x: x[0])


def code_version() -> str:
    """Hash of the SQL and loader code: a store built by other code is rebuilt."""
    h = hashlib.sha256(str(STORE_FORMAT).encode())
    pkg = resources.files("bestex_nb")
    for name in sorted(p.name for p in pkg.joinpath("sql").iterdir()):
        folder = pkg.joinpath("sql", name)
        if folder.is_dir():
            for f in sorted(folder.iterdir(), key=lambda p: p.name):
                h.update(f.name.encode() + f.read_bytes())
    for rel, f in _build_sources(pkg.joinpath("build")):
        h.update(rel.encode() + f.read_bytes())
    for mod in (("contract", "extracts.py"), ("query.py",)):  # the contract's types; how SQL is bound
        h.update(pkg.joinpath(*mod).read_bytes())
    return h.hexdigest()


def input_files(sources: dict[str, Source]) -> list[tuple[str, Path]]:
    return [(name, f) for name, src in sorted(sources.items()) for f in src.files]


def fingerprint(sources: dict[str, Source]) -> str:
    """Identity of the inputs as a list (table, absolute path and size of every file) plus the code
    version. Their content is checked apart, by :func:`stored_fingerprint` (:mod:`.fingerprint`): a
    file's times say nothing about its bytes either way."""
    h = hashlib.sha256(code_version().encode())
    for name, f in input_files(sources):
        h.update(f"{name}|{f.resolve()}|{f.stat().st_size}\n".encode())
    return h.hexdigest()


def stored_fingerprint(store: Path) -> str | None:
    """The fingerprint a store was built for; None when there is no usable store (missing, unreadable,
    built by older code, an input file no longer holds the bytes the build read, or a file the store
    keeps beside it is gone or has another size). Inputs whose status is unchanged cost a stat; others
    are hashed (:func:`bestex_nb.build.fingerprint.unchanged`)."""
    if not store.exists():
        return None
    try:
        with duckdb.connect(str(store), read_only=True) as con:
            fp = con.execute("select value from build_info where key = 'fingerprint'").fetchall()[0][0]
            files = con.execute("select name, bytes from store_files").fetchall() if con.execute(
                "select count(*) from information_schema.tables where table_name = 'store_files'"
            ).fetchall()[0][0] else []
            stats = content.recorded(con)
    except (duckdb.Error, IndexError):
        return None
    if stats is None or not content.unchanged(stats):
        return None
    folder = folder_of(store.resolve())
    for name, size in files:
        f = folder / name
        if not f.is_file() or f.stat().st_size != size:
            return None
    return fp


@contextmanager
def _lock(store: Path):
    """The build lock (:func:`bestex_nb.build.cleanup.lock`): a read-only folder is a BestexError naming it."""
    with cleanup.lock(store):
        yield


def build(data_dir: str | os.PathLike, store: str | os.PathLike | None = None, *, force: bool = False,
          memory_limit: str | None = None, threads: int | None = None) -> BuildReport:
    """Load, validate and enrich the extracts in ``data_dir`` into a DuckDB store.

    Reuses the existing store when the inputs' fingerprint is unchanged. Raises
    :class:`~bestex_nb.contract.errors.ExtractError` on a schema problem; row problems become exclusions.
    """
    data_dir = Path(data_dir).resolve()
    store = Path(store).resolve() if store else default_store_path(data_dir)
    sources = find_sources(data_dir)
    fp = fingerprint(sources)
    # An up-to-date store is reused without the lock, so it opens from a read-only folder: the check
    # only reads, and a concurrent build replaces the store by a rename (atomic) and never edits it.
    if not force and stored_fingerprint(store) == fp:
        return _reused(store)
    with _lock(store):
        if not force and stored_fingerprint(store) == fp:  # built by another process while we waited
            return _reused(store)
        cleanup.remove_stale(store)  # what killed builds left
        started = time.perf_counter()
        tmp = cleanup.building_path(store)
        try:
            with small_pages():  # bestex_nb/build/memory.py: huge pages cost more than they save here
                warnings, side, reconciliation = _build_into(tmp, store, data_dir, sources, fp, memory_limit,
                                                             threads)
            os.replace(tmp, store)
            if side is None:
                prune(folder_of(store))  # files an earlier, larger build of this store left
            else:
                side.keep_only_mine()
        finally:  # this build's temporaries, whether it succeeded or failed
            cleanup.remove_build_files(tmp)
        return BuildReport(store, reused=False, seconds=time.perf_counter() - started, warnings=warnings,
                           reconciliation=reconciliation)


def _reused(store: Path) -> BuildReport:
    return BuildReport(store, reused=True, reconciliation=reconciliation_rows(store),
                       warnings=stored_warnings(store))


def _build_into(path: Path, final: Path, data_dir: Path, sources: dict[str, Source], fp: str,
                memory_limit: str | None, threads: int | None) -> tuple[list[str], Sidecar | None, list]:
    """Build the store ``final`` into the file ``path``; returns the warnings, for a large store its
    :class:`~bestex_nb.build.sidecar.Sidecar` (whose files are already beside ``final``), and the
    reconciliation rows (read on the build's connection, not by opening the store again)."""
    con = duckdb.connect(str(path))
    side = None
    try:
        con.execute("set TimeZone = 'UTC'")
        if memory_limit:
            con.execute("set memory_limit = $m", {"m": _duckdb_share(memory_limit)})
        if threads:
            con.execute("set threads = $t", {"t": int(threads)})
        con.execute("set temp_directory = $d", {"d": str(path) + ".tmp"})
        con.execute("set enable_progress_bar = false")
        for name in MACROS:
            sql_steps.define(con, name)
        # numba: only a build needs them, not a notebook opening the store
        from bestex_nb.build import idmatch
        from bestex_nb.build.nbbo import answers as nbbo_answers

        selects, ids = {}, None
        for name, src in sources.items():
            if name != "nbbo":
                selects[name] = load_table(con, src, view=name in STREAMED,
                                           unique_elsewhere=UNIQUE_IN_IDMATCH.get(name, frozenset()))
            if name == "pfof_rates":
                check_pfof_rates(con, src)  # raises, naming the overlapping rows
            if name == "pfof_payments":
                check_pfof_payments(con, src)  # raises, naming the rows whose month is not YYYY-MM
            if name == "executions":  # orders come first: the ids are matched before the other tables load
                ids = idmatch.match_store(con)
                if ids.execution_id_repeats:
                    check_unique(con, src, "execution_id")  # raises, naming the rows
        sql_steps.materialize(con, "staging/dim_symbol", "dim_symbol")
        load_table(con, sources["nbbo"], view=True)
        sql_steps.materialize(con, "staging/int_duplicate_order_ids", "int_duplicate_order_ids")

        n_orders = con.execute("select count(*) from stg_orders").fetchall()[0][0]
        small = n_orders < layout.TABLES_BELOW_ORDERS
        if not small and all(sources[t].kind == "parquet" for t in STREAMED):
            side = Sidecar(final)
            con.execute("set file_search_path = $p", {"p": str(side.folder)})

        def inputs():  # SHA-256 of every input; with a sidecar, orders and executions copied as hashed
            hashes, copies = {}, {}
            for name, f in input_files(sources):
                if side is not None and name in STREAMED:
                    copies[name], hashes[f] = side.copy(name, f)
                else:
                    hashes[f] = sha256_file(f)
            return hashes, copies

        # The inputs are hashed (and copied) on a thread while the quote pass runs: the kernel keeps one
        # core and DuckDB's Parquet reader about half the other; the hash (2 GB at 10M orders x 100M
        # quotes: 2.5 s) fits in the rest. hashlib and file reads and writes release the GIL.
        with ThreadPoolExecutor(max_workers=1) as pool:
            job = pool.submit(inputs)
            nbbo_answers.run(con, sidecar=side, ids=ids)
        hashes, copies = job.result()
        for name in copies:  # from here on the build reads the copies, as the store will
            persist_view(con, name, selects[name], copies[name])
        for name, table, form in layout.MARTS:
            if form is layout.Form.MACROS:
                sql_steps.define(con, name)
                continue
            sql_steps.materialize(con, name, table, **layout.materialize_kwargs(form, small=small,
                                                                                sidecar=side is not None))
        _exclusions(con)
        warnings = [
            f"executions {row[0]}: executed_venue {row[1]!r} is not in venues (fill kept)"
            for row in con.execute(
                "select execution_id, executed_venue from stg_executions "
                "where executed_venue is null or executed_venue not in (select venue_id from stg_venues) "
                "order by row_no"
            ).fetchall()
        ]
        _write_meta(con, data_dir, sources, fp, warnings, hashes)
        con.execute("create or replace table store_files (name varchar, bytes bigint)")
        if side is not None:
            con.executemany("insert into store_files values ($n, $b)",
                            [{"n": n, "b": (side.folder / n).stat().st_size} for n in side.written])
        reconciliation = _reconciliation(con, n_orders)  # orders in: fct_orders has one row per order row
        cleanup.drop_input_views(con)  # the store reads no input file once built
        con.execute("checkpoint")
        return warnings, side, reconciliation
    except BaseException as exc:
        if side is not None:
            side.discard()
        if isinstance(exc, duckdb.Error):
            raise ExtractError(f"{data_dir}: the build failed in DuckDB: {exc}") from exc
        raise
    finally:
        con.close()


#: The part of a build's memory budget (``memory_limit``) given to DuckDB's buffer pool: the rest is for the
#: process's own arrays (the quote pass's answers, the id match) and DuckDB's allocations outside its pool,
#: so the build process as a whole stays within the budget (issue 18: at 10M orders x 100M quotes, DuckDB
#: given all 12 GB made the process peak at 12.4 GB).
DUCKDB_SHARE = 0.75


_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def _duckdb_share(memory_limit: str) -> str:
    """:data:`DUCKDB_SHARE` of a memory budget written as DuckDB writes sizes (``12GB`` = 12·10^9 bytes,
    ``8GiB``), in MiB; a text DuckDB would not read is an error naming it."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", str(memory_limit).lower())
    if not m or m.group(2) not in _UNITS:
        raise BestexError(f"memory limit {memory_limit!r}: write a size such as 12GB or 8GiB")
    return f"{int(float(m.group(1)) * _UNITS[m.group(2)] * DUCKDB_SHARE) >> 20}MiB"


def _exclusions(con: duckdb.DuckDBPyConnection) -> None:
    """The ``exclusions`` table: ``marts/exclusions``, fct_orders' query (``macros/order_facts``) over the
    order rows and answers of the candidate rows only (``staging/int_exclusion_candidates``, a superset of
    the rows the rulebook excludes). When fct_orders was a view at 10M orders, evaluating it for every row
    to keep the 1% that are excluded was the dearest step after the quote pass."""
    sql_steps.materialize(con, "staging/int_exclusion_candidates", "int_exclusion_candidates", temp=True)
    sql_steps.materialize(con, "marts/exclusions", "exclusions")


def _write_meta(con, data_dir: Path, sources: dict[str, Source], fp: str, warnings: list[str],
                hashes: dict[Path, str] | None = None) -> None:
    """build_info, input_files (with each file's SHA-256: from ``hashes`` when given), input_stats (the
    same hashes with each file's status, :mod:`.fingerprint`) and build_warnings."""
    from bestex_nb._version import __version__

    info = {
        "fingerprint": fp,
        "data_dir": str(data_dir),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "bestex_nb": __version__,
        "duckdb": duckdb.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "code_version": code_version(),
        "tables": json.dumps(sorted(sources)),
    }
    con.execute("create or replace table build_info (key varchar, value varchar)")
    con.executemany("insert into build_info values ($k, $v)", [{"k": k, "v": v} for k, v in info.items()])
    con.execute("create or replace table input_files (table_name varchar, path varchar, bytes bigint, sha256 varchar)")
    files = input_files(sources)
    hashes = {f: (hashes or {}).get(f) or sha256_file(f) for _, f in files}
    con.executemany(
        "insert into input_files values ($t, $p, $b, $s)",
        [{"t": name, "p": str(f.relative_to(data_dir)), "b": f.stat().st_size, "s": hashes[f]} for name, f in files],
    )
    content.record(con, [f for _, f in files], hashes)
    con.execute("create or replace table build_warnings (message varchar)")
    if warnings:
        con.executemany("insert into build_warnings values ($m)", [{"m": w} for w in warnings])


def stored_warnings(store: Path) -> list[str]:
    with connect(store) as con:
        return [r[0] for r in con.execute("select message from build_warnings").fetchall()]


def reconciliation_rows(store: Path) -> list[tuple[str, str, int]]:
    """(label, scope, count) rows: orders in, analysed, then each exclusion reason."""
    with connect(store) as con:
        return _reconciliation(con)


def _reconciliation(con: duckdb.DuckDBPyConnection, orders_in: int | None = None) -> list[tuple[str, str, int]]:
    """The whole store's reconciliation; ``orders_in``: its order rows when known (the build's stg_orders
    count), else counted from fct_orders."""
    df = query.run(con, "metrics/reconciliation",
                 {"period_start": None, "period_end": None, "venue": None, "orders_in": orders_in})
    return [(r.label, "" if pd.isna(r.scope) else r.scope,
             int(r.executions if pd.notna(r.executions) else r.order_rows)) for r in df.itertuples()]
