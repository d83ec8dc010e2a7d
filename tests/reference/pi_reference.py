"""Independent reference implementation of metrics.md sections 1-5 (equity), used only by tests.

Plain Python + pandas + :class:`decimal.Decimal`; deliberately no DuckDB and no code shared with the
product (``bestex_nb``), so that the product's SQL can be cross-checked against it. Clarity beats speed:
orders and fills are handled one row at a time; quotes are pre-indexed per (symbol, New York date) and
looked up with :func:`bisect.bisect_right`.

Public functions
----------------
``load_extracts(data_dir)``
    ``{table: DataFrame}`` for orders, executions, nbbo, venues, securities. Prices, money and
    quantities are ``Decimal`` (object columns), timestamps ``datetime64[us, UTC]``, flags ``bool``,
    identifiers ``str``/``None``. Rows keep file order (the nbbo tie-break relies on it).
``enrich_orders(tables)``
    One row per order row (duplicates included) with NBBO at receipt, category, buckets, exclusion.
``exclusions(tables)``
    Excluded order rows (table ``orders``) plus orphan fills (table ``executions``, ``unknown_order``).
``price_improvement(tables, period_start, period_end, by, venue=None)``
    The section 5 table, one row per group of ``by``, sorted by the grouping columns.
``order_pi(tables, period_start, period_end, venue=None)``
    One row per covered order with its NBBO at receipt and exact per-order sums (drill-down).
``parse_period(period)``
    ``"2026Q3"`` / ``"2026-07"`` / ``(start, end)`` ISO dates -> half-open ``(date, date)``.

Interpretations (where the spec leaves room; each is a deliberate choice, listed so the product's
choices can be compared with them)
------------------------------------------------------------------------------------------------------
Loading
  I1. Every number is read into DECIMAL(18,6): Decimal values, integers, floats (via ``repr``) and CSV
      strings are quantised to 6 decimals with ROUND_HALF_UP (half away from zero). All fill-level
      arithmetic is then exact (a local decimal context with 80 digits of precision).
  I2. CSV: every field is read as text; an empty field is null. A timestamp without ``Z`` or a
      ``+hh:mm`` offset is an error (never guessed). Flags accept ``true``/``false`` (any case); null /
      empty reads as false.
  I3. Timestamps are kept at microsecond resolution; finer (nanosecond) values are floored to the
      microsecond. Parquet timestamps without a time zone are an error.
  I4. A folder ``<table>/`` of Parquet files (hive partitions allowed) is read with pyarrow.dataset;
      its "file order" is the dataset's fragment order (sorted paths).

NBBO at receipt (section 1)
  N1. Quotes are ordered by (quoted_at, seq, file position). "Latest with quoted_at <= received_at" is
      the last row in that order; with a ``seq`` column, a row whose seq is null sorts before every
      row with a seq at the same timestamp; otherwise (and among equal seq) file order decides.
  N2. "Same trading day" = the quote's New York calendar date equals the order's New York receipt
      date (so a quote at 02:00Z belongs to the previous New York day; pre-market quotes count).
  N3. The NBBO in force is the latest row whatever it says; it is then judged: no row -> ``no_nbbo``;
      a side null or <= 0 -> ``one_sided_nbbo``; bid > ask -> ``crossed_nbbo``. ``nbb_r``/``nbo_r``
      report the raw latest row even when it is unusable; ``mid_r`` is null when unusable.
  N4. The NBBO is looked up (and the category computed) for every order row with a receipt time,
      also for scope-``all`` exclusions and for unknown symbols (the quotes may exist).

Exclusions (section 1, "Exclusions")
  E1. Checks run in the table's order (row 1 left to right, then row 2, ...); the first match wins.
  E2. ``duplicate_order_id``: every row whose order_id occurs more than once. Fills of such an id
      cannot be attributed; they only feed the order-level checks of every copy.
  E3. ``unknown_symbol`` also covers a null symbol; ``unknown_venue`` applies only to a non-null
      routed_venue missing from venues (null is ``not_routed``, row 2).
  E4. ``bad_limit_price`` only for order_type ``limit`` (a stop or other type is ``special_handling``
      later, whatever its limit).
  E5. ``bad_fill``: some fill of the order has quantity or price null or <= 0, **or a null
      executed_at** (not named by the spec; a fill without a time cannot be placed).
  E6. ``bad_timestamps``: routed_at < received_at or canceled_at < received_at; also a null
      received_at (not named by the spec).
  E7. ``overfilled``: Σ fill quantity > order quantity + 0.000001 × (number of fills) (extracts.md:
      "0.000001 per fill for rounding").
  E8. ``fill_before_receipt``: some fill with executed_at < received_at (equal is fine).
  E9. ``special_handling``: order_type not in {market, limit} or time_in_force ``fok``; then
      ``not_held`` (is_not_held), ``directed`` (is_directed), ``not_routed`` (routed_venue null).
  E10. ``outside_regular_hours``: New York time of day of received_at not in [09:30:00, 16:00:00);
      weekends/holidays are not checked.
  E11. Scope: row 1 reasons -> ``all``; rows 2-4 -> ``quality``. Orphan fills -> table
      ``executions``, reason ``unknown_order``, scope ``all``.

Order category and buckets (sections 2, 3)
  C1. Category only with a usable NBBO. ``market`` for order_type market; for ``limit`` (non-null limit)
      the first matching row of the table; sells (``sell`` and ``sell_short``) mirror:
      L <= NBB marketable; NBB < L < NBO inside; L = NBO at quote; NBO < L <= NBO + 0.10 near; else
      away. Other order types, a null limit or an unknown side -> no category. A limit <= 0 (already
      ``bad_limit_price``) is still categorised by the rules.
  C2. ``is_beyond_midpoint``: category inside/at/near/away and (buy: L > M_r; sell: L < M_r).
  C3. ``size_bucket`` uses notional = quantity × M_r (exact decimal) and is null without a usable NBBO;
      ``share_bucket`` needs only the quantity. Edges go to the bucket above: 250 -> ``250-1k``,
      100 -> ``100-499``, 499.5 -> ``100-499`` (fractional shares fall by value: < 500).
  C4. ``month`` / ``receipt_date`` are the New York month (``YYYY-MM``) / date of received_at.

Price-improvement table (sections 4, 5)
  P1. Covered orders: reason null (not excluded), not directed, category market or marketable_limit,
      New York receipt date in [period_start, period_end), and routed_venue == ``venue`` when given.
      Every fill of a covered order counts whenever (and wherever) it executed.
  P2. s = +1 for buy, -1 for sell and sell_short. PI: buy NBO_r - P, sells P - NBB_r. ES = 2s(P - M_r).
      QS = NBO_r - NBB_r (0 in a locked market, so eq_ratio is null when every fill was locked).
  P3. M_{t+Δ}: Δ = 1 min / 5 min; cutoff = min(executed_at + Δ, 16:00:00 New York on the fill's New
      York date); the quote is the last **valid** row (both sides non-null and > 0, bid <= ask) of the
      same symbol and the same New York date (the fill's) with quoted_at <= cutoff, i.e. invalid
      updates are skipped rather than making M missing. A fill after 16:00 therefore uses the last
      valid quote at or before 16:00 (which may precede the fill); a fill on another day than the
      receipt uses its own day's quotes. With no such quote, the fill is left out of both Σ q·RS and
      Σ q of that Δ.
  P4. Time to execution = (executed_at - received_at) in whole microseconds / 1000 (exact decimal).
  P5. pct_orders_improved: an order is improved when Σ q·PI over its fills > 0 (equivalent to its
      share-weighted PI > 0); the denominator is covered orders with at least one fill.
  P6. Sums (share counts and USD) are returned as exact ``Decimal``; ``orders`` as int; every ratio is
      a float computed from the exact sums (no rounding), NaN when its denominator is zero.
  P7. Groups: exactly the distinct ``by`` values among covered orders (rows sorted by them); a group
      with covered orders but no fill has zero sums and null ratios; no covered orders -> no rows.

Caching: the quote index and enriched orders are cached per ``tables`` dict object (keyed by its id, with
a strong reference kept); do not mutate a tables dict after using it.
"""

