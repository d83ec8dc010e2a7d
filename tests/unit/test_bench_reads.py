"""The read-path harness of `bestex bench` (benchmarks/bench_reads.py): end to end on a tiny generated
store it produces every row of its table, and bench.py hands it the store ``ours_build`` left. No timing
is asserted: the targets live in the bench output."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from benchmarks import bench, bench_data, bench_reads, bench_review

ORDERS, QUOTES = 5_000, 50_000


def expected_rows() -> set[tuple[str, str, str]]:
    """Every (section, what, scope) of the table, written out independently of the harness's loops."""
    rows = {("api", what, scope) for what in bench_reads.READS for scope in ("firm", "venue")}
    for name in bench_review.NOTEBOOKS:
        for scope in ("firm", "venue"):
            rows |= {("notebook", f"{name}: seconds of cells", scope), ("memory", f"{name}: kernel peak RSS", scope),
                     ("widgets", f"{name}: slowest redraw", scope)}
    return rows | {("batch", "bestex run --all-venues (both notebooks)", ""),
                   ("memory", "batch: largest process peak RSS", ""), ("build", "build alone", ""),
                   ("build", "build + batch, end to end", ""), ("memory", "build peak RSS", "")}


def test_reads_cover_the_public_api_the_issue_names():
    names = " ".join(bench_reads.READS)
    for method in ("price_improvement", "limit_fills", "exclusions", "reconciliation", "compare_venues", "exceptions"):
        assert f"{method}" in names
    assert "compare_venues(fill_rate_shares)" in bench_reads.READS
    assert f"compare_venues({','.join(bench_reads.PI_METRICS)})" in bench_reads.READS
    assert "price_improvement(by=venue)" in bench_reads.READS


@pytest.fixture
def few_replicates(tmp_path, monkeypatch):
    """The committee's parameters with the fewest bootstrap replicates the comparison accepts (it raises
    them to what Holm's correction needs), here and in every child process (kernels, the batch): the
    harness is under test, not the bootstrap."""
    from bestex_nb.contract import parameters

    folder = tmp_path / "parameters"
    shutil.copytree(parameters.PARAMETERS_DIR, folder)
    text = (folder / "defaults.yaml").read_text()
    (folder / "defaults.yaml").write_text(re.sub(r"replicates: \d+", "replicates: 1", text))
    monkeypatch.setenv("BESTEX_PARAMETERS", str(folder))
    monkeypatch.setattr(parameters, "PARAMETERS_DIR", folder)
    return folder


@pytest.mark.slow
def test_reads_harness_end_to_end_on_a_tiny_store(tmp_path, capsys, few_replicates):
    data, _, _ = bench_data.ensure(tmp_path, ORDERS, QUOTES)
    store = tmp_path / "stores" / "tiny.duckdb"
    assert bench_reads.main(["--store", str(store), "--data", str(data), "--period", "2026Q3",
                             "--work", str(tmp_path), "--no-sample"]) == 0
    printed = capsys.readouterr().out
    saved = json.loads((tmp_path / "results-reads.json").read_text())
    scale = saved["scale"]
    assert saved["sample"] is None and scale["venue"] == "V1" and Path(scale["store"]) == store.resolve()

    table = {(r["section"], r["what"], r["scope"]): r for r in saved["table"]}
    assert set(table) == expected_rows()
    for key, r in table.items():
        assert r["scale"] is not None and r["scale"] > 0, key
        assert r["what"] in printed
        if r["section"] == "api":
            assert r["scale_second"] is not None, key  # the second call on the same Review
        if r["target"] and r["section"] != "batch":
            assert r["verdict"] in ("OK", "OVER TARGET"), key
    details = {(r["section"], r["what"], r["scope"]): r for r in scale["rows"]}
    batch = details[("batch", "bestex run --all-venues (both notebooks)", "")]
    assert batch["reports"] == "8" and batch["store_reused"]  # firm + V1..V3, two notebooks each, on the store
    assert all(details[("api", w, "venue")]["result_rows"] >= 0 for w in bench_reads.READS)
    assert not list((tmp_path / "reads-batch-outputs").glob("*"))  # the batch's reports are removed

    # beside a sample: ratios, and the batch judged on its ratio
    both = bench_reads.compare(scale, scale)
    assert {(r["section"], r["what"], r["scope"]) for r in both} == expected_rows()
    assert all(r["ratio"] == 1.0 for r in both)
    assert next(r for r in both if r["section"] == "batch")["verdict"] == "OK"
    assert "scale/sample" in bench_reads.text(both, scale, scale)
    assert "batch: the firm and every routed venue, both notebooks: scale 8 reports" in printed


