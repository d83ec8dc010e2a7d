"""The byte match of the text ids (bestex_nb/build/idmatch.py): hand-computed cases, a reference comparison on
generated ids, and what a build makes of repeated order ids that have fills."""

import numpy as np
import pyarrow as pa
import pytest
from conftest import fill, order, quote, write_extracts

from bestex_nb import query
from bestex_nb.build import idmatch
from bestex_nb.build.arrays import in_row_order

LONG = "L" * 40  # longer than the widest key (32 bytes): the tails are compared from the Arrow buffers


def test_hand_computed_repeats_matches_and_orphans():
    orders = pa.array(["A", "B", "A", LONG + "1", LONG + "2", "é", "A\x00"])
    fill_order_ids = pa.array(["B", "A", LONG + "2", "Z", "é", "A\x00", LONG])
    execution_ids = pa.array(["f1", "f2", "f3", "f4", "f5", "f6", "f7"])
    m = idmatch.match(orders, fill_order_ids, execution_ids)
    # "A" is on rows 0 and 2; "A\x00" is another id (its length differs); the long ids differ only in
    # their last byte, past the key
    assert m.order_repeated.tolist() == [True, False, True, False, False, False, False]
    # a repeated id names its first copy (the build lists the others: int_repeated_id_fills)
    assert m.fill_order_row.tolist() == [1, 0, 4, -1, 5, 6, -1]
    assert m.execution_id_repeats == 0


def test_repeated_execution_ids_are_counted_with_every_copy():
    m = idmatch.match(pa.array(["O"]), pa.array(["O"] * 5), pa.array(["x", "y", "x", "x", LONG]))
    assert m.execution_id_repeats == 3
    m = idmatch.match(pa.array(["O"]), pa.array(["O"] * 4), pa.array([LONG + "a", LONG + "b", LONG + "a", "z"]))
    assert m.execution_id_repeats == 2


@pytest.mark.parametrize("kind", ["string", "large_string", "string_view", "chunked"])
def test_any_arrow_string_layout(kind):
    ids = ["O1", "O2", "O3", "O1"]
    if kind == "chunked":
        arr = pa.chunked_array([ids[:1], [], ids[1:3], ids[3:]])
    else:
        arr = pa.array(ids, type=getattr(pa, kind)())
    m = idmatch.match(arr, pa.array(["O3", "O1", "O9"], type=pa.large_string()), pa.array(["a", "b", "c"]))
    assert m.order_repeated.tolist() == [True, False, False, True]
    assert m.fill_order_row.tolist() == [2, 0, -1]


def test_agrees_with_a_dictionary_on_generated_ids(monkeypatch):
    """Many ids sharing long prefixes, lengths from 0 to 45 bytes, some repeated, some fills of no order;
    small partitions so that most of them hold several ids."""
    monkeypatch.setattr(idmatch, "PART_TARGET", 8)
    rng = np.random.default_rng(7)
    alphabet = np.array(list("ab\x00é"))

    def ids(n):
        lengths = rng.integers(0, 46, n)
        return ["".join(rng.choice(alphabet, k)) for k in lengths]

    orders = ids(3000) + ["shared"] * 3
    rng.shuffle(orders)
    fills = ids(2000) + orders[:1500]
    rng.shuffle(fills)
    m = idmatch.match(pa.array(orders), pa.array(fills), pa.array(fills))
    first, count = {}, {}
    for r, x in enumerate(orders):
        first.setdefault(x, r)
        count[x] = count.get(x, 0) + 1
    assert m.order_repeated.tolist() == [count[x] > 1 for x in orders]
    assert m.fill_order_row.tolist() == [first.get(x, -1) for x in fills]  # a repeated id: its lowest row
    assert any(count.get(x, 0) > 1 for x in fills)  # the generated fills do name repeated ids
    fill_count = {}
    for x in fills:
        fill_count[x] = fill_count.get(x, 0) + 1
    assert m.execution_id_repeats == sum(c for c in fill_count.values() if c > 1)