from __future__ import annotations

import bisect
import decimal
import math
import re
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq

NY = ZoneInfo("America/New_York")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SCALE = Decimal("0.000001")
FILL_TOLERANCE = Decimal("0.000001")
NEAR = Decimal("0.10")
OPEN, CLOSE = time(9, 30), time(16, 0)
DELTAS_US = {"1m": 60_000_000, "5m": 300_000_000}

TABLES = ("orders", "executions", "nbbo", "venues", "securities")
SCHEMAS: dict[str, dict[str, str]] = {
    "orders": {"order_id": "str", "received_at": "ts", "symbol": "str", "side": "str",
               "order_type": "str", "limit_price": "dec", "quantity": "dec", "time_in_force": "str",
               "routed_venue": "str", "routed_at": "ts", "canceled_at": "ts", "is_directed": "bool",
               "is_not_held": "bool"},
    "executions": {"execution_id": "str", "order_id": "str", "executed_venue": "str",
                   "executed_at": "ts", "quantity": "dec", "price": "dec", "capacity": "str"},
    "nbbo": {"symbol": "str", "quoted_at": "ts", "bid_price": "dec", "ask_price": "dec",
             "bid_size": "dec", "ask_size": "dec", "seq": "int"},
    "venues": {"venue_id": "str", "name": "str", "venue_type": "str", "is_affiliate": "bool",
               "pays_pfof": "bool", "mic": "str", "rule605_code": "str"},
    "securities": {"symbol": "str", "name": "str", "is_sp500": "bool"},
}
OPTIONAL_COLUMNS = {("nbbo", "seq"), ("venues", "mic"), ("venues", "rule605_code"),
                    ("venues", "name"), ("securities", "name")}

