"""The synthetic sample generator: determinism, the extract contract, and the order/fill rules.

Fast tests run on a small quarter (3,000 orders); the one ``slow`` test regenerates the default size
and re-measures the planted problems independently with pandas and numpy.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from bestex_nb.contract.extracts import EQUITY_TABLES, TABLES
from bestex_nb.sample import generate

SMALL = {"seed": 7, "orders": 3000, "quotes_target": 150_000}
NY = "America/New_York"
DEC = pa.decimal128(18, 6)
TS = pa.timestamp("us", tz="UTC")
PHYSICAL = {
    "string": pa.string(),
    "enum": pa.string(),
    "timestamp": TS,
    "decimal": DEC,
    "boolean": pa.bool_(),
}
PHYSICAL |= {"date": pa.date32(), "integer": pa.int64()}
NON_MARKETABLE = ("inside_quote_limit", "at_quote_limit", "near_quote_limit", "away_limit")
#: Share mix of the executions by fill price (data/sample/README.md, "Share mix"): low-priced names are a
#: small slice of the dollar value and must not dominate share-weighted figures.
SUB5_VALUE_MAX = 0.05  # stocks under $5: at most 5% of executed dollar value
SUB5_SHARES_MAX = 0.30  # ... and well under half of executed shares
SUB1_SHARES_MAX = 0.05  # the sub-dollar stock: a few % of executed shares at most


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    counts = generate(out, **SMALL)
    (out / "counts.json").write_text(json.dumps(counts))
    return out


def read(folder: Path, table: str) -> pd.DataFrame:
    """A table with decimals as float64 (exact enough for 4-decimal prices and 6-decimal sizes)."""
    t = pq.read_table(folder / f"{table}.parquet")
    cols = {}
    for field in t.schema:
        col = t.column(field.name)
        cols[field.name] = (
            pc.cast(col, pa.float64()) if pa.types.is_decimal(field.type) else col
        ).to_pandas()
    return pd.DataFrame(cols)


def with_nbbo_at_receipt(orders: pd.DataFrame, nbbo: pd.DataFrame) -> pd.DataFrame:
    """Add ``nbb``/``nbo`` (latest quote with quoted_at <= received_at, same symbol and NY date) and the
    metrics.md section 2 ``category`` (None when the NBBO at receipt is unusable)."""
    o = orders.copy()
    o["date"] = o.received_at.dt.tz_convert(NY).dt.date
    q_date = nbbo.quoted_at.dt.tz_convert(NY).dt.date.to_numpy()
    q_t, o_t = nbbo.quoted_at.astype("int64").to_numpy(), o.received_at.astype("int64").to_numpy()
    nbb, nbo = np.full(len(o), np.nan), np.full(len(o), np.nan)
    for sym, q_rows in nbbo.groupby("symbol").indices.items():
        o_rows = np.flatnonzero((o.symbol == sym).to_numpy())
        pos = np.searchsorted(q_t[q_rows], o_t[o_rows], side="right") - 1
        q_row = q_rows[np.maximum(pos, 0)]
        ok = (pos >= 0) & (q_date[q_row] == o.date.to_numpy()[o_rows])
        nbb[o_rows[ok]] = nbbo.bid_price.to_numpy()[q_row[ok]]
        nbo[o_rows[ok]] = nbbo.ask_price.to_numpy()[q_row[ok]]
    o["nbb"], o["nbo"] = nbb, nbo
    buy, lim, eps = (o.side == "buy").to_numpy(), o.limit_price.to_numpy(), 1e-9
    behind = np.where(buy, nbb - lim, lim - nbo)
    cat = np.select(
        [
            o.order_type == "market",
            o.order_type != "limit",
            np.where(buy, lim >= nbo - eps, lim <= nbb + eps),
            (lim > nbb + eps) & (lim < nbo - eps),
            np.abs(behind) < eps,
            behind <= 0.10 + eps,
        ],
        ["market", "none", "marketable_limit", "inside_quote_limit", "at_quote_limit", "near_quote_limit"],
        "away_limit",
    )
    usable = (nbb > 0) & (nbo > 0) & (nbb <= nbo)
    o["category"] = np.where(usable & (cat != "none"), cat, None)
    return o


def nbbo_at(nbbo: pd.DataFrame, symbol: pd.Series, at: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Bid and ask in force at each time ``at`` (latest quote with quoted_at <= at of the same symbol and
    New York date; NaN when there is none), by ``np.searchsorted`` per symbol."""
    bid, ask = np.full(len(at), np.nan), np.full(len(at), np.nan)
    q_t, t = nbbo.quoted_at.astype("int64").to_numpy(), at.astype("int64").to_numpy()
    q_date = nbbo.quoted_at.dt.tz_convert(NY).dt.date.to_numpy()
    date = at.dt.tz_convert(NY).dt.date.to_numpy()
    for sym, q_rows in nbbo.groupby("symbol").indices.items():
        rows = np.flatnonzero((symbol == sym).to_numpy())
        pos = np.searchsorted(q_t[q_rows], t[rows], side="right") - 1
        q_row = q_rows[np.maximum(pos, 0)]
        ok = (pos >= 0) & (q_date[q_row] == date[rows])
        bid[rows[ok]] = nbbo.bid_price.to_numpy()[q_row[ok]]
        ask[rows[ok]] = nbbo.ask_price.to_numpy()[q_row[ok]]
    return bid, ask


