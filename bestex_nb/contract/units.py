"""Figures in their units (metrics.md: USD/share ``_ps``, USD ``_usd``, fractions, ms) as text, the one
way every table and exception detail prints them."""

from __future__ import annotations

import numpy as np


def fmt_value(x, unit: str, signed: bool = False) -> str:
    """A figure in its unit: USD/share with 5 decimals, fractions in percent or points, ms."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "—"
    sign = "+" if signed and x > 0 else ("−" if x < 0 else "")
    a = abs(float(x))
    if unit == "USD/share":
        return f"{sign}${a:.5f}"
    if unit in ("ratio", "fraction"):
        return f"{sign}{a * 100:.1f} pts" if signed else f"{sign}{a * 100:.1f}%"
    if unit == "fraction of prior":
        return f"{sign}{a * 100:.1f}%"
    if unit == "bps":
        return f"{sign}{a:.2f} bp"
    if unit == "ms":
        return f"{sign}{a:,.1f} ms"
    if unit == "USD":
        return f"{sign}${a:,.2f}"
    return f"{sign}{a:.6g}"