GROUP_COLUMNS = ("venue", "order_category", "size_bucket", "share_bucket", "symbol", "is_sp500",
                 "month", "side")
PI_COLUMNS = ["orders", "order_shares", "executed_shares", "improved_shares", "at_quote_shares",
              "outside_shares", "pct_shares_improved", "pct_shares_at_or_better", "avg_improvement_ps",
              "avg_disimprovement_ps", "net_pi_ps", "pi_usd", "disimprovement_usd", "net_pi_usd",
              "eff_spread_ps", "quoted_spread_ps", "eq_ratio", "realized_spread_1m_ps",
              "realized_spread_5m_ps", "avg_exec_ms", "pct_orders_improved", "executed_usd", "net_pi_bps",
              "eff_spread_bps", "quoted_spread_bps"]
SUM_COLUMNS = ["order_shares", "executed_shares", "improved_shares", "at_quote_shares", "outside_shares",
               "pi_usd", "disimprovement_usd", "net_pi_usd", "executed_usd"]
RATIO_COLUMNS = [c for c in PI_COLUMNS if c not in SUM_COLUMNS and c != "orders"]

SIZE_BUCKETS = [(Decimal(250), "<250"), (Decimal(1000), "250-1k"), (Decimal(5000), "1k-5k"),
                (Decimal(10000), "5k-10k"), (Decimal(20000), "10k-20k"), (Decimal(50000), "20k-50k"),
                (Decimal(200000), "50k-200k")]
SIZE_TOP = ">=200k"
SHARE_BUCKETS = [(Decimal(100), "<100"), (Decimal(500), "100-499"), (Decimal(2000), "500-1999"),
                 (Decimal(5000), "2000-4999"), (Decimal(10000), "5000-9999")]
SHARE_TOP = ">=10000"

REASONS_ALL = ("duplicate_order_id", "unknown_symbol", "unknown_venue", "bad_quantity", "bad_limit_price",
               "bad_fill", "bad_timestamps", "overfilled", "fill_before_receipt")
TZ_SUFFIX = re.compile(r"(Z|z|[+-]\d{2}(:?\d{2})?)$")


# ---------------------------------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------------------------------
def _to_dec(v) -> Decimal | None:
    if v is None:
        return None
    if isinstance(v, bool):
        raise TypeError(f"boolean {v!r} where a number was expected")
    if isinstance(v, Decimal):
        d = v
    elif isinstance(v, int):
        d = Decimal(v)
    elif isinstance(v, float):
        if math.isnan(v):
            return None
        d = Decimal(repr(v))
    elif isinstance(v, str):
        s = v.strip()
        if s == "":
            return None
        d = Decimal(s)
    else:
        raise TypeError(f"not a number: {v!r}")
    if not d.is_finite():
        raise ValueError(f"not a finite number: {v!r}")
    with decimal.localcontext() as ctx:
        ctx.prec = 80
        return d.quantize(SCALE, rounding=ROUND_HALF_UP)


def _to_bool(v) -> bool:
    if v is None:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, str):
        s = v.strip().lower()
        if s in ("", "true", "false"):
            return s == "true"
    raise ValueError(f"not a boolean: {v!r}")


def _to_str(v) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return v if isinstance(v, str) else str(v)


def _to_int(v) -> int | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, str):
        s = v.strip()
        return None if s == "" else int(s)
    return int(v)


def _parse_iso(values: list, where: str) -> list[int | None]:
    """ISO-8601 strings with a zone -> UTC epoch microseconds (floored)."""
    for v in values:
        if v is not None and not TZ_SUFFIX.search(v.strip()):
            raise ValueError(f"{where}: timestamp without a time zone: {v!r}")
    present = [v.strip() for v in values if v is not None]
    parsed = pd.to_datetime(pd.Series(present, dtype=object), utc=True, format="ISO8601")
    ints = _series_to_us(parsed)
    it = iter(ints)
    return [None if v is None else next(it) for v in values]


