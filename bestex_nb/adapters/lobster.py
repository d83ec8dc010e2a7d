"""LOBSTER order-book files → bestex extracts (orders, executions, nbbo, venues, securities).

LOBSTER (lobsterdata.com) rebuilds Nasdaq TotalView-ITCH into a ``message`` file (one event per row:
time in seconds after midnight New York, type, order id, size, price × 10,000, direction) and an
``orderbook`` file whose row *i* is the book **after** message *i*. The import turns one pair per
symbol-day into the extract contract, so the limit-order fill review runs on real order flow:

* **orders** — every new limit order (type 1), as a ``day`` limit order routed to one venue, ``XNAS``
  (received = routed = the message time). Order ids are ``<SYMBOL>-<YYYYMMDD>-<lobster id>``.
* **executions** — every visible execution (type 4) of one of those orders, at the message's price
  (the resting order's limit), capacity ``agency``.
* **canceled_at** — the time of the order's full deletion (type 3). Partial cancels (type 2) keep the
  order's submitted quantity (the customer asked for it; the cancelled part counts as unfilled). When
  partial cancels and executions together use up the order and no deletion follows, the last partial
  cancel ends it (``canceled_at``); otherwise its remainder ends as the deletion says, or expires at
  16:00. Every partial cancel is counted in the import report.
* **nbbo** — the level-1 book as a single-venue quote: one row per message with the best bid and ask
  after it (an empty side, ±9999999999, becomes 0: no quote on that side).
* Events on orders whose submission is not in the file — orders entered before 09:30, or (in a level-1
  file) entered behind the best quote — belong to no known order: they are counted in the report,
  never turned into orders or fills. Hidden executions (type 5, order id 0) and halts (type 7) are
  counted too.

**The book before the order.** An order must be categorised against the book *before* its own
message (the row after it already contains the order). DuckDB timestamps have microseconds and many
messages share one (AMZN: 4,244 messages share the microsecond of the message before them, 1,000 of
them new orders, 990 in the very same nanosecond, e.g. the rest of an order that first traded
through the book). The import therefore puts every message on a strictly increasing microsecond clock,
``clock[i] = max(floor_us(time[i]), clock[i−1] + 1 µs)``, stamps order ``i`` (and its fills and cancels)
at ``clock[i]``, and stamps the book after message ``i`` at ``clock[i] + 1 µs``. The as-of join at an
order's receipt (latest quote at or before it) then sees exactly the book after message ``i − 1``:
the book before the order. The clock moves times by at most a few tens of microseconds (AMZN and
GOOG 2012-06-21: at most 28 and 34 µs); the original nanosecond time is kept in the extra column
``source_time_ns`` and the message row in ``source_row``.

**Biases of level-1 data** (say so wherever the figures are shown):

1. A level-1 file only holds events that touch the best quotes. An order entered behind the best
   quote is not in it at all, so the orders are the aggressive ones: at the quote or inside it, never
   near or away (their categories are empty), and their fill rates are those of the best-placed orders.
2. An order that was at the best quote when entered but is later pushed behind it can be deleted
   without a trace: it then looks open until the close, ends as *expired* at 16:00, stays in the
   Kaplan–Meier risk set too long (the curve is biased upward, towards "no fill yet") and its unfilled
   shares count as expired rather than cancelled. Executions are never missed (they happen at the
   best price).
3. The quote is one exchange's book, not the consolidated NBBO: an order at Nasdaq's best bid may be
   behind a better bid elsewhere, so "at the quote" and "inside" are relative to Nasdaq only.
4. The orders are every participant's, not one broker's customers; market makers' quotes dominate.
5. Orders entered before 09:30 are missing, as are all events after 16:00; fills of orders from
   before the open are counted in the report as events on unknown orders.
6. Partial cancels are rare (AMZN 16, GOOG 7 messages) and handled as described above.

The files are not copied into the extracts folder; the import report ``lobster_import.json`` records
their names, sizes and SHA-256.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from bestex_nb.contract.errors import BestexError
from bestex_nb.sample.arrow import decimal_array, price_array, timestamp_array, write_parquet
from bestex_nb.sample.generate import SCHEMAS

VENUE_ID = "XNAS"
EMPTY_LEVEL = 9_999_999_999
NAME_RE = re.compile(r"^(?P<symbol>[A-Z0-9.]+)_(?P<date>\d{4}-\d{2}-\d{2})_(?P<start>\d+)_(?P<end>\d+)_"
                     r"(?P<kind>message|orderbook)_(?P<level>\d+)\.csv$")
#: LOBSTER's free sample tickers (all in the S&P 500 on their sample date, 2012-06-21).
KNOWN_SECURITIES = {"AAPL": "Apple Inc.", "AMZN": "Amazon.com, Inc.", "GOOG": "Google Inc.",
                    "INTC": "Intel Corporation", "MSFT": "Microsoft Corporation"}
MESSAGE_TYPES = {1: "new limit order", 2: "partial cancel", 3: "full deletion", 4: "visible execution",
                 5: "hidden execution", 7: "trading halt"}
REPORT_NAME = "lobster_import.json"


@dataclass(frozen=True)
class Pair:
    """One symbol-day: its message and orderbook files."""

    symbol: str
    day: date
    level: int
    message: Path
    orderbook: Path


def pair_files(files: list[str | os.PathLike]) -> list[Pair]:
    """Group LOBSTER files into message/orderbook pairs (either file of a pair names both)."""
    pairs: dict[tuple, Pair] = {}
    for f in map(Path, files):
        m = NAME_RE.match(f.name)
        if not m:
            raise BestexError(f"{f}: not a LOBSTER file name (TICKER_YYYY-MM-DD_start_end_message_LEVEL.csv)")
        message = f.with_name(f.name.replace("_orderbook_", "_message_"))
        orderbook = f.with_name(f.name.replace("_message_", "_orderbook_"))
        for p in (message, orderbook):
            if not p.is_file():
                raise BestexError(f"{p}: missing (a LOBSTER message file needs its orderbook file and vice versa)")
        key = (m["symbol"], m["date"], m["start"], m["end"], m["level"])
        pairs[key] = Pair(m["symbol"], date.fromisoformat(m["date"]), int(m["level"]), message, orderbook)
    return [pairs[k] for k in sorted(pairs)]


def read_messages(path: Path) -> pd.DataFrame:
    """The message file with exact integer times: ``time_ns`` (ns after midnight), type, lobster_id,
    size (shares), price (dollars × 10,000), direction (1 buy, −1 sell)."""
    raw = pd.read_csv(path, header=None, names=["time", "type", "lobster_id", "size", "price", "direction"],
                      dtype={"time": str}, usecols=range(6))
    parts = raw["time"].str.partition(".")
    frac = parts[2].str.slice(0, 9).str.ljust(9, "0")
    raw["time_ns"] = parts[0].astype("int64") * 1_000_000_000 + frac.astype("int64")
    return raw.drop(columns="time")


def read_book(path: Path) -> pd.DataFrame:
    """The level-1 columns of an orderbook file (prices × 10,000; sizes in shares)."""
    return pd.read_csv(path, header=None, usecols=range(4), names=["ask_price", "ask_size", "bid_price", "bid_size"])


def sequence_clock(us: np.ndarray) -> np.ndarray:
    """A strictly increasing microsecond clock: ``clock[i] = max(us[i], clock[i−1] + 1)``."""
    idx = np.arange(len(us), dtype=np.int64)
    return np.maximum.accumulate(np.asarray(us, dtype=np.int64) - idx) + idx


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def convert(pair: Pair) -> tuple[dict[str, pd.DataFrame], dict]:
    """One symbol-day as integer frames (µs, pips, shares) plus its import report."""
    m, book = read_messages(pair.message), read_book(pair.orderbook)
    if len(m) != len(book):
        raise BestexError(f"{pair.message.name} has {len(m):,} rows but {pair.orderbook.name} {len(book):,}: "
                          "row i of the orderbook must be the book after message i")
    midnight_us = pd.Timestamp(pair.day).tz_localize("America/New_York").value // 1000
    us = midnight_us + m["time_ns"].to_numpy() // 1000
    clock = sequence_clock(us)
    m = m.assign(row=np.arange(len(m)), clock_us=clock)
    tag = f"{pair.symbol}-{pair.day:%Y%m%d}-"

    new = m[m["type"] == 1]
    known = set(new["lobster_id"])
    on_known = m["lobster_id"].isin(known) & m["type"].isin([2, 3, 4])
    unknown = m[~m["lobster_id"].isin(known) & m["type"].isin([2, 3, 4])]
    deletions = m[on_known & (m["type"] == 3)].groupby("lobster_id").agg(
        deleted_us=("clock_us", "first"), deleted_size=("size", "first"))
    partial = m[on_known & (m["type"] == 2)].groupby("lobster_id").agg(
        partial_shares=("size", "sum"), partial_count=("size", "size"), last_partial_us=("clock_us", "last"))
    execs = m[on_known & (m["type"] == 4)]
    executed = execs.groupby("lobster_id")["size"].sum().rename("executed_shares")

    o = new.set_index("lobster_id").join([deletions, partial, executed])
    o[["partial_shares", "executed_shares"]] = o[["partial_shares", "executed_shares"]].fillna(0)
    remaining = o["size"] - o["partial_shares"] - o["executed_shares"]
    used_up = o["deleted_us"].isna() & (o["partial_shares"] > 0) & (remaining <= 0)
    o["canceled_us"] = o["deleted_us"].where(~used_up, o["last_partial_us"])
    no_end = o["deleted_us"].isna() & ~used_up & (remaining > 0)

    orders = pd.DataFrame({
        "order_id": tag + o.index.astype(str), "symbol": pair.symbol, "received_us": o["clock_us"].to_numpy(),
        "side": np.where(o["direction"] == 1, "buy", "sell"), "limit_pips": o["price"].to_numpy(),
        "shares": o["size"].to_numpy(), "canceled_us": o["canceled_us"].to_numpy(),
        "source_time_ns": o["time_ns"].to_numpy(), "source_row": o["row"].to_numpy(),
    })
    executions = pd.DataFrame({
        "execution_id": tag + "m" + execs["row"].astype(str), "order_id": tag + execs["lobster_id"].astype(str),
        "executed_us": execs["clock_us"].to_numpy(), "shares": execs["size"].to_numpy(),
        "price_pips": execs["price"].to_numpy(), "source_time_ns": execs["time_ns"].to_numpy(),
        "source_row": execs["row"].to_numpy(),
    })
    bid_empty = book["bid_price"] <= -EMPTY_LEVEL
    ask_empty = book["ask_price"] >= EMPTY_LEVEL
    nbbo = pd.DataFrame({
        "quoted_us": clock + 1,  # the book after message i is in force from 1 µs after it
        "bid_pips": np.where(bid_empty, 0, book["bid_price"]), "ask_pips": np.where(ask_empty, 0, book["ask_price"]),
        "bid_size": np.where(bid_empty, 0, book["bid_size"]), "ask_size": np.where(ask_empty, 0, book["ask_size"]),
        "seq": np.arange(len(book), dtype=np.int64),
    })
    deleted = o["deleted_size"].notna()
    report = {
        "symbol": pair.symbol, "date": str(pair.day), "level": pair.level,
        "files": [{"name": p.name, "bytes": p.stat().st_size, "sha256": _sha256(p)}
                  for p in (pair.message, pair.orderbook)],
        "messages": len(m),
        "messages_by_type": {str(k): int(v) for k, v in m["type"].value_counts().sort_index().items()},
        "orders": len(orders), "order_shares": int(o["size"].sum()),
        "orders_without_book_before": int((new["row"] == 0).sum()),
        "duplicate_order_ids": int(new["lobster_id"].duplicated().sum()),
        "executions": len(executions), "executed_shares": int(execs["size"].sum()),
        "full_deletions": int(deleted.sum()),
        "deletion_size_mismatches": int((deleted & (o["deleted_size"] != remaining)).sum()),
        "partial_cancels": int(o["partial_count"].fillna(0).sum()),
        "partial_cancel_shares": int(o["partial_shares"].sum()),
        "orders_with_partial_cancels": int(o["partial_count"].notna().sum()),
        "orders_ended_by_partial_cancel": int(used_up.sum()),
        "orders_fully_executed": int(((o["executed_shares"] >= o["size"])).sum()),
        "orders_without_end_in_file": int(no_end.sum()),
        "unknown_order_events": {str(k): int(v) for k, v in unknown["type"].value_counts().sort_index().items()},
        "unknown_order_executed_shares": int(unknown.loc[unknown["type"] == 4, "size"].sum()),
        "hidden_executions": int((m["type"] == 5).sum()),
        "hidden_executed_shares": int(m.loc[m["type"] == 5, "size"].sum()),
        "halt_messages": int((m["type"] == 7).sum()),
        "clock_shifted_messages": int((clock != us).sum()), "clock_max_shift_us": int((clock - us).max(initial=0)),
    }
    return {"orders": orders, "executions": executions, "nbbo": nbbo.assign(symbol=pair.symbol)}, report


def _extra(schema: pa.Schema) -> pa.Schema:
    return schema.append(pa.field("source_time_ns", pa.int64())).append(pa.field("source_row", pa.int64()))


def _tables(frames: dict[str, list[pd.DataFrame]], symbols: list[str]) -> dict[str, pa.Table]:
    o = pd.concat(frames["orders"], ignore_index=True)
    e = pd.concat(frames["executions"], ignore_index=True)
    q = pd.concat(frames["nbbo"], ignore_index=True)
    n, shares = len(o), o["shares"].to_numpy(dtype=np.int64) * 1_000_000
    canceled = o["canceled_us"].to_numpy(dtype=float)
    has_cancel = ~np.isnan(canceled)
    orders = pa.Table.from_arrays([
        pa.array(o["order_id"], pa.string()), timestamp_array(o["received_us"]),
        pa.array(o["symbol"], pa.string()), pa.array(o["side"], pa.string()),
        pa.array(["limit"] * n, pa.string()), price_array(o["limit_pips"]), decimal_array(shares),
        pa.array(["day"] * n, pa.string()), pa.array([VENUE_ID] * n, pa.string()), timestamp_array(o["received_us"]),
        timestamp_array(np.nan_to_num(canceled).astype(np.int64), has_cancel),
        pa.array(np.zeros(n, bool)), pa.array(np.zeros(n, bool)),
        pa.array(o["source_time_ns"], pa.int64()), pa.array(o["source_row"], pa.int64()),
    ], schema=_extra(SCHEMAS["orders"]))
    k = len(e)
    executions = pa.Table.from_arrays([
        pa.array(e["execution_id"], pa.string()), pa.array(e["order_id"], pa.string()),
        pa.array([VENUE_ID] * k, pa.string()), timestamp_array(e["executed_us"]),
        decimal_array(e["shares"].to_numpy(dtype=np.int64) * 1_000_000), price_array(e["price_pips"]),
        pa.array(["agency"] * k, pa.string()),
        pa.array(e["source_time_ns"], pa.int64()), pa.array(e["source_row"], pa.int64()),
    ], schema=_extra(SCHEMAS["executions"]))
    nbbo = pa.Table.from_arrays([
        pa.array(q["symbol"], pa.string()), timestamp_array(q["quoted_us"]), price_array(q["bid_pips"]),
        price_array(q["ask_pips"]), decimal_array(q["bid_size"].to_numpy(dtype=np.int64) * 1_000_000),
        decimal_array(q["ask_size"].to_numpy(dtype=np.int64) * 1_000_000), pa.array(np.arange(len(q)), pa.int64()),
    ], schema=SCHEMAS["nbbo"])
    venues = pa.Table.from_pylist([{
        "venue_id": VENUE_ID, "name": "Nasdaq (LOBSTER level-1 book)", "venue_type": "exchange",
        "is_affiliate": False, "pays_pfof": False, "mic": "XNAS", "rule605_code": None}], schema=SCHEMAS["venues"])
    securities = pa.Table.from_pylist(
        [{"symbol": s, "name": KNOWN_SECURITIES.get(s, s), "is_sp500": s in KNOWN_SECURITIES} for s in symbols],
        schema=SCHEMAS["securities"])
    return {"orders": orders, "executions": executions, "nbbo": nbbo, "venues": venues, "securities": securities}


def import_lobster(files: list[str | os.PathLike], out_dir: str | os.PathLike, force: bool = False) -> dict:
    """Convert LOBSTER message/orderbook pairs into Parquet extracts in ``out_dir``; return the report.

    ``out_dir`` must be empty or hold a previous LOBSTER import (``force`` overwrites anything).
    """
    out = Path(out_dir)
    pairs = pair_files(files)
    if not pairs:
        raise BestexError("no LOBSTER files given")
    if out.exists() and any(out.iterdir()) and not force and not (out / REPORT_NAME).exists():
        raise BestexError(f"{out} is not empty and holds no earlier LOBSTER import; choose an empty folder "
                          "or pass --force")
    frames: dict[str, list[pd.DataFrame]] = {"orders": [], "executions": [], "nbbo": []}
    reports = []
    for pair in pairs:
        converted, report = convert(pair)
        for name, df in converted.items():
            frames[name].append(df)
        reports.append(report)
    out.mkdir(parents=True, exist_ok=True)
    symbols = sorted({p.symbol for p in pairs})
    for name, table in _tables(frames, symbols).items():
        write_parquet(table, out / f"{name}.parquet")
    summary = {"source": "LOBSTER", "venue": VENUE_ID, "time_in_force": "day", "pairs": reports}
    (out / REPORT_NAME).write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def report_text(summary: dict) -> str:
    """The import report as plain text (what the CLI prints)."""
    lines = []
    for r in summary["pairs"]:
        unknown = ", ".join(f"type {k} ({MESSAGE_TYPES.get(int(k), '?')}): {v:,}"
                            for k, v in r["unknown_order_events"].items()) or "none"
        lines += [
            f"{r['symbol']} {r['date']} (level {r['level']}): {r['messages']:,} messages",
            (f"  orders (type 1): {r['orders']:,} ({r['order_shares']:,} shares); executions of them (type 4): "
             f"{r['executions']:,} ({r['executed_shares']:,} shares)"),
            (f"  full deletions -> canceled_at: {r['full_deletions']:,}; partial cancels: {r['partial_cancels']:,} "
             f"({r['partial_cancel_shares']:,} shares, {r['orders_ended_by_partial_cancel']:,} orders ended by one)"),
            f"  no end in the file (expire 16:00): {r['orders_without_end_in_file']:,}",
            f"  events on orders not in the file: {unknown} ({r['unknown_order_executed_shares']:,} shares executed)",
            f"  hidden executions (type 5): {r['hidden_executions']:,}; halts: {r['halt_messages']:,}",
            f"  clock: {r['clock_shifted_messages']:,} messages moved, at most {r['clock_max_shift_us']} µs",
        ]
    return "\n".join(lines)


def _md(value) -> str:
    """A data value as literal text in Markdown: HTML escaped, table pipes and emphasis neutralised."""
    return html.escape(str(value)).replace("|", "\\|").replace("*", "\\*").replace("_", "\\_")


def notes_markdown(summary: dict) -> str:
    """Markdown for the notebook: the import counts per symbol-day and the level-1 caveats."""
    rows = ["| | " + " | ".join(f"{_md(r['symbol'])} {_md(r['date'])}" for r in summary["pairs"]) + " |",
            "|---|" + "---:|" * len(summary["pairs"])]

    def row(label, fn):
        rows.append(f"| {label} | " + " | ".join(fn(r) for r in summary["pairs"]) + " |")

    row("messages", lambda r: f"{r['messages']:,}")
    row("new limit orders (type 1) → orders", lambda r: f"{r['orders']:,}")
    row("their visible executions (type 4) → fills", lambda r: f"{r['executions']:,}")
    row("full deletions (type 3) → canceled_at", lambda r: f"{r['full_deletions']:,}")
    row("partial cancels (type 2)", lambda r: f"{r['partial_cancels']:,}")
    row("orders with no end in the file (expire 16:00)", lambda r: f"{r['orders_without_end_in_file']:,}")
    row("events on orders not in the file", lambda r: f"{sum(r['unknown_order_events'].values()):,}")
    row("… of which executions (shares)", lambda r: f"{r['unknown_order_events'].get('4', 0):,} "
        f"({r['unknown_order_executed_shares']:,})")
    row("hidden executions (type 5, not attributable)", lambda r: f"{r['hidden_executions']:,}")
    row("largest clock shift (µs)", lambda r: f"{r['clock_max_shift_us']}")
    return (
        "**Source: LOBSTER level-1 order-book sample (Nasdaq TotalView-ITCH), imported with "
        "`bestex import lobster`.** Every participant's new limit orders are treated as day orders routed to "
        f"one venue, {_md(summary['venue'])}; the quote is that venue's own best bid and offer, taken before each "
        "order's own message.\n\n" + "\n".join(rows) + "\n\n"
        "Read the figures with the level-1 biases in mind: only orders entered at or inside the best quote "
        "are in the file (no near or away orders); an order pushed behind the best quote can be deleted "
        "unseen and then looks open until it expires at 16:00, which keeps it in the survival curve's risk "
        "set too long (curves biased towards *no fill yet*) and counts its shares as expired; the quote is "
        "one exchange's, not the consolidated NBBO; orders from before 09:30 are missing, and events on them "
        "are counted above, never invented. Attribution: LOBSTER (lobsterdata.com), sample files."
    )
