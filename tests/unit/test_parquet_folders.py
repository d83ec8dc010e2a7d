"""A folder of Parquet files is one table only when its files agree: a file lacking a required column
or giving a column another type stops the build naming that file and column (union_by_name would have
read the missing flag as null, and the null as false); a null order flag is an error naming the file
and its row. Hive-partitioned folders keep working."""

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from conftest import fill, order, quote, read_csv_typed, write_extracts

from bestex_nb.build.store import build
from bestex_nb.contract.errors import ExtractError

T = "2026-07-06T"


def orders_folder(tmp_path):
    """Extracts whose orders are a folder of two Parquet files (O1 in the first, O2 and O3 in the
    second); returns (folder, [table of each file])."""
    folder = write_extracts(tmp_path / "data",
                            [order("O1", T + "14:00:00Z"), order("O2", T + "14:01:00Z", is_directed="true"),
                             order("O3", T + "14:02:00Z")],
                            [fill("F1", "O1", T + "14:00:01Z", "100", "10.01"),
                             fill("F2", "O2", T + "14:01:01Z", "100", "10.01")],
                            [quote("AAA", T + "13:30:00Z", "10.00", "10.02")])
    table = read_csv_typed(folder / "orders.csv")
    (folder / "orders.csv").unlink()
    parts = [table.slice(0, 1), table.slice(1)]
    return folder, parts


def write_parts(folder, parts, layout=("part-0.parquet", "part-1.parquet")):
    for path, part in zip(layout, parts):
        (folder / "orders" / path).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(part, folder / "orders" / path)


def expect_error(tmp_path, folder, *fragments):
    with pytest.raises(ExtractError) as info:
        build(folder, tmp_path / "store.duckdb")
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)
    assert not (tmp_path / "store.duckdb").exists()
    return str(info.value)


def orders_in(report):
    with duckdb.connect(str(report.store), read_only=True) as con:
        return [r[0] for r in con.execute("select order_id from fct_orders order by order_id").fetchall()]


def test_consistent_folder_builds_and_keeps_the_directed_flag(tmp_path):
    folder, parts = orders_folder(tmp_path)
    write_parts(folder, parts)
    report = build(folder, tmp_path / "store.duckdb")
    with duckdb.connect(str(report.store), read_only=True) as con:
        assert con.execute("select order_id from fct_orders where is_directed").fetchall() == [("O2",)]


def test_file_lacking_a_required_flag_is_named(tmp_path):
    folder, parts = orders_folder(tmp_path)
    parts[1] = parts[1].drop_columns(["is_directed"])
    write_parts(folder, parts)
    message = expect_error(tmp_path, folder, "part-1.parquet", "required column is_directed", "missing from this file")
    assert "part-0.parquet" not in message


def test_file_lacking_a_required_column_in_a_hive_folder_is_named(tmp_path):
    folder, parts = orders_folder(tmp_path)
    parts[0] = parts[0].drop_columns(["time_in_force"])
    write_parts(folder, parts, ("date=2026-07-06/part-0.parquet", "date=2026-07-07/part-0.parquet"))
    expect_error(tmp_path, folder, "date=2026-07-06/part-0.parquet", "required column time_in_force")


def test_hive_partitioned_folder_builds(tmp_path):
    folder, parts = orders_folder(tmp_path)
    write_parts(folder, parts, ("date=2026-07-06/part-0.parquet", "date=2026-07-07/part-0.parquet"))
    report = build(folder, tmp_path / "store.duckdb")
    assert orders_in(report) == ["O1", "O2", "O3"]


def test_column_given_by_the_hive_path_counts_as_present(tmp_path):
    folder, parts = orders_folder(tmp_path)
    parts = [p.drop_columns(["time_in_force"]) for p in parts]
    write_parts(folder, parts, ("time_in_force=day/part-0.parquet", "time_in_force=day/part-1.parquet"))
    report = build(folder, tmp_path / "store.duckdb")
    assert orders_in(report) == ["O1", "O2", "O3"]


def test_type_that_differs_between_files_is_named(tmp_path):
    folder, parts = orders_folder(tmp_path)
    # each type alone can be read as a boolean; mixed, one file's producer has drifted
    i = parts[1].schema.get_field_index("is_directed")
    parts[1] = parts[1].set_column(i, "is_directed", pa.array(["true", "false"]))
    write_parts(folder, parts)
    expect_error(tmp_path, folder, "part-1.parquet", "column is_directed", "part-0.parquet", "same type")


def test_type_the_contract_cannot_read_is_named_with_its_file(tmp_path):
    folder, parts = orders_folder(tmp_path)
    i = parts[1].schema.get_field_index("is_not_held")
    parts[1] = parts[1].set_column(i, "is_not_held", pc.cast(parts[1]["is_not_held"], pa.int8()))
    write_parts(folder, parts)
    expect_error(tmp_path, folder, "part-1.parquet", "column is_not_held", "int8", "cannot be read as the contract's boolean")


def test_widths_of_one_kind_agree_and_an_all_null_column_agrees_with_any_type(tmp_path):
    folder, parts = orders_folder(tmp_path)
    i = parts[1].schema.get_field_index("quantity")
    parts[1] = parts[1].set_column(i, "quantity", pc.cast(parts[1]["quantity"], pa.int32()))
    i = parts[0].schema.get_field_index("canceled_at")
    parts[0] = parts[0].set_column(i, "canceled_at", pa.nulls(1, pa.null()))
    write_parts(folder, parts)
    report = build(folder, tmp_path / "store.duckdb")
    assert orders_in(report) == ["O1", "O2", "O3"]


def test_optional_column_may_be_absent_from_one_file(tmp_path):
    folder, _ = orders_folder(tmp_path)
    nbbo = read_csv_typed(folder / "nbbo.csv")
    (folder / "nbbo.csv").unlink()
    (folder / "nbbo").mkdir()
    pq.write_table(nbbo, folder / "nbbo" / "a.parquet")
    pq.write_table(nbbo.drop_columns(["seq"]).slice(0, 0), folder / "nbbo" / "b.parquet")
    write_parts(folder, orders_folder(tmp_path / "again")[1])
    build(folder, tmp_path / "store.duckdb")


def test_null_flag_in_a_folder_names_the_file_and_its_row(tmp_path):
    folder, parts = orders_folder(tmp_path)
    i = parts[1].schema.get_field_index("is_directed")
    parts[1] = parts[1].set_column(i, "is_directed", pa.array([True, None]))
    write_parts(folder, parts)
    expect_error(tmp_path, folder, "column is_directed", "null values", "in 1 row(s)", "row 2 of part-1.parquet")


def test_null_flag_in_a_single_parquet_file_is_an_error(tmp_path):
    folder, parts = orders_folder(tmp_path)
    table = pa.concat_tables(parts)
    i = table.schema.get_field_index("is_not_held")
    pq.write_table(table.set_column(i, "is_not_held", pa.array([False, None, False])), folder / "orders.parquet")
    expect_error(tmp_path, folder, "orders.parquet", "column is_not_held", "null values", "row 2")


def test_all_null_flag_column_is_an_error_whatever_its_type(tmp_path):
    folder, parts = orders_folder(tmp_path)
    table = pa.concat_tables(parts)
    i = table.schema.get_field_index("is_not_held")
    pq.write_table(table.set_column(i, "is_not_held", pa.nulls(3, pa.null())), folder / "orders.parquet")
    expect_error(tmp_path, folder, "orders.parquet", "column is_not_held", "null values", "in 3 row(s)")
