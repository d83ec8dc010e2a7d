"""The store: built once, reused while inputs are unchanged, kept outside the data folder."""


import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import read_csv_typed, write_extracts
from fixtures.pi_case import FILLS, ORDERS, QUOTES

import bestex_nb
from bestex_nb import query
from bestex_nb.build import layout, sql_steps
from bestex_nb.build.store import build, default_store_path
from bestex_nb.contract.errors import BestexError


@pytest.fixture
def data(tmp_path):
    return write_extracts(tmp_path / "data", ORDERS, FILLS, QUOTES)


def test_reused_while_inputs_unchanged_and_rebuilt_when_they_change(data, tmp_path):
    first = build(data, tmp_path / "s.duckdb")
    assert not first.reused
    assert build(data, tmp_path / "s.duckdb").reused
    text = (data / "orders.csv").read_text().replace("O5", "O6")
    (data / "orders.csv").write_text(text)
    third = build(data, tmp_path / "s.duckdb")
    assert not third.reused


def test_default_store_lives_outside_the_data_folder(data, tmp_path, monkeypatch):
    monkeypatch.setenv("BESTEX_STORE_DIR", str(tmp_path / "stores"))
    report = build(data)
    assert report.store == default_store_path(data)
    assert data not in report.store.parents and report.store.exists()
    assert sorted(p.name for p in data.iterdir()) == sorted(
        ["orders.csv", "executions.csv", "nbbo.csv", "venues.csv", "securities.csv"])


def test_open_without_build_refuses_a_stale_store(data, tmp_path):
    build(data, tmp_path / "s.duckdb")
    with bestex_nb.open_review(data, tmp_path / "s.duckdb", build=False) as review:
        assert review.price_improvement("2026Q3", ["venue"])["orders"].sum() == 5
    with open(data / "nbbo.csv", "a") as fh:  # another quote: other bytes (times alone are no change)
        fh.write("AAA,2026-07-06T15:00:00Z,10.00,10.02,100,100,9\n")
    with pytest.raises(BestexError, match="other inputs"):
        bestex_nb.open_review(data, tmp_path / "s.duckdb", build=False)
    with pytest.raises(BestexError, match="no review store"):
        bestex_nb.open_review(data, tmp_path / "missing.duckdb", build=False)


def test_parquet_and_folder_of_parquet_give_the_same_numbers(data, tmp_path):
    csv_table = bestex_nb.open_review(data, tmp_path / "csv.duckdb").price_improvement("2026Q3", ["venue"])
    pq_dir = tmp_path / "pq"
    pq_dir.mkdir()
    for name in ("orders", "executions", "venues", "securities"):
        pq.write_table(read_csv_typed(data / f"{name}.csv"), pq_dir / f"{name}.parquet")
    nbbo = read_csv_typed(data / "nbbo.csv")
    (pq_dir / "nbbo").mkdir()
    pq.write_table(nbbo.slice(0, 3), pq_dir / "nbbo" / "part-0.parquet")  # file order across parts
    pq.write_table(nbbo.slice(3), pq_dir / "nbbo" / "part-1.parquet")
    pq_table = bestex_nb.open_review(pq_dir, tmp_path / "pq.duckdb").price_improvement("2026Q3", ["venue"])
    pd.testing.assert_frame_equal(csv_table, pq_table)


