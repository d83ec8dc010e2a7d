"""Schema problems stop the build with an error naming the file, the column and the first rows."""

import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import fill, order, quote, write_extracts

from bestex_nb.build.store import build
from bestex_nb.contract.errors import ExtractError

T = "2026-07-06T"
QUOTES = [quote("AAA", T + "13:30:00Z", "10.00", "10.02")]


def data(tmp_path, orders=None, fills=None, quotes=None):
    return write_extracts(tmp_path / "data", orders or [order("O1", T + "14:00:00Z")],
                          fills if fills is not None else [fill("F1", "O1", T + "14:00:01Z", "100", "10.01")],
                          quotes or QUOTES)


def expect_error(tmp_path, folder, *fragments):
    with pytest.raises(ExtractError) as info:
        build(folder, tmp_path / "store.duckdb")
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)
    assert not (tmp_path / "store.duckdb").exists()  # nothing half-built is left behind
    return str(info.value)


def test_missing_required_table(tmp_path):
    folder = data(tmp_path)
    (folder / "venues.csv").unlink()
    expect_error(tmp_path, folder, "required table venues is missing")


def test_table_given_twice(tmp_path):
    folder = data(tmp_path)
    (folder / "venues.parquet").write_bytes(b"")
    expect_error(tmp_path, folder, "venues is given more than once")


def test_missing_required_column(tmp_path):
    folder = data(tmp_path)
    text = (folder / "orders.csv").read_text().replace("time_in_force", "tif")
    (folder / "orders.csv").write_text(text)
    expect_error(tmp_path, folder, "orders.csv", "required column time_in_force is missing")


def test_naive_timestamp_in_csv(tmp_path):
    folder = data(tmp_path, orders=[order("O1", T + "14:00:00Z"), order("O2", "2026-07-06 10:00:00")])
    expect_error(tmp_path, folder, "orders.csv", "column received_at", "row 3 (line): '2026-07-06 10:00:00'")


def test_naive_timestamp_in_parquet(tmp_path):
    folder = data(tmp_path)
    import pandas as pd
    df = pd.read_csv(folder / "nbbo.csv", dtype=str)
    df["quoted_at"] = pd.to_datetime(df["quoted_at"]).dt.tz_localize(None)  # naive
    (folder / "nbbo.csv").unlink()
    df.to_parquet(folder / "nbbo.parquet")
    expect_error(tmp_path, folder, "nbbo.parquet", "column quoted_at holds naive timestamps")


def test_unparseable_number(tmp_path):
    folder = data(tmp_path, fills=[fill("F1", "O1", T + "14:00:01Z", "100", "ten dollars")])
    expect_error(tmp_path, folder, "executions.csv", "column price", "cannot be read as decimal",
                 "'ten dollars'")


def test_decimal_that_does_not_fit(tmp_path):
    folder = data(tmp_path, orders=[order("O1", T + "14:00:00Z", quantity="1e15")])
    expect_error(tmp_path, folder, "column quantity", "'1e15'")


def test_type_that_cannot_be_read_as_contract_type(tmp_path):
    folder = data(tmp_path)
    (folder / "securities.csv").unlink()
    pq.write_table(pa.table({"symbol": [1, 2], "name": ["a", "b"], "is_sp500": [True, False]}),
                   folder / "securities.parquet")
    expect_error(tmp_path, folder, "securities.parquet", "column symbol has type BIGINT")


def test_value_outside_enumeration(tmp_path):
    folder = data(tmp_path, orders=[order("O1", T + "14:00:00Z", side="BUY")])
    expect_error(tmp_path, folder, "orders.csv", "column side", "values outside", "'BUY'")


def test_bad_boolean(tmp_path):
    folder = data(tmp_path, orders=[order("O1", T + "14:00:00Z", is_directed="yes")])
    expect_error(tmp_path, folder, "column is_directed", "'yes'")


def test_null_in_required_column(tmp_path):
    folder = data(tmp_path, fills=[fill("F1", "O1", "", "100", "10.01")])
    expect_error(tmp_path, folder, "executions.csv", "column executed_at", "null values")


