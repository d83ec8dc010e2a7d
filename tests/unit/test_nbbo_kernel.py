"""The streaming NBBO pass (bestex_nb/build/nbbo/stream.py, kernel.py) on hand-made streams: every rule of metrics.md section 1
it implements, worked by hand. Instants are New York times on Monday 2026-07-06 (UTC−4) unless said."""

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from bestex_nb.build.arrays import NONE
from bestex_nb.build.clock import day_tables
from bestex_nb.build.fill_sums import fill_sums
from bestex_nb.build.nbbo import stream as nbbo_stream

NY = ZoneInfo("America/New_York")
AAA, BBB, ZZZ = 101, 202, 999  # symbol hashes; ZZZ is in no order or security
TABLE = nbbo_stream.symbol_table(np.array([AAA, BBB], dtype=np.uint64))


def us(hms: str, day: str = "2026-07-06") -> int:
    d = datetime.fromisoformat(f"{day}T{hms}").replace(tzinfo=NY)
    return int(d.replace(microsecond=0).timestamp()) * 1_000_000 + d.microsecond


def px(x: float) -> int:
    return round(x * 1_000_000)


def stream(rows, batch: int = 2):
    """Quote rows (hash, instant, bid, ask[, seq]) as kernel batches of ``batch`` rows."""
    rows = [(*r, NONE) if len(r) == 4 else r for r in rows]
    cols = list(zip(*rows, strict=True))
    arrays = [np.array(cols[0], np.uint64)] + [np.array(c, np.int64) for c in cols[1:]]
    return [tuple(a[i:i + batch] for a in arrays) for i in range(0, len(rows), batch)]


def run(quotes, receipt=(), route=(), fills=(), sorted_quotes=None, batch=2):
    """``receipt``/``route``/``fills``: (symbol code, instant) lookups. Returns the three Lookups and
    the report; answers are mapped back to the lookups' rows."""
    def make(items, valid):
        sym = np.array([s for s, _ in items], np.int32)
        t = np.array([x for _, x in items], np.int64)
        return nbbo_stream.valid_after(sym, t) if valid else nbbo_stream.in_force(sym, t)

    r, o, f = make(receipt, False), make(route, False), make(fills, True)
    fallback = (lambda: stream(sorted_quotes, batch)) if sorted_quotes is not None else None
    report = nbbo_stream.lookup(stream(quotes, batch), TABLE, 2, r, o, f, sorted_batches=fallback)
    return r, o, f, report


def by_row(lookups, n):
    """answers[k] at caller row rows[k]; rows left out (no symbol) get None. Also checks that the
    kernel wrote the same answers straight to the caller rows of ``out`` (NONE in rows left out)."""
    out = [None] * n
    for k, row in enumerate(lookups.rows):
        out[row] = tuple(int(x) for x in lookups.answers[k])
    assert lookups.out.shape == (3 if lookups.horizons_us is None else 4, n)
    assert [tuple(int(x) for x in lookups.out[:, r]) for r in range(n)] == [
        a if a is not None else (NONE,) * lookups.out.shape[0] for a in out]
    return out


def test_latest_update_at_or_before_the_instant_and_the_exact_instant_counts():
    quotes = [(AAA, us("09:30:00"), px(10.00), px(10.02)),
              (AAA, us("10:00:00"), px(10.01), px(10.03)),
              (AAA, us("10:00:05"), px(10.04), px(10.06))]
    r, _, _, report = run(quotes, receipt=[(0, us("10:00:00")), (0, us("10:00:04.999999")), (0, us("09:00:00")),
                                           (0, us("15:00:00"))])
    assert by_row(r, 4) == [(us("10:00:00"), px(10.01), px(10.03)),  # stamped exactly at receipt
                            (us("10:00:00"), px(10.01), px(10.03)),
                            (NONE, NONE, NONE),  # before the day's first quote
                            (us("10:00:05"), px(10.04), px(10.06))]  # after the last quote
    assert report.quotes == 3 and not report.sorted_fallback


def test_a_quote_from_an_earlier_new_york_day_is_no_nbbo():
    quotes = [(AAA, us("15:59:00", "2026-07-02"), px(10.00), px(10.02)),
              (AAA, us("00:00:00"), px(9.90), px(9.92))]  # New York midnight of 2026-07-06 counts as that day
    r, _, _, _ = run(quotes, receipt=[(0, us("09:31:00", "2026-07-03")), (0, us("09:31:00"))])
    assert by_row(r, 2) == [(NONE, NONE, NONE), (us("00:00:00"), px(9.90), px(9.92))]


