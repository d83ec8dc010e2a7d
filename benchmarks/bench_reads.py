"""`bestex bench` after the build, at scale: the review's read path beside the same on the sample store.

Issue 18 asks that a review at 10 M orders × 100 M NBBO updates be usable, measured against the sample:

* every metric table of the public :class:`~bestex_nb.review.Review` API (:data:`READS`), for a quarter,
  firm-wide and for one venue, each on a **fresh** Review (its memoised results cannot hide the cost),
  then a second call on the same Review (target < 1 s);
* each review notebook under papermill, firm and one venue: the sum of papermill's per-cell durations
  (target < 30 s); each in a dedicated child process, whose ``RUSAGE_CHILDREN`` peak is the peak RSS of
  the notebook's kernel (papermill starts the kernel as that child's only child and reaps it); the widget
  redraws of both explorers (target < 1 s each);
* the demo's batch, ``bestex run … --all-venues`` as a subprocess (target: at most 3× the sample's);
* the build (a forced rebuild in a subprocess, or the bench's ``ours_build`` figure) and the build plus the
  batch, end to end; peak RSS of the build and of the kernels (target: within 12 GB).

``python -m benchmarks.bench_reads --store S --data D --period P`` measures one store beside the sample
store and prints the table; :mod:`benchmarks.bench` runs :func:`report` after the build at the largest
scale (``--no-reads`` skips it). To time another Review method, add a line to :data:`READS`.
"""

from __future__ import annotations

import argparse
import gc
import inspect
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import bench_review

ROOT = Path(__file__).resolve().parent.parent
GB = 1024 ** 3
API_TARGET_S = 1.0
NOTEBOOK_TARGET_S = 30.0
REDRAW_TARGET_S = 1.0
BATCH_RATIO_TARGET = 3.0
MEMORY_TARGET_GB = 12.0
BUILD_MEMORY_LIMIT = "12GB"
#: the comparisons a price-improvement page computes (dimensions/venues/tables.py), value-weighted first
PI_METRICS = ["net_pi_bps", "eq_ratio", "eff_spread_bps", "net_pi_ps", "eff_spread_ps", "realized_spread_1m_ps",
              "avg_exec_ms"]
SAME_TYPE_METRICS = ["net_pi_bps", "eq_ratio", "eff_spread_bps"]


def _by_venue(method: str, *args):
    """A Review method called with ``venue=`` when it takes one; otherwise called firm-wide and the venue's
    rows kept, as the notebooks do for a venue report (the comparison pits every venue against the rest)."""
    def call(review, period, venue):
        fn = getattr(review, method)
        if venue is None or "venue" in inspect.signature(fn).parameters:
            return fn(period, *args, **({"venue": venue} if venue else {}))
        df = fn(period, *args)
        return df[df["venue"] == venue]
    return call


def _grouped(method: str, by: list[str]):
    return lambda review, period, venue: getattr(review, method)(period, by, venue=venue)


def _same_type(review, period, venue):
    df = review.compare_venues(period, SAME_TYPE_METRICS, against="same_type")
    return df[df["venue"] == venue] if venue else df


#: what -> call(review, period, venue or None): the metric tables of the public API, with the groupings the
#: notebooks use (dimensions/*/compute.py). One line per Review method to time.
READS = {
    **{f"price_improvement(by={','.join(by)})": _grouped("price_improvement", by) for by in (
        ["venue"], ["venue", "order_category", "size_bucket"], ["venue", "order_category", "share_bucket"],
        ["venue", "is_sp500", "order_category", "month"])},
    **{f"limit_fills(by={','.join(by)})": _grouped("limit_fills", by) for by in (
        ["venue", "order_category"], ["venue", "order_category", "size_bucket"], ["venue", "distance_bucket"],
        ["venue", "order_category", "month"])},
    "exclusions": _by_venue("exclusions"),
    "reconciliation": _by_venue("reconciliation"),
    f"compare_venues({','.join(PI_METRICS)})": _by_venue("compare_venues", PI_METRICS),
    "compare_venues(fill_rate_shares)": _by_venue("compare_venues", "fill_rate_shares"),
    f"compare_venues(same_type: {','.join(SAME_TYPE_METRICS)})": _same_type,
    "exceptions": _by_venue("exceptions"),
    "exception_groups": _by_venue("exception_groups"),
    "venue_context": _by_venue("venue_context"),
}


