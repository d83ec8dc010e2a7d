"""Generate the synthetic 2026Q3 extracts of "Kestrel Securities" (see data/sample/README.md).

One Parquet file per table of the equity and PFOF contract (shared/spec/extracts.md). Deterministic:
the same seed and sizes give byte-identical files. Quotes, orders, fills and payments each draw from
their own child of ``numpy.random.SeedSequence(seed)``, so changing ``orders`` leaves the quotes alone.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from .arrow import (
    DECIMAL,
    TIMESTAMP,
    coded_strings,
    decimal_array,
    id_strings,
    price_array,
    rows_table,
    timestamp_array,
    write_parquet,
)
from .fills import CAPACITIES, Fills, generate_fills
from .orders import ORDER_TYPES, SIDES, TIFS, Orders, generate_orders
from .pfof import payment_rows, rate_rows
from .quotes import Quotes, generate_quotes
from .universe import SECURITIES, VENUE_IDS, VENUES, trading_calendar

S, B = pa.string(), pa.bool_()
SCHEMAS: dict[str, pa.Schema] = {
    "orders": pa.schema(
        [
            ("order_id", S),
            ("received_at", TIMESTAMP),
            ("symbol", S),
            ("side", S),
            ("order_type", S),
            ("limit_price", DECIMAL),
            ("quantity", DECIMAL),
            ("time_in_force", S),
            ("routed_venue", S),
            ("routed_at", TIMESTAMP),
            ("canceled_at", TIMESTAMP),
            ("is_directed", B),
            ("is_not_held", B),
        ]
    ),
    "executions": pa.schema(
        [
            ("execution_id", S),
            ("order_id", S),
            ("executed_venue", S),
            ("executed_at", TIMESTAMP),
            ("quantity", DECIMAL),
            ("price", DECIMAL),
            ("capacity", S),
        ]
    ),
    "nbbo": pa.schema(
        [
            ("symbol", S),
            ("quoted_at", TIMESTAMP),
            ("bid_price", DECIMAL),
            ("ask_price", DECIMAL),
            ("bid_size", DECIMAL),
            ("ask_size", DECIMAL),
            ("seq", pa.int64()),
        ]
    ),
    "venues": pa.schema(
        [
            ("venue_id", S),
            ("name", S),
            ("venue_type", S),
            ("is_affiliate", B),
            ("pays_pfof", B),
            ("mic", S),
            ("rule605_code", S),
        ]
    ),
    "securities": pa.schema([("symbol", S), ("name", S), ("is_sp500", B)]),
    "pfof_rates": pa.schema(
        [
            ("venue_id", S),
            ("effective_from", pa.date32()),
            ("effective_to", pa.date32()),
            ("security_group", S),
            ("order_group", S),
            ("rate_cph", DECIMAL),
        ]
    ),
    "pfof_payments": pa.schema(
        [("venue_id", S), ("month", S), ("amount_usd", DECIMAL), ("security_group", S), ("order_group", S)]
    ),
}
SYMBOLS = [sec.symbol for sec in SECURITIES]
ORDER_ID_WIDTH = 8
EXECUTION_ID_WIDTH = 9


def _table(name: str, arrays: list[pa.Array]) -> pa.Table:
    return pa.Table.from_arrays(arrays, schema=SCHEMAS[name])


def orders_table(o: Orders) -> pa.Table:
    """The ``orders`` table; row ``i`` is order ``K{i + 1:08d}``."""
    n = len(o)
    shares = o.qty  # micro-shares are exactly the decimal's unscaled units
    has_limit, routed = o.limit >= 0, o.venue >= 0
    return _table(
        "orders",
        [
            id_strings("K", n, ORDER_ID_WIDTH),
            timestamp_array(o.received_at),
            coded_strings(o.sym, SYMBOLS),
            coded_strings(o.side, SIDES),
            coded_strings(o.order_type, ORDER_TYPES),
            price_array(o.limit, has_limit),
            decimal_array(shares),
            coded_strings(o.tif, TIFS),
            coded_strings(o.venue, VENUE_IDS, routed),
            timestamp_array(o.routed_at, routed),
            timestamp_array(o.canceled_at, o.canceled_at >= 0),
            pa.array(o.is_directed),
            pa.array(o.is_not_held),
        ],
    )


def executions_table(f: Fills, order_ids: pa.Array) -> pa.Table:
    """The ``executions`` table; fills are numbered ``X{i + 1:09d}`` in time order."""
    return _table(
        "executions",
        [
            id_strings("X", len(f), EXECUTION_ID_WIDTH),
            order_ids.take(pa.array(f.order)),
            coded_strings(f.venue, VENUE_IDS),
            timestamp_array(f.t),
            decimal_array(f.qty),
            price_array(f.price),
            coded_strings(f.capacity, CAPACITIES),
        ],
    )


def nbbo_table(q: Quotes) -> pa.Table:
    """The ``nbbo`` table in global time order, ``seq`` = row number (ties keep a fixed order)."""
    order = q.file_order()
    return _table(
        "nbbo",
        [
            coded_strings(q.sym[order], SYMBOLS),
            timestamp_array(q.t[order]),
            price_array(q.bid[order]),
            price_array(q.ask[order]),
            decimal_array(q.bid_size[order] * 1_000_000),
            decimal_array(q.ask_size[order] * 1_000_000),
            pa.array(np.arange(len(order), dtype=np.int64)),
        ],
    )


def generate(
    out_dir: str | Path,
    seed: int = 20260930,
    orders: int = 120_000,
    quotes_target: int = 4_500_000,
) -> dict[str, int]:
    """Write the synthetic 2026Q3 sample extracts to ``out_dir``.

    Parameters
    ----------
    out_dir : str or Path
        Folder to write into (created if missing); existing files of the same names are replaced.
    seed : int
        Seed of every random draw; the same seed and sizes give byte-identical files.
    orders : int
        Number of customer orders over the quarter.
    quotes_target : int
        Approximate number of NBBO updates (at least 20 per symbol and trading day are written).

    Returns
    -------
    dict of str to int
        Rows written per table: ``orders``, ``executions``, ``nbbo``, ``venues``, ``securities``,
        ``pfof_rates``, ``pfof_payments``.
    """
    if orders < 1:
        raise ValueError(f"orders must be at least 1, got {orders}")
    if quotes_target < 1:
        raise ValueError(f"quotes_target must be at least 1, got {quotes_target}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng_quotes, rng_orders, rng_fills, rng_pfof = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)
    )
    cal = trading_calendar()
    quotes = generate_quotes(rng_quotes, cal, quotes_target)
    o = generate_orders(rng_orders, cal, quotes, orders)
    fills = generate_fills(rng_fills, cal, quotes, o)

    orders_t = orders_table(o)
    tables = {
        "orders": orders_t,
        "executions": executions_table(fills, orders_t.column("order_id").combine_chunks()),
        "nbbo": nbbo_table(quotes),
        "venues": rows_table([vars(v) for v in VENUES], SCHEMAS["venues"]),
        "securities": rows_table(
            [{"symbol": s.symbol, "name": s.name, "is_sp500": s.is_sp500} for s in SECURITIES],
            SCHEMAS["securities"],
        ),
        "pfof_rates": rows_table(rate_rows(), SCHEMAS["pfof_rates"]),
        "pfof_payments": rows_table(payment_rows(rng_pfof, cal, o, fills), SCHEMAS["pfof_payments"]),
    }
    for name, table in tables.items():
        write_parquet(table, out / f"{name}.parquet")
    return {name: table.num_rows for name, table in tables.items()}