def test_ties_highest_seq_wins_null_seq_loses_equal_or_no_seq_later_row_wins():
    t = us("10:00:00")
    quotes = [(AAA, t, px(1), px(2), 3), (AAA, t, px(5), px(6), 2),  # seq 3 written first still wins
              (BBB, t, px(1), px(2), NONE), (BBB, t, px(3), px(4), 1),  # a number beats a null seq
              (BBB, t + 1, px(5), px(6), 7), (BBB, t + 1, px(7), px(8), 7),  # equal seq: the later row
              (BBB, t + 2, px(1), px(2)), (BBB, t + 2, px(9), px(10))]  # no seq: the later row
    r, _, _, report = run(quotes, receipt=[(0, t), (1, t), (1, t + 1), (1, t + 2)], batch=3)
    assert [a[1:] for a in by_row(r, 4)] == [(px(1), px(2)), (px(3), px(4)), (px(7), px(8)), (px(9), px(10))]
    assert report.superseded == 4


def test_markouts_use_the_latest_valid_state_and_skip_a_superseded_valid_update():
    quotes = [(AAA, us("10:00:00"), px(10.00), px(10.02), 1),
              # two updates at 10:00:01: the winner (seq 3) is crossed; the valid one (seq 2) never was in force
              (AAA, us("10:00:01"), px(10.05), px(10.03), 3),
              (AAA, us("10:00:01"), px(10.01), px(10.03), 2),
              (AAA, us("10:00:20"), px(10.10), px(10.12), 4)]
    fill_at = us("10:00:00.500")  # targets: +1 s = 10:00:01.5, +15 s = 10:00:15.5, +1 min, +5 min
    _, _, f, _ = run(quotes, fills=[(0, fill_at)])
    assert by_row(f, 1) == [(px(10.00) + px(10.02),) * 2 + (px(10.10) + px(10.12),) * 2]


def test_markout_targets_are_clipped_at_the_close_even_for_a_fill_after_it():
    quotes = [(AAA, us("15:59:58"), px(20.00), px(20.02)), (AAA, us("16:00:00"), px(20.04), px(20.06)),
              (AAA, us("16:00:01"), px(30.00), px(30.02))]
    _, _, f, _ = run(quotes, fills=[(0, us("15:59:59.500")), (0, us("16:30:00"))])
    at_close = px(20.04) + px(20.06)  # the state stamped exactly 16:00:00 counts
    assert by_row(f, 2) == [(at_close,) * 4, (at_close,) * 4]


def test_one_sided_and_null_prices_are_in_force_but_not_valid():
    quotes = [(AAA, us("10:00:00"), px(10.00), px(10.02)), (AAA, us("10:00:01"), 0, px(10.02)),
              (AAA, us("10:00:02"), NONE, px(10.02))]
    r, _, f, _ = run(quotes, receipt=[(0, us("10:00:01.5")), (0, us("10:00:03"))], fills=[(0, us("10:00:00.5"))])
    assert by_row(r, 2) == [(us("10:00:01"), 0, px(10.02)), (us("10:00:02"), NONE, px(10.02))]
    assert by_row(f, 1) == [(px(10.00) + px(10.02),) * 4]  # every target sees only invalid states since


def test_receipt_and_route_are_answered_separately_and_rows_without_a_symbol_are_left_out():
    quotes = [(AAA, us("10:00:00"), px(1), px(2)), (AAA, us("10:00:00.003"), px(3), px(4)),
              (ZZZ, us("10:00:00.004"), px(7), px(8))]
    r, o, _, report = run(quotes, receipt=[(0, us("10:00:00.001")), (-1, us("10:00:00.001"))],
                          route=[(0, us("10:00:00.004")), (-1, 0)])
    assert by_row(r, 2) == [(us("10:00:00"), px(1), px(2)), None]
    assert by_row(o, 2) == [(us("10:00:00.003"), px(3), px(4)), None]
    assert report.unknown_symbol_quotes == 1 and report.max_quoted_at_us == us("10:00:00.004")


def test_lookups_come_back_sorted_by_instant_with_their_rows():
    quotes = [(AAA, us("10:00:00"), px(1), px(2)), (AAA, us("10:00:02"), px(3), px(4))]
    r, _, _, _ = run(quotes, receipt=[(0, us("10:00:03")), (0, us("10:00:01"))])
    assert r.rows.tolist() == [1, 0] and r.sorted_t_us.tolist() == [us("10:00:01"), us("10:00:03")]
    assert by_row(r, 2) == [(us("10:00:02"), px(3), px(4)), (us("10:00:00"), px(1), px(2))]