def share_mix(folder: Path) -> dict[str, float]:
    """Shares of executed shares and executed dollar value (quantity x price) by fill price."""
    ex = read(folder, "executions")
    value = ex.quantity * ex.price
    sub5, sub1 = ex.price < 5.0, ex.price < 1.0
    return {
        "sub5_value": value[sub5].sum() / value.sum(),
        "sub5_shares": ex.quantity[sub5].sum() / ex.quantity.sum(),
        "sub1_shares": ex.quantity[sub1].sum() / ex.quantity.sum(),
        "sub1_fills": int(sub1.sum()),
        "sub5_fills": int(sub5.sum()),
    }


def sub_penny_check(folder: Path) -> dict[str, np.ndarray]:
    """Exchange and ATS prints of stocks at $1 or more: on the $0.01 grid, at the midpoint of the NBBO in
    force at the execution, and the same two flags for the other venues' prints."""
    ex, o, nbbo = read(folder, "executions"), read(folder, "orders"), read(folder, "nbbo")
    venues = read(folder, "venues")
    lit_ids = set(venues.venue_id[venues.venue_type.isin(["exchange", "ats"])])
    f = ex.merge(o[["order_id", "symbol"]], on="order_id")
    f = f[f.price >= 1.0].reset_index(drop=True)
    bid, ask = nbbo_at(nbbo, f.symbol, f.executed_at)
    cents = f.price.to_numpy() * 100
    on_grid = np.abs(cents - np.rint(cents)) < 1e-6
    at_mid = np.abs(f.price.to_numpy() - (bid + ask) / 2) < 1e-9  # NaN (no quote) compares False
    lit = f.executed_venue.isin(lit_ids).to_numpy()
    return {"lit": lit, "on_grid": on_grid, "at_mid": at_mid}


def test_returns_row_counts_of_every_table(sample_dir):
    counts = json.loads((sample_dir / "counts.json").read_text())
    assert set(counts) == set(EQUITY_TABLES)
    for table, n in counts.items():
        assert pq.ParquetFile(sample_dir / f"{table}.parquet").metadata.num_rows == n
    assert counts["orders"] == SMALL["orders"]
    assert counts["venues"] == 5 and counts["securities"] >= 24
    assert 0.9 * SMALL["quotes_target"] <= counts["nbbo"] <= 1.1 * SMALL["quotes_target"]


def test_same_seed_gives_identical_files_and_another_seed_does_not(sample_dir, tmp_path):
    generate(tmp_path / "again", **SMALL)
    for table in EQUITY_TABLES:
        name = f"{table}.parquet"
        assert (sample_dir / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), table
    generate(tmp_path / "other", **(SMALL | {"seed": 8}))
    assert (sample_dir / "orders.parquet").read_bytes() != (
        tmp_path / "other" / "orders.parquet"
    ).read_bytes()


@pytest.mark.parametrize("table", EQUITY_TABLES)
def test_contract_columns_and_physical_types(sample_dir, table):
    schema = pq.read_schema(sample_dir / f"{table}.parquet")
    for col in TABLES[table].columns:
        assert col.name in schema.names, f"{table}.{col.name} missing"
        assert schema.field(col.name).type == PHYSICAL[col.type], f"{table}.{col.name}"
    for field in schema:
        if pa.types.is_timestamp(field.type):
            assert field.type.tz == "UTC" and field.type.unit == "us"


