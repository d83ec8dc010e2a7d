"""The contenders of ``bestex bench``, each run in its own process by :mod:`benchmarks.bench`: our store
build, its NBBO-at-receipt step alone, and the same as-of join in pandas, polars and DuckDB.

To add a contender (polars, an optimised build), write ``_run_<name>(cfg) -> dict`` (returning at least
``seconds``, ``rows``, ``quoted`` and ``sample``: NBBO-at-receipt answers for ``cfg['sample_ids']``) and
list it in :data:`CONTENDERS`.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path

GB = 1024 ** 3


#: name -> what it does; each name runs ``_run_<name>(cfg)`` in its own process. The first is the reference.
CONTENDERS = {
    "ours_build": "bestex_nb.build.store.build(force=True): staging + validation + the NBBO lookups (receipt, routing, "
                  "four markout horizons; one streaming pass) + fills + buckets + exclusions, into a DuckDB file",
    "ours_receipt": "the build's NBBO-at-receipt step alone (benchmarks.ours.receipt_only): typed views of the "
                    "Parquet files, one streaming pass over the quotes, a DuckDB table of every order with its NBBO",
    "pandas_merge_asof": "pyarrow read (decimals cast to float64) + pd.merge_asof(by='symbol', backward): "
                         "each order's NBBO at receipt, in memory",
    "polars_join_asof": "polars read_parquet (decimals cast to float64) + join_asof(by='symbol', backward), "
                        "sorting only an input that is not already in time order",
    "duckdb_asof_join": "DuckDB's ASOF JOIN straight from the Parquet files (VARCHAR symbol), into a table",
}
#: The receipt-join contenders compared with ``ours_receipt`` (the issue's target ratios).
RECEIPT_RIVALS = ("pandas_merge_asof", "polars_join_asof", "duckdb_asof_join")
#: Contenders that need a library outside the package's dependencies (``pip install -e '.[bench]'``).
NEEDS = {"polars_join_asof": "polars"}


def available(name: str) -> bool:
    import importlib.util

    return name not in NEEDS or importlib.util.find_spec(NEEDS[name]) is not None


def _run_ours_build(cfg: dict) -> dict:
    from bestex_nb import query
    from bestex_nb.build import sql_steps, store

    phases: list[list] = []

    depth = [0]

    def timed(fn, label):  # time each top-level loader / lookup / mart step; nested steps are inside it
        def wrapper(*a, **kw):
            t = time.perf_counter()
            depth[0] += 1
            try:
                return fn(*a, **kw)
            finally:
                depth[0] -= 1
                if depth[0] == 0:
                    try:
                        name = label(*a)
                    except Exception:  # noqa: BLE001  (a changed signature only loses the label)
                        name = fn.__name__
                    phases.append([name, round(time.perf_counter() - t, 2)])
        return wrapper

    from benchmarks.ours import warm_up
    from bestex_nb.build import idmatch
    from bestex_nb.build.nbbo import answers

    warm_up()  # numba's cache is warm after the first run; compiling is not the build
    if hasattr(store, "load_table"):
        store.load_table = timed(store.load_table, lambda *a: f"load {a[1].table}")
    answers.run = timed(answers.run, lambda *a: "nbbo lookups (one pass)")
    idmatch.match_store = timed(idmatch.match_store, lambda *a: "id match (order and execution ids)")
    sql_steps.materialize = timed(sql_steps.materialize, lambda *a: f"mart {a[2]}")
    store._exclusions = timed(store._exclusions, lambda *a: "mart exclusions (candidate rows)")
    started = time.perf_counter()
    store.build(cfg["data"], cfg["store"], force=True, memory_limit=cfg.get("memory_limit"),
                threads=cfg.get("threads"))
    seconds = time.perf_counter() - started
    phases.append(["other (fingerprint, warnings, meta, checkpoint)",
                   round(seconds - sum(p[1] for p in phases), 2)])
    with query.connect(cfg["store"]) as con:
        rows, quoted = con.execute("select count(*), count(nbbo_r_quoted_at) from fct_orders").fetchone()
        sample = con.execute("select order_id, nbb_r::varchar, nbo_r::varchar from fct_orders "
                             "where order_id in (select unnest($ids))", {"ids": cfg["sample_ids"]}).fetchall()
    return {"seconds": seconds, "rows": rows, "quoted": quoted, "phases": phases,
            "sample": {r[0]: [r[1], r[2]] for r in sample},
            "store_gb": round(Path(cfg["store"]).stat().st_size / GB, 2)}


def _dec(x) -> str | None:
    """A float price as the DECIMAL(18,6) text DuckDB prints (for the spot check)."""
    import math

    return None if x is None or (isinstance(x, float) and math.isnan(x)) else \
        str(Decimal(repr(float(x))).quantize(Decimal("0.000001")))


def _run_ours_receipt(cfg: dict) -> dict:
    import duckdb

    from benchmarks.ours import receipt_only, warm_up
    from bestex_nb.build.staging import find_sources

    warm_up()  # numba's cache is warm after the first run; compiling is not the join
    t0 = time.perf_counter()
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute("set enable_progress_bar = false")  # as the build runs (a bar drawn to the log is work)
    if cfg.get("threads"):
        con.execute("set threads = $t", {"t": int(cfg["threads"])})
    sources = find_sources(Path(cfg["data"]))
    receipt_only(con, sources)
    seconds = time.perf_counter() - t0
    rows, quoted = con.execute("select count(*), count(nbbo_r_quoted_at) from orders_at_receipt").fetchall()[0]
    sample = con.execute("select order_id, nbb_r::varchar, nbo_r::varchar from orders_at_receipt "
                         "where order_id in (select unnest($ids))", {"ids": cfg["sample_ids"]}).fetchall()
    return {"seconds": seconds, "rows": rows, "quoted": quoted, "sample": {r[0]: [r[1], r[2]] for r in sample}}


def _run_pandas_merge_asof(cfg: dict) -> dict:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = Path(cfg["data"])
    t0 = time.perf_counter()
    orders = pq.read_table(data / "orders.parquet", columns=["order_id", "symbol", "received_at"]).to_pandas()
    quotes = pq.read_table(data / "nbbo.parquet", columns=["symbol", "quoted_at", "bid_price", "ask_price"])
    for col in ("bid_price", "ask_price"):  # decimal128 would become Python Decimal objects
        quotes = quotes.set_column(quotes.schema.get_field_index(col), col, quotes[col].cast(pa.float64()))
    quotes = quotes.to_pandas()
    t1 = time.perf_counter()
    if not orders["received_at"].is_monotonic_increasing:
        orders = orders.sort_values("received_at", kind="stable", ignore_index=True)
    if not quotes["quoted_at"].is_monotonic_increasing:
        quotes = quotes.sort_values("quoted_at", kind="stable", ignore_index=True)
    t2 = time.perf_counter()
    result = pd.merge_asof(orders, quotes, left_on="received_at", right_on="quoted_at", by="symbol",
                           direction="backward", allow_exact_matches=True)
    t3 = time.perf_counter()
    picked = result[result["order_id"].isin(set(cfg["sample_ids"]))]
    sample = {r.order_id: [_dec(r.bid_price), _dec(r.ask_price)] for r in picked.itertuples()}
    return {"seconds": t3 - t0, "rows": len(result), "quoted": int(result["quoted_at"].notna().sum()),
            "phases": [["read parquet", round(t1 - t0, 2)], ["sort (skipped if sorted)", round(t2 - t1, 2)],
                       ["merge_asof", round(t3 - t2, 2)]],
            "sample": sample}


def _run_polars_join_asof(cfg: dict) -> dict:
    import polars as pl

    data = Path(cfg["data"])
    t0 = time.perf_counter()
    orders = pl.read_parquet(data / "orders.parquet", columns=["order_id", "symbol", "received_at"])
    quotes = pl.read_parquet(data / "nbbo.parquet", columns=["symbol", "quoted_at", "bid_price", "ask_price"])
    quotes = quotes.with_columns(pl.col("bid_price").cast(pl.Float64), pl.col("ask_price").cast(pl.Float64))
    t1 = time.perf_counter()

    def in_time_order(df, col):  # polars trusts a sorted flag without checking: check, then flag or sort
        return df.with_columns(pl.col(col).set_sorted()) if df[col].is_sorted() else df.sort(col, maintain_order=True)

    orders, quotes = in_time_order(orders, "received_at"), in_time_order(quotes, "quoted_at")
    t2 = time.perf_counter()
    result = orders.join_asof(quotes, left_on="received_at", right_on="quoted_at", by="symbol", strategy="backward")
    t3 = time.perf_counter()
    picked = result.filter(pl.col("order_id").is_in(cfg["sample_ids"]))
    sample = {r["order_id"]: [_dec(r["bid_price"]), _dec(r["ask_price"])] for r in picked.iter_rows(named=True)}
    return {"seconds": t3 - t0, "rows": result.height, "quoted": int(result["quoted_at"].is_not_null().sum()),
            "phases": [["read parquet", round(t1 - t0, 2)], ["check order (sort if needed)", round(t2 - t1, 2)],
                       ["join_asof", round(t3 - t2, 2)]],
            "sample": sample}


def _run_duckdb_asof_join(cfg: dict) -> dict:
    import duckdb

    data = Path(cfg["data"])
    t0 = time.perf_counter()
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute("set enable_progress_bar = false")  # as the build runs (a bar drawn to the log is work)
    con.execute("create table result as select orders.order_id, quotes.quoted_at, quotes.bid_price, quotes.ask_price "
                "from read_parquet($orders) as orders asof left join read_parquet($quotes) as quotes "
                "on orders.symbol = quotes.symbol and orders.received_at >= quotes.quoted_at",
                {"orders": str(data / "orders.parquet"), "quotes": str(data / "nbbo.parquet")})
    seconds = time.perf_counter() - t0
    rows, quoted = con.execute("select count(*), count(quoted_at) from result").fetchall()[0]
    sample = con.execute("select order_id, bid_price::varchar, ask_price::varchar from result "
                         "where order_id in (select unnest($ids))", {"ids": cfg["sample_ids"]}).fetchall()
    return {"seconds": seconds, "rows": rows, "quoted": quoted, "sample": {r[0]: [r[1], r[2]] for r in sample}}


def child(cfg: dict) -> None:
    """Run the contender ``cfg['contender']`` (in this process: the child) and write its result."""
    result = globals()[f"_run_{cfg['contender']}"](cfg)
    Path(cfg["result"]).write_text(json.dumps(result))
