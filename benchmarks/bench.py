"""`bestex bench`: the store build at scale beside the same as-of join in other engines.

Every contender runs in its own process (``python -m benchmarks.bench --child …``) from the same Parquet
extracts (:mod:`benchmarks.bench_data`, generated once per scale and reused). The parent measures the
process's peak RSS (``wait4`` rusage of that child alone) and its wall time; the child times its own work
(imports and interpreter start-up excluded) and writes NBBO-at-receipt answers for 1,000 sampled orders,
which the parent checks against ``ours_build``. Results are printed and written to
``<work>/results-<orders>x<quotes>.json``.

The contenders are in :mod:`benchmarks.contenders`. ``bestex bench …`` (from a source checkout) and
``make bench`` run this module: ``python -m benchmarks.bench --help``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.contenders import CONTENDERS, GB, NEEDS, RECEIPT_RIVALS, available, child

DEFAULT_ORDERS = 10_000_000
DEFAULT_QUOTES = 100_000_000
QUICK = (1_000_000, 10_000_000)
#: DuckDB's memory limit for ``ours_build`` unless ``--memory-limit`` says otherwise (issue 5: the build
#: must complete at 10M x 100M within 12 GB).
BUILD_MEMORY_LIMIT = "12GB"
SAMPLE = 1_000
#: Runs of each contender per scale, round robin, the run of median time reported: on the 2-core VM these
#: figures come from, one run of the same code varies by +-20% (benchmarks/README.md).
DEFAULT_REPEAT = 3
#: The quarter the read path is timed for: the bench extracts are in July 2026, as is the sample's quarter.
READS_PERIOD = "2026Q3"


def _spawn(cfg: dict, timeout: float | None) -> dict:
    """Run one contender in a fresh interpreter; add its process wall time and peak RSS."""
    result, cfg_file, log = (Path(cfg["result"]).with_suffix(x) for x in (".json", ".cfg", ".log"))
    result.unlink(missing_ok=True)
    cfg_file.write_text(json.dumps(cfg))
    load_before = round(os.getloadavg()[0], 2)
    started = time.perf_counter()
    with open(log, "w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "benchmarks.bench", "--child", str(cfg_file)],
                                stdout=fh, stderr=subprocess.STDOUT)
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if timeout and time.perf_counter() - started > timeout:
            proc.kill()
            _, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.2)
    proc.returncode = os.waitstatus_to_exitcode(status)
    out = {"contender": cfg["contender"], "process_s": time.perf_counter() - started,
           "loadavg_1m_before_after": [load_before, round(os.getloadavg()[0], 2)],  # others' load skews times
           "peak_rss_gb": usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024) / GB,
           "exit": proc.returncode}
    if proc.returncode == 0 and result.exists():
        out.update(json.loads(result.read_text()))
    else:
        out["error"] = "timed out" if timeout and out["process_s"] > timeout else f"exit {proc.returncode}"
        tail = log.read_text(errors="replace").replace("\r", "\n").strip().splitlines()[-5:]  # progress bars
        print("\n".join(f"    | {line}" for line in tail), file=sys.stderr)
    return out


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (``--repeat``)."""
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {n}")
    return n


