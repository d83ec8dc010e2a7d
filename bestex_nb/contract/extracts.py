"""The input contract (shared/spec/extracts.md) in one place: tables, columns, types and rules.

Everything the loader checks is declared here, so the contract the analyst reads in
``data/README.md`` and the one the code enforces cannot drift apart.

Types
-----
``string``    identifiers and text; VARCHAR only (identifiers are strings in the contract).
``timestamp`` time-zone aware; CSV: ISO-8601 with ``Z`` or an offset; Parquet: TIMESTAMP WITH TIME ZONE.
              Stored as UTC ``TIMESTAMPTZ``. A naive timestamp is an error, never a guess.
``decimal``   any integer, floating or decimal type (CSV: a decimal literal), read as DECIMAL(18,6).
``integer``   any integer type (CSV: an integer literal), read as BIGINT.
``boolean``   BOOLEAN or the strings ``true``/``false``. A null in a flag that decides what is reviewed
              (``orders.is_directed``, ``orders.is_not_held``: not nullable) is a schema error, never
              false; a null in a nullable flag (venues, securities) reads as false.
``date``      DATE or ``YYYY-MM-DD``.
``enum``      a string restricted to ``values``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DECIMAL_SQL = "DECIMAL(18,6)"
#: Rounding tolerance per fill when comparing filled quantity with the order quantity (shares).
FILL_TOLERANCE = "0.000001"


@dataclass(frozen=True)
class Column:
    """One contract column.

    ``nullable`` False means a null is a schema error. Columns whose nulls the spec turns into an
    exclusion (an order's quantity, a fill's price, ...) are nullable here and handled by the build.
    """

    name: str
    type: str
    nullable: bool = False
    values: tuple[str, ...] = ()
    optional: bool = False  # the column itself may be absent (nbbo.seq)
    unique: bool = False  # duplicates are a schema error (orders.order_id is an exclusion instead)


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    required: bool = True
    part: str = "equity"
    doc: str = ""
    extra: dict = field(default_factory=dict)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


SIDES = ("buy", "sell", "sell_short")
TIME_IN_FORCE = ("day", "ioc", "fok", "gtc")
CAPACITIES = ("agency", "principal", "riskless_principal")
VENUE_TYPES = ("wholesaler", "exchange", "ats", "internal", "other")
SECURITY_GROUPS = ("sp500", "other")
ORDER_GROUPS = ("market", "marketable_limit", "non_marketable_limit", "other")

C = Column

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "orders",
            (
                C("order_id", "string"),
                C("received_at", "timestamp"),
                C("symbol", "string", nullable=True),  # null -> unknown_symbol
                C("side", "enum", values=SIDES),
                C("order_type", "string"),  # other than market/limit -> special_handling
                C("limit_price", "decimal", nullable=True),  # null on a limit -> bad_limit_price
                C("quantity", "decimal", nullable=True),  # null or <= 0 -> bad_quantity
                C("time_in_force", "enum", values=TIME_IN_FORCE),
                C("routed_venue", "string", nullable=True),
                C("routed_at", "timestamp", nullable=True),
                C("canceled_at", "timestamp", nullable=True),
                # a null would read as false: a directed or not-held order analysed as an ordinary one
                C("is_directed", "boolean"),
                C("is_not_held", "boolean"),
            ),
            doc="one row per customer order received by the member",
        ),
        Table(
            "executions",
            (
                C("execution_id", "string", unique=True),
                C("order_id", "string"),
                C("executed_venue", "string", nullable=True),  # unknown -> build warning, fill kept
                C("executed_at", "timestamp"),
                C("quantity", "decimal", nullable=True),  # null or <= 0 -> bad_fill
                C("price", "decimal", nullable=True),  # null or <= 0 -> bad_fill
                C("capacity", "enum", values=CAPACITIES),
            ),
            doc="one row per fill",
        ),
        Table(
            "nbbo",
            (
                C("symbol", "string"),
                C("quoted_at", "timestamp"),
                C("bid_price", "decimal", nullable=True),  # null/0 -> one-sided
                C("ask_price", "decimal", nullable=True),
                C("bid_size", "decimal", nullable=True),
                C("ask_size", "decimal", nullable=True),
                C("seq", "integer", nullable=True, optional=True),
            ),
            doc="consolidated NBBO updates",
        ),
        Table(
            "venues",
            (
                C("venue_id", "string", unique=True),
                C("name", "string", nullable=True),
                C("venue_type", "enum", values=VENUE_TYPES),
                C("is_affiliate", "boolean", nullable=True),
                C("pays_pfof", "boolean", nullable=True),
                C("mic", "string", nullable=True),
                C("rule605_code", "string", nullable=True),
            ),
        ),
        Table(
            "securities",
            (
                C("symbol", "string", unique=True),
                C("name", "string", nullable=True),
                C("is_sp500", "boolean", nullable=True),
            ),
        ),
        Table(
            "pfof_rates",
            (
                C("venue_id", "string"),
                C("effective_from", "date"),
                C("effective_to", "date", nullable=True),
                C("security_group", "enum", values=SECURITY_GROUPS),
                C("order_group", "enum", values=ORDER_GROUPS),
                C("rate_cph", "decimal"),
            ),
            required=False,
        ),
        Table(
            "pfof_payments",
            (
                C("venue_id", "string"),
                C("month", "string"),
                C("amount_usd", "decimal"),
                C("security_group", "enum", values=SECURITY_GROUPS, nullable=True, optional=True),
                C("order_group", "enum", values=ORDER_GROUPS, nullable=True, optional=True),
            ),
            required=False,
        ),
    )
}

EQUITY_TABLES = ("orders", "executions", "nbbo", "venues", "securities", "pfof_rates", "pfof_payments")
