"""`bestex bench` after the build: each review notebook under papermill, and the widgets' redraws.

Issue 5 asks that everything after the build be fast on the sample store: each notebook in under 10 s
under papermill *excluding kernel start* (the sum of papermill's per-cell durations; the kernel's start
and shutdown are reported beside it), and each interactive redraw in under 1 s (the explorers' callbacks,
timed in this process by changing a filter, exactly as a click in JupyterLab does).
"""

from __future__ import annotations

import contextlib
import io
import statistics
import tempfile
import time
from pathlib import Path

NOTEBOOK_TARGET_S = 10.0
REDRAW_TARGET_S = 1.0
NOTEBOOKS = ("price_improvement", "limit_fill_likelihood")


def sample_store(work: Path) -> tuple[Path, Path]:
    """The default sample quarter under ``work/sample`` (generated once) and its store (built once)."""
    from bestex_nb.build.store import build
    from bestex_nb.sample import generate

    data = (Path(work) / "sample").resolve()
    if not (data / "orders.parquet").exists():
        generate(data)
    return data, build(data, data.parent / "stores" / "sample.duckdb").store


def time_notebooks(data: Path, store: Path, period: str = "2026Q3", venue: str = "",
                   names: tuple[str, ...] = NOTEBOOKS) -> list[dict]:
    """Run each review notebook (``names``) on ``store``, static, for the whole firm (or one ``venue``), and
    time it."""
    import nbformat

    from bestex_nb.report.export import execute_notebook
    from bestex_nb.report.runner import notebook_path

    rows = []
    for name in names:
        with tempfile.TemporaryDirectory(prefix="bx-bench-nb-") as tmp:
            params = {"period": period, "venue": venue or "", "data_dir": str(data), "store_path": str(store),
                      "evidence_dir": "", "interactive": False}
            started = time.perf_counter()
            execute_notebook(notebook_path(name), Path(tmp) / f"{name}.ipynb", params, cwd=tmp)
            wall = time.perf_counter() - started
            nb = nbformat.read(Path(tmp) / f"{name}.ipynb", as_version=4)
        cells = sum(float(c.metadata.get("papermill", {}).get("duration") or 0) for c in nb.cells)
        rows.append({"notebook": name, "venue": venue or "", "cells_s": round(cells, 2), "wall_s": round(wall, 2),
                     "kernel_and_papermill_s": round(wall - cells, 2), "target_s": NOTEBOOK_TARGET_S,
                     "ok": cells < NOTEBOOK_TARGET_S})
    return rows


def _time_redraws(box) -> list[float]:
    """Change every dropdown of an explorer to each of (up to) three of its values, timing each redraw."""
    import ipywidgets as w

    controls = [c for c in box.controls.values() if isinstance(c, w.Dropdown) and not c.disabled]
    times = []
    for control in controls:
        for index in [*range(1, min(4, len(control.options))), 0]:
            started = time.perf_counter()
            control.index = index  # the observer redraws synchronously
            times.append(time.perf_counter() - started)
    return times


def time_widgets(store: Path, period: str = "2026Q3", venue: str | None = None) -> list[dict]:
    """Build each explorer on ``store`` (for the whole firm or one ``venue``) and time its redraws (charts
    built, not shown); ``compute_s``: the dimension's frames the explorer is built on, computed first."""
    import plotly.io as pio

    from bestex_nb.contract.parameters import load_run
    from bestex_nb.dimensions.limit_fills import compute as lf_compute
    from bestex_nb.dimensions.price_improvement import compute as pi_compute
    from bestex_nb.interactive.limit_fills import limit_fill_explorer
    from bestex_nb.interactive.price_improvement import pi_explorer
    from bestex_nb.report import plots
    from bestex_nb.review import Review

    pio.renderers.default = "json"  # no browser, no kernel: the figure is built and serialised
    review = Review(store)
    colors = plots.venue_colors(review.venue_ids())
    rows = []
    parameters, decisions = load_run(period)
    with contextlib.redirect_stdout(io.StringIO()):
        frames = {"price_improvement": (lambda: pi_compute.compute(review, period, venue), pi_explorer),
                  "limit_fill_likelihood": (lambda: lf_compute.compute(
                      review, period, venue, parameters=parameters, decisions=decisions), limit_fill_explorer)}
        for name, (compute, explorer) in frames.items():
            started = time.perf_counter()
            box = explorer(review, compute(), colors)
            built = time.perf_counter() - started
            times = _time_redraws(box)
            rows.append({"explorer": name, "venue": venue or "", "compute_s": round(built, 2), "redraws": len(times),
                         "median_s": round(statistics.median(times), 3),
                         "max_s": round(max(times), 3), "target_s": REDRAW_TARGET_S,
                         "ok": max(times) < REDRAW_TARGET_S})
    review.close()
    return rows


def report(work: Path) -> tuple[list[dict], list[dict]]:
    data, store = sample_store(work)
    return time_notebooks(data, store), time_widgets(store)


def text(notebooks: list[dict], widgets: list[dict]) -> str:
    lines = ["after the build, on the sample store (targets: notebook < 10 s excluding kernel start; redraw < 1 s):"]
    lines += [f"  notebook {r['notebook']:<24} cells {r['cells_s']:>5.1f} s   (+ kernel start and papermill "
              f"{r['kernel_and_papermill_s']:.1f} s)   {'ok' if r['ok'] else 'OVER TARGET'}" for r in notebooks]
    lines += [f"  widgets  {r['explorer']:<24} {r['redraws']} redraws: median {r['median_s']:.3f} s, "
              f"max {r['max_s']:.3f} s   {'ok' if r['ok'] else 'OVER TARGET'}" for r in widgets]
    return "\n".join(lines)