def median_run(runs: list[dict]) -> dict:
    """One contender's runs as one result: the run of median work time (the lower middle of an even
    count) with all its figures, plus every run's time (``runs_s``) and, as ``peak_rss_gb``, the largest
    peak of any run (memory is compared at its worst). A contender that failed in any run reports that
    run's failure."""
    failed = [r for r in runs if not r.get("seconds")]
    if failed:
        return dict(failed[0], runs_s=[r.get("seconds") for r in runs],
                    peak_rss_gb=max(r["peak_rss_gb"] for r in runs))
    ordered = sorted(runs, key=lambda r: r["seconds"])
    out = dict(ordered[(len(ordered) - 1) // 2])
    if len(runs) > 1:
        out["runs_s"] = [round(r["seconds"], 2) for r in runs]
        out["median_run_peak_rss_gb"] = out["peak_rss_gb"]
        out["peak_rss_gb"] = max(r["peak_rss_gb"] for r in runs)
    return out


def _check(results: list[dict], n_orders: int) -> list[str]:
    """Compare every contender's row count and sampled NBBO at receipt with the first (ours)."""
    ref, problems = results[0], []
    if "sample" not in ref:
        return [f"{ref['contender']} did not finish: nothing to compare"]
    for r in results:
        if "sample" not in r:
            problems.append(f"{r['contender']}: did not finish ({r.get('error')})")
            continue
        if r["rows"] != n_orders:
            problems.append(f"{r['contender']}: {r['rows']:,} result rows, expected {n_orders:,}")
        if r["quoted"] != ref["quoted"]:
            problems.append(f"{r['contender']}: {r['quoted']:,} orders with an NBBO, ours {ref['quoted']:,}")
        diff = [k for k in ref["sample"] if r["sample"].get(k) != ref["sample"][k]]
        if len(r["sample"]) != len(ref["sample"]) or diff:
            problems.append(f"{r['contender']}: {len(diff)} of {len(ref['sample'])} sampled orders differ "
                            f"(e.g. {diff[:3]})")
    return problems


def _table(results: list[dict], n: int, m: int) -> str:
    lines = [(f"{'contender':<20} {'wall s':>8} {'process s':>9} {'orders/s':>11} {'quotes/s':>12} "
              f"{'peak RSS GB':>11} {'wall vs ours':>12}")]
    ours = results[0].get("seconds")
    for r in results:
        s = r.get("seconds")
        if s is None:
            lines.append(f"{r['contender']:<20} {'—':>8} {r['process_s']:>9.1f} {'':>11} {'':>12} "
                         f"{r['peak_rss_gb']:>11.2f} {r.get('error', '')}")
            continue
        ratio = f"{s / ours:.2f}×" if ours else ""
        lines.append(f"{r['contender']:<20} {s:>8.1f} {r['process_s']:>9.1f} {n / s:>11,.0f} {m / s:>12,.0f} "
                     f"{r['peak_rss_gb']:>11.2f} {ratio:>12}")
    lines += [f"  {r['contender']} runs: " + ", ".join(f"{x:.1f}" for x in r["runs_s"]) + " s (the median is shown; "
              "peak RSS is the largest of the runs)" for r in results if len(r.get("runs_s") or []) > 1
              and all(r["runs_s"])]
    lines += ratio_lines(results)
    lines += [f"  {r['contender']} phases: " + ", ".join(f"{p} {s:.1f}s" for p, s in r["phases"])
              for r in results if r.get("phases")]
    return "\n".join(lines)


def ratio_lines(results: list[dict]) -> list[str]:
    """The issue's comparisons: our receipt step against each rival (wall and peak memory; > 1× means
    ours is faster / smaller), and the whole build against our receipt step (target: within 3×)."""
    by = {r["contender"]: r for r in results if r.get("seconds")}
    out = []
    ours = by.get("ours_receipt")
    for name in RECEIPT_RIVALS:
        if ours and name in by:
            r = by[name]
            out.append(f"ours_receipt vs {name}: {r['seconds'] / ours['seconds']:.2f}× faster, "
                       f"{r['peak_rss_gb'] / ours['peak_rss_gb']:.2f}× less peak memory")
    if ours and "ours_build" in by:
        out.append(f"ours_build / ours_receipt: {by['ours_build']['seconds'] / ours['seconds']:.2f}× "
                   "(target ≤ 3× at 10M x 100M; below 2M orders the build also stores its facts as tables)")
    return out


def _machine() -> dict:
    info = Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []
    cpu = next((ln.split(":", 1)[1].strip() for ln in info if ln.startswith("model name")), "")
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GB
    return {"nproc": os.cpu_count(), "memory_gb": round(mem, 1), "cpu": cpu, "python": sys.version.split()[0],
            "platform": platform.platform()}


def _code() -> str:
    """The code measured: the checkout's commit (``-dirty`` if edited) and the store's code version."""
    from bestex_nb.build.store import code_version

    try:
        git = subprocess.run(["git", "-C", str(Path(__file__).parent), "describe", "--always", "--dirty"],
                             check=False, capture_output=True, text=True).stdout.strip()
    except OSError:
        git = ""
    return f"{git or 'no git'}, store code {code_version()[:12]}"


def _warm(data: Path) -> float:
    """Read the extracts once so every contender starts with them in the page cache (this machine
    evicts files it has not read lately; a contender that reads a cold 1.7 GB file measures the disk)."""
    started = time.perf_counter()
    for f in sorted(data.glob("*.parquet")):
        with open(f, "rb") as fh:
            while fh.read(1 << 24):
                pass
    return time.perf_counter() - started


def scales(args) -> list[tuple[int, int]]:
    """Explicit ``--orders``/``--quotes``: that scale; ``--quick``: 1M × 10M; else both, small first."""
    if args.orders or args.quotes:
        return [(args.orders or DEFAULT_ORDERS, args.quotes or DEFAULT_QUOTES)]
    return [QUICK] if getattr(args, "quick", False) else [QUICK, (DEFAULT_ORDERS, DEFAULT_QUOTES)]


def main(args) -> int:
    """For each scale: generate (or reuse) the extracts, run each contender in its own process, check,
    report; then how time grew between the scales, the review's read path on the largest scale's store
    beside the sample store (when ``ours_build`` ran), and the notebooks and widgets on the sample store."""
    work = Path(args.work or "bench_data").resolve()
    asked = getattr(args, "contenders", None)
    names = asked or list(CONTENDERS)
    unknown = set(names) - set(CONTENDERS)
    if unknown:
        print(f"bestex bench: unknown contender(s) {sorted(unknown)}", file=sys.stderr)
        return 2
    missing = [n for n in names if not available(n)]
    if missing and asked:
        print(f"bestex bench: {', '.join(missing)} need(s) {', '.join(NEEDS[n] for n in missing)}: "
              "pip install -e '.[bench]'", file=sys.stderr)
        return 2
    for n in missing:
        print(f"skipping {n}: {NEEDS[n]} is not installed (make bench installs it)")
    names = [n for n in names if n not in missing]
    runs, status = [], 0
    for n, m in scales(args):
        results, ok = run_scale(args, work, names, n, m)
        runs.append((n, m, results))
        status |= 0 if ok else 1
    if len(runs) > 1:
        print(growth_text(runs))
    if getattr(args, "reads", True) and runs:
        status |= reads_after_build(work, *runs[-1])
    if getattr(args, "review", True) and not asked:
        from benchmarks import bench_review

        notebooks, widgets = bench_review.report(work)
        print(bench_review.text(notebooks, widgets))
        (work / "results-review.json").write_text(json.dumps({"notebooks": notebooks, "widgets": widgets,
                                                               "code": _code(), "machine": _machine()}, indent=2))
    return status


def reads_after_build(work: Path, n: int, m: int, results: list[dict]) -> int:
    """The review's read path (:mod:`benchmarks.bench_reads`) on the store ``ours_build`` left at this
    scale, beside the sample store; its table is added to ``results-<n>x<m>.json``. 1 if it failed."""
    from benchmarks import bench_data, bench_reads

    build = next((r for r in results if r["contender"] == "ours_build" and r.get("seconds")), None)
    if not build:
        return 0  # no store of ours at this scale to read
    data = work / bench_data.folder_name(n, m)
    figures = {"process_s": build["process_s"], "peak_rss_gb": build["peak_rss_gb"],
               "how": "ours_build (median run: spawn to exit; peak RSS: the largest run)"}
    print(f"\nthe review's read path at {n:,} x {m:,} beside the sample store (period {READS_PERIOD}) …", flush=True)
    try:
        out = bench_reads.report(work, data, work / "stores" / f"{data.name}.duckdb", READS_PERIOD, figures)
    except Exception as exc:  # noqa: BLE001 (reported: the build's results are already saved)
        print(f"read path failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    path = work / f"results-{n}x{m}.json"
    saved = json.loads(path.read_text())
    saved["reads"] = {k: out[k] for k in ("period", "table")} | {"details": str(work / "results-reads.json")}
    path.write_text(json.dumps(saved, indent=2))
    return 0


def growth_text(runs) -> str:
    """Wall time at the largest scale over the smallest, per contender (linear = the data ratio)."""
    (n0, m0, small), (n1, m1, large) = runs[0], runs[-1]
    lines = [f"scaling {n0:,} x {m0:,} -> {n1:,} x {m1:,} ({n1 / n0:.0f}x the orders, {m1 / m0:.0f}x the quotes):"]
    before = {r["contender"]: r for r in small if r.get("seconds")}
    for r in large:
        if r.get("seconds") and r["contender"] in before:
            lines.append(f"  {r['contender']:<20} {before[r['contender']]['seconds']:7.1f} s -> {r['seconds']:7.1f} s "
                         f"({r['seconds'] / before[r['contender']]['seconds']:.1f}x)")
    return "\n".join(lines)


def run_scale(args, work: Path, names: list[str], n: int, m: int) -> tuple[list[dict], bool]:
    from benchmarks import bench_data

    data, gen_s, reused = bench_data.ensure(work, n, m, seed=getattr(args, "seed", None) or 20260701)
    print(f"\nextracts: {data} ({'reused' if reused else f'generated in {gen_s:.1f} s'}); "
          f"{n:,} orders, {m:,} NBBO updates, {bench_data.n_symbols(m):,} symbols")
    code = _code()
    print(f"code: {code}")
    rng = random.Random(n * 31 + m)
    sample_ids = [f"O{i:010d}" for i in sorted(rng.sample(range(n), min(SAMPLE, n)))]
    memory_limit = getattr(args, "memory_limit", None) or BUILD_MEMORY_LIMIT
    repeat = getattr(args, "repeat", None) or DEFAULT_REPEAT
    runs: dict[str, list[dict]] = {name: [] for name in names}
    for round_no in range(repeat):  # round robin: a drift of the machine falls on every contender alike
        for name in names:
            cfg = {"contender": name, "data": str(data), "sample_ids": sample_ids,
                   "store": str(work / "stores" / f"{data.name}.duckdb"),
                   "result": str(work / f"{data.name}.{name}.json"),
                   "memory_limit": memory_limit if name == "ours_build" else None,
                   "threads": getattr(args, "threads", None)}
            Path(cfg["store"]).parent.mkdir(parents=True, exist_ok=True)
            warm_s = _warm(data)
            of = f" (run {round_no + 1} of {repeat})" if repeat > 1 else ""
            print(f"running {name}{of} … (extracts read into the page cache first: {warm_s:.1f} s)", flush=True)
            r = _spawn(cfg, getattr(args, "timeout", None))
            r["what"] = CONTENDERS[name]
            if cfg["memory_limit"]:
                r["duckdb_memory_limit"] = cfg["memory_limit"]
            print(f"  {name}: {r.get('seconds', float('nan')):.1f} s work, {r['process_s']:.1f} s process, "
                  f"peak RSS {r['peak_rss_gb']:.2f} GB {r.get('error', '')}", flush=True)
            runs[name].append(r)
    results = [median_run(runs[name]) for name in names]
    problems = _check([results[0]] + [r for name in names for r in runs[name]], n)
    print()
    print(_table(results, n, m))
    build = next((r for r in results if r["contender"] == "ours_build" and r.get("seconds")), None)
    if build:
        print(f"ours_build ran with DuckDB's memory limit at {memory_limit} (spilling to disk beyond it); "
              f"whole-process peak RSS {build['peak_rss_gb']:.2f} GB")
    verdict = "all equal" if not problems else "MISMATCH\n  " + "\n  ".join(problems)
    print(f"spot check ({len(sample_ids):,} random orders' NBB/NBO at receipt, row counts, orders with a "
          f"quote, vs {names[0]}): {verdict}")
    if _code() != code:
        code += f" → {_code()} (changed during the run: the contenders may have run different code)"
        print(f"warning: code {code}")
    out = work / f"results-{n}x{m}.json"
    for r in results:
        r.pop("sample", None)
        if r.get("seconds"):
            r.update(orders_per_s=n / r["seconds"], quotes_per_s=m / r["seconds"])
    settings = {"memory_limit": memory_limit, "repeat": repeat,
                **{k: getattr(args, k, None) for k in ("threads", "timeout")}}
    out.write_text(json.dumps({
        "orders": n, "quotes": m, "data": str(data), "generated_s": gen_s, "code": code,
        "machine": _machine(), "settings": settings, "contenders": results, "check": problems or "ok",
        "ratios": ratio_lines(results), "at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, indent=2))
    print(f"results: {out}")
    return results, not problems


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__.split("\n")[0])
    p.add_argument("--orders", type=int, default=None, help=f"default {DEFAULT_ORDERS:,}")
    p.add_argument("--quotes", type=int, default=None, help=f"default {DEFAULT_QUOTES:,}")
    p.add_argument("--work", default="bench_data", help="where extracts, stores and results go")
    p.add_argument("--quick", action="store_true", help=f"{QUICK[0]:,} orders × {QUICK[1]:,} quotes")
    p.add_argument("--contender", dest="contenders", action="append",
                   help=f"run only these (repeatable): {', '.join(CONTENDERS)}")
    p.add_argument("--timeout", type=float, default=None, help="kill a contender after this many seconds")
    p.add_argument("--memory-limit", default=None, help=f"DuckDB memory limit for ours_build (default {BUILD_MEMORY_LIMIT})")
    p.add_argument("--no-review", dest="review", action="store_false",
                   help="skip timing the notebooks and widgets on the sample store")
    p.add_argument("--no-reads", dest="reads", action="store_false",
                   help="skip the review's read path on ours_build's store (benchmarks/bench_reads.py)")
    p.add_argument("--threads", type=int, default=None, help="DuckDB threads for ours_build")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--repeat", type=positive_int, default=DEFAULT_REPEAT,
                   help=f"runs of each contender, round robin; the median is reported (default {DEFAULT_REPEAT})")
    p.add_argument("--child", help=argparse.SUPPRESS)
    return p


if __name__ == "__main__":
    _args = _parser().parse_args()
    if _args.child:
        child(json.loads(Path(_args.child).read_text()))
        sys.exit(0)
    sys.exit(main(_args))
