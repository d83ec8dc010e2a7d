"""Review periods: half-open intervals of New York calendar days applied to ``received_at``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from bestex_nb.contract.errors import PeriodError


@dataclass(frozen=True)
class Period:
    """``start`` inclusive, ``end`` exclusive (New York dates); ``label`` as the user wrote it."""

    start: date
    end: date
    label: str

    def params(self) -> dict:
        return {"period_start": self.start, "period_end": self.end}

    def prior(self) -> Period:
        """The previous period of the same kind (month before a month, quarter before a quarter)."""
        if re.fullmatch(r"\d{4}Q[1-4]", self.label):
            y, q = int(self.label[:4]), int(self.label[5])
            y, q = (y - 1, 4) if q == 1 else (y, q - 1)
            return parse_period(f"{y}Q{q}")
        if re.fullmatch(r"\d{4}-\d{2}", self.label):
            y, m = int(self.label[:4]), int(self.label[5:])
            y, m = (y - 1, 12) if m == 1 else (y, m - 1)
            return parse_period(f"{y}-{m:02d}")
        span = self.end - self.start
        return Period(self.start - span, self.start, f"{self.start - span}..{self.start}")


def _month_end(y: int, m: int) -> date:
    return date(y + 1, 1, 1) if m == 12 else date(y, m + 1, 1)


def parse_period(period) -> Period:
    """Accept ``2026Q3``, ``2026-07``, a pair of ISO dates (half-open), or a :class:`Period`."""
    if isinstance(period, Period):
        return period
    if isinstance(period, (tuple, list)) and len(period) == 2:
        try:
            start, end = (p if isinstance(p, date) else date.fromisoformat(str(p)) for p in period)
        except ValueError as exc:
            raise PeriodError(f"period {period!r}: dates must be ISO (YYYY-MM-DD)") from exc
        if end <= start:
            raise PeriodError(f"period {period!r}: the end ({end}) must be after the start ({start})")
        return Period(start, end, f"{start}..{end}")
    text = str(period).strip()
    if m := re.fullmatch(r"(\d{4})Q([1-4])", text):
        y, q = int(m.group(1)), int(m.group(2))
        start = date(y, 3 * q - 2, 1)
        return Period(start, _month_end(y, 3 * q), text)
    if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
        y, mo = int(m.group(1)), int(m.group(2))
        if not 1 <= mo <= 12:
            raise PeriodError(f"period {text!r}: month must be 01-12")
        return Period(date(y, mo, 1), _month_end(y, mo), text)
    if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\s*(?:\.\.|/|,)\s*(\d{4}-\d{2}-\d{2})", text):
        return parse_period((m.group(1), m.group(2)))
    raise PeriodError(
        f"period {period!r} not understood: use a quarter (2026Q3), a month (2026-07) "
        "or two ISO dates, start inclusive and end exclusive (('2026-07-01', '2026-08-01'))"
    )
