"""`bestex bench` end to end at a tiny scale: generated extracts, each contender in its own process, and
the check that the store build, its receipt step alone, pandas ``merge_asof``, DuckDB's ``ASOF JOIN`` (and
polars when installed) give the same NBBO at receipt. No timings."""

from __future__ import annotations

import copy
import json
from types import SimpleNamespace

import duckdb

from benchmarks import bench, bench_data

ORDERS, QUOTES = 2_000, 20_000


def test_bench_tiny_contenders_agree(tmp_path, capsys):
    args = SimpleNamespace(orders=ORDERS, quotes=QUOTES, work=str(tmp_path), review=False, reads=False,
                           repeat=1)
    assert bench.main(args) == 0
    printed = capsys.readouterr().out
    assert "all equal" in printed and "ours_receipt vs pandas_merge_asof" in printed
    assert "ours_build / ours_receipt" in printed

    res = json.loads((tmp_path / f"results-{ORDERS}x{QUOTES}.json").read_text())
    assert res["check"] == "ok"
    by = {c["contender"]: c for c in res["contenders"]}
    assert list(by) == [n for n in bench.CONTENDERS if bench.available(n)]
    assert {"ours_build", "ours_receipt", "pandas_merge_asof", "duckdb_asof_join"} <= set(by)
    for c in by.values():
        assert c["exit"] == 0 and "error" not in c
        assert c["rows"] == ORDERS
        assert c["quoted"] == ORDERS  # every generated order has an earlier quote on its day
        assert c["seconds"] > 0 and c["peak_rss_gb"] > 0

    # independent spot check: the stored NBBO at receipt is the latest same-symbol quote at or before receipt
    data = tmp_path / bench_data.folder_name(ORDERS, QUOTES)
    store = tmp_path / "stores" / f"{data.name}.duckdb"
    with duckdb.connect(str(store), read_only=True) as con:
        bad = con.execute(f"""
            with expected as (
                select o.order_id, arg_max(q.bid_price, q.quoted_at) as bid, arg_max(q.ask_price, q.quoted_at) as ask
                from '{data}/orders.parquet' o join '{data}/nbbo.parquet' q
                  on q.symbol = o.symbol and q.quoted_at <= o.received_at
                where hash(o.order_id) % 10 = 0
                group by o.order_id
            )
            select count(*) filter (where f.nbb_r is distinct from e.bid or f.nbo_r is distinct from e.ask),
                   count(*)
            from expected e join fct_orders f using (order_id)
        """).fetchone()
    assert bad[0] == 0 and bad[1] > 100

    # a second run reuses the extracts
    assert bench.main(SimpleNamespace(orders=ORDERS, quotes=QUOTES, work=str(tmp_path),
                                      contenders=["pandas_merge_asof"], review=False, reads=False, repeat=1)) == 0
    assert "(reused)" in capsys.readouterr().out


def test_median_run_reports_the_middle_run_and_the_worst_memory():
    runs = [{"contender": "c", "seconds": s, "process_s": s + 1, "peak_rss_gb": m, "phases": [["p", s]]}
            for s, m in ((7.0, 2.0), (5.0, 2.5), (6.0, 1.9))]
    out = bench.median_run(runs)
    assert out["seconds"] == 6.0 and out["phases"] == [["p", 6.0]]  # the figures of one run, not a blend
    assert out["runs_s"] == [7.0, 5.0, 6.0]
    assert out["peak_rss_gb"] == 2.5 and out["median_run_peak_rss_gb"] == 1.9
    # an even count takes the lower middle; one run is reported as it is
    assert bench.median_run(runs[:2])["seconds"] == 5.0
    assert bench.median_run(runs[:1]) == runs[0]
    # a run that failed is what the contender reports
    failed = bench.median_run([runs[0], {"contender": "c", "error": "timed out", "peak_rss_gb": 9.0}])
    assert failed["error"] == "timed out" and failed["runs_s"] == [7.0, None] and failed["peak_rss_gb"] == 9.0
    table = bench._table([dict(out, rows=1, quoted=1)], 10, 100)
    assert "c runs: 7.0, 5.0, 6.0 s" in table