def test_duplicate_execution_id(tmp_path):
    folder = data(tmp_path, fills=[fill("F1", "O1", T + "14:00:01Z", "50", "10.01"),
                                   fill("F1", "O1", T + "14:00:02Z", "50", "10.01")])
    expect_error(tmp_path, folder, "column execution_id", "duplicate values", "in 2 row(s)",
                 "row 2 (line): 'F1'; row 3 (line): 'F1'")


def test_cli_exits_non_zero_with_the_message(tmp_path):
    folder = data(tmp_path, orders=[order("O1", "yesterday")])
    proc = subprocess.run([sys.executable, "-m", "bestex_nb.cli", "build", "--data", str(folder),
                           "--store", str(tmp_path / "s.duckdb")], capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert "column received_at" in proc.stderr and "'yesterday'" in proc.stderr


def test_null_order_flag_is_an_error_never_false(tmp_path):
    # a null is_directed read as false would analyse a directed order as a non-directed one
    folder = data(tmp_path, orders=[order("O1", T + "14:00:00Z"), order("O2", T + "14:00:00Z", is_directed="")])
    expect_error(tmp_path, folder, "orders.csv", "column is_directed", "null values", "row 3 (line)")
    folder = data(tmp_path, orders=[order("O1", T + "14:00:00Z", is_not_held="")])
    expect_error(tmp_path, folder, "orders.csv", "column is_not_held", "null values", "row 2 (line)")


def test_extra_columns_are_ignored(tmp_path):
    folder = data(tmp_path, orders=[order("O1", T + "14:00:00Z")])
    text = (folder / "orders.csv").read_text().splitlines()
    text = [text[0] + ",extra_col"] + [line + ",whatever" for line in text[1:]]
    (folder / "orders.csv").write_text("\n".join(text) + "\n")
    report = build(folder, tmp_path / "store.duckdb")
    assert {label: n for label, _, n in report.reconciliation}["analysed"] == 1


def test_unknown_executed_venue_is_a_warning_and_the_fill_is_kept(tmp_path):
    folder = data(tmp_path, fills=[fill("F1", "O1", T + "14:00:01Z", "100", "10.01", executed_venue="ELSEWHERE")])
    report = build(folder, tmp_path / "store.duckdb")
    assert any("ELSEWHERE" in w for w in report.warnings)


def _nbbo_parquet(folder, statistics: bool, **columns):
    """nbbo.csv rewritten as nbbo.parquet (UTC timestamps), with ``columns`` replaced."""
    import pandas as pd
    df = pd.read_csv(folder / "nbbo.csv", dtype=str)
    table = pa.table({"symbol": df["symbol"].tolist(),
                      "quoted_at": pa.array(pd.to_datetime(df["quoted_at"], utc=True)),
                      **{c: pa.array([float(x) for x in df[c]]) for c in ("bid_price", "ask_price", "bid_size", "ask_size")},
                      **columns})
    (folder / "nbbo.csv").unlink()
    pq.write_table(table, folder / "nbbo.parquet", write_statistics=statistics)


@pytest.mark.parametrize("statistics", [True, False])
def test_null_in_required_column_of_a_parquet_file(tmp_path, statistics):
    # the null counts are read from the file's statistics when it has them, else counted: same error
    folder = data(tmp_path, quotes=[quote("AAA", T + "13:30:00Z", "10.00", "10.02"),
                                    quote("AAA", T + "13:31:00Z", "10.00", "10.02")])
    _nbbo_parquet(folder, statistics, symbol=pa.array(["AAA", None]))
    expect_error(tmp_path, folder, "nbbo.parquet", "column symbol", "null values", "in 1 row(s)", "row 2")


def test_integer_seq_of_any_width_is_read_without_a_check(tmp_path):
    folder = data(tmp_path, quotes=[quote("AAA", T + "13:30:00Z", "10.00", "10.02"),
                                    quote("AAA", T + "13:30:00Z", "10.01", "10.03")])
    _nbbo_parquet(folder, True, seq=pa.array([2, 1], pa.int32()))  # the first row is the later update
    report = build(folder, tmp_path / "store.duckdb")
    import duckdb
    with duckdb.connect(str(report.store), read_only=True) as con:
        assert con.execute("select nbb_r::varchar, nbo_r::varchar from fct_orders").fetchall() == [("10.000000", "10.020000")]