def _row(section: str, what: str, scope: str, value, unit: str = "s", target: float | None = None,
         kind: str = "below", second=None, **extra) -> dict:
    """One measurement: ``kind`` ``below`` (value < target) or ``ratio`` (scale / sample ≤ target)."""
    return {"section": section, "what": what, "scope": scope, "value": value, "unit": unit, "second": second,
            "target": target, "kind": kind, **extra}


def first_venue(store: Path, period: str) -> str:
    from bestex_nb.review import Review

    with Review(store) as review:
        return str(review.routed_venues(period)["venue"].iloc[0])


def time_reads(store: Path, period: str, venue: str, reads: dict | None = None) -> list[dict]:
    """Each of ``reads`` (default :data:`READS`) for the firm and for ``venue``: the first call on a fresh
    Review (``value``) and a second call on the same Review (``second``)."""
    from bestex_nb.review import Review

    rows = []
    for what, call in (reads or READS).items():
        for scope, v in (("firm", None), ("venue", venue)):
            started = time.perf_counter()
            review = Review(store)
            opened = time.perf_counter() - started
            times, n = [], 0
            try:
                for _ in range(2):
                    started = time.perf_counter()
                    n = len(call(review, period, v))
                    times.append(time.perf_counter() - started)
            finally:
                review.close()
            gc.collect()
            rows.append(_row("api", what, scope, round(times[0], 3), target=API_TARGET_S, second=round(times[1], 3),
                             open_s=round(opened, 3), result_rows=n))
    return rows


def _notebook_child(cfg: dict) -> None:
    """In a dedicated process: run one notebook under papermill; its kernel is this process's only child."""
    row = bench_review.time_notebooks(Path(cfg["data"]), Path(cfg["store"]), cfg["period"], cfg["venue"],
                                      (cfg["notebook"],))[0]
    kb = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, kB on Linux
    row["kernel_peak_rss_gb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * kb / GB
    row["papermill_peak_rss_gb"] = _own_peak_gb()
    Path(cfg["result"]).write_text(json.dumps(row))


def time_notebooks(data: Path, store: Path, period: str, venue: str, work: Path) -> list[dict]:
    """Each review notebook for the firm and for ``venue``, each in its own child process: seconds of cells
    and the kernel's peak RSS."""
    rows = []
    for name in bench_review.NOTEBOOKS:
        for scope, v in (("firm", ""), ("venue", venue)):
            cfg = {"data": str(data), "store": str(store), "period": period, "venue": v, "notebook": name,
                   "result": str(work / f"reads-notebook-{name}-{scope}.json")}
            cfg_file = Path(cfg["result"]).with_suffix(".cfg")
            cfg_file.write_text(json.dumps(cfg))
            Path(cfg["result"]).unlink(missing_ok=True)
            proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_reads", "--notebook-child", str(cfg_file)],
                                  cwd=ROOT, capture_output=True, text=True, check=False)
            if proc.returncode or not Path(cfg["result"]).exists():
                raise RuntimeError(f"notebook {name} ({scope}) failed:\n{proc.stdout[-2000:]}{proc.stderr[-4000:]}")
            r = json.loads(Path(cfg["result"]).read_text())
            rows.append(_row("notebook", f"{name}: seconds of cells", scope, r["cells_s"], target=NOTEBOOK_TARGET_S,
                             wall_s=r["wall_s"], kernel_and_papermill_s=r["kernel_and_papermill_s"]))
            rows.append(_row("memory", f"{name}: kernel peak RSS", scope, round(r["kernel_peak_rss_gb"], 2), "GB",
                             MEMORY_TARGET_GB, papermill_peak_rss_gb=r["papermill_peak_rss_gb"]))
    return rows