def test_repeats_run_round_robin_and_report_the_median_of_each(tmp_path, monkeypatch):
    """run_scale with --repeat 3: every contender three times in turn, every run spot-checked, the median
    run reported and written with its runs (the children are stubbed: the loop, not the contenders)."""
    monkeypatch.setattr(bench_data, "ensure", lambda work, n, m, seed: (tmp_path, 0.0, True))
    order, seconds = [], {"ours_build": [9.0, 7.0, 8.0], "ours_receipt": [3.0, 2.0, 4.0]}
    sample = {"O1": ["1.000000", "1.010000"]}

    def spawn(cfg, timeout):
        name = cfg["contender"]
        order.append(name)
        s = seconds[name][sum(1 for n in order if n == name) - 1]
        bad = name == "ours_receipt" and len(order) == 6  # the last run of the receipt step disagrees
        return {"contender": name, "process_s": s + 1, "peak_rss_gb": s / 10, "exit": 0, "seconds": s,
                "rows": 10, "quoted": 10, "sample": {"O1": ["9.000000", "9.010000"]} if bad else sample}

    monkeypatch.setattr(bench, "_spawn", spawn)
    args = SimpleNamespace(repeat=3, memory_limit=None, threads=None, timeout=None, seed=None)
    results, ok = bench.run_scale(args, tmp_path, ["ours_build", "ours_receipt"], 10, 100)
    assert order == ["ours_build", "ours_receipt"] * 3
    by = {r["contender"]: r for r in results}
    assert by["ours_build"]["seconds"] == 8.0 and by["ours_build"]["runs_s"] == [9.0, 7.0, 8.0]
    assert by["ours_receipt"]["seconds"] == 3.0 and by["ours_receipt"]["peak_rss_gb"] == 0.4
    assert not ok  # the disagreeing third run is caught although the median run agrees
    saved = json.loads((tmp_path / "results-10x100.json").read_text())
    assert saved["settings"]["repeat"] == 3 and "ours_build / ours_receipt: 2.67×" in " ".join(saved["ratios"])


def test_repeat_must_be_at_least_one():
    import argparse

    import pytest

    assert bench.positive_int("2") == 2
    with pytest.raises(argparse.ArgumentTypeError):
        bench.positive_int("0")


def test_check_reports_a_disagreement():
    ours = {"contender": "ours_build", "rows": 3, "quoted": 3,
            "sample": {"O1": ["1.000000", "1.010000"], "O2": ["2.000000", "2.010000"]}}
    other = copy.deepcopy(ours) | {"contender": "pandas_merge_asof"}
    assert bench._check([ours, other], 3) == []
    other["sample"]["O2"] = ["2.000000", "2.020000"]
    other["quoted"] = 2
    problems = bench._check([ours, other], 3)
    assert any("1 of 2 sampled orders differ" in p for p in problems)
    assert any("orders with an NBBO" in p for p in problems)
    assert bench._check([ours, {"contender": "x", "error": "timed out"}], 3) == ["x: did not finish (timed out)"]


def test_generator_is_seeded_and_in_time_order(tmp_path):
    a = bench_data.generate(tmp_path / "a", 500, 10_000, threads=1)
    bench_data.generate(tmp_path / "b", 500, 10_000, threads=2)
    assert a == {"nbbo": 10_000, "orders": 500, "executions": 500, "venues": 3, "securities": 5}
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    for table in bench_data.TABLES:
        diff = con.execute(f"select count(*) from (select * from '{tmp_path}/a/{table}.parquet' "
                           f"except all select * from '{tmp_path}/b/{table}.parquet')").fetchone()[0]
        assert diff == 0, table
    types = dict(con.execute(f"select column_name, column_type from (describe '{tmp_path}/a/nbbo.parquet')")
                 .fetchall())
    assert types["quoted_at"] == "TIMESTAMP WITH TIME ZONE" and types["bid_price"] == "DECIMAL(18,6)"
    # nbbo in global time order, not grouped by symbol; orders in receipt order
    nbbo_sorted, symbol_runs = con.execute(f"""
        select bool_and(quoted_at > prev), count(*) filter (where symbol <> prev_symbol)
        from (select quoted_at, symbol, lag(quoted_at) over w as prev, lag(symbol) over w as prev_symbol
              from '{tmp_path}/a/nbbo.parquet' window w as (order by seq))
    """).fetchone()
    assert nbbo_sorted and symbol_runs > 1_000
    assert con.execute(f"select bool_and(received_at >= prev) from (select received_at, "
                       f"lag(received_at) over (order by order_id) as prev from '{tmp_path}/a/orders.parquet')"
                       ).fetchone()[0]
