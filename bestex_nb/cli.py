"""`bestex` command line: sample-data, build, run, bench, import."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from bestex_nb.contract.errors import BestexError


def _cmd_sample(args) -> int:
    from bestex_nb.sample import generate

    out = Path(args.out)
    started = time.perf_counter()
    kwargs = {"seed": args.seed}
    if args.orders:
        kwargs["orders"] = args.orders
    counts = generate(out, **kwargs)
    print(f"sample data written to {out} in {time.perf_counter() - started:.1f} s")
    for table, n in counts.items():
        print(f"  {table:<16} {n:>12,} rows")
    return 0


def _cmd_build(args) -> int:
    from bestex_nb.build.store import build

    report = build(args.data, args.store, force=args.force, memory_limit=args.memory_limit)
    print(report.text())
    return 0


def _cmd_run(args) -> int:
    from bestex_nb.report.runner import run_batch

    result = run_batch(
        period=args.period, notebooks=args.notebook, data=args.data, store=args.store,
        venues=args.venue, all_venues=args.all_venues or not args.venue, outputs=args.outputs,
        workers=args.workers, drill=args.drill,
    )
    print(f"run {result.run_id}: {len(result.reports)} report(s) in {result.seconds:.1f} s")
    for path in result.html_paths():
        print(f"  {path}")
    print(f"manifest: {result.manifest}")
    return 0


def bench_checkout(candidates: list[Path] | None = None) -> Path:
    """The source checkout whose ``benchmarks/`` ``bestex bench`` runs: the current directory, or the one
    the package was installed from (editable). The benchmarks are not part of the package."""
    if candidates is None:
        candidates = [Path.cwd(), Path(__file__).resolve().parent.parent]
    for root in candidates:
        if (root / "benchmarks" / "bench.py").is_file():
            return root
    raise BestexError("bestex bench runs from a source checkout: make bench")


def _cmd_bench(argv: list[str]) -> int:
    """``python -m benchmarks.bench`` of the checkout with the same arguments, in a child process (its
    options: ``bestex bench --help``)."""
    root = bench_checkout()
    path = os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, "-m", "benchmarks.bench", *argv], check=False,
                          env=dict(os.environ, PYTHONPATH=path)).returncode


def _cmd_import(args) -> int:
    from bestex_nb.adapters import lobster

    summary = lobster.import_lobster(args.files, args.out, force=args.force)
    print(lobster.report_text(summary))
    print(f"extracts written to {args.out} (report: {args.out}/{lobster.REPORT_NAME})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bestex", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("sample-data", help="write the synthetic sample quarter (2026Q3)")
    p.add_argument("--out", default="data/sample")
    p.add_argument("--seed", type=int, default=20260930)
    p.add_argument("--orders", type=int, default=None, help="number of equity orders (default 120,000)")
    p.set_defaults(func=_cmd_sample)

    p = sub.add_parser("build", help="load, validate and enrich extracts into the review store")
    p.add_argument("--data", required=True, help="folder of extracts (see data/README.md)")
    p.add_argument("--store", default=None, help="DuckDB file (default: a cache folder outside the data)")
    p.add_argument("--force", action="store_true", help="rebuild even when the inputs are unchanged")
    p.add_argument("--memory-limit", default=None, help="the build's memory budget, e.g. 12GB: DuckDB gets 3/4 of it and spills beyond")
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("run", help="execute review notebooks with papermill and freeze them to HTML")
    p.add_argument("--period", required=True, help="2026Q3, 2026-07, or START..END (ISO dates)")
    p.add_argument("--notebook", action="append", required=True, help="notebook name (repeatable)")
    p.add_argument("--data", default="data/sample")
    p.add_argument("--store", default=None)
    p.add_argument("--venue", action="append", default=None, help="venue id (repeatable)")
    p.add_argument("--all-venues", action="store_true", help="the firm plus every venue with routed orders")
    p.add_argument("--outputs", default="outputs")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--drill", default="", help="drill-down filters, as an explorer's 'copy as parameters' shows "
                   "them, e.g. \"is_sp500=true order_category=market\"")
    p.set_defaults(func=_cmd_run)

    # the arguments go to the benchmark as they are (main hands them over before parsing)
    sub.add_parser("bench", add_help=False, help="benchmark the store build against pandas merge_asof and others "
                   "(from a source checkout; bestex bench --help for its options)")

    p = sub.add_parser("import", help="convert a real public format into extracts (lobster)")
    p.add_argument("format", choices=["lobster"], help="lobster: LOBSTER message + orderbook file pairs")
    p.add_argument("files", nargs="+", help="message or orderbook files (each finds its partner)")
    p.add_argument("--out", required=True, help="folder for the extracts (empty, or an earlier import)")
    p.add_argument("--force", action="store_true", help="write into a non-empty folder")
    p.set_defaults(func=_cmd_import)

    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        if argv[:1] == ["bench"]:
            return _cmd_bench(argv[1:])
        args = parser.parse_args(argv)
        return args.func(args)
    except BestexError as exc:
        print(f"bestex: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