def time_widgets(store: Path, period: str, venue: str) -> list[dict]:
    rows = []
    for scope, v in (("firm", None), ("venue", venue)):
        for r in bench_review.time_widgets(store, period, v):
            rows.append(_row("widgets", f"{r['explorer']}: slowest redraw", scope, r["max_s"], target=REDRAW_TARGET_S,
                             redraws=r["redraws"], median_s=r["median_s"], compute_s=r["compute_s"]))
        gc.collect()
    return rows


def _own_peak_gb() -> float | None:
    """This process's own peak RSS (``VmHWM``: its memory since exec, not the parent's it was forked from)."""
    status = Path("/proc/self/status")
    lines = status.read_text().splitlines() if status.exists() else []
    return next((round(int(ln.split()[1]) / 1024 ** 2, 2) for ln in lines if ln.startswith("VmHWM:")), None)


#: Runs a command and writes its wall time and ``RUSAGE_CHILDREN`` peak RSS. A process's ``ru_maxrss``
#: counts the memory of the process it was forked from (Linux carries the parent's high-water mark across
#: fork and exec), so the command is started from this small launcher, not from the bench's own process,
#: which has held the explorers' frames by then.
LAUNCHER = """import json, resource, subprocess, sys, time
started = time.perf_counter()
code = subprocess.call(sys.argv[2:])
seconds = time.perf_counter() - started
kb = 1 if sys.platform == "darwin" else 1024
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * kb / 1024 ** 3
open(sys.argv[1], "w").write(json.dumps({"seconds": seconds, "peak_rss_gb": peak, "exit": code}))
"""


def _timed_process(cmd: list[str], log: Path) -> tuple[float, float, int, str]:
    """Run ``cmd`` from the checkout: (wall s, the largest peak RSS of it and its reaped descendants in GB,
    exit code, output)."""
    result = log.with_suffix(".json")
    result.unlink(missing_ok=True)
    with open(log, "w") as fh:
        subprocess.run([sys.executable, "-c", LAUNCHER, str(result), *cmd], cwd=ROOT, stdout=fh,
                       stderr=subprocess.STDOUT, check=False)
    r = json.loads(result.read_text()) if result.exists() else {"seconds": 0.0, "peak_rss_gb": 0.0, "exit": -1}
    return r["seconds"], r["peak_rss_gb"], r["exit"], log.read_text(errors="replace")


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "bestex_nb.cli", *args]


def time_build(data: Path, store: Path, work: Path) -> dict:
    """A forced rebuild of ``store`` (``bestex build --force``, DuckDB limit 12 GB) in a subprocess."""
    wall, rss, code, out = _timed_process(cli("build", "--data", str(data), "--store", str(store), "--force",
                                              "--memory-limit", BUILD_MEMORY_LIMIT), work / "reads-build.log")
    if code:
        raise RuntimeError(f"bestex build failed (exit {code}):\n{out[-3000:]}")
    return {"process_s": wall, "peak_rss_gb": rss, "how": "bestex build --force (subprocess)"}


def time_batch(data: Path, store: Path, period: str, work: Path) -> list[dict]:
    """The demo's batch (Makefile ``demo``) on ``store``, as a subprocess; its reports are then removed."""
    out = work / "reads-batch-outputs"
    shutil.rmtree(out, ignore_errors=True)
    wall, rss, code, text = _timed_process(cli(
        "run", "--period", period, "--notebook", "price_improvement", "--notebook", "limit_fill_likelihood",
        "--data", str(data), "--store", str(store), "--all-venues", "--outputs", str(out)), work / "reads-batch.log")
    if code:
        raise RuntimeError(f"bestex run failed (exit {code}):\n{text[-3000:]}")
    shutil.rmtree(out, ignore_errors=True)
    reports = next((ln.split(":")[1].split("report")[0].strip() for ln in text.splitlines()
                    if ln.startswith("run ") and "report" in ln), "?")
    note = {"reports": reports, "store_reused": "reused, inputs unchanged" in text}
    return [_row("batch", "bestex run --all-venues (both notebooks)", "", round(wall, 2), target=BATCH_RATIO_TARGET,
                 kind="ratio", **note),
            _row("memory", "batch: largest process peak RSS", "", round(rss, 2), "GB", MEMORY_TARGET_GB)]


