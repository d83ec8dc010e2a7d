"""Shared fixtures: tiny hand-made extracts written as CSV, and a store built from them."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

ORDER_COLS = ["order_id", "received_at", "symbol", "side", "order_type", "limit_price", "quantity",
              "time_in_force", "routed_venue", "routed_at", "canceled_at", "is_directed", "is_not_held"]
EXEC_COLS = ["execution_id", "order_id", "executed_venue", "executed_at", "quantity", "price", "capacity"]
NBBO_COLS = ["symbol", "quoted_at", "bid_price", "ask_price", "bid_size", "ask_size", "seq"]
VENUE_COLS = ["venue_id", "name", "venue_type", "is_affiliate", "pays_pfof", "mic", "rule605_code"]
SEC_COLS = ["symbol", "name", "is_sp500"]

DEFAULT_VENUES = [
    {"venue_id": "V1", "name": "Wholesaler One", "venue_type": "wholesaler", "is_affiliate": "false",
     "pays_pfof": "true", "mic": "", "rule605_code": "WH1"},
    {"venue_id": "V2", "name": "Exchange Two", "venue_type": "exchange", "is_affiliate": "false",
     "pays_pfof": "false", "mic": "XTWO", "rule605_code": ""},
]
DEFAULT_SECURITIES = [
    {"symbol": "AAA", "name": "Alpha Corp", "is_sp500": "true"},
    {"symbol": "BBB", "name": "Beta Inc", "is_sp500": "false"},
    {"symbol": "PNY", "name": "Penny Co", "is_sp500": "false"},
]


def order(order_id, received_at, symbol="AAA", side="buy", order_type="market", limit_price="",
          quantity="100", time_in_force="day", routed_venue="V1", routed_at=None, canceled_at="",
          is_directed="false", is_not_held="false"):
    """An orders row as CSV strings; routed_at defaults to received_at."""
    return {"order_id": order_id, "received_at": received_at, "symbol": symbol, "side": side,
            "order_type": order_type, "limit_price": limit_price, "quantity": quantity,
            "time_in_force": time_in_force, "routed_venue": routed_venue,
            "routed_at": received_at if routed_at is None and routed_venue else (routed_at or ""),
            "canceled_at": canceled_at, "is_directed": is_directed, "is_not_held": is_not_held}


def fill(execution_id, order_id, executed_at, quantity, price, executed_venue="V1", capacity="principal"):
    return {"execution_id": execution_id, "order_id": order_id, "executed_venue": executed_venue,
            "executed_at": executed_at, "quantity": quantity, "price": price, "capacity": capacity}


def quote(symbol, quoted_at, bid, ask, seq=None, bid_size="100", ask_size="100"):
    return {"symbol": symbol, "quoted_at": quoted_at, "bid_price": bid, "ask_price": ask,
            "bid_size": bid_size, "ask_size": ask_size, "seq": "" if seq is None else seq}


def write_csv(path: Path, cols: list[str], rows: list[dict]) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in cols})


def write_extracts(folder: Path, orders, executions, nbbo, venues=None, securities=None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(folder / "orders.csv", ORDER_COLS, orders)
    write_csv(folder / "executions.csv", EXEC_COLS, executions)
    write_csv(folder / "nbbo.csv", NBBO_COLS, nbbo)
    write_csv(folder / "venues.csv", VENUE_COLS, venues or DEFAULT_VENUES)
    write_csv(folder / "securities.csv", SEC_COLS, securities or DEFAULT_SECURITIES)
    return folder


def read_csv_typed(path: Path):
    """A CSV extract as a pyarrow table with inferred types (empty text as null, a quote's ``seq`` as
    int64): what a Parquet writer of the same data would give, for tests of the Parquet paths."""
    import pyarrow.csv as pacsv

    return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types={"seq": "int64"},
                                                                     strings_can_be_null=True))


@pytest.fixture
def build_review(tmp_path):
    """Write extracts into tmp_path/data, build a store in tmp_path/store, return the Review."""
    import bestex_nb
    from bestex_nb.build.store import build

    opened = []

    def _make(orders, executions, nbbo, venues=None, securities=None, name="data"):
        data = write_extracts(tmp_path / name, orders, executions, nbbo, venues, securities)
        report = build(data, tmp_path / f"{name}.duckdb")
        review = bestex_nb.Review(report.store)
        opened.append(review)
        return review

    yield _make
    for r in opened:
        r.close()


def realdata_dir() -> Path | None:
    """The shared real-data folder, or None when absent (a failure under CI=true)."""
    path = Path(os.environ.get("BESTEX_REALDATA", Path(__file__).resolve().parents[2] / "shared" / "realdata"))
    if path.is_dir():
        return path
    if os.environ.get("CI") == "true":
        pytest.fail(f"BESTEX_REALDATA folder {path} is missing (required under CI=true)")
    return None


def require_chromium() -> None:
    """Skip when Chromium is missing locally; fail under CI=true, where .ci/run installs it."""
    from bestex_nb.report import browser

    if browser.chromium_path() is None:
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail("CI=true but no Chromium found: install Debian 'chromium' (or set BESTEX_CHROMIUM)")
        pytest.skip("no Chromium installed (required on CI)")