def test_large_store_views_give_the_small_store_tables(tmp_path, monkeypatch):
    """Above layout.TABLES_BELOW_ORDERS the facts are views: over files kept beside the store when orders
    and executions are single Parquet files (bestex_nb.build.sidecar), over the stored base tables otherwise
    (here: executions given as CSV); below, the same queries stored as tables. All three give the same
    rows, on a generated set with bad rows planted."""
    import duckdb

    from bestex_nb.build import store
    from bestex_nb.sample import generate

    data = tmp_path / "data"
    generate(data, seed=11, orders=2500, quotes_target=100_000)
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for f in data.iterdir():
        (mixed / f.name).write_bytes(f.read_bytes())
    (mixed / "executions.parquet").unlink()
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        con.read_parquet(str(data / "executions.parquet")).write_csv(str(mixed / "executions.csv"), header=True)
    reports = {"tables": build(data, tmp_path / "tables.duckdb")}
    monkeypatch.setattr(layout, "TABLES_BELOW_ORDERS", 0)
    reports["views"] = build(data, tmp_path / "views.duckdb", force=True)
    reports["mixed"] = build(mixed, tmp_path / "mixed.duckdb", force=True)
    # the build reports the reconciliation read on its own connection: what the finished store gives
    for name, report in reports.items():
        assert report.reconciliation == store.reconciliation_rows(tmp_path / f"{name}.duckdb")
        assert len(report.reconciliation) > 3 and report.reconciliation == reports["tables"].reconciliation
    files = sorted(p.name for p in (tmp_path / "views.duckdb.files").iterdir())
    assert [f.split("-", 1)[1] for f in files] == ["executions.parquet", "nbbo_fill_answers.parquet",
                                                   "nbbo_order_answers.parquet", "orders.parquet"]
    assert (tmp_path / "views.duckdb.files" / files[3]).read_bytes() == (data / "orders.parquet").read_bytes()
    assert not (tmp_path / "mixed.duckdb.files").exists() and not (tmp_path / "tables.duckdb.files").exists()
    keys = {"fct_orders": "row_no", "fct_fills": "execution_id", "fct_limit_orders": "order_id, received_at",
            "exclusions": '"table", order_id, execution_id, reason'}
    kinds = {}
    with query.connect(tmp_path / "tables.duckdb") as t:
        for name in ("tables", "views", "mixed"):
            with query.connect(tmp_path / f"{name}.duckdb") as v:
                kinds[name] = dict(v.execute("select table_name, table_type from information_schema.tables "
                                             "where table_name like 'fct_%_base'").fetchall())
                for table, key in keys.items():
                    a = t.execute(f"select * from {table} order by {key}").df()
                    b = v.execute(f"select * from {table} order by {key}").df()
                    assert len(a) > 0
                    pd.testing.assert_frame_equal(a, b)
                # the build applied fct_orders' rules to candidate rows only: they are every excluded row
                listed = v.execute("select order_id, reason from exclusions where \"table\" = 'orders' "
                                   "order by all").fetchall()
                assert len(listed) > 50 and listed == v.execute(
                    "select order_id, exclusion_reason from fct_orders where exclusion_reason is not null "
                    "order by all").fetchall()
    # and every metric table of the review API, row by row, whichever physical form the store has
    tables = {}
    for name in ("tables", "views", "mixed"):
        with bestex_nb.Review(tmp_path / f"{name}.duckdb") as r:
            tables[name] = [
                r.price_improvement("2026Q3", ["venue", "order_category", "size_bucket"]),
                r.price_improvement("2026Q3", ["venue", "is_sp500", "month"], venue="WSA"),
                r.order_pi("2026Q3"), r.limit_fills("2026Q3", ["venue", "distance_bucket"]), r.limit_orders("2026Q3"),
                r.comparison_sums("2026Q3", "pi"), r.comparison_sums("2026Q3", "fills"),
                r.marketable_limit_exceptions("2026Q3", include_excluded=True), r.reconciliation("2026Q3"),
                r.exclusions(), r.pi_distribution("2026Q3"), r.worst_orders("2026Q3", limit=10),
            ]
    for name in ("views", "mixed"):
        for a, b in zip(tables["tables"], tables[name], strict=True):
            pd.testing.assert_frame_equal(a, b)
    assert all(len(t) > 0 for t in tables["tables"][:7] + tables["tables"][8:])
    assert kinds == {"tables": {"fct_orders_base": "BASE TABLE", "fct_fills_base": "BASE TABLE"},
                     "views": {"fct_orders_base": "VIEW", "fct_fills_base": "VIEW"},
                     "mixed": {"fct_orders_base": "BASE TABLE", "fct_fills_base": "BASE TABLE"}}
    with duckdb.connect(str(tmp_path / "views.duckdb"), read_only=True) as plain, \
            pytest.raises(duckdb.IOException, match="No files found"):
        plain.execute("select count(*) from fct_fills").fetchall()  # why query.connect is the way in


def test_files_beside_a_large_store_move_with_it_and_are_replaced_on_rebuild(tmp_path, monkeypatch):
    """A large store and its folder can move together; a missing or changed file makes the next build
    rebuild rather than reuse; a rebuild leaves only its own files; a small rebuild removes the folder."""
    import shutil

    from bestex_nb.build import store
    from bestex_nb.sample import generate

    data = tmp_path / "data"
    generate(data, seed=5, orders=600, quotes_target=20_000)
    monkeypatch.setattr(layout, "TABLES_BELOW_ORDERS", 0)
    s = tmp_path / "a" / "s.duckdb"
    build(data, s)
    folder = tmp_path / "a" / "s.duckdb.files"
    first = sorted(p.name for p in folder.iterdir())
    assert len(first) == 4 and len({f.split("-")[0] for f in first}) == 1
    with query.connect(s) as con:
        n = con.execute("select count(*) from fct_orders").fetchall()[0][0]
        assert n == 600
        assert sorted(r[0] for r in con.execute("select name from store_files").fetchall()) == first
    moved = tmp_path / "b" / "s.duckdb"
    moved.parent.mkdir()
    shutil.move(s, moved)
    shutil.move(folder, tmp_path / "b" / "s.duckdb.files")
    with query.connect(moved) as con:
        assert con.execute("select count(*) from fct_fills").fetchall()[0][0] > 0
    assert build(data, moved).reused
    (tmp_path / "b" / "s.duckdb.files" / first[0]).unlink()
    assert store.stored_fingerprint(moved) is None
    again = build(data, moved)
    assert not again.reused
    second = sorted(p.name for p in (tmp_path / "b" / "s.duckdb.files").iterdir())
    assert len(second) == 4 and not set(first) & set(second)
    monkeypatch.setattr(layout, "TABLES_BELOW_ORDERS", 10**9)
    build(data, moved, force=True)
    assert not (tmp_path / "b" / "s.duckdb.files").exists()
    with query.connect(moved) as con:
        assert con.execute("select count(*) from fct_orders").fetchall()[0][0] == 600