def measure(data: Path, store: Path, period: str, work: Path, build: dict | None = None,
            venue: str | None = None) -> dict:
    """Every measurement of the table on one store. ``build``: the store's build figures (``process_s``,
    ``peak_rss_gb``) when already measured, else a forced rebuild is timed here; ``False``: no build rows."""
    data, store, work = Path(data).resolve(), Path(store).resolve(), Path(work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    if build is None:
        build = time_build(data, store, work)
    venue = venue or first_venue(store, period)
    print(f"  read path on {store} (period {period}, venue {venue}) …", flush=True)
    rows = []
    for label, step in (("API tables", lambda: time_reads(store, period, venue)),
                        ("notebooks", lambda: time_notebooks(data, store, period, venue, work)),
                        ("widgets", lambda: time_widgets(store, period, venue)),
                        ("batch", lambda: time_batch(data, store, period, work))):
        started = time.perf_counter()
        rows += step()
        print(f"    {label}: measured in {time.perf_counter() - started:.0f} s", flush=True)
    batch_s = next(r["value"] for r in rows if r["section"] == "batch")
    if build:
        rows += [_row("build", "build alone", "", round(build["process_s"], 2), how=build.get("how")),
                 _row("build", "build + batch, end to end", "", round(build["process_s"] + batch_s, 2)),
                 _row("memory", "build peak RSS", "", round(build["peak_rss_gb"], 2), "GB", MEMORY_TARGET_GB)]
    return {"data": str(data), "store": str(store), "period": period, "venue": venue, "rows": rows}


def _key(r: dict) -> tuple:
    return r["section"], r["what"], r["scope"]


def _verdict(r: dict, sample: dict | None, scale: dict | None) -> str:
    if r["target"] is None:
        return ""
    if r["kind"] == "ratio":
        if not (sample and scale and sample["value"]):
            return ""
        return "OK" if scale["value"] / sample["value"] <= r["target"] else "OVER TARGET"
    return "OK" if r["value"] < r["target"] else "OVER TARGET"


def compare(sample: dict | None, scale: dict | None) -> list[dict]:
    """The table: one line per measurement, sample and scale side by side, ratio and verdict (judged on
    the scale's figure when there is one)."""
    s_rows = {_key(r): r for r in (sample or {}).get("rows", [])}
    l_rows = {_key(r): r for r in (scale or {}).get("rows", [])}
    out = []
    for key in dict.fromkeys([*l_rows, *s_rows]):
        s, big = s_rows.get(key), l_rows.get(key)
        ref = big or s
        ratio = big["value"] / s["value"] if s and big and s["value"] else None
        target = ({"below": "< ", "ratio": "≤ "}[ref["kind"]] + f"{ref['target']:g}"
                  + ("×" if ref["kind"] == "ratio" else f" {ref['unit']}")) if ref["target"] is not None else ""
        out.append({"section": key[0], "what": key[1], "scope": key[2], "unit": ref["unit"],
                    "sample": s and s["value"], "scale": big and big["value"],
                    "sample_second": s and s["second"], "scale_second": big and big["second"],
                    "ratio": ratio and round(ratio, 4), "target": target, "verdict": _verdict(ref, s, big)})
    return out


def figure(x: float | None, unit: str = "") -> str:
    """``x`` to two decimals, or three when two would print a whole number it is not: every target here is
    a whole number (1 s, 30 s, 3×, 12 GB), and 1.003 s printed "1.00" beside "OVER TARGET" reads as on it."""
    if x is None:
        return "—"
    text = f"{x:,.2f}"
    shown = float(text.replace(",", ""))
    if shown == round(shown) and shown != x:
        text = f"{x:,.3f}"
    return text + unit


def text(table: list[dict], sample: dict | None = None, scale: dict | None = None) -> str:
    num = figure

    head = "the review's read path"
    if scale:
        head += f" on {Path(scale['store']).name} (one venue: {scale['venue']})"
    if sample:
        head += f" beside the sample store ({Path(sample['store']).name}, one venue: {sample['venue']})"
    period = (scale or sample or {}).get("period", "")
    w = max([len(r["what"]) for r in table] + [4])
    lines = [f"{head}, period {period}; API times on a fresh Review, then a 2nd call on the same Review:",
             (f"{'':<8} {'what':<{w}} {'scope':<5} {'sample':>9} {'scale':>9} {'scale/sample':>12} "
              f"{'2nd sample':>10} {'2nd scale':>9}  {'target':<8} verdict")]
    for r in table:
        u = " GB" if r["unit"] == "GB" else ""
        lines.append(f"{r['section']:<8} {r['what']:<{w}} {r['scope']:<5} {num(r['sample'], u):>9} "
                     f"{num(r['scale'], u):>9} {num(r['ratio'], '×'):>12} {num(r['sample_second']):>10} "
                     f"{num(r['scale_second']):>9}  {r['target']:<8} {r['verdict']}")
    batches = [f"{name} {r.get('reports', '?')} reports" + ("" if r.get("store_reused") else " (store rebuilt)")
               for name, m in (("sample", sample), ("scale", scale)) if m
               for r in m["rows"] if r["section"] == "batch"]
    if batches:
        lines.append(f"batch: the firm and every routed venue, both notebooks: {', '.join(batches)}")
    over = sum(r["verdict"] == "OVER TARGET" for r in table)
    lines.append(f"{over} of {sum(bool(r['verdict']) for r in table)} targets over" if over else "every target met")
    return "\n".join(lines)


def report(work: Path, data: Path | None, store: Path | None, period: str = "2026Q3", build: dict | None = None,
           sample: bool = True, venue: str | None = None) -> dict:
    """The sample store's measurements and (when ``store`` is given) ``store``'s; the table printed and
    written to ``<work>/results-reads.json``."""
    from benchmarks.bench import _code, _machine

    work = Path(work).resolve()
    small = big = None
    if sample:
        s_data, s_store = bench_review.sample_store(work)
        print("read path: the sample store", flush=True)
        small = measure(s_data, s_store, period, work)
    if store is not None:
        print("read path: the store at scale", flush=True)
        big = measure(data, store, period, work, build, venue)
    table = compare(small, big)
    print(text(table, small, big))
    out = {"period": period, "sample": small, "scale": big, "table": table, "code": _code(), "machine": _machine(),
           "at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    (work / "results-reads.json").write_text(json.dumps(out, indent=2))
    print(f"results: {work / 'results-reads.json'}")
    return out


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_reads", description=__doc__.split("\n")[0])
    p.add_argument("--store", help="the review store to measure (built from --data)")
    p.add_argument("--data", help="the extracts folder of --store")
    p.add_argument("--period", default="2026Q3")
    p.add_argument("--venue", default=None, help="the one venue (default: the first routed venue)")
    p.add_argument("--work", default="bench_data", help="the sample store, logs and results-reads.json go here")
    p.add_argument("--no-sample", dest="sample", action="store_false", help="skip the sample store")
    p.add_argument("--no-build", dest="build", action="store_false",
                   help="do not time a forced rebuild of --store (no build rows for it)")
    p.add_argument("--notebook-child", help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.notebook_child:
        _notebook_child(json.loads(Path(args.notebook_child).read_text()))
        return 0
    if bool(args.store) != bool(args.data):
        _parser().error("--store and --data go together")
    if not args.store and not args.sample:
        _parser().error("nothing to measure: give --store and --data, or leave out --no-sample")
    report(Path(args.work), args.data and Path(args.data), args.store and Path(args.store), args.period,
           None if args.build else False, args.sample, args.venue)
    return 0


if __name__ == "__main__":
    sys.exit(main())