def _series_to_us(s: pd.Series) -> list[int | None]:
    """A tz-aware datetime Series -> epoch microseconds (floored), None for NaT."""
    if len(s) == 0:
        return []
    unit = s.dt.unit
    naive = s.dt.tz_convert("UTC").dt.tz_localize(None)
    raw = naive.to_numpy(dtype=f"datetime64[{unit}]").astype("int64").tolist()
    mask = s.isna().to_numpy().tolist()
    if unit == "ns":
        return [None if m else r // 1000 for r, m in zip(raw, mask)]
    mult = {"s": 1_000_000, "ms": 1_000, "us": 1}[unit]
    return [None if m else r * mult for r, m in zip(raw, mask)]


def _arrow_ts_to_us(col: pa.ChunkedArray, where: str) -> list[int | None]:
    t = col.type
    if pa.types.is_timestamp(t):
        if t.tz is None:
            raise ValueError(f"{where}: naive timestamp column (no time zone)")
        ints = pc.cast(col, pa.int64()).to_pylist()
        mult = {"s": 1_000_000, "ms": 1_000, "us": 1, "ns": None}[t.unit]
        return [None if v is None else (v // 1000 if mult is None else v * mult) for v in ints]
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_dictionary(t):
        return _parse_iso([_to_str(v) for v in col.to_pylist()], where)
    raise ValueError(f"{where}: unsupported timestamp type {t}")


def _read_arrow(path: Path) -> pa.Table:
    if path.is_dir():
        return pads.dataset(path, format="parquet", partitioning="hive").to_table()
    return pq.read_table(path)


def _load_table(data_dir: Path, table: str) -> pd.DataFrame:
    schema = SCHEMAS[table]
    pq_file, csv_file, folder = data_dir / f"{table}.parquet", data_dir / f"{table}.csv", data_dir / table
    columns: dict[str, list] = {}
    if pq_file.exists() or folder.is_dir():
        at = _read_arrow(pq_file if pq_file.exists() else folder)
        names = set(at.column_names)
        for name, kind in schema.items():
            if name not in names:
                if (table, name) in OPTIONAL_COLUMNS:
                    continue
                raise ValueError(f"{table}: missing column {name}")
            where = f"{table}.{name}"
            if kind == "ts":
                columns[name] = _arrow_ts_to_us(at.column(name), where)
            else:
                conv = {"str": _to_str, "dec": _to_dec, "bool": _to_bool, "int": _to_int}[kind]
                columns[name] = [conv(v) for v in at.column(name).to_pylist()]
    elif csv_file.exists():
        raw = pd.read_csv(csv_file, dtype=str, keep_default_na=False)
        for name, kind in schema.items():
            if name not in raw.columns:
                if (table, name) in OPTIONAL_COLUMNS:
                    continue
                raise ValueError(f"{table}: missing column {name}")
            values = [None if v == "" else v for v in raw[name].tolist()]
            where = f"{table}.{name}"
            if kind == "ts":
                columns[name] = _parse_iso(values, where)
            else:
                conv = {"str": _to_str, "dec": _to_dec, "bool": _to_bool, "int": _to_int}[kind]
                columns[name] = [conv(v) for v in values]
    else:
        raise FileNotFoundError(f"{data_dir}: no {table}.parquet, {table}.csv or {table}/")
    frame = {}
    for name, values in columns.items():
        kind = schema[name]
        if kind == "ts":
            frame[name] = pd.Series(pd.to_datetime(pd.Series(values, dtype="Int64"), unit="us", utc=True),
                                    name=name).dt.as_unit("us")
        elif kind == "bool":
            frame[name] = pd.Series(values, dtype=bool)
        elif kind == "int":
            frame[name] = pd.Series(values, dtype="Int64")
        else:
            frame[name] = pd.Series(values, dtype=object)
    n = len(next(iter(columns.values()))) if columns else 0
    return pd.DataFrame(frame, index=pd.RangeIndex(n))


def load_extracts(data_dir) -> dict[str, pd.DataFrame]:
    """Read the five equity tables of ``data_dir`` (Parquet file, Parquet folder or CSV)."""
    data_dir = Path(data_dir)
    return {t: _load_table(data_dir, t) for t in TABLES}


# ---------------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------------
def _col(df: pd.DataFrame, name: str) -> list:
    """A column as a Python list, missing values as None."""
    out = []
    for v in df[name].tolist():
        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
            out.append(None)
        else:
            out.append(v)
    return out


def _ts_col(df: pd.DataFrame, name: str) -> list[int | None]:
    return _series_to_us(df[name])


def _ny(us: int) -> datetime:
    return (EPOCH + timedelta(microseconds=us)).astimezone(NY)


_CLOSE_CACHE: dict[date, int] = {}


def _close_us(d: date) -> int:
    """16:00:00 New York on date d, as UTC epoch microseconds."""
    if d not in _CLOSE_CACHE:
        _CLOSE_CACHE[d] = (datetime.combine(d, CLOSE, tzinfo=NY) - EPOCH) // timedelta(microseconds=1)
    return _CLOSE_CACHE[d]


def _bucket(x: Decimal, edges, top: str) -> str:
    for edge, label in edges:
        if x < edge:
            return label
    return top


def _category(order_type, side, limit, nbb, nbo) -> str | None:
    if order_type == "market":
        return "market"
    if order_type != "limit" or limit is None:
        return None
    if side == "buy":
        if limit >= nbo:
            return "marketable_limit"
        if nbb < limit < nbo:
            return "inside_quote_limit"
        if limit == nbb:
            return "at_quote_limit"
        if nbb - NEAR <= limit < nbb:
            return "near_quote_limit"
        return "away_limit"
    if side in ("sell", "sell_short"):
        if limit <= nbb:
            return "marketable_limit"
        if nbb < limit < nbo:
            return "inside_quote_limit"
        if limit == nbo:
            return "at_quote_limit"
        if nbo < limit <= nbo + NEAR:
            return "near_quote_limit"
        return "away_limit"
    return None


class _QuoteIndex:
    """Quotes per (symbol, New York date), sorted by (quoted_at, seq, file position)."""

    def __init__(self, nbbo: pd.DataFrame):
        sym = _col(nbbo, "symbol")
        ts = _ts_col(nbbo, "quoted_at")
        bid = _col(nbbo, "bid_price")
        ask = _col(nbbo, "ask_price")
        seq = _col(nbbo, "seq") if "seq" in nbbo.columns else [None] * len(nbbo)
        rows = [i for i in range(len(nbbo)) if sym[i] is not None and ts[i] is not None]
        # NY date of each quote (cache per UTC hour: the offset never changes within an hour)
        hour_cache: dict[int, date] = {}
        qdate: dict[int, date] = {}
        for i in rows:
            h = ts[i] // 3_600_000_000
            if h not in hour_cache:
                hour_cache[h] = _ny(h * 3_600_000_000).date()
            qdate[i] = hour_cache[h]
        rows.sort(key=lambda i: (sym[i], qdate[i], ts[i], seq[i] is not None, seq[i] or 0, i))
        self.all: dict[tuple[str, date], tuple[list[int], list[int]]] = {}
        self.valid: dict[tuple[str, date], tuple[list[int], list[Decimal]]] = {}
        self.bid, self.ask = bid, ask
        for i in rows:
            key = (sym[i], qdate[i])
            e = self.all.setdefault(key, ([], []))
            e[0].append(ts[i])
            e[1].append(i)
            b, a = bid[i], ask[i]
            if b is not None and a is not None and b > 0 and a > 0 and b <= a:
                v = self.valid.setdefault(key, ([], []))
                v[0].append(ts[i])
                v[1].append((b + a) / 2)

    def at(self, symbol: str, d: date, t_us: int) -> int | None:
        """Row number of the latest quote with quoted_at <= t on New York date d, whatever it says."""
        e = self.all.get((symbol, d))
        if e is None:
            return None
        k = bisect.bisect_right(e[0], t_us) - 1
        return e[1][k] if k >= 0 else None

    def valid_mid(self, symbol: str, d: date, t_us: int) -> Decimal | None:
        """Midpoint of the latest valid quote with quoted_at <= t on New York date d."""
        e = self.valid.get((symbol, d))
        if e is None:
            return None
        k = bisect.bisect_right(e[0], t_us) - 1
        return e[1][k] if k >= 0 else None


class _Context:
    def __init__(self, tables: dict[str, pd.DataFrame]):
        self.tables = tables
        self.quotes = _QuoteIndex(tables["nbbo"])
        ex = tables["executions"]
        self.fills = {
            "execution_id": _col(ex, "execution_id"), "order_id": _col(ex, "order_id"),
            "executed_at": _ts_col(ex, "executed_at"), "quantity": _col(ex, "quantity"),
            "price": _col(ex, "price"),
        }
        self.fills_by_order: dict[str, list[int]] = defaultdict(list)
        for j, oid in enumerate(self.fills["order_id"]):
            self.fills_by_order[oid].append(j)
        self.records = _enrich(tables, self)


_CACHE: dict[int, tuple[dict, _Context]] = {}


def _context(tables: dict[str, pd.DataFrame]) -> _Context:
    hit = _CACHE.get(id(tables))
    if hit is not None and hit[0] is tables:
        return hit[1]
    ctx = _Context(tables)
    _CACHE[id(tables)] = (tables, ctx)
    return ctx


# ---------------------------------------------------------------------------------------------------
# enrichment: NBBO at receipt, exclusions, category, buckets
# ---------------------------------------------------------------------------------------------------
def _enrich(tables: dict[str, pd.DataFrame], ctx: _Context) -> list[dict]:
    o = tables["orders"]
    n = len(o)
    oid = _col(o, "order_id")
    recv = _ts_col(o, "received_at")
    routed_at = _ts_col(o, "routed_at")
    canceled_at = _ts_col(o, "canceled_at")
    sym, side, otype = _col(o, "symbol"), _col(o, "side"), _col(o, "order_type")
    limit, qty, tif = _col(o, "limit_price"), _col(o, "quantity"), _col(o, "time_in_force")
    venue = _col(o, "routed_venue")
    directed, not_held = _col(o, "is_directed"), _col(o, "is_not_held")

    sec = tables["securities"]
    sp500 = dict(zip(_col(sec, "symbol"), _col(sec, "is_sp500")))
    venues = set(_col(tables["venues"], "venue_id"))
    counts = Counter(oid)
    f = ctx.fills
    q_bid, q_ask = ctx.quotes.bid, ctx.quotes.ask

    records = []
    with decimal.localcontext() as dctx:
        dctx.prec = 80
        for i in range(n):
            r = recv[i]
            local = _ny(r) if r is not None else None
            rdate = local.date() if local is not None else None

            # fill facts for the order-level checks
            fl = ctx.fills_by_order.get(oid[i], [])
            any_bad_fill = any(f["quantity"][j] is None or f["quantity"][j] <= 0 or f["price"][j] is None
                               or f["price"][j] <= 0 or f["executed_at"][j] is None for j in fl)
            sum_q = sum((f["quantity"][j] for j in fl if f["quantity"][j] is not None), Decimal(0))
            before = r is not None and any(f["executed_at"][j] is not None and f["executed_at"][j] < r
                                           for j in fl)

            # NBBO at receipt
            qrow = ctx.quotes.at(sym[i], rdate, r) if (sym[i] is not None and r is not None) else None
            nbb = q_bid[qrow] if qrow is not None else None
            nbo = q_ask[qrow] if qrow is not None else None
            if qrow is None:
                nbbo_problem = "no_nbbo"
            elif nbb is None or nbo is None or nbb <= 0 or nbo <= 0:
                nbbo_problem = "one_sided_nbbo"
            elif nbb > nbo:
                nbbo_problem = "crossed_nbbo"
            else:
                nbbo_problem = None
            usable = nbbo_problem is None
            mid = (nbb + nbo) / 2 if usable else None

            # exclusions, in precedence order
            checks = [
                ("duplicate_order_id", counts[oid[i]] > 1),
                ("unknown_symbol", sym[i] is None or sym[i] not in sp500),
                ("unknown_venue", venue[i] is not None and venue[i] not in venues),
                ("bad_quantity", qty[i] is None or qty[i] <= 0),
                ("bad_limit_price", otype[i] == "limit" and (limit[i] is None or limit[i] <= 0)),
                ("bad_fill", any_bad_fill),
                ("bad_timestamps", r is None
                 or (routed_at[i] is not None and routed_at[i] < r)
                 or (canceled_at[i] is not None and canceled_at[i] < r)),
                ("overfilled", qty[i] is not None and sum_q > qty[i] + FILL_TOLERANCE * len(fl)),
                ("fill_before_receipt", before),
                ("special_handling", otype[i] not in ("market", "limit") or tif[i] == "fok"),
                ("not_held", bool(not_held[i])),
                ("directed", bool(directed[i])),
                ("not_routed", venue[i] is None),
                ("outside_regular_hours", local is not None and not (OPEN <= local.time() < CLOSE)),
                ("no_nbbo", nbbo_problem == "no_nbbo"),
                ("one_sided_nbbo", nbbo_problem == "one_sided_nbbo"),
                ("crossed_nbbo", nbbo_problem == "crossed_nbbo"),
            ]
            reason = next((name for name, hit in checks if hit), None)
            scope = None if reason is None else ("all" if reason in REASONS_ALL else "quality")

            category = _category(otype[i], side[i], limit[i], nbb, nbo) if usable else None
            beyond = None
            if category in ("inside_quote_limit", "at_quote_limit", "near_quote_limit", "away_limit"):
                beyond = bool(limit[i] > mid) if side[i] == "buy" else bool(limit[i] < mid)
            good_qty = qty[i] is not None and qty[i] > 0
            records.append({
                "order_id": oid[i], "venue": venue[i], "symbol": sym[i], "side": side[i],
                "order_type": otype[i], "is_directed": bool(directed[i]),
                "is_sp500": sp500.get(sym[i]) if sym[i] is not None else None,
                "received_at": r, "month": local.strftime("%Y-%m") if local is not None else None,
                "receipt_date": rdate, "quantity": qty[i], "limit_price": limit[i],
                "nbb_r": nbb, "nbo_r": nbo, "mid_r": mid, "is_locked": bool(usable and nbb == nbo),
                "order_category": category, "is_beyond_midpoint": beyond,
                "size_bucket": _bucket(qty[i] * mid, SIZE_BUCKETS, SIZE_TOP) if usable and good_qty else None,
                "share_bucket": _bucket(qty[i], SHARE_BUCKETS, SHARE_TOP) if qty[i] is not None else None,
                "reason": reason, "scope": scope,
            })
    return records


ENRICHED_COLUMNS = ["order_id", "venue", "symbol", "side", "order_type", "is_directed", "is_sp500",
                    "received_at", "month", "receipt_date", "quantity", "limit_price", "nbb_r", "nbo_r",
                    "mid_r", "is_locked", "order_category", "is_beyond_midpoint", "size_bucket",
                    "share_bucket", "reason", "scope"]


def enrich_orders(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per order row: NBBO at receipt, category, buckets, exclusion reason and scope."""
    recs = _context(tables).records
    df = pd.DataFrame({c: pd.Series([r[c] for r in recs], dtype=object) for c in ENRICHED_COLUMNS})
    df["received_at"] = pd.to_datetime(pd.Series([r["received_at"] for r in recs], dtype="Int64"),
                                       unit="us", utc=True).dt.as_unit("us")
    return df


def exclusions(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Excluded order rows (table ``orders``) and orphan fills (table ``executions``)."""
    ctx = _context(tables)
    rows = [{"table": "orders", "order_id": r["order_id"], "execution_id": None, "reason": r["reason"],
             "scope": r["scope"]} for r in ctx.records if r["reason"] is not None]
    known = {r["order_id"] for r in ctx.records}
    for j, oid in enumerate(ctx.fills["order_id"]):
        if oid not in known:
            rows.append({"table": "executions", "order_id": oid,
                         "execution_id": ctx.fills["execution_id"][j], "reason": "unknown_order",
                         "scope": "all"})
    return pd.DataFrame(rows, columns=["table", "order_id", "execution_id", "reason", "scope"])


# ---------------------------------------------------------------------------------------------------
# price-improvement table
# ---------------------------------------------------------------------------------------------------
def parse_period(period) -> tuple[date, date]:
    """``2026Q3`` / ``2026-07`` / (start, end) ISO dates -> half-open (start, end) New York dates."""
    if isinstance(period, (tuple, list)):
        a, b = period
        return (a if isinstance(a, date) else date.fromisoformat(a),
                b if isinstance(b, date) else date.fromisoformat(b))
    m = re.fullmatch(r"(\d{4})Q([1-4])", period)
    if m:
        y, q = int(m.group(1)), int(m.group(2))
        start = date(y, 3 * q - 2, 1)
        end = date(y + 1, 1, 1) if q == 4 else date(y, 3 * q + 1, 1)
        return start, end
    m = re.fullmatch(r"(\d{4})-(\d{2})", period)
    if m:
        y, mo = int(m.group(1)), int(m.group(2))
        return date(y, mo, 1), (date(y + 1, 1, 1) if mo == 12 else date(y, mo + 1, 1))
    raise ValueError(f"bad period {period!r}")


class _Acc:
    def __init__(self):
        z = Decimal(0)
        self.orders = 0
        self.order_shares = z
        self.executed = z
        self.improved = z
        self.at_quote = z
        self.outside = z
        self.q_pi_improved = z       # Σ q·PI over PI > 0
        self.q_negpi_outside = z     # Σ q·(-PI) over PI < 0
        self.q_pi = z
        self.q_es = z
        self.q_qs = z
        self.rs = {k: [z, z] for k in DELTAS_US}  # [Σ q·RS, Σ q] over fills with M_{t+Δ}
        self.q_ms = z
        self.q_p = z                 # Σ q·P
        self.q_mid = z               # Σ q·M_r (the bps figures' denominator)
        self.orders_filled = 0
        self.orders_improved = 0


def _ratio(num: Decimal, den: Decimal) -> float:
    if den == 0:
        return math.nan
    return float(num / den)


def _covered(ctx: _Context, period_start: date, period_end: date, venue: str | None):
    """Covered orders (interpretation P1), in file order."""
    for o in ctx.records:
        if o["reason"] is not None or o["is_directed"]:
            continue
        if o["order_category"] not in ("market", "marketable_limit"):
            continue
        if not (period_start <= o["receipt_date"] < period_end):
            continue
        if venue is not None and o["venue"] != venue:
            continue
        yield o


ORDER_PI_COLUMNS = ["order_id", "venue", "symbol", "is_sp500", "side", "order_category", "size_bucket",
                    "share_bucket", "month", "quantity", "nbb_r", "nbo_r", "is_locked", "fill_count",
                    "executed_shares", "net_pi_usd", "pi_usd", "disimprovement_usd"]


def order_pi(tables: dict[str, pd.DataFrame], period_start: date, period_end: date,
             venue: str | None = None) -> pd.DataFrame:
    """One row per covered order: NBBO at receipt and its exact per-order sums (drill-down check)."""
    ctx = _context(tables)
    f = ctx.fills
    rows = []
    with decimal.localcontext() as dctx:
        dctx.prec = 80
        for o in _covered(ctx, period_start, period_end, venue):
            row = {c: o[c] for c in ORDER_PI_COLUMNS if c in o}
            z = Decimal(0)
            ex, net, pos, neg = z, z, z, z
            fills = ctx.fills_by_order.get(o["order_id"], [])
            for j in fills:
                p, q = f["price"][j], f["quantity"][j]
                pi = (o["nbo_r"] - p) if o["side"] == "buy" else (p - o["nbb_r"])
                ex += q
                net += q * pi
                pos += q * max(pi, z)
                neg += q * max(-pi, z)
            row.update({"fill_count": len(fills), "executed_shares": ex, "net_pi_usd": net,
                        "pi_usd": pos, "disimprovement_usd": neg})
            rows.append(row)
    return pd.DataFrame(rows, columns=ORDER_PI_COLUMNS)


def price_improvement(tables: dict[str, pd.DataFrame], period_start: date, period_end: date,
                      by: list[str], venue: str | None = None) -> pd.DataFrame:
    """The section 5 table over covered orders received in [period_start, period_end) (New York)."""
    by = [by] if isinstance(by, str) else list(by)
    for c in by:
        if c not in GROUP_COLUMNS:
            raise ValueError(f"cannot group by {c!r}")
    ctx = _context(tables)
    f = ctx.fills
    quotes = ctx.quotes
    groups: dict[tuple, _Acc] = {}
    with decimal.localcontext() as dctx:
        dctx.prec = 80
        for o in _covered(ctx, period_start, period_end, venue):
            acc = groups.setdefault(tuple(o[c] for c in by), _Acc())
            acc.orders += 1
            acc.order_shares += o["quantity"]
            s = 1 if o["side"] == "buy" else -1
            nbb, nbo, mid = o["nbb_r"], o["nbo_r"], o["mid_r"]
            qs = nbo - nbb
            order_q = Decimal(0)
            order_q_pi = Decimal(0)
            for j in ctx.fills_by_order.get(o["order_id"], []):
                p, q, t = f["price"][j], f["quantity"][j], f["executed_at"][j]
                pi = (nbo - p) if s == 1 else (p - nbb)
                acc.executed += q
                if pi > 0:
                    acc.improved += q
                    acc.q_pi_improved += q * pi
                elif pi == 0:
                    acc.at_quote += q
                else:
                    acc.outside += q
                    acc.q_negpi_outside += q * (-pi)
                acc.q_pi += q * pi
                acc.q_es += q * 2 * s * (p - mid)
                acc.q_qs += q * qs
                acc.q_p += q * p
                acc.q_mid += q * mid
                acc.q_ms += q * Decimal(t - o["received_at"]) / 1000
                fdate = _ny(t).date()
                close = _close_us(fdate)
                for k, delta in DELTAS_US.items():
                    m = quotes.valid_mid(o["symbol"], fdate, min(t + delta, close))
                    if m is not None:
                        acc.rs[k][0] += q * 2 * s * (p - m)
                        acc.rs[k][1] += q
                order_q += q
                order_q_pi += q * pi
            if order_q > 0:
                acc.orders_filled += 1
                if order_q_pi > 0:
                    acc.orders_improved += 1

        rows = []
        for key in sorted(groups, key=lambda k: tuple((v is None, v) for v in k)):
            a = groups[key]
            ex = a.executed
            row = dict(zip(by, key))
            row.update({
                "orders": a.orders,
                "order_shares": a.order_shares,
                "executed_shares": ex,
                "improved_shares": a.improved,
                "at_quote_shares": a.at_quote,
                "outside_shares": a.outside,
                "pct_shares_improved": _ratio(a.improved, ex),
                "pct_shares_at_or_better": _ratio(a.improved + a.at_quote, ex),
                "avg_improvement_ps": _ratio(a.q_pi_improved, a.improved),
                "avg_disimprovement_ps": _ratio(a.q_negpi_outside, a.outside),
                "net_pi_ps": _ratio(a.q_pi, ex),
                "pi_usd": a.q_pi_improved,
                "disimprovement_usd": a.q_negpi_outside,
                "net_pi_usd": a.q_pi,
                "eff_spread_ps": _ratio(a.q_es, ex),
                "quoted_spread_ps": _ratio(a.q_qs, ex),
                "eq_ratio": _ratio(a.q_es, a.q_qs),
                "realized_spread_1m_ps": _ratio(*a.rs["1m"]),
                "realized_spread_5m_ps": _ratio(*a.rs["5m"]),
                "avg_exec_ms": _ratio(a.q_ms, ex),
                "pct_orders_improved": _ratio(Decimal(a.orders_improved), Decimal(a.orders_filled)),
                "executed_usd": a.q_p,
                "net_pi_bps": _ratio(a.q_pi * 10000, a.q_mid),
                "eff_spread_bps": _ratio(a.q_es * 10000, a.q_mid),
                "quoted_spread_bps": _ratio(a.q_qs * 10000, a.q_mid),
            })
            rows.append(row)
    df = pd.DataFrame(rows, columns=by + PI_COLUMNS)
    df["orders"] = df["orders"].astype("int64")
    for c in SUM_COLUMNS:
        df[c] = df[c].astype(object)
    for c in RATIO_COLUMNS:
        df[c] = df[c].astype("float64")
    return df
