"""The drill-down's filters as text (issue 25): what an explorer shows as "copy as parameters" and what a
batch run takes back (``bestex run --drill …``, the notebooks' ``drill`` parameter), so a view found at a
widget can be frozen into the evidence.

``"is_sp500=true order_category=market"`` ⇄ ``{"is_sp500": True, "order_category": "market"}``. Keys and
values are checked: a typo is an error naming the choices, never a silently unfiltered table.
"""

from __future__ import annotations

import re

from bestex_nb.contract.buckets import DISTANCE_BUCKETS, LIMIT_CATEGORIES, PI_CATEGORIES, SIZE_BUCKETS
from bestex_nb.contract.errors import BestexError

#: the filters, in the order their text is written
KEYS = ("is_sp500", "order_category", "size_bucket", "distance_bucket", "symbol")
CHOICES = {"order_category": PI_CATEGORIES + LIMIT_CATEGORIES, "size_bucket": SIZE_BUCKETS,
           "distance_bucket": DISTANCE_BUCKETS}
_SYMBOL = re.compile(r"[A-Za-z0-9.\-/]{1,16}")


class DrillError(BestexError, ValueError):
    """A drill-down filter text that cannot be read."""


def parse_drill(text: str | None) -> dict[str, str | bool]:
    """``key=value`` pairs separated by spaces or commas; empty text: no filter."""
    out: dict[str, str | bool] = {}
    for part in re.split(r"[\s,]+", (text or "").strip()):
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep or not value:
            raise DrillError(f"drill filter {part!r}: write key=value, e.g. is_sp500=true")
        if key not in KEYS:
            raise DrillError(f"drill filter {key!r}: choose from {list(KEYS)}")
        if key in out:
            raise DrillError(f"drill filter {key!r} is given twice")
        out[key] = _value(key, value)
    return out


def _value(key: str, value: str) -> str | bool:
    if key == "is_sp500":
        if value.lower() not in ("true", "false"):
            raise DrillError(f"drill filter is_sp500={value!r}: write true (S&P 500) or false (other stocks)")
        return value.lower() == "true"
    if key in CHOICES and value not in CHOICES[key]:
        raise DrillError(f"drill filter {key}={value!r}: choose from {CHOICES[key]}")
    if key == "symbol" and not _SYMBOL.fullmatch(value):
        raise DrillError(f"drill filter symbol={value!r} is not a ticker")
    return value


def drill_text(filters: dict) -> str:
    """The text of ``filters`` (None values left out), keys in :data:`KEYS` order: what parse_drill reads."""
    parts = []
    for key in KEYS:
        value = filters.get(key)
        if value is None:
            continue
        parts.append(f"{key}={'true' if value is True else 'false' if value is False else value}")
    return " ".join(parts)


#: the filters each review's orders can be drilled by (the price-improvement review has no distance to
#: the quote; its categories are market and marketable limit, the limit-order review's the four others)
APPLIES = {"pi": {"is_sp500", "order_category", "size_bucket", "symbol"},
           "fills": {"is_sp500", "order_category", "size_bucket", "distance_bucket", "symbol"}}
CATEGORIES = {"pi": PI_CATEGORIES, "fills": LIMIT_CATEGORIES}


def applicable(filters: dict, coverage: str) -> tuple[dict, list[str]]:
    """The filters that apply to a review's orders (``coverage``: ``pi`` or ``fills``) and the ``key=value``
    texts of those that do not (a batch passes one drill text to every notebook; each says what it left out)."""
    kept, left = {}, []
    for key, value in filters.items():
        if value is None:
            continue
        fits = key in APPLIES[coverage] and (key != "order_category" or value in CATEGORIES[coverage])
        if fits:
            kept[key] = value
        else:
            left.append(drill_text({key: value}))
    return kept, left


def describe(filters: dict, left_out: list[str]) -> str:
    """What a drill-down shows, in words: the run's ``drill`` filters and those that do not apply here."""
    text = (f"Filtered by the run's drill-down parameters: {drill_text(filters)}." if filters
            else "All covered orders (no drill-down filter was set for this run).")
    if left_out:
        text += f" Not applicable to this review, so not applied: {', '.join(left_out)}."
    return text
