"""The frames of the price-improvement review: pure (a Review and the run's choices in, frames out; no
display, no file I/O)."""

from __future__ import annotations

from dataclasses import dataclass

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
    distribution: pd.DataFrame  # venue × bin of order net PI per share: filled orders, % of the venue's
    worst_orders: pd.DataFrame  # the N filled orders that cost customers most (net PI USD ascending)
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


#: Bins of the distribution chart (``sql/metrics/pi_distribution.sql``).
DISTRIBUTION_BINS = 80


def compute(review: Review, period: str, venue: str | None = None, worst_n: int = 25,
            drill: dict | None = None) -> PriceImprovement:
    """All frames of the review for ``period`` (and one routed ``venue``, or the whole firm). Every frame
    is an aggregate or a page that DuckDB returns (no row per order reaches pandas). ``drill``: filters of
    the drill-down (the costliest orders), already narrowed to this review's
    (:func:`bestex_nb.contract.drill.applicable`)."""
    by_venue = review.price_improvement(period, ["venue"], venue)
    review.require_orders(period, venue, by_venue)  # no covered order: no venue row
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
        by_venue=by_venue,
        by_cell=review.price_improvement(period, ["venue", "order_category", "size_bucket"], venue),
        by_share_bucket=review.price_improvement(period, ["venue", "order_category", "share_bucket"], venue),
        monthly=review.price_improvement(period, ["venue", "is_sp500", "order_category", "month"], venue),
        distribution=review.pi_distribution(period, venue, DISTRIBUTION_BINS),
        worst_orders=review.worst_orders(period, venue, limit=worst_n, **(drill or {})),
        reconciliation=review.reconciliation(period, venue),
        exclusions_by_reason=by_reason,
    )
