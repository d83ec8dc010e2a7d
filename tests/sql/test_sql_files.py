"""Every .sql file documents itself and binds exactly the parameters it declares."""

import re
from importlib import resources

import pandas as pd
import pytest

from bestex_nb import query
from bestex_nb.build import sql_steps

FILES = sorted(
    f"{layer.name}/{f.name[:-4]}"
    for layer in resources.files("bestex_nb").joinpath("sql").iterdir() if layer.is_dir()
    for f in layer.iterdir() if f.name.endswith(".sql")
)


def test_there_are_sql_files():
    assert "metrics/price_improvement" in FILES and "marts/fct_orders" in FILES


@pytest.mark.parametrize("name", FILES)
def test_header_declares_exactly_the_params_used(name):
    text = query.text(name)
    first = text.splitlines()[0]
    assert first.startswith(f"-- {name.split('/')[1]}:"), "first line names the query and its purpose"
    assert "-- grain:" in text and "-- params:" in text
    assert query.declared_params(text) == query.used_params(text)


@pytest.mark.parametrize("name", FILES)
def test_no_python_formatting_placeholders(name):
    text = query.render(name)  # grouping marker filled with nothing
    assert not re.search(r"\{[a-z_0-9]*\}|%s|%\(", text), "values are bound as $names, never formatted"


def test_run_refuses_undeclared_or_missing_params():
    import duckdb
    con = duckdb.connect()
    with pytest.raises(ValueError, match="takes parameters"):
        query.run(con, "metrics/routed_venues", {"period_start": None})
    with pytest.raises(ValueError, match="takes parameters"):
        query.run(con, "metrics/routed_venues", {"period_start": None, "period_end": None, "venue": "x"})


def test_group_by_only_from_allow_list():
    with pytest.raises(ValueError, match="cannot group by"):
        query.render("metrics/price_improvement", ["1=1) --"])
    with pytest.raises(ValueError, match="duplicate"):
        query.render("metrics/price_improvement", ["venue", "venue"])
    with pytest.raises(ValueError, match="does not take grouping"):
        query.render("metrics/routed_venues", ["venue"])


def test_arrays_come_whole_from_one_arrow_chunk_and_refuse_nulls(monkeypatch):
    """sql_steps.arrays feeds the kernels: numpy arrays straight from a single Arrow chunk (no copy), and a
    null (which numpy cannot hold in an int64 array) is refused rather than turned into a number."""
    import duckdb

    queries = {"t/whole": "-- whole: x\n-- grain: x\n-- params: $n\nselect range as a, range % 2 = 0 as even "
                          "from range($n::bigint)",
               "t/nulls": "-- nulls: x\n-- grain: x\n-- params: none\nselect 1 as a, null::bigint as b"}
    monkeypatch.setattr(query, "text", queries.__getitem__)
    con = duckdb.connect()
    assert sql_steps.arrow(con, "t/whole", {"n": 300_000})["a"].num_chunks == 1
    got = sql_steps.arrays(con, "t/whole", {"n": 300_000})
    assert got["a"].tolist() == list(range(300_000)) and got["even"][:3].tolist() == [True, False, True]
    with pytest.raises(ValueError, match=r"\['b'\] have nulls"):
        sql_steps.arrays(con, "t/nulls")
    with pytest.raises(ValueError, match="takes parameters"):
        sql_steps.arrays(con, "t/whole")


@pytest.mark.parametrize("nulls", [False, True])
@pytest.mark.parametrize("extra", ["", ", 1.25::decimal(18, 6) as dec, date '2026-07-01' as day"])
def test_frame_gives_what_duckdb_df_gives(nulls, extra):
    """query.frame takes the Arrow road for the common types (much faster at millions of rows) and must
    give df()'s frame to the dtype: nullable dtypes where a boolean or integer column has nulls, df()
    itself when another type is present."""
    import duckdb

    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    row = ("'a', true, 1.5::double, 7::bigint, 3::integer, timestamptz '2026-07-06 14:00:00+00'")
    other = "null, null, null, null, null, null" if nulls else row
    q = (f"select * from (values ({row}), ({other})) as t(s, b, d, i, i4, ts)")
    q = f"select *{extra} from ({q})"
    pd.testing.assert_frame_equal(query.frame(con.execute(q)), con.execute(q).df(), check_exact=True)