@pytest.mark.parametrize("table", EQUITY_TABLES)
def test_enums_nulls_and_unique_ids(sample_dir, table):
    df = pq.read_table(sample_dir / f"{table}.parquet").to_pandas()
    for col in TABLES[table].columns:
        if col.values:
            assert set(df[col.name].dropna()) <= set(col.values), f"{table}.{col.name}"
        if not col.nullable:
            assert df[col.name].notna().all(), f"{table}.{col.name}"
        if col.unique:
            assert df[col.name].is_unique
    if table in ("orders", "executions"):
        key = "order_id" if table == "orders" else "execution_id"
        assert df[key].is_unique and df[key].map(type).eq(str).all()


def test_nbbo_in_global_time_order_with_increasing_seq(sample_dir):
    nbbo = read(sample_dir, "nbbo")
    assert nbbo.quoted_at.is_monotonic_increasing
    assert (np.diff(nbbo.seq.to_numpy()) > 0).all()
    assert nbbo.symbol.nunique() >= 24
    assert (nbbo.bid_price > 0).all() and (nbbo.ask_price >= nbbo.bid_price).all()  # none crossed
    tod = nbbo.quoted_at.dt.tz_convert(NY)
    assert tod.dt.hour.min() >= 8 and tod.dt.hour.max() <= 15  # 08:00-16:00 New York
    dates = set(tod.dt.date)
    assert len(dates) == 64 and not dates & {dt.date(2026, 7, 3), dt.date(2026, 9, 7)}
    assert all(d.weekday() < 5 for d in dates)
    by_symbol = nbbo.groupby("symbol").quoted_at.apply(lambda s: s.is_monotonic_increasing)
    assert by_symbol.all()


def test_prices_have_at_most_four_decimals_and_sub_dollar_ticks(sample_dir):
    nbbo, ex, orders = read(sample_dir, "nbbo"), read(sample_dir, "executions"), read(sample_dir, "orders")
    for values in (nbbo.bid_price, nbbo.ask_price, ex.price, orders.limit_price.dropna()):
        scaled = values.to_numpy() * 1e4
        assert np.allclose(scaled, np.rint(scaled), atol=1e-6)
    sub_dollar = nbbo[nbbo.ask_price < 1.0]
    assert len(sub_dollar) and (np.rint(sub_dollar.bid_price * 1e4) % 100 != 0).any()
    penny = nbbo[nbbo.bid_price >= 1.0]
    assert (np.rint(penny.bid_price * 1e4) % 100 == 0).all()


def test_low_priced_stocks_are_a_small_slice_of_executed_value_and_shares(sample_dir):
    mix = share_mix(sample_dir)
    assert mix["sub1_fills"] > 0 and mix["sub5_fills"] > 0  # present, for the sub-penny tick tests
    assert mix["sub5_value"] <= SUB5_VALUE_MAX
    assert mix["sub5_shares"] <= SUB5_SHARES_MAX
    assert mix["sub1_shares"] <= SUB1_SHARES_MAX


def test_exchange_and_ats_prints_obey_the_sub_penny_rule(sample_dir):
    """Rule 612: a print of a stock at $1 or more on an exchange or ATS is on the $0.01 grid unless it is
    exactly at the midpoint of the NBBO in force at the execution; wholesalers may improve by sub-pennies."""
    c = sub_penny_check(sample_dir)
    lit = c["lit"]
    assert lit.sum() > 100
    assert (c["on_grid"] | c["at_mid"])[lit].all()
    assert (~c["on_grid"] & c["at_mid"])[lit].any()  # half-penny midpoint prints: the exemption is used
    assert (~c["on_grid"] & ~c["at_mid"])[~lit].any()  # wholesaler sub-penny improvement is kept


def test_every_order_category_and_order_kind_is_present(sample_dir):
    o = with_nbbo_at_receipt(read(sample_dir, "orders"), read(sample_dir, "nbbo"))
    present = set(o.category.dropna())
    assert present == {"market", "marketable_limit", *NON_MARKETABLE}
    assert o.category.value_counts(normalize=True)["market"] == pytest.approx(0.56, abs=0.05)
    assert set(o.order_type) == {"market", "limit", "stop"}
    assert set(o.side) == {"buy", "sell", "sell_short"}
    assert set(o.time_in_force) >= {"day", "ioc", "gtc"}
    assert (o.quantity % 1 != 0).mean() == pytest.approx(0.08, abs=0.03)
    assert o.routed_venue.isna().any() and o.is_directed.any()
    assert set(o.routed_venue.dropna()) == {"WSA", "WSB", "EXCH", "ATSN", "KEST"}
    assert (o.order_type != "limit").eq(o.limit_price.isna()).all()