def test_long_ids_across_chunks_and_slices():
    """Ids longer than the key compare their tails from one flat copy of the bytes: chunks whose data
    do not start at offset 0 (slices) and several chunks, against a dictionary."""
    base = [LONG + "a", LONG + "b", "short", LONG + "a", LONG + "c" * 9]
    whole = pa.array(["pad", *base, "pad2"])
    sliced = pa.chunked_array([whole.slice(1, 2), whole.slice(3, 3)])  # both chunks start past offset 0
    fills = pa.chunked_array([pa.array(["x", LONG + "c" * 9]).slice(1), pa.array([LONG + "b", LONG + "a", LONG])])
    m = idmatch.match(sliced, fills, pa.array(["1", "2", "3", "4"]))
    assert m.order_repeated.tolist() == [True, False, False, True, False]
    assert m.fill_order_row.tolist() == [4, 1, 0, -1]


def test_null_ids_are_refused():
    with pytest.raises(ValueError, match="null"):
        idmatch.match(pa.array(["A", None]), pa.array(["A"]), pa.array(["f"]))


def test_in_row_order_sorts_only_what_is_out_of_order():
    table = pa.table({"row_no": [2, 0, 1], "v": ["c", "a", "b"]})
    assert in_row_order(table)["v"].to_pylist() == ["a", "b", "c"]
    ordered = pa.table({"row_no": [0, 1], "v": ["a", "b"]})
    assert in_row_order(ordered) is ordered
    with pytest.raises(ValueError, match="0..n-1"):
        in_row_order(pa.table({"row_no": [0, 2]}))


@pytest.fixture(params=["csv", "folders of parquet"])
def repeated_build(tmp_path, request):
    """A duplicated order id with fills (both copies excluded, both get the fills in their sums, no fill
    attributed), an orphan fill, and a plain order, built from CSV and from folders of Parquet files
    (whose row numbers come from a join: the ids are put back in row order)."""
    import pyarrow.parquet as pq
    from conftest import read_csv_typed

    from bestex_nb.build import store

    t = "2026-07-06T"
    orders = [order("OK", t + "14:00:00Z"), order("DUP", t + "14:00:00Z", quantity="50"),
              order("DUP", t + "14:01:00Z", quantity="70")]
    fills = [fill("F1", "DUP", t + "14:01:30Z", "30", "10.01"), fill("F2", "OK", t + "14:00:01Z", "100", "10.01"),
             fill("F3", "DUP", t + "14:01:40Z", "20", "10.01"), fill("F4", "NOPE", t + "14:02:00Z", "1", "10")]
    data = write_extracts(tmp_path / "data", orders, fills, [quote("AAA", t + "13:30:00Z", "10.00", "10.02")])
    if request.param != "csv":
        for name in ("orders", "executions"):
            table = read_csv_typed(data / f"{name}.csv")
            (data / name).mkdir()
            pq.write_table(table.slice(0, 1), data / name / "part-0.parquet")
            pq.write_table(table.slice(1), data / name / "part-1.parquet")
            (data / f"{name}.csv").unlink()
    report = store.build(data, tmp_path / "s.duckdb")
    with query.connect(report.store) as con:
        yield con


def test_every_copy_of_a_repeated_id_gets_its_fills_and_none_is_attributed(repeated_build):
    con = repeated_build
    rows = con.execute("select order_id, fill_count, filled_qty::double, exclusion_reason from fct_orders "
                       "order by row_no").fetchall()
    assert rows == [("OK", 1, 100.0, None), ("DUP", 2, 50.0, "duplicate_order_id"),
                    ("DUP", 2, 50.0, "duplicate_order_id")]
    assert con.execute("select execution_id from fct_fills").fetchall() == [("F2",)]
    assert con.execute("select order_id, copies from int_duplicate_order_ids").fetchall() == [("DUP", 2)]
    assert con.execute("select \"table\", order_id, execution_id, reason from exclusions order by all").fetchall() \
        == [("executions", "NOPE", "F4", "unknown_order"), ("orders", "DUP", None, "duplicate_order_id"),
            ("orders", "DUP", None, "duplicate_order_id")]