@pytest.mark.parametrize("case", ["in order", "out of order", "some without a symbol", "both"])
def test_sort_keeps_the_lookups_with_a_symbol_in_stable_time_order(case):
    # each branch of Lookups.sort against the plain numpy statement of what it must give: the rows
    # with a symbol, stably sorted by instant (ties, here many, keep their row order)
    rng = np.random.default_rng(7)
    n = 5_000
    t = np.sort(rng.integers(0, 400, n)) if case in ("in order", "some without a symbol") else rng.integers(0, 400, n)
    sym = rng.integers(0, 3, n).astype(np.int32)
    if case in ("some without a symbol", "both"):
        sym[rng.random(n) < 0.3] = -1
    x = nbbo_stream.in_force(sym, t)
    x.sort()
    kept = np.flatnonzero(sym >= 0)
    expected = kept[np.argsort(t[kept], kind="stable")]
    assert x.rows.tolist() == expected.tolist()
    assert x.sorted_t_us.tolist() == t[expected].tolist() and x.sorted_sym.tolist() == sym[expected].tolist()
    assert x.sorted_sym.dtype == np.int32 and x.sorted_t_us.dtype == np.int64
    assert np.all(np.diff(x.sorted_t_us) >= 0) and len(x.rows) == (sym >= 0).sum()


def test_a_stream_out_of_time_order_is_answered_from_the_sorted_stream():
    in_order = [(AAA, us("10:00:00"), px(1), px(2), 1), (BBB, us("10:00:00"), px(5), px(6), 1),
                (AAA, us("10:00:01"), px(3), px(4), 1), (AAA, us("10:00:01"), px(9), px(9), 2)]
    by_symbol = [in_order[0], in_order[2], in_order[3], in_order[1]]  # BBB's quote comes last
    lookups = {"receipt": [(0, us("10:00:00.5")), (0, us("10:00:02")), (1, us("10:00:03"))],
               "fills": [(0, us("10:00:00.2"))]}
    want = run(in_order, **lookups)
    got = run(by_symbol, sorted_quotes=in_order, **lookups)
    assert got[3].sorted_fallback and not want[3].sorted_fallback
    assert by_row(got[0], 3) == by_row(want[0], 3) and by_row(got[2], 1) == by_row(want[2], 1)
    with pytest.raises(ValueError, match="not in time order"):
        run(by_symbol, **lookups)


def test_day_tables_follow_daylight_saving_time():
    # Sunday 2026-03-08: clocks go forward at 02:00; the days around it are 23 and 24 hours long
    midnights, closes = day_tables(np.array([us("12:00:00", "2026-03-08")]))
    days = [datetime.fromtimestamp(m / 1e6, NY) for m in midnights]
    assert [d.strftime("%Y-%m-%d %H:%M") for d in days] == ["2026-03-07 00:00", "2026-03-08 00:00",
                                                            "2026-03-09 00:00"]
    assert [(c - m) / 3.6e9 for m, c in zip(midnights, closes, strict=True)] == [16, 15, 16]


def test_duplicate_symbol_hashes_are_refused():
    with pytest.raises(ValueError, match="share a 64-bit hash"):
        nbbo_stream.symbol_table(np.array([5, 5], dtype=np.uint64))


def test_fill_sums_by_hand():
    """Per order row, as SQL's count(*), sum(quantity), min/max(executed_at) and bool_or would give:
    nulls skipped by the sum and the instants, counted by the count; a row without fills stays empty."""
    rows = np.array([2, 0, 2, 2, 3])
    qty = np.array([100_000_000, 1_500, NONE, 250_000, NONE])  # 100 sh, 0.0015 sh, null, 0.25 sh, null
    t = np.array([us("10:00:05"), us("09:31:00"), us("10:00:01"), NONE, NONE])
    bad = np.array([False, False, True, False, True])
    s = fill_sums(5, rows, qty, t, bad)
    assert s["count"].tolist() == [1, 0, 3, 1, 0]
    assert s["qty_sum"][2] == 100_250_000 and s["qty_n"].tolist() == [1, 0, 2, 0, 0]
    assert s["qty_sum"][0] == 1_500
    assert s["first"][2] == us("10:00:01") and s["last"][2] == us("10:00:05")
    assert s["first"][3] == NONE and s["last"][3] == NONE and s["first"][1] == NONE
    assert s["any_bad"].tolist() == [False, False, True, True, False]
    with pytest.raises(ValueError, match="outside"):
        fill_sums(2, np.array([2]), np.array([1]), np.array([1]), np.array([False]))
    with pytest.raises(ValueError, match="outside"):
        fill_sums(2, np.array([-2]), np.array([1]), np.array([1]), np.array([False]))
    # a fill of no order row (-1) is left out: the same sums as without it
    with_orphans = fill_sums(5, np.r_[-1, rows, -1], np.r_[7, qty, 9], np.r_[us("09:30:00"), t, 1],
                                  np.r_[True, bad, True])
    for name, values in s.items():
        assert with_orphans[name].tolist() == values.tolist(), name


