"""Calibration of the venue comparison when no venue is truly different (metrics.md section 8).

Builds the sample quarter once, then for each of N seeds shuffles the routed venue among the analysed
orders (each venue keeps its share of the flow, but which orders it got is now random, so no venue is
truly better or worse), and runs the comparison of every metric and the deterioration trigger of
2026-08 against 2026-07 with the committee's default parameters. (The trigger is checked on August, not
September: the sample's planted September fall is a change over time, which the shuffle spreads over all
venues rather than removes.) It prints, out of N seeds, how many had:

- no review group flagged material, for any metric (the target: at least 90 of 100);
- no review group significant after Holm, whatever the threshold (a stricter look at the bootstrap: Holm
  controls the family-wise error at 5% per metric, so expect roughly 95 per metric);
- no breach of the deterioration trigger in 2026-08 versus 2026-07.

Run: python benchmarks/null_calibration.py [--seeds 100] [--data DIR] [--orders N] [--work DIR]
(about 5 s per seed at the default sample size on a 2-core machine).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np

import bestex_nb
from bestex_nb.build.store import build
from bestex_nb.contract.parameters import load
from bestex_nb.stats.comparison import METRICS


def shuffle_venues(store: Path, seed: int) -> None:
    """Permute ``venue`` among the analysed orders of the store's fct_orders (in place)."""
    with duckdb.connect(str(store)) as con:
        orders = con.execute("select row_no, venue from fct_orders where exclusion_reason is null "
                             "order by row_no").df()
        orders["venue"] = np.random.default_rng(seed).permutation(orders["venue"].to_numpy())
        con.register("shuffled", orders)
        con.execute("update fct_orders set venue = shuffled.venue from shuffled "
                    "where fct_orders.row_no = shuffled.row_no")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--data", help="sample folder to use (default: generate one under --work)")
    ap.add_argument("--orders", type=int, default=120_000, help="orders of the generated sample")
    ap.add_argument("--work", help="scratch folder (default: a temporary one, removed afterwards)")
    ap.add_argument("--period", default="2026Q3")
    args = ap.parse_args(argv)

    work = Path(args.work or tempfile.mkdtemp(prefix="bestex_calibration_"))
    work.mkdir(parents=True, exist_ok=True)
    data = Path(args.data) if args.data else work / "data"
    if not (data / "orders.parquet").exists() and not args.data:
        from bestex_nb.sample import generate

        generate(data, orders=args.orders)
    base = build(data, work / "base.duckdb").store
    params = load(args.period)
    metrics = list(METRICS)
    clean = {"material": 0, "significant": {m: 0 for m in metrics}, "breach": 0}
    started = time.perf_counter()
    for seed in range(1, args.seeds + 1):
        store = work / "shuffled.duckdb"
        shutil.copyfile(base, store)
        shuffle_venues(store, seed)
        review = bestex_nb.Review(store)
        try:
            results = {m: review.compare_venues(args.period, m, parameters=params) for m in metrics}
            trig = review.deterioration("2026-08", parameters=params)
        finally:
            review.close()
        material = [m for m, df in results.items() if df["is_material"].any()]
        clean["material"] += not material
        for m, df in results.items():
            clean["significant"][m] += not (df["p_holm"] < params.holm_alpha).any()
        clean["breach"] += not trig["is_breach"].any()
        print(f"seed {seed:3d}: material in {material or 'none'}; breaches {int(trig['is_breach'].sum())}; "
              f"{time.perf_counter() - started:,.0f} s", flush=True)
    n = args.seeds
    print(f"\n{n} seeds, venues shuffled among analysed orders (no true difference), {args.period}:")
    print(f"  no review group material (any metric):            {clean['material']} of {n}  (target >= {0.9 * n:.0f})")
    for m, count in clean["significant"].items():
        print(f"  no review group Holm-significant, {m:<22} {count} of {n}")
    print(f"  no deterioration breach, 2026-08 vs 2026-07:       {clean['breach']} of {n}")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if clean["material"] >= 0.9 * n else 1


if __name__ == "__main__":
    sys.exit(main())
