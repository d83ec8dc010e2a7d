"""Quarterly batch: papermill per period × scope (firm, each venue), nbconvert HTML, manifest.

Layout: ``outputs/<period>/<run-id>/<firm|venue folder>/<notebook>.{ipynb,html}`` plus ``tables/*.csv``
per scope and one ``manifest.json`` per run. A venue's folder is its id when the id is a safe file name
(MPIDs such as ``CDRG`` are), else a slug plus a short hash of the id (``report/scopes.py`` has the
rule); the manifest's ``scopes`` maps each venue id to its folder. After the notebooks ran, every file
under the run folder and every report must resolve inside it, or the run fails. The manifest has the SHA-256 of every input and output, the parameters,
package versions and the git commit. ``outputs/`` is that of the current directory (``--outputs`` to
change it), whether bestex_nb runs from a checkout or an installed wheel. A finished run folder is never
overwritten: each run gets a new id. The store is built (or reused) once, before any notebook runs;
notebooks open it read-only.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from bestex_nb.build.hashing import sha256_file
from bestex_nb.build.store import build
from bestex_nb.contract.drill import drill_text, parse_drill
from bestex_nb.contract.errors import BestexError, EmptyPeriodError, PeriodError
from bestex_nb.contract.parameters import load_run
from bestex_nb.contract.periods import parse_period
from bestex_nb.report.export import execute_notebook, export_html, external_loads
from bestex_nb.report.scopes import FIRM, check_inside, scope_folders
from bestex_nb.review import Review

PACKAGED_NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"  # an installed wheel's (see setup.py)
CHECKOUT_NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"  # an editable install's
#: where review notebooks are found, by listing: $BESTEX_NOTEBOOKS, else the wheel's, else the checkout's
NOTEBOOKS_DIR = Path(os.environ.get("BESTEX_NOTEBOOKS")
                     or (PACKAGED_NOTEBOOKS if PACKAGED_NOTEBOOKS.is_dir() else CHECKOUT_NOTEBOOKS))
VERSIONED = ("bestex_nb", "duckdb", "pandas", "plotly", "papermill", "nbconvert", "pyarrow", "ipywidgets")


@dataclass
class Report:
    scope: str  # "firm" or a venue id
    notebook: str
    ipynb: Path
    html: Path
    seconds: float
    folder: str = FIRM  # the scope's folder in the run folder (see report/scopes.py)


@dataclass
class RunResult:
    run_id: str
    folder: Path
    manifest: Path
    seconds: float
    reports: list[Report] = field(default_factory=list)

    def html_paths(self) -> list[Path]:
        return [r.html for r in self.reports]


def notebook_path(name: str) -> Path:
    path = NOTEBOOKS_DIR / f"{Path(name).stem}.ipynb"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in NOTEBOOKS_DIR.glob("*.ipynb")))
        raise BestexError(f"no notebook {name!r} in {NOTEBOOKS_DIR} (known: {known})")
    return path


def _git_commit() -> str | None:
    """The commit of the checkout (or of $BESTEX_NOTEBOOKS) the notebooks came from; None for an installed
    wheel, whose version is under ``versions``."""
    if NOTEBOOKS_DIR == PACKAGED_NOTEBOOKS:
        return None
    try:
        out = subprocess.run(["git", "-C", str(NOTEBOOKS_DIR.parent), "rev-parse", "HEAD"],
                             capture_output=True, text=True, timeout=10, check=False)
        dirty = subprocess.run(["git", "-C", str(NOTEBOOKS_DIR.parent), "status", "--porcelain"],
                               capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def _versions() -> dict[str, str]:
    found = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def _new_run_folder(outputs: Path, period_label: str) -> tuple[str, Path]:
    base = outputs / period_label.replace("/", "_").replace("..", "_to_")
    base.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for n in range(1, 1000):
        run_id = f"{stamp}-{n:02d}"
        try:
            (base / run_id).mkdir()  # atomic: an existing run is never reused
            return run_id, base / run_id
        except FileExistsError:
            continue
    raise BestexError(f"could not create a new run folder under {base}")


def _run_one(job: dict) -> dict:
    started = time.perf_counter()
    execute_notebook(job["src"], job["ipynb"], job["parameters"], cwd=job["cwd"])
    export_html(job["ipynb"], job["html"])
    loads = external_loads(Path(job["html"]).read_text(encoding="utf-8"))
    if loads:
        raise BestexError(f"{job['html']} would load from the network: {loads[:3]}")
    return {**job, "seconds": time.perf_counter() - started}


def run_batch(period: str, notebooks: list[str], data: str | os.PathLike, store: str | None = None,
              venues: list[str] | None = None, all_venues: bool = True, outputs: str | os.PathLike = "outputs",
              workers: int = 2, drill: str = "") -> RunResult:
    """Run each notebook for the firm and each venue; return where the reports are.

    ``drill``: the drill-down's filters as an explorer's "copy as parameters" writes them
    (``is_sp500=true order_category=market``; :mod:`bestex_nb.contract.drill`), passed to every notebook.

    Before any notebook starts: the period is parsed, the committee's parameters for it are read and
    checked, the store is built (or reused), and the period must hold orders. A run that fails after its
    folder was made leaves a ``FAILED`` file and a manifest with ``status: failed``, what completed and the
    error; a finished run's manifest has ``status: complete``.
    """
    started = time.perf_counter()
    p = _period(period)
    drill = drill_text(parse_drill(drill))  # checked before anything runs, in its canonical form
    srcs = [notebook_path(n) for n in notebooks]
    _check_parameters(p)
    report = build(data, store)  # once, before any notebook runs
    print(report.text(), flush=True)
    with Review(report.store) as review:
        _require_orders(review, p, data)
        routed = review.routed_venues(p)
        info = review.build_info()
        inputs = review.input_files()
    known = list(routed["venue"])
    if venues:
        unknown = [v for v in venues if v not in known]
        if unknown:
            raise BestexError(f"no orders routed to {unknown} in {p.label}; venues with orders: {known}")
        scopes = [FIRM, *venues]
    else:
        scopes = [FIRM, *known] if all_venues else [FIRM]
    folders = scope_folders(scopes[1:])
    run_id, folder = _new_run_folder(Path(outputs).resolve(), p.label)
    jobs = []
    for i, scope in enumerate(scopes):
        for src in srcs:
            scope_dir = folder / (FIRM if i == 0 else folders[scope])
            jobs.append({
                "scope": scope, "folder": scope_dir.name, "notebook": src.stem, "src": str(src),
                "cwd": str(src.parent),
                "ipynb": str(scope_dir / f"{src.stem}.ipynb"), "html": str(scope_dir / f"{src.stem}.html"),
                "parameters": {
                    "period": p.label,  # parse_period reads every label it writes
                    "venue": "" if i == 0 else scope,
                    "data_dir": str(Path(data).resolve()), "store_path": str(report.store),
                    "evidence_dir": str(scope_dir), "interactive": False,
                    **({"drill": drill} if drill else {}),
                },
            })
    done: list[dict] = []
    try:
        check_inside(folder, [x for j in jobs for x in (j["ipynb"], j["html"], j["parameters"]["evidence_dir"])])
        _run_jobs(jobs, workers, done)
        reports = [Report(d["scope"], d["notebook"], Path(d["ipynb"]), Path(d["html"]), d["seconds"],
                          d["folder"]) for d in done]
        check_inside(folder, [x for r in reports for x in (r.ipynb, r.html)])
    except BaseException as exc:
        # FAILED first: it must be there even if the manifest cannot be written
        (folder / "FAILED").write_text(f"run {run_id} failed: {type(exc).__name__}: {exc}\n"
                                       f"{len(done)} of {len(jobs)} report(s) completed; see manifest.json\n")
        _write_manifest(folder, run_id, p, jobs, info, inputs, time.perf_counter() - started,
                        failure={"completed": [{k: d[k] for k in ("scope", "folder", "notebook")} for d in done],
                                 "error": f"{type(exc).__name__}: {exc}"})
        if isinstance(exc, Exception) and not isinstance(exc, BestexError):
            raise BestexError(f"run {run_id} failed ({len(done)} of {len(jobs)} reports completed); "
                              f"{folder} is marked FAILED: {type(exc).__name__}: {exc}") from exc
        raise
    manifest = _write_manifest(folder, run_id, p, jobs, info, inputs, time.perf_counter() - started)
    return RunResult(run_id, folder, manifest, time.perf_counter() - started, reports)


def _period(period):
    try:
        return parse_period(period)
    except BestexError:
        raise
    except (ValueError, OverflowError) as exc:  # a date out of range: 9999Q4, 0000Q1
        raise PeriodError(f"period {period!r} is not a usable period: {exc}") from exc


def _check_parameters(p) -> None:
    """The committee's parameters for the period, read as the notebooks will read them (their default
    folder), so a malformed file stops the run before any notebook starts."""
    try:
        load_run(p.label)
    except BestexError:
        raise
    except Exception as exc:  # any reading error, named with the period
        raise BestexError(f"parameters for {p.label}: {type(exc).__name__}: {exc}") from exc


def _require_orders(review: Review, p, data) -> None:
    recon = review.reconciliation(p)
    if recon.empty or int(recon["order_rows"].iloc[0]) == 0:
        raise EmptyPeriodError(f"no orders received in {p.label} ({p.start} to {p.end}, end exclusive) in the "
                               f"extracts of {data}; check the period")


def _run_jobs(jobs: list[dict], workers: int, done: list[dict]) -> None:
    """Run the jobs, appending each finished one to ``done`` (in job order); stop at the first failure."""
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            done.append(_run_one(job))
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_run_one, j) for j in jobs]
        try:
            for future in futures:
                done.append(future.result())
        except BaseException:
            for future in futures:
                future.cancel()
            wait(futures)
            for future in futures:  # keep what finished meanwhile: it is on disk
                if future.done() and not future.cancelled() and future.exception() is None \
                        and future.result() not in done:
                    done.append(future.result())
            raise


def _write_manifest(folder: Path, run_id: str, p, jobs, info, inputs, seconds, failure=None) -> Path:
    outputs = [
        {"path": str(f.relative_to(folder)), "bytes": f.stat().st_size, "sha256": sha256_file(f)}
        for f in sorted(folder.rglob("*")) if f.is_file()
    ]
    manifest = {
        "run_id": run_id,
        "status": "failed" if failure else "complete",
        **(failure or {}),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "period": {"label": p.label, "start": str(p.start), "end_exclusive": str(p.end)},
        "git_commit": _git_commit(),
        "versions": _versions(),
        "store": {k: info.get(k) for k in ("fingerprint", "built_at", "data_dir", "code_version")},
        "inputs": inputs.to_dict(orient="records"),
        "scopes": [{"scope": j["scope"], "venue": j["parameters"]["venue"], "folder": j["folder"]}
                   for j in {j["folder"]: j for j in jobs}.values()],
        "notebooks": [{"scope": j["scope"], "notebook": j["notebook"], "parameters": j["parameters"],
                       "source_sha256": sha256_file(Path(j["src"]))} for j in jobs],
        "outputs": outputs,
        "seconds": round(seconds, 1),
    }
    path = folder / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2, default=str))
    return path