def test_fill_sums_refuse_a_sum_beyond_64_bits():
    big = 10**12 * 10**6  # a trillion shares in micro-shares, the DECIMAL(18,6) ceiling
    ok = fill_sums(2, np.array([0, 1]), np.array([big, big]), np.array([1, 1]), np.array([False, False]))
    assert ok["qty_sum"].tolist() == [big, big]  # one per order: fine, and exact
    with pytest.raises(ValueError, match="too large"):
        fill_sums(1, np.zeros(10, np.int64), np.full(10, big), np.ones(10, np.int64), np.zeros(10, bool))
    # the quick bound (10 fills on one order x the largest quantity) trips, the exact per-order sum does not
    rows, qty = np.array([0] * 10 + [1]), np.array([1] * 10 + [big])
    mixed = fill_sums(2, rows, qty, np.ones(11, np.int64), np.zeros(11, bool))
    assert mixed["qty_sum"].tolist() == [10, big] and mixed["count"].tolist() == [10, 1]


def test_micro_units_read_decimal_18_6_exactly_from_the_arrow_buffer():
    """lookups.micro_units: DECIMAL(18,6) as DuckDB hands it over (decimal128) → int64 millionths, worked
    by hand: sub-penny, fractional shares, negatives (two's complement low word), the largest value,
    nulls, several chunks and a sliced chunk."""
    import duckdb
    import pyarrow as pa

    from bestex_nb.build.arrays import micro_units

    con = duckdb.connect()
    col = con.sql(
        "select q::decimal(18, 6) as q from (values (1), (2), (3), (4), (5), (6)) v(i) "
        "join (values (1, '100.0001'), (2, '0.5'), (3, null), (4, '-12.345678'), "
        "(5, '999999999999.999999'), (6, '0.000001')) w(i, q) using (i) order by i"
    ).to_arrow_table()["q"]
    assert micro_units(col).tolist() == [100_000_100, 500_000, NONE, -12_345_678, 999_999_999_999_999_999, 1]
    chunked = pa.chunked_array([col.combine_chunks().slice(3, 2), col.combine_chunks().slice(0, 3)])
    assert micro_units(chunked).tolist() == [-12_345_678, 999_999_999_999_999_999, 100_000_100, 500_000, NONE]
    with pytest.raises(TypeError, match="decimal128"):
        micro_units(pa.chunked_array([pa.array([1.5])]))


def test_new_york_wall_clock_across_both_dst_changes_matches_duckdb():
    """clock.new_york_wall_us, by hand at the 2026 changes (8 March 07:00 UTC: EST→EDT; 1 November
    06:00 UTC: EDT→EST) one microsecond either side, NONE kept; then against DuckDB's
    timezone('America/New_York', ·) for random instants over two years."""
    import duckdb
    import pyarrow as pa

    from bestex_nb.build.clock import new_york_wall_us

    def us(text):
        return int(np.datetime64(text, "us").astype(np.int64))

    t = np.array([us("2026-03-08T06:59:59.999999"), us("2026-03-08T07:00:00"),
                  us("2026-11-01T05:59:59.999999"), us("2026-11-01T06:00:00"), NONE,
                  us("2026-07-01T13:30:00"), us("1969-12-31T23:30:00")], dtype=np.int64)
    assert new_york_wall_us(t).tolist() == [
        us("2026-03-08T01:59:59.999999"), us("2026-03-08T03:00:00"),   # 2 am does not happen
        us("2026-11-01T01:59:59.999999"), us("2026-11-01T01:00:00"),   # 1 am happens twice
        NONE, us("2026-07-01T09:30:00"), us("1969-12-31T18:30:00")]    # before 1970: hours floor
    assert new_york_wall_us(np.array([NONE])).tolist() == [NONE]
    rnd = np.random.default_rng(3).integers(us("2025-01-01T00:00:00"), us("2027-01-01T00:00:00"), 200_000)
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.register("t", pa.table({"t": rnd, "w": new_york_wall_us(rnd)}))
    assert con.execute("select count(*) from t where epoch_us(timezone('America/New_York', make_timestamptz(t))) "
                       "<> w").fetchall() == [(0,)]