def test_fills_respect_quantity_receipt_and_venues(sample_dir):
    orders, ex = read(sample_dir, "orders").set_index("order_id"), read(sample_dir, "executions")
    venues = set(read(sample_dir, "venues").venue_id)
    assert ex.order_id.isin(orders.index).all()
    assert set(ex.executed_venue) <= venues
    assert (ex.quantity > 0).all() and (ex.price > 0).all()
    filled = ex.groupby("order_id").quantity.sum()
    assert (filled <= orders.quantity.reindex(filled.index) + 1e-6).all()
    assert (ex.executed_at >= orders.received_at.reindex(ex.order_id).to_numpy()).all()
    assert not ex.order_id.isin(orders.index[orders.routed_venue.isna()]).any()
    assert (ex.groupby("order_id").size() > 1).any()  # some orders fill in pieces
    assert ((filled > 0) & (filled < orders.quantity.reindex(filled.index) - 1e-6)).any()  # some partially


def test_order_timestamps_and_cancellations(sample_dir):
    o, ex = read(sample_dir, "orders"), read(sample_dir, "executions")
    routed = o.routed_venue.notna()
    assert o.routed_at.notna().eq(routed).all()
    assert (o.routed_at[routed] >= o.received_at[routed]).all()
    canceled = o.canceled_at.notna()
    assert (o.canceled_at[canceled] >= o.received_at[canceled]).all()
    last_fill = ex.groupby("order_id").executed_at.max()
    fill_before_cancel = o[canceled].set_index("order_id").canceled_at.reindex(last_fill.index).dropna()
    assert (fill_before_cancel >= last_fill.reindex(fill_before_cancel.index)).all()
    filled = ex.groupby("order_id").quantity.sum().reindex(o.order_id).fillna(0).to_numpy()
    assert not (canceled & (filled >= o.quantity - 1e-6)).any()  # a fully filled order is not cancelled
    ny = o.received_at.dt.tz_convert(NY)
    outside = (ny.dt.hour < 9) | ((ny.dt.hour == 9) & (ny.dt.minute < 30)) | (ny.dt.hour >= 16)
    assert 0.005 < outside.mean() < 0.03


def test_day_orders_never_trade_after_the_close(sample_dir):
    o, ex = read(sample_dir, "orders"), read(sample_dir, "executions")
    f = ex.merge(o, on="order_id", suffixes=("", "_order"))
    rec, exe = f.received_at.dt.tz_convert(NY), f.executed_at.dt.tz_convert(NY)
    regular_day = (f.time_in_force == "day") & (rec.dt.hour < 16)
    assert (exe[regular_day].dt.date == rec[regular_day].dt.date).all()
    assert (exe[regular_day].dt.hour < 16).all()


def test_marketable_fills_are_near_the_nbbo_at_receipt(sample_dir):
    o = with_nbbo_at_receipt(read(sample_dir, "orders"), read(sample_dir, "nbbo"))
    f = read(sample_dir, "executions").merge(o, on="order_id", suffixes=("", "_order"))
    f = f[f.category.isin(["market", "marketable_limit"])]
    pi = np.where(f.side == "buy", f.nbo - f.price, f.price - f.nbb)
    spread = f.nbo - f.nbb
    assert (pi <= spread + 1e-9).all()  # never better than the other side of the quote
    assert (pi > 0).mean() > 0.6 and (pi < 0).mean() < 0.05


def test_pfof_rates_cover_every_key_without_overlap(sample_dir):
    rates = read(sample_dir, "pfof_rates")
    keys = ["venue_id", "security_group", "order_group"]
    assert len(rates.groupby(keys)) == 2 * 2 * 4
    for _, g in rates.groupby(keys):
        g = g.sort_values("effective_from")
        ends = g.effective_to.iloc[:-1].to_numpy()
        assert (ends <= g.effective_from.iloc[1:].to_numpy()).all()
        assert pd.isna(g.effective_to.iloc[-1])
    assert (rates.groupby(keys).size() == 2).sum() == 1  # exactly one mid-quarter change


