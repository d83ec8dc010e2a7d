"""Figures in their units (metrics.md: USD/share ``_ps``, USD ``_usd``, fractions, ms, basis points) as
text, the one way every table and exception detail prints them.

Honest precision: a figure printed beside a threshold is never printed so that it rounds onto the
threshold (or across it). ``fmt_value(x, unit, threshold=t)`` adds decimals, one at a time, until the
printed figure differs from the printed threshold whenever the two numbers differ, so "−$0.000503 against
−$0.00050" cannot read "−$0.00050 against −$0.00050".
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import pandas as pd

#: shown for a missing value (None / NaN), e.g. PI per share when no shares were filled
NA_REP = "—"

#: decimals each unit prints with by default (of the printed number: percent points for fractions)
DECIMALS = {"USD/share": 5, "ratio": 1, "fraction": 1, "fraction of prior": 1, "ms": 1, "USD": 2, "bps": 2}
#: the most decimals a figure is given to tell it from its threshold
MAX_EXTRA = 6


def _text(a: float, unit: str, signed: bool, decimals: int) -> str:
    if unit == "USD/share":
        return f"${a:.{decimals}f}"
    if unit in ("ratio", "fraction"):
        return f"{a * 100:.{decimals}f} pts" if signed else f"{a * 100:.{decimals}f}%"
    if unit == "fraction of prior":
        return f"{a * 100:.{decimals}f}%"
    if unit == "ms":
        return f"{a:,.{decimals}f} ms"
    if unit == "USD":
        return f"${a:,.{decimals}f}"
    if unit == "bps":
        return f"{a:,.{decimals}f} bp"
    return f"{a:.6g}"


def _fmt(x: float, unit: str, signed: bool, decimals: int) -> str:
    a = abs(float(x))
    body = _text(a, unit, signed, decimals)
    # the sign goes with what is printed: a value that prints as zero has none
    zero = unit in DECIMALS and float(body.replace("$", "").replace(",", "").split()[0].rstrip("%")) == 0
    sign = "" if zero else ("+" if signed and x > 0 else ("−" if x < 0 else ""))
    return sign + body


def fmt_value(x, unit: str, signed: bool = False, threshold=None) -> str:
    """A figure in its unit: USD/share with 5 decimals, fractions in percent (``signed``: points), ms, bp.

    With ``threshold`` (in the same unit), as many more decimals as it takes (up to 6 more) for the
    figure not to print as the threshold when it is not equal to it.
    """
    if _is_missing(x):
        return "—"
    decimals = DECIMALS.get(unit, 0)
    text = _fmt(x, unit, signed, decimals)
    if threshold is None or _is_missing(threshold) or unit not in DECIMALS or float(x) == float(threshold):
        return text
    for extra in range(MAX_EXTRA + 1):
        text = _fmt(x, unit, signed, decimals + extra)
        if text != _fmt(threshold, unit, signed, decimals + extra) and not _crosses(x, threshold, text, unit):
            return text
    return text


def _crosses(x, threshold, text: str, unit: str) -> bool:
    """True when the printed figure sits on the other side of the threshold from the figure itself."""
    printed = float(text.lstrip("+−").replace("$", "").replace(",", "").split()[0].rstrip("%"))
    if unit in ("ratio", "fraction", "fraction of prior"):
        printed /= 100
    printed = -printed if text.startswith("−") else printed
    return math.copysign(1, float(x) - float(threshold)) != math.copysign(1, printed - float(threshold)) \
        or printed == float(threshold)


def fmt_pair(x, threshold, unit: str, signed: bool = True) -> tuple[str, str]:
    """The figure and its threshold printed with the same number of decimals, the figure never rounding
    onto (or across) the threshold."""
    text = fmt_value(x, unit, signed, threshold=threshold)
    if _is_missing(x) or _is_missing(threshold) or unit not in DECIMALS:
        return text, fmt_value(threshold, unit, signed)
    shown = _decimals_of(text)
    return text, _fmt(threshold, unit, signed, max(shown, DECIMALS[unit]))


def _decimals_of(text: str) -> int:
    number = text.lstrip("+−").replace("$", "").split()[0].rstrip("%")
    return len(number.split(".")[1]) if "." in number else 0


# -- table formats (report/plots.FORMATS names them) --------------------------------------------

def _is_missing(x: Any) -> bool:
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    try:
        return bool(isinstance(x, numbers.Real) and math.isnan(x))
    except TypeError:
        return False


def _signed(x: Any, decimals: int, prefix: str = "$", suffix: str = "") -> str:
    """``-$1,234.50``: thousands separators, ``decimals`` places, and a minus only when the printed figure
    is not zero (``-0.00001`` at 4 places is ``$0.0000``)."""
    if _is_missing(x):
        return NA_REP
    value = float(x)
    sign = "-" if value < 0 and round(abs(value), decimals) != 0 else ""
    return f"{sign}{prefix}{abs(value):,.{decimals}f}{suffix}"


def fmt_usd_ps(x: Any) -> str:
    """Dollars per share, four decimals: ``0.0123 -> "$0.0123"``, ``-0.005 -> "-$0.0050"``."""
    return _signed(x, 4)


def fmt_usd(x: Any) -> str:
    """Dollar amounts, two decimals with thousands separators: ``-1234.5 -> "-$1,234.50"``."""
    return _signed(x, 2)


def fmt_usd0(x: Any) -> str:
    """Large dollar amounts, whole dollars: ``1234567.8 -> "$1,234,568"``."""
    return _signed(x, 0)


def fmt_bps(x: Any) -> str:
    """Basis points, two decimals: ``1.234 -> "1.23 bp"``."""
    return _signed(x, 2, prefix="", suffix=" bp")


def fmt_pct(x: Any) -> str:
    """A fraction as a percentage, one decimal: ``0.123 -> "12.3%"``."""
    if _is_missing(x):
        return NA_REP
    return f"{float(x) * 100:.1f}%"


def fmt_int(x: Any) -> str:
    """A count with thousands separators: ``1234 -> "1,234"`` (rounded half to even)."""
    if _is_missing(x):
        return NA_REP
    return f"{round(float(x)):,d}"


def fmt_shares(x: Any) -> str:
    """Shares, fractional ones too: thousands separators, up to 6 decimals with trailing zeros dropped,
    never scientific notation: ``8010.0 -> "8,010"``, ``1234567 -> "1,234,567"``, ``0.125 -> "0.125"``."""
    if _is_missing(x):
        return NA_REP
    text = f"{float(x):,.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


#: The time zone people read (New York); CSVs keep ISO UTC (``received_at`` columns, labelled UTC).
READING_TZ = "America/New_York"


def ny_times(values: Any) -> pd.Series:
    """Instants as New York wall-clock text to the millisecond, ``2026-07-01 09:45:32.213`` (the column
    that shows them says "New York"); missing instants as :data:`NA_REP`."""
    ts = pd.to_datetime(pd.Series(values), utc=True, format="ISO8601").dt.tz_convert(READING_TZ)
    return ts.dt.strftime("%Y-%m-%d %H:%M:%S.%f").str[:-3].fillna(NA_REP)
