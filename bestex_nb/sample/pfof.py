"""PFOF rate card and the controller's ledger of payments received.

The expected payment follows metrics.md section 7: every executed share (fills executed away included)
of every non-directed order routed to a paying venue, at the rate in force on the order's New York
receipt date for its security group and order group. The ledger pays that within +-0.8%, except planted
problem 3: WSB underpays August 2026 by about 8%.
"""

from __future__ import annotations

import numpy as np

from .fills import Fills
from .orders import CAT_ML, LIMIT, MARKET, NO_CATEGORY, Orders
from .universe import (
    MICRO,
    ORDER_GROUPS,
    RATE_CARD,
    RATE_CHANGE,
    RATES_FROM,
    SECURITIES,
    SECURITY_GROUPS,
    VENUE_IDS,
    Calendar,
)

#: (venue, month, factor): the planted underpayment.
UNDERPAYMENT = ("WSB", "2026-08", 0.92)


def rate_rows() -> list[dict]:
    """The ``pfof_rates`` table as rows; the changed key is split at the change date (no overlap)."""
    c_venue, c_group, c_order_group, c_cph, c_from = RATE_CHANGE
    rows = []
    for (venue, group), rates in RATE_CARD.items():
        for order_group, cph in zip(ORDER_GROUPS, rates, strict=True):
            changed = (venue, group, order_group) == (c_venue, c_group, c_order_group)
            row = {
                "venue_id": venue,
                "effective_from": RATES_FROM,
                "effective_to": c_from if changed else None,
                "security_group": group,
                "order_group": order_group,
                "rate_cph": cph,
            }
            rows.append(row)
            if changed:
                rows.append(row | {"effective_from": c_from, "effective_to": None, "rate_cph": c_cph})
    return rows


def order_groups(o: Orders) -> np.ndarray:
    """PFOF order group index (into ``ORDER_GROUPS``) per order, by the section 7 rules."""
    nml = (o.category > CAT_ML) & (o.category != NO_CATEGORY)
    limit_group = np.select([o.category == CAT_ML, nml], [1, 2], 3)
    return np.select([o.order_type == MARKET, o.order_type == LIMIT], [0, limit_group], 3)


def fill_rates_cph(cal: Calendar, o: Orders, f: Fills) -> tuple[np.ndarray, np.ndarray]:
    """Rate in force (cph) for each fill and whether the fill is PFOF-eligible flow.

    Returns
    -------
    rate, eligible : numpy.ndarray
        float cph per fill (0 where not eligible) and the eligibility mask (non-directed order routed
        to a venue on the rate card).
    """
    venue_ix = {v: i for i, v in enumerate(VENUE_IDS)}
    card = np.zeros((len(VENUE_IDS), len(SECURITY_GROUPS), len(ORDER_GROUPS)))
    paying = np.zeros(len(VENUE_IDS), dtype=bool)
    for (venue, group), rates in RATE_CARD.items():
        card[venue_ix[venue], SECURITY_GROUPS.index(group)] = rates
        paying[venue_ix[venue]] = True
    sp500 = np.array([sec.is_sp500 for sec in SECURITIES])
    row = f.order
    venue = o.venue[row]
    sg = np.where(sp500[o.sym[row]], 0, 1)
    og = order_groups(o)[row]
    eligible = (venue >= 0) & paying[np.maximum(venue, 0)] & ~o.is_directed[row]
    rate = card[np.maximum(venue, 0), sg, og]
    c_venue, c_group, c_og, c_cph, c_from = RATE_CHANGE
    receipt_date = np.array(cal.dates, dtype="datetime64[D]")[o.day[row]]
    changed = (
        (venue == venue_ix[c_venue])
        & (sg == SECURITY_GROUPS.index(c_group))
        & (og == ORDER_GROUPS.index(c_og))
        & (receipt_date >= np.datetime64(c_from))
    )
    rate = np.where(changed, c_cph, rate)
    return np.where(eligible, rate, 0.0), eligible


def expected_payments(cal: Calendar, o: Orders, f: Fills) -> dict[tuple[str, str], float]:
    """Expected PFOF in USD by (venue, receipt month): sum of shares x cph / 10,000."""
    rate, eligible = fill_rates_cph(cal, o, f)
    usd = f.qty / MICRO * rate / 10_000.0
    month = cal.month[o.day[f.order]]
    venue = o.venue[f.order]
    out: dict[tuple[str, str], float] = {}
    for v in sorted({VENUE_IDS[i] for i in np.unique(venue[eligible])}):
        for m in np.unique(cal.month):
            sel = eligible & (venue == VENUE_IDS.index(v)) & (month == m)
            out[(v, str(m))] = float(usd[sel].sum())
    return out


def payment_rows(rng: np.random.Generator, cal: Calendar, o: Orders, f: Fills) -> list[dict]:
    """The ``pfof_payments`` ledger: one row per paying venue x month, amounts rounded to cents."""
    rows = []
    for (venue, month), expected in expected_payments(cal, o, f).items():
        factor = 1.0 + rng.uniform(-0.008, 0.008)
        if (venue, month) == UNDERPAYMENT[:2]:
            factor = UNDERPAYMENT[2] + rng.uniform(-0.004, 0.004)
        amount = round(expected * factor, 2)
        rows.append(
            {
                "venue_id": venue,
                "month": month,
                "amount_usd": amount,
                "security_group": None,
                "order_group": None,
            }
        )
    return rows
