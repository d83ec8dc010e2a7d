"""The frames of the price-improvement review: pure (a Review and the run's choices in, frames out; no
display, no file I/O)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bestex_nb.review import Review


@dataclass
class PriceImprovement:
    """The frames behind the price-improvement review (grain in each attribute's comment)."""

    period: str
    venue: str | None
    by_venue: pd.DataFrame  # one row per venue: the section 5 table
    by_cell: pd.DataFrame  # venue × order_category × size_bucket
    by_share_bucket: pd.DataFrame  # venue × order_category × share_bucket
    monthly: pd.DataFrame  # venue × is_sp500 × order_category × month
    orders: pd.DataFrame  # one row per covered order (drill-down and filters)
    distribution: pd.DataFrame  # venue × bin of order net PI per share: filled orders, % of the venue's
    worst_orders: pd.DataFrame  # the N orders that cost customers most (net PI USD ascending)
    reconciliation: pd.DataFrame  # orders in = analysed + excluded by reason
    exclusions_by_reason: pd.DataFrame  # reason × scope × venue counts

    def tables(self) -> dict[str, pd.DataFrame]:
        """The frames written as CSV evidence next to the HTML."""
        return {
            "pi_by_venue": self.by_venue, "pi_by_venue_category_size": self.by_cell,
            "pi_by_venue_category_shares": self.by_share_bucket, "pi_monthly": self.monthly,
            "pi_distribution": self.distribution,
            "worst_orders": self.worst_orders, "reconciliation": self.reconciliation,
            "exclusions_by_reason": self.exclusions_by_reason,
        }


DISTRIBUTION_BINS = 80


def distribution(orders: pd.DataFrame, bins: int = DISTRIBUTION_BINS) -> pd.DataFrame:
    """How each venue's filled orders spread over order net PI per share: ``bins`` equal bins from the
    0.5th to the 99.5th percentile of all filled orders (linear interpolation; values beyond are
    counted in the end bins, as clipped), a value on an inner edge in the bin above. Orders without
    fills or without a net PI are left out. One row per venue and non-empty bin: venue, bin (0 …),
    bin_lo, bin_hi, orders, pct (of that venue's orders counted)."""
    cols = ["venue", "bin", "bin_lo", "bin_hi", "orders", "pct"]
    filled = orders[(orders["executed_shares"] > 0) & orders["net_pi_ps"].notna()]
    if not len(filled):
        return pd.DataFrame(columns=cols)
    x = filled["net_pi_ps"].to_numpy(dtype=float)
    lo, hi = np.percentile(x, [0.5, 99.5])
    if hi <= lo:  # every value the same: one bin a hundredth of a cent wide around it
        lo, hi, bins = lo - 0.00005, hi + 0.00005, 1
    edges = np.linspace(lo, hi, bins + 1)
    at = np.searchsorted(edges[1:-1], np.clip(x, lo, hi), side="right")
    counts = (pd.DataFrame({"venue": filled["venue"].to_numpy(), "bin": at})
              .groupby(["venue", "bin"], as_index=False).size().rename(columns={"size": "orders"}))
    counts["bin_lo"], counts["bin_hi"] = edges[counts["bin"]], edges[counts["bin"] + 1]
    counts["pct"] = 100 * counts["orders"] / counts.groupby("venue")["orders"].transform("sum")
    return counts[cols].sort_values(["venue", "bin"]).reset_index(drop=True)


def compute(review: Review, period: str, venue: str | None = None, worst_n: int = 25) -> PriceImprovement:
    """All frames of the review for ``period`` (and one routed ``venue``, or the whole firm)."""
    orders = review.order_pi(period, venue)
    review.require_orders(period, venue, orders)
    worst = (
        orders[orders["executed_shares"] > 0]
        .sort_values(["net_pi_usd", "net_pi_ps", "order_id"])
        .head(worst_n)
        .loc[:, ["order_id", "venue", "symbol", "side", "order_category", "received_at", "quantity",
                 "limit_price", "nbb_r", "nbo_r", "nbbo_r_quoted_at", "is_locked", "executed_shares",
                 "avg_price", "net_pi_ps", "net_pi_usd", "executed_venues"]]
        .reset_index(drop=True)
    )
    excl = review.exclusions(period, venue)
    by_reason = (
        excl.assign(venue=excl["venue"].fillna("(none)"))
        .groupby(["reason", "scope", "venue"], as_index=False)
        .size()
        .rename(columns={"size": "order_rows"})
    )
    return PriceImprovement(
        period=period,
        venue=venue,
        by_venue=review.price_improvement(period, ["venue"], venue),
        by_cell=review.price_improvement(period, ["venue", "order_category", "size_bucket"], venue),
        by_share_bucket=review.price_improvement(period, ["venue", "order_category", "share_bucket"], venue),
        monthly=review.price_improvement(period, ["venue", "is_sp500", "order_category", "month"], venue),
        orders=orders,
        distribution=distribution(orders),
        worst_orders=worst,
        reconciliation=review.reconciliation(period, venue),
        exclusions_by_reason=by_reason,
    )


def aggregate_orders(orders: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Re-aggregate the per-order frame (for interactive filters): ratios of sums, as the API does.

    Columns: ``by``, orders, executed_shares, net_pi_ps, eq_ratio, pct_orders_improved.
    """
    g = orders.groupby(by, as_index=False, observed=True).agg(
        orders=("order_id", "size"), executed_shares=("executed_shares", "sum"),
        net_pi_usd=("net_pi_usd", "sum"), es_usd=("es_usd", "sum"), qs_usd=("qs_usd", "sum"),
    )
    shares = g["executed_shares"].where(g["executed_shares"] != 0)
    g["net_pi_ps"] = g["net_pi_usd"] / shares
    g["eq_ratio"] = g["es_usd"] / g["qs_usd"].where(g["qs_usd"] != 0)
    return g
