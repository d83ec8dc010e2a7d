"""`bestex` command line: sample-data, build, run, bench, import."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bestex_nb.contract.errors import BestexError

CHECKOUT = Path(__file__).resolve().parents[1]


def _bench_module():
    """benchmarks/bench.py (standard library only at import), or None for an installed package: the
    benchmarks sit beside bestex_nb in a checkout and are not installed with it (nor on sys.path of the
    `bestex` script, even in an editable install)."""
    try:
        from benchmarks import bench
    except ModuleNotFoundError as exc:
        if exc.name != "benchmarks" or not (CHECKOUT / "benchmarks" / "bench.py").is_file():
            return None
        sys.path.insert(0, str(CHECKOUT))
        from benchmarks import bench
    return bench


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
        workers=args.workers,
    )
    print(f"run {result.run_id}: {len(result.reports)} report(s) in {result.seconds:.1f} s")
    for path in result.html_paths():
        print(f"  {path}")
    print(f"manifest: {result.manifest}")
    return 0


def _cmd_bench(args) -> int:
    bench = _bench_module()
    if bench is None:
        raise BestexError("bestex bench runs from a checkout of bestex_nb: benchmarks/ is not installed")
    return bench.main(args)


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
    p.add_argument("--memory-limit", default=None, help="DuckDB memory limit, e.g. 12GB (spills beyond)")
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
    p.set_defaults(func=_cmd_run)

    bench = _bench_module()
    p = sub.add_parser("bench", help="benchmark the store build against pandas merge_asof")
    p.add_argument("--orders", type=int, default=None)
    p.add_argument("--quotes", type=int, default=None)
    p.add_argument("--work", default="bench_data")
    p.add_argument("--quick", action="store_true", help="only 1M orders x 10M quotes (default: that, then 10M x 100M)")
    p.add_argument("--contender", dest="contenders", action="append", default=None,
                   help="run only this contender (repeatable): ours_build, pandas_merge_asof")
    p.add_argument("--memory-limit", default=None, help="DuckDB memory limit for our build (default 12GB)")
    p.add_argument("--no-review", dest="review", action="store_false",
                   help="skip timing the notebooks and widgets on the sample store")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--timeout", type=float, default=None, help="seconds per contender")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--repeat", type=bench.positive_int if bench else int, default=None,
                   help=f"runs of each contender, round robin; the run of median time is reported "
                        f"(default {bench.DEFAULT_REPEAT if bench else '3'})")
    p.set_defaults(func=_cmd_bench)

    p = sub.add_parser("import", help="convert a real public format into extracts (lobster)")
    p.add_argument("format", choices=["lobster"], help="lobster: LOBSTER message + orderbook file pairs")
    p.add_argument("files", nargs="+", help="message or orderbook files (each finds its partner)")
    p.add_argument("--out", required=True, help="folder for the extracts (empty, or an earlier import)")
    p.add_argument("--force", action="store_true", help="write into a non-empty folder")
    p.set_defaults(func=_cmd_import)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except BestexError as exc:
        print(f"bestex: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