def test_pfof_payments_match_expected_except_the_planted_underpayment(sample_dir):
    o = with_nbbo_at_receipt(read(sample_dir, "orders"), read(sample_dir, "nbbo"))
    sec = read(sample_dir, "securities")
    o = o.merge(sec[["symbol", "is_sp500"]], on="symbol")
    o["security_group"] = np.where(o.is_sp500, "sp500", "other")
    o["order_group"] = np.select(
        [o.order_type == "market", o.category == "marketable_limit", o.category.isin(NON_MARKETABLE)],
        ["market", "marketable_limit", "non_marketable_limit"],
        "other",
    )
    o["month"] = o.received_at.dt.tz_convert(NY).dt.strftime("%Y-%m")
    f = read(sample_dir, "executions").merge(o[~o.is_directed], on="order_id", suffixes=("", "_order"))
    rates = read(sample_dir, "pfof_rates").rename(columns={"venue_id": "routed_venue"})
    f = f.merge(rates, on=["routed_venue", "security_group", "order_group"])
    in_force = (f.date >= f.effective_from) & (f.effective_to.isna() | (f.date < f.effective_to))
    f = f[in_force]
    assert f.duplicated("execution_id").sum() == 0
    expected = (f.quantity * f.rate_cph / 10_000).groupby([f.routed_venue, f.month]).sum()
    paid = read(sample_dir, "pfof_payments").set_index(["venue_id", "month"]).amount_usd
    assert len(paid) == 6
    variance = paid / expected.reindex(paid.index) - 1
    assert variance.drop(("WSB", "2026-08")).abs().max() <= 0.01
    assert variance[("WSB", "2026-08")] == pytest.approx(-0.08, abs=0.01)


def test_rejects_nonsense_sizes(tmp_path):
    with pytest.raises(ValueError, match="orders"):
        generate(tmp_path, orders=0)


@pytest.mark.slow
def test_planted_problems_hold_at_the_default_size(tmp_path):
    """Problem 1: WSB's net PI per share (market orders, S&P 500, covered) falls >= 30% in September
    while WSA, EXCH and ATSN move < 5%; problem 2: WSB fills at-the-quote limits >= 15 points less.
    The share mix and the sub-penny rule hold at this size too."""
    generate(tmp_path)
    mix = share_mix(tmp_path)
    assert mix["sub5_value"] <= SUB5_VALUE_MAX and mix["sub5_shares"] <= SUB5_SHARES_MAX
    assert mix["sub1_shares"] <= SUB1_SHARES_MAX
    c = sub_penny_check(tmp_path)
    assert (c["on_grid"] | c["at_mid"])[c["lit"]].all()
    o = with_nbbo_at_receipt(read(tmp_path, "orders"), read(tmp_path, "nbbo"))
    o = o.merge(read(tmp_path, "securities")[["symbol", "is_sp500"]], on="symbol")
    ny = o.received_at.dt.tz_convert(NY)
    o["month"] = ny.dt.strftime("%Y-%m")
    tod = ny.dt.hour * 60 + ny.dt.minute
    covered = (
        o.order_type.isin(["market", "limit"])
        & (o.time_in_force != "fok")
        & ~o.is_not_held
        & ~o.is_directed
        & o.routed_venue.notna()
        & (tod >= 570)
        & (tod < 960)
        & o.category.notna()
    )
    ex = read(tmp_path, "executions")
    f = ex.merge(o[covered & (o.category == "market") & o.is_sp500], on="order_id", suffixes=("", "_o"))
    f["q_pi"] = f.quantity * np.where(f.side == "buy", f.nbo - f.price, f.price - f.nbb)
    sums = f.groupby(["routed_venue", "month"])[["q_pi", "quantity"]].sum()
    net = (sums.q_pi / sums.quantity).unstack()
    wsb = net.loc["WSB"]
    assert wsb["2026-09"] <= 0.7 * min(wsb["2026-07"], wsb["2026-08"])
    for venue in ("WSA", "EXCH", "ATSN"):
        assert (net.loc[venue] / net.loc[venue].mean() - 1).abs().max() < 0.05, venue

    at_quote = o[covered & (o.category == "at_quote_limit")].copy()
    at_quote["filled"] = ex.groupby("order_id").quantity.sum().reindex(at_quote.order_id).fillna(0).to_numpy()
    rate = at_quote.groupby("routed_venue").filled.sum() / at_quote.groupby("routed_venue").quantity.sum()
    assert rate["WSA"] - rate["WSB"] >= 0.15