def test_answer_candidates_flag_each_rule_that_reads_the_answers():
    """Hand-computed rows for bestex_nb.build.exclusion_candidates.answer_candidates, the preselection of the rows whose
    answers may exclude them (one rule per row; row 0 meets none)."""
    from bestex_nb.build.exclusion_candidates import answer_candidates

    us = 1_000_000
    day = 86_400 * us
    noon = 20_000 * day + 12 * 3600 * us  # a wall clock of 12:00 New York
    rows = [  # r_t, bid, ask, wall, count, qty_sum, first, any_bad, received, quantity, expected
        (1, 10, 11, noon, 1, 100, 5, False, 5, 100, False),  # fine: filled exactly, fill at receipt
        (NONE, NONE, NONE, noon, 0, 0, NONE, False, 5, 100, True),  # no NBBO
        (1, 0, 11, noon, 0, 0, NONE, False, 5, 100, True),  # one-sided
        (1, 10, NONE, noon, 0, 0, NONE, False, 5, 100, True),  # a null side
        (1, 12, 11, noon, 0, 0, NONE, False, 5, 100, True),  # crossed
        (1, 11, 11, noon, 0, 0, NONE, False, 5, 100, False),  # locked is usable
        (1, 10, 11, noon, 1, 100, 5, True, 5, 100, True),  # a bad fill
        (1, 10, 11, noon, 1, 101, 5, False, 5, 100, True),  # more filled than ordered
        (1, 10, 11, noon, 2, 100, 5, False, 5, NONE, True),  # fills of an order without a quantity
        (1, 10, 11, noon, 1, 100, 4, False, 5, 100, True),  # a fill before receipt
        (1, 10, 11, 20_000 * day + 34_200 * us, 0, 0, NONE, False, 5, 100, False),  # 09:30:00 is in
        (1, 10, 11, 20_000 * day + 34_200 * us - 1, 0, 0, NONE, False, 5, 100, True),  # 09:29:59.999999
        (1, 10, 11, 20_000 * day + 57_600 * us, 0, 0, NONE, False, 5, 100, True),  # 16:00:00 is out
        (1, 10, 11, -day + 57_600 * us - 1, 0, 0, NONE, False, 5, 100, False),  # before 1970, 15:59:59.999999
    ]
    cols = list(zip(*rows))
    got = answer_candidates(*[np.array(c) for c in cols[:10]])
    assert got.tolist() == list(cols[10])


def test_nbbo_at_execution_is_the_latest_valid_state_at_the_instant_unclipped_and_same_day():
    """The at-instant set (the NBBO at execution of the Rule 5310 .05 check): bid and ask of the latest
    valid state at or before the fill itself, a quote at the very instant counting, a superseded valid
    update never in force, a locked NBBO valid, no clip at 16:00, nothing from an earlier day."""
    quotes = [(BBB, us("15:00:00", "2026-07-02"), px(5.00), px(5.01), 0),  # BBB: an earlier day only
              (AAA, us("10:00:00"), px(10.00), px(10.02), 1),
              (AAA, us("10:00:01"), px(10.05), px(10.03), 3),  # crossed winner at 10:00:01
              (AAA, us("10:00:01"), px(10.01), px(10.03), 2),  # superseded: never in force
              (AAA, us("10:00:05"), px(10.05), px(10.05), 4),  # locked: valid
              (AAA, us("16:00:01"), px(11.00), px(11.02), 5)]
    sym = np.array([0, 0, 0, 0, 0, 1], np.int32)
    t = np.array([us("10:00:00.5"), us("10:00:01"), us("10:00:05"), us("16:30:00"), us("09:59:59"),
                  us("10:00:00")], np.int64)
    fills = nbbo_stream.valid_after(sym, t)
    execs = nbbo_stream.valid_at(fills.sym, fills.t_us)
    none = nbbo_stream.in_force(np.empty(0, np.int32), np.empty(0, np.int64))
    nbbo_stream.lookup(stream(quotes), TABLE, 2, none, nbbo_stream.in_force(np.empty(0, np.int32),
                       np.empty(0, np.int64)), fills, at_execution=execs)
    assert execs.out.shape == (2, 6)
    assert [tuple(int(x) for x in execs.out[:, r]) for r in range(6)] == [
        (px(10.00), px(10.02)), (px(10.00), px(10.02)), (px(10.05), px(10.05)), (px(11.00), px(11.02)),
        (NONE, NONE), (NONE, NONE)]
    # the markouts of the same fills are unchanged by the extra set (the 16:30 fill's clip at 16:00)
    assert int(fills.out[0, 3]) == px(10.05) * 2