def _m(rows):
    return {"store": "s.duckdb", "venue": "V1", "period": "2026Q3", "rows": rows}


def test_compare_judges_each_target_on_the_scale_figure():
    sample = _m([bench_reads._row("api", "t", "firm", 0.1, target=1.0, second=0.05),
                 bench_reads._row("batch", "b", "", 10.0, target=3.0, kind="ratio"),
                 bench_reads._row("build", "build alone", "", 2.0)])
    scale = _m([bench_reads._row("api", "t", "firm", 1.5, target=1.0, second=0.2),
                bench_reads._row("batch", "b", "", 31.0, target=3.0, kind="ratio"),
                bench_reads._row("build", "build alone", "", 20.0),
                bench_reads._row("api", "new method", "firm", 0.5, target=1.0)])
    by = {r["what"]: r for r in bench_reads.compare(sample, scale)}
    assert by["t"]["ratio"] == 15.0 and by["t"]["verdict"] == "OVER TARGET" and by["t"]["scale_second"] == 0.2
    assert by["b"]["ratio"] == 3.1 and by["b"]["verdict"] == "OVER TARGET" and by["b"]["target"] == "≤ 3×"
    assert by["build alone"]["verdict"] == "" and by["build alone"]["target"] == ""
    assert by["new method"]["sample"] is None and by["new method"]["verdict"] == "OK"  # only at scale
    assert "2 of 3 targets over" in bench_reads.text(list(by.values()), sample, scale)


def test_bench_hands_the_read_path_the_build_store_and_figures(tmp_path, monkeypatch, capsys):
    calls = []

    def report(work, data, store, period, build):
        calls.append((work, data, store, period, build))
        return {"period": period, "table": [{"what": "x"}]}

    monkeypatch.setattr(bench_reads, "report", report)
    (tmp_path / "results-10x100.json").write_text(json.dumps({"orders": 10}))
    results = [{"contender": "ours_receipt", "seconds": 1.0},
               {"contender": "ours_build", "seconds": 3.0, "process_s": 4.5, "peak_rss_gb": 2.0}]
    assert bench.reads_after_build(tmp_path, 10, 100, results) == 0
    (work, data, store, period, build), = calls
    assert work == tmp_path
    assert data == tmp_path / bench_data.folder_name(10, 100) and period == "2026Q3"
    assert store == tmp_path / "stores" / f"{data.name}.duckdb"  # where run_scale tells ours_build to build
    assert build["process_s"] == 4.5 and build["peak_rss_gb"] == 2.0
    saved = json.loads((tmp_path / "results-10x100.json").read_text())
    assert saved["orders"] == 10 and saved["reads"]["table"] == [{"what": "x"}]
    # no store of ours at that scale (ours_build not run, or failed): nothing to read
    assert bench.reads_after_build(tmp_path, 10, 100, results[:1]) == 0 and len(calls) == 1
    assert "--no-reads" in bench._parser().format_help()


def test_a_timed_process_reports_its_own_peak_not_the_bench_process(tmp_path):
    """ru_maxrss of a child forked by a big process counts that process's memory: the launcher keeps the
    bench's own frames out of the build's and the batch's peak."""
    import sys

    import numpy as np

    held = np.ones(600 * 1024 ** 2 // 8)  # 600 MB touched in this process
    _, small, code, _ = bench_reads._timed_process([sys.executable, "-c", "pass"], tmp_path / "small.log")
    assert code == 0 and small < 0.3
    grow = "import numpy as np; a = np.ones(400 * 1024 ** 2 // 8); print('done')"
    _, big, code, out = bench_reads._timed_process([sys.executable, "-c", grow], tmp_path / "big.log")
    assert code == 0 and "done" in out and 0.39 < big < 0.9
    _, _, code, _ = bench_reads._timed_process([sys.executable, "-c", "raise SystemExit(3)"], tmp_path / "x.log")
    assert code == 3 and held.sum() > 0


def test_a_figure_never_prints_as_the_whole_number_it_is_not():
    from benchmarks.bench_reads import figure

    assert figure(1.003) == "1.003"  # beside "< 1 s ... OVER TARGET": not "1.00"
    assert figure(0.998) == "0.998"
    assert figure(1.0) == "1.00" and figure(0.5) == "0.50" and figure(1.234, " GB") == "1.23 GB"
    assert figure(29.996) == "29.996" and figure(None) == "—"