def test_stored_ids_are_uncompressed_with_the_query_types_and_hashes_recorded(data, tmp_path):
    """sql_steps.create_table: order_id / execution_id stored uncompressed, every other column as DuckDB picks,
    column types as the query gives them; input_files holds each file's SHA-256 (hashed on a thread)."""
    import hashlib

    import duckdb



    store = build(data, tmp_path / "s.duckdb").store
    with duckdb.connect(str(store), read_only=True) as con:
        comp = dict(con.execute(
            "select column_name, string_agg(distinct compression, ',' order by compression) "
            "from pragma_storage_info('fct_orders_base') group by 1").fetchall())
        assert set(comp["order_id"].split(",")) <= {"Uncompressed", "Constant"}
        fills = dict(con.execute(
            "select column_name, string_agg(distinct compression, ',') from pragma_storage_info('fct_fills_base') "
            "group by 1").fetchall())
        assert set(fills["execution_id"].split(",")) <= {"Uncompressed", "Constant"}
        types = dict(con.execute("select column_name, data_type from information_schema.columns "
                                 "where table_name = 'fct_orders_base'").fetchall())
        assert types["order_id"] == "VARCHAR" and types["nbb_r"] == "DECIMAL(18,6)"
        assert types["filled_qty"] == "DECIMAL(38,6)" and types["received_at"] == "TIMESTAMP WITH TIME ZONE"
        recorded = dict(con.execute("select path, sha256 from input_files").fetchall())
    assert recorded == {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in data.iterdir() if p.is_file()}
    con = duckdb.connect()
    con.execute("create table src as select * from (values ('a', 1), ('b', 2)) v(order_id, n)")
    sql_steps.create_table(con, "dst", "select * from src where n >= $lo order by n desc", {"lo": 1})
    assert con.execute("select * from dst").fetchall() == [("b", 2), ("a", 1)]
    with pytest.raises(ValueError):
        sql_steps.create_table(con, "bad name", "select 1")


def test_each_kernel_is_compiled_once_whatever_arrays_the_build_hands_it(tmp_path, monkeypatch):
    """numba compiles a kernel again for each new mix of read-only (Arrow's) and writable (numpy's)
    arrays: seconds in the middle of a build. The kernels take their inputs read-only
    (bestex_nb.build.arrays.readonly), so the small and the large build (answers in memory, then as files beside the store) and the
    benchmark's receipt step all use the one version that the benchmark's warm_up compiles."""
    import duckdb

    from benchmarks.ours import receipt_only, warm_up
    from bestex_nb.build import arrays, clock, fill_sums, idmatch_kernels
    from bestex_nb.build.nbbo import kernel
    from bestex_nb.build.staging import find_sources
    from bestex_nb.sample import generate

    data = tmp_path / "data"
    generate(data, seed=5, orders=600, quotes_target=20_000)
    warm_up()
    build(data, tmp_path / "small.duckdb")
    monkeypatch.setattr(layout, "TABLES_BELOW_ORDERS", 0)
    build(data, tmp_path / "large.duckdb")
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        receipt_only(con, find_sources(data))
    kernels = (kernel._consume, kernel._finish, kernel._kept_in_order, arrays._is_identity, fill_sums._fill_sums,
               kernel._codes, fill_sums._max_abs, clock._known_span, clock._add_hourly_offset, kernel._fill_targets,
               idmatch_kernels._hashes, idmatch_kernels._scatter, idmatch_kernels._match, idmatch_kernels._unpartition,
               idmatch_kernels._hash_repeats)
    assert {k.py_func.__name__: len(k.signatures) for k in kernels} == {k.py_func.__name__: 1 for k in kernels}


def test_reconciliation_takes_the_builds_order_count_only_for_the_whole_store(data, tmp_path):
    from datetime import date

    import duckdb

    from bestex_nb import query


    build(data, tmp_path / "s.duckdb")
    whole = {"period_start": None, "period_end": None, "venue": None}
    with query.connect(tmp_path / "s.duckdb") as con:
        counted = query.run(con, "metrics/reconciliation", whole | {"orders_in": None})
        n = con.execute("select count(*) from fct_orders").fetchone()[0]
        given = query.run(con, "metrics/reconciliation", whole | {"orders_in": n})
        pd.testing.assert_frame_equal(counted, given, check_dtype=False)
        # the number given is the one shown, and analysed follows from it
        shown = query.run(con, "metrics/reconciliation", whole | {"orders_in": n + 7}).set_index("label")
        assert shown.loc["orders in", "order_rows"] == n + 7
        assert shown.loc["analysed", "order_rows"] == counted.set_index("label").loc["analysed", "order_rows"] + 7
        for narrowed in ({"venue": "V1"}, {"period_start": date(2026, 7, 1)}, {"period_end": date(2026, 8, 1)}):
            with pytest.raises(duckdb.Error, match="takes no period or venue"):
                query.run(con, "metrics/reconciliation", whole | narrowed | {"orders_in": n})
