"""The LOBSTER adapter: a hand-made pair worked by hand, then the two real sample files against figures
derived independently from their raw messages with pandas."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import realdata_dir

import bestex_nb
from bestex_nb.adapters import lobster
from bestex_nb.build.store import build
from bestex_nb.stats.survival import kaplan_meier_grid

# Hand-made pair (2012-06-21, times in seconds after midnight New York; prices × 10,000).
#   m0 new buy #1 100 @ 10.00 at 34200.0000001  — first message: no book before it (no NBBO)
#   m1 new buy #2  50 @ 10.01 in the same ns    — book before = after m0: 10.00 × 10.02 → inside
#   m2 new buy #3  70 @ 10.01 in the same ns    — book before = after m1: 10.01 × 10.02 → at the quote
#   m3 execution of #2, 50 @ 10.01 at 34201.5   — #2 fully filled 1.5 s after it arrived
#   m4 full deletion of #1 at 34202
#   m5 execution of #99 (entered before the open: not in the file) at 34203
#   m6 partial cancel of #3, 20 shares, at 34204 — #3 keeps 70 ordered; no deletion follows → expires
#   m7 hidden execution (type 5, id 0)
# The three first messages share one microsecond, so the clock moves m1 and m2 by 1 and 2 µs.
MESSAGES = """34200.0000001,1,1,100,100000,1
34200.0000001,1,2,50,100100,1
34200.0000001,1,3,70,100100,1
34201.5,4,2,50,100100,1
34202,3,1,100,100000,1
34203,4,99,10,100200,-1
34204,2,3,20,100100,1
34205,5,0,30,100150,1
"""
BOOK = """100200,100,100000,100
100200,100,100100,50
100200,100,100100,120
100200,100,100100,70
100200,100,100100,70
100300,90,100100,70
100300,90,100100,50
100300,90,100100,50
"""
NAME = "TEST_2012-06-21_34200000_57600000_{}_1.csv"


@pytest.fixture
def hand_made(tmp_path):
    (tmp_path / NAME.format("message")).write_text(MESSAGES)
    (tmp_path / NAME.format("orderbook")).write_text(BOOK)
    out = tmp_path / "extracts"
    summary = lobster.import_lobster([tmp_path / NAME.format("message")], out)
    review = bestex_nb.Review(build(out, tmp_path / "store.duckdb").store)
    yield summary, review, out
    review.close()


def test_hand_made_pair_report(hand_made):
    summary, _, out = hand_made
    r = summary["pairs"][0]
    assert (r["orders"], r["executions"], r["full_deletions"], r["partial_cancels"]) == (3, 1, 1, 1)
    assert r["orders_without_book_before"] == 1 and r["orders_without_end_in_file"] == 1
    assert r["unknown_order_events"] == {"4": 1} and r["unknown_order_executed_shares"] == 10
    assert r["hidden_executions"] == 1 and r["clock_shifted_messages"] == 2 and r["clock_max_shift_us"] == 2
    assert json.loads((out / lobster.REPORT_NAME).read_text())["pairs"][0]["orders"] == 3


def test_hand_made_pair_sees_the_book_before_each_order(hand_made):
    _, review, _ = hand_made
    excl = review.exclusions()
    assert excl.set_index("order_id")["reason"].to_dict() == {"TEST-20120621-1": "no_nbbo"}
    o = review.limit_orders("2012-06").set_index("order_id")
    assert o["order_category"].to_dict() == {"TEST-20120621-2": "inside_quote_limit",
                                             "TEST-20120621-3": "at_quote_limit"}
    assert o.loc["TEST-20120621-2", "nbb_r"] == 10.00 and o.loc["TEST-20120621-3", "nbb_r"] == 10.01
    # 1.5 s after the original time, less the 1 µs the clock added to the order's receipt
    assert o.loc["TEST-20120621-2", "time_to_first_fill_ms"] == pytest.approx(1499.999)
    assert o.loc["TEST-20120621-3", "end_state"] == "expired" and o.loc["TEST-20120621-3", "cancelled_qty"] == 70
    table = review.limit_fills("2012-06", by=["order_category"]).set_index("order_category")
    assert table.loc["inside_quote_limit", "fill_rate_shares"] == 1.0
    assert table.loc["at_quote_limit", "cancel_rate_shares"] == 1.0


def test_partial_cancels_that_use_up_an_order_end_it(tmp_path):
    msgs = "34200.1,1,5,100,100000,1\n34200.2,1,6,100,100100,1\n34201,2,6,40,100100,1\n34202,4,6,60,100100,1\n"
    book = "100200,100,100000,100\n100200,100,100100,100\n100200,100,100100,60\n100200,100,100000,100\n"
    (tmp_path / NAME.format("message")).write_text(msgs)
    (tmp_path / NAME.format("orderbook")).write_text(book)
    summary = lobster.import_lobster([tmp_path / NAME.format("orderbook")], tmp_path / "x")
    assert summary["pairs"][0]["orders_ended_by_partial_cancel"] == 1
    orders = pd.read_parquet(tmp_path / "x" / "orders.parquet").set_index("order_id")
    assert orders.loc["TEST-20120621-6", "canceled_at"] == pd.Timestamp("2012-06-21 13:30:01", tz="UTC")
    assert pd.isna(orders.loc["TEST-20120621-5", "canceled_at"])


def test_sequence_clock():
    assert lobster.sequence_clock(np.array([5, 5, 5, 9, 9, 20])).tolist() == [5, 6, 7, 9, 10, 20]


def test_refuses_bad_names_and_missing_partners(tmp_path):
    (tmp_path / "notes.csv").write_text("")
    with pytest.raises(bestex_nb.BestexError, match="not a LOBSTER file name"):
        lobster.pair_files([tmp_path / "notes.csv"])
    (tmp_path / NAME.format("message")).write_text(MESSAGES)
    with pytest.raises(bestex_nb.BestexError, match="missing"):
        lobster.pair_files([tmp_path / NAME.format("message")])


# -- the real sample files --------------------------------------------------------------------------

REAL = {"AMZN": (27_845, 57_515), "GOOG": (24_368, 49_482)}


def _raw(folder, symbol):
    stem = f"{symbol}_2012-06-21_34200000_57600000_"
    msgs = pd.read_csv(folder / f"{stem}message_1.csv", header=None,
                       names=["t", "type", "oid", "size", "price", "dir"])
    book = pd.read_csv(folder / f"{stem}orderbook_1.csv", header=None, usecols=range(4),
                       names=["ask", "ask_size", "bid", "bid_size"])
    return msgs, book


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    root = realdata_dir()
    if root is None:
        pytest.skip("no real data (set BESTEX_REALDATA)")
    folder = root / "lobster"
    tmp = tmp_path_factory.mktemp("lobster")
    summary = lobster.import_lobster(sorted(folder.glob("*_message_1.csv")), tmp / "extracts")
    review = bestex_nb.Review(build(tmp / "extracts", tmp / "store.duckdb").store)
    yield folder, summary, review
    review.close()


@pytest.mark.realdata
@pytest.mark.parametrize("symbol", sorted(REAL))
def test_real_import_counts_match_raw_messages(real, symbol):
    folder, summary, _ = real
    msgs, _ = _raw(folder, symbol)
    r = next(p for p in summary["pairs"] if p["symbol"] == symbol)
    new = msgs[msgs["type"] == 1]
    assert (r["orders"], r["messages"]) == REAL[symbol] == (len(new), len(msgs))
    known = msgs["oid"].isin(set(new["oid"]))
    assert r["executions"] == int(((msgs["type"] == 4) & known).sum())
    assert r["full_deletions"] == int(((msgs["type"] == 3) & known).sum())
    events = msgs[msgs["type"].isin([2, 3, 4]) & ~known]
    assert r["unknown_order_events"] == {str(k): int(v) for k, v in events["type"].value_counts().sort_index().items()}
    assert r["hidden_executions"] == int((msgs["type"] == 5).sum())


@pytest.mark.realdata
@pytest.mark.parametrize("symbol", sorted(REAL))
def test_real_fill_rates_match_raw_messages(real, symbol):
    folder, _, review = real
    msgs, book = _raw(folder, symbol)
    new = msgs[msgs["type"] == 1]
    fills = msgs[(msgs["type"] == 4) & msgs["oid"].isin(set(new["oid"]))]
    # category from the orderbook row before each order's own message (no submission is marketable)
    before = book.shift(1).loc[new.index]
    at_quote = np.where(new["dir"] == 1, new["price"] == before["bid"], new["price"] == before["ask"])
    table = review.limit_fills("2012-06", by=["symbol", "order_category"]).set_index("order_category")
    table = table[table["symbol"] == symbol]
    assert table["orders"].to_dict() == {"at_quote_limit": int(at_quote.sum()),
                                         "inside_quote_limit": int((~at_quote).sum())}
    whole = review.limit_fills("2012-06", by=["symbol"]).set_index("symbol").loc[symbol]
    assert whole["orders"] == len(new) and whole["order_shares"] == new["size"].sum()
    assert whole["fill_rate_shares"] == pytest.approx(fills["size"].sum() / new["size"].sum(), rel=1e-12)
    assert whole["fill_rate_orders"] == pytest.approx(fills["oid"].nunique() / len(new), rel=1e-12)


@pytest.mark.realdata
@pytest.mark.parametrize("symbol", sorted(REAL))
def test_real_survival_matches_raw_messages(real, symbol):
    folder, _, review = real
    msgs, _ = _raw(folder, symbol)
    new = msgs[msgs["type"] == 1].set_index("oid")
    first_fill = msgs[msgs["type"] == 4].groupby("oid")["t"].min()
    deleted = msgs[msgs["type"] == 3].groupby("oid")["t"].min()
    end = new.index.map(first_fill).to_series(index=new.index)
    event = end.notna()
    end = end.fillna(new.index.map(deleted).to_series(index=new.index)).fillna(57_600.0)  # else 16:00
    durations = ((end - new["t"]) * 1000).clip(lower=0)
    grid = [1, 10, 100, 1_000, 10_000, 60_000, 600_000, 3_600_000, 23_400_000]
    want = kaplan_meier_grid(durations, event, grid_ms=grid)
    got = review.fill_survival("2012-06", by=["symbol"], grid_ms=grid)
    got = got[got["symbol"] == symbol].reset_index(drop=True)
    # the import's microsecond clock moves times by at most 34 µs (measured difference ≈ 2e-6)
    np.testing.assert_allclose(got["survival"], want["survival"], atol=1e-4)
    assert got["orders"].iloc[0] == len(new)


def test_notebook_notes_from_the_import_report(hand_made):
    from bestex_nb.dimensions.limit_fills.tables import source_notes

    _, _, out = hand_made
    text = source_notes(out)
    assert "LOBSTER" in text and "| new limit orders (type 1) → orders | 3 |" in text
    assert source_notes(out.parent) == ""  # no import report: the firm's own records


def test_import_notes_show_data_values_as_text():
    """The notes the limit-fill notebook shows about a LOBSTER import print the symbol, date and venue
    from the import report as text: no HTML or Markdown in them reaches the evidence page."""
    from bestex_nb.adapters.lobster import notes_markdown

    pair = {"symbol": "<script>alert(1)</script>", "date": "2012-06-21|x", "messages": 1, "orders": 1,
            "executions": 0, "full_deletions": 0, "partial_cancels": 0, "orders_without_end_in_file": 0,
            "unknown_order_events": {}, "unknown_order_executed_shares": 0, "hidden_executions": 0,
            "clock_max_shift_us": 0}
    text = notes_markdown({"pairs": [pair], "venue": "<b>V</b>"})
    assert "<script>" not in text and "<b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "2012-06-21\\|x" in text and "&lt;b&gt;V&lt;/b&gt;" in text
