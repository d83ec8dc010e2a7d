"""Static description of the synthetic firm: calendar, securities, venues and PFOF rate card.

Units used throughout :mod:`bestex_nb.sample`
---------------------------------------------
- time: ``int64`` microseconds since the Unix epoch, UTC;
- prices: ``int64`` "pips" of $0.0001 (so every price has at most 4 decimals);
- quantities: ``int64`` micro-shares (1e-6 share), so fractional orders stay exact;
- PFOF rates: ``int64`` hundredths of a cent per hundred shares (1200 = 12 cph).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

US = 1_000_000  # microseconds per second
PIP = 10_000  # pips per dollar
MICRO = 1_000_000  # micro-shares per share
CENT = 100  # pips per cent

QUARTER_START = dt.date(2026, 7, 1)
QUARTER_END = dt.date(2026, 9, 30)
#: NYSE holidays inside 2026Q3 (Independence Day observed, Labor Day).
HOLIDAYS = (dt.date(2026, 7, 3), dt.date(2026, 9, 7))
NY = "America/New_York"

#: Seconds after New York midnight.
PRE_OPEN_S = 8 * 3600  # first quotes and pre-market orders
OPEN_S = 9 * 3600 + 1800
CLOSE_S = 16 * 3600
LATE_CLOSE_S = 18 * 3600  # last after-hours order


@dataclass(frozen=True)
class Calendar:
    """Trading days of the quarter.

    Attributes
    ----------
    dates : list of datetime.date
        NYSE trading days, ascending.
    midnight_us : numpy.ndarray
        int64, UTC microseconds of 00:00 New York on each trading day.
    month : numpy.ndarray
        ``YYYY-MM`` of each trading day (New York).
    month_num : numpy.ndarray
        Calendar month number (7, 8, 9) of each trading day.
    """

    dates: list
    midnight_us: np.ndarray
    month: np.ndarray
    month_num: np.ndarray

    @property
    def n(self) -> int:
        return len(self.dates)


def trading_calendar() -> Calendar:
    """Return the NYSE trading days of 2026Q3 (weekdays less July 3 and September 7)."""
    days = pd.bdate_range(QUARTER_START, QUARTER_END)
    days = days[~days.isin(pd.to_datetime(list(HOLIDAYS)))]
    midnight = days.tz_localize(NY).tz_convert("UTC")
    midnight_us = midnight.as_unit("us").asi8.astype(np.int64)
    month = np.array([d.strftime("%Y-%m") for d in days])
    return Calendar([d.date() for d in days], midnight_us, month, days.month.to_numpy(np.int64))


@dataclass(frozen=True)
class Security:
    """One symbol and the parameters of its synthetic price and order process.

    ``spread`` is the typical quoted spread in ticks during regular hours (the extra ticks are
    geometric), ``vol`` the daily volatility of the log price, ``quote_w`` and ``order_w`` the relative
    weights of quote updates and customer orders, ``band`` the reflecting range of the price (USD) and
    ``notional`` the median dollar amount of a customer order. Retail flow in low-priced names is a small
    slice of a broker's dollar volume: fewer orders and smaller tickets, so that they do not dominate
    the share-weighted figures (see data/sample/README.md, "Share mix").
    """

    symbol: str
    name: str
    is_sp500: bool
    price: float
    spread: int
    vol: float
    quote_w: float
    order_w: float
    band: tuple[float, float] | None = None
    notional: float = 1500.0

    @property
    def tick(self) -> int:
        """Quote and order tick in pips: $0.01, or $0.0001 for a sub-dollar stock."""
        return 1 if self.price < 1.0 else CENT


S = Security
SECURITIES: tuple[Security, ...] = (
    S("AAPL", "Apple Inc.", True, 220.0, 1, 0.014, 2.2, 9.0),
    S("MSFT", "Microsoft Corporation", True, 430.0, 3, 0.013, 1.8, 5.0),
    S("AMZN", "Amazon.com, Inc.", True, 185.0, 1, 0.018, 1.9, 6.0),
    S("NVDA", "NVIDIA Corporation", True, 128.0, 1, 0.028, 2.6, 12.0),
    S("GOOGL", "Alphabet Inc. Class A", True, 172.0, 1, 0.016, 1.6, 4.0),
    S("META", "Meta Platforms, Inc.", True, 515.0, 4, 0.020, 1.6, 4.0),
    S("JPM", "JPMorgan Chase & Co.", True, 212.0, 2, 0.012, 1.1, 2.0),
    S("XOM", "Exxon Mobil Corporation", True, 116.0, 1, 0.013, 1.0, 2.0),
    S("KO", "The Coca-Cola Company", True, 63.0, 1, 0.009, 0.8, 2.0),
    S("PFE", "Pfizer Inc.", True, 28.5, 1, 0.014, 0.8, 3.0),
    S("T", "AT&T Inc.", True, 22.4, 1, 0.011, 0.7, 3.0),
    S("F", "Ford Motor Company", True, 11.2, 1, 0.020, 0.9, 5.0),
    S("BAC", "Bank of America Corporation", True, 40.5, 1, 0.014, 1.0, 3.0),
    S("INTC", "Intel Corporation", True, 22.0, 1, 0.025, 1.0, 4.0),
    S("WMT", "Walmart Inc.", True, 70.0, 1, 0.010, 0.9, 2.0),
    S("DIS", "The Walt Disney Company", True, 96.0, 1, 0.013, 0.9, 2.0),
    # Non-S&P 500 names are fictional small caps.
    S("HLXR", "Helix Robotics Inc. (fictional)", False, 38.6, 4, 0.032, 0.6, 2.0),
    S("BLZN", "Blazon Media Group (fictional)", False, 54.2, 6, 0.030, 0.5, 1.0),
    S("CDRB", "Cedar Bay Bancorp (fictional)", False, 24.1, 3, 0.018, 0.4, 1.0),
    S("MRLN", "Marlin Outdoor Brands (fictional)", False, 15.3, 2, 0.030, 0.5, 1.5),
    # ORCQ and PLSM stay $5 stocks (and the three below stay under $5, ZPHR under $1), so each name keeps
    # its price class over the quarter and the share mix by price band does not hinge on a random walk.
    S("ORCQ", "Orca Quantum Corp. (fictional)", False, 9.45, 1, 0.045, 0.8, 3.0, (5.5, 28.35)),
    S("PLSM", "Plasma Energy Systems (fictional)", False, 6.20, 1, 0.040, 0.6, 2.0, (5.5, 18.6)),
    # Low-priced names: a small slice of the orders, with smaller tickets (median $700, and $200 for
    # the sub-dollar ZPHR, about 500 shares).
    S("TRVX", "Trevix Therapeutics (fictional)", False, 3.40, 1, 0.050, 0.6, 1.2, (1.5, 4.9), 700.0),
    S("GLMR", "Glimmer Mobility Inc. (fictional)", False, 1.85, 1, 0.050, 0.5, 1.2, (1.2, 4.5), 700.0),
    S("ZPHR", "Zephyr Biosciences (fictional)", False, 0.4120, 12, 0.045, 0.5, 0.2, (0.15, 0.95), 200.0),
)


@dataclass(frozen=True)
class Venue:
    venue_id: str
    name: str
    venue_type: str
    is_affiliate: bool
    pays_pfof: bool
    mic: str | None
    rule605_code: str | None


VENUES: tuple[Venue, ...] = (
    Venue("WSA", "Wholesaler A", "wholesaler", False, True, None, "WSAQ"),
    Venue("WSB", "Wholesaler B", "wholesaler", False, True, None, "WSBQ"),
    Venue("EXCH", "National Exchange", "exchange", False, False, "XNAT", "XNAT"),
    Venue("ATSN", "Midpoint ATS", "ats", False, False, "MATS", "MATS"),
    Venue("KEST", "Kestrel principal desk", "internal", True, False, None, "KEST"),
)
VENUE_IDS = tuple(v.venue_id for v in VENUES)
WSA, WSB, EXCH, ATSN, KEST = range(len(VENUES))
#: Share of routed orders by venue (before directed and fractional adjustments).
ROUTING_WEIGHTS = np.array([0.450, 0.430, 0.066, 0.044, 0.010])

ORDER_GROUPS = ("market", "marketable_limit", "non_marketable_limit", "other")
SECURITY_GROUPS = ("sp500", "other")

#: PFOF rate card in cph, per (venue, security group) over ORDER_GROUPS, effective 2026-01-01.
RATE_CARD: dict[tuple[str, str], tuple[float, float, float, float]] = {
    ("WSA", "sp500"): (12.0, 12.0, 0.0, 5.0),
    ("WSA", "other"): (20.0, 20.0, 0.0, 8.0),
    ("WSB", "sp500"): (13.5, 13.0, 1.0, 5.0),
    ("WSB", "other"): (22.0, 21.0, 1.0, 8.0),
}
RATES_FROM = dt.date(2026, 1, 1)
#: The one mid-quarter change: (venue, security group, order group, new cph, effective date).
RATE_CHANGE = ("WSB", "other", "market", 24.0, dt.date(2026, 8, 15))
