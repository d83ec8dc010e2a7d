"""The frames of the limit-order fill review: pure (a Review, the committee's parameters and decisions in,
frames out; no display, no file I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import pandas as pd

from bestex_nb import exception_register
from bestex_nb.contract.errors import EmptyPeriodError
from bestex_nb.contract.parameters import Decision, ReviewParameters
from bestex_nb.contract.periods import parse_period
from bestex_nb.review import Review
from bestex_nb.stats.survival import count_steps, median_from_steps, survival_curves_from_counts


@dataclass
class LimitFills:
    """The frames behind the limit-order fill review (grain in each attribute's comment)."""

    period: str
    venue: str | None
    by_venue: pd.DataFrame  # venue × order_category: the section 6 table
    by_cell: pd.DataFrame  # venue × order_category × size_bucket
    by_distance: pd.DataFrame  # venue × distance_bucket
    monthly: pd.DataFrame  # venue × order_category × month
    survival: pd.DataFrame  # venue × order_category × grid time: Kaplan–Meier with Greenwood bands
    time_to_fill: pd.DataFrame  # venue × order_category: medians and means of time to first fill
    end_states: pd.DataFrame  # venue × end_state: orders and shares
    comparison: pd.DataFrame  # review group rows of review.compare_venues(period, "fill_rate_shares")
    comparison_same_type: pd.DataFrame  # the same against the venues of the same type only
    context: pd.DataFrame  # one row per venue: type, affiliation, PFOF, share of routed flow
    exceptions: pd.DataFrame  # Rule 5310 .05: one row per marketable limit order with fills outside the quote
    exception_list: pd.DataFrame  # this review's rows of review.exceptions: fill-rate material differences, .05
    all_groups: pd.DataFrame  # every exception group of the period (all reviews), open first by dollar impact
    all_exceptions: pd.DataFrame  # their members (review.exceptions of the period)
    reconciliation: pd.DataFrame  # orders in = analysed + excluded by reason
    exclusions_by_reason: pd.DataFrame  # reason × scope × venue counts

    def tables(self) -> dict[str, pd.DataFrame]:
        """The frames written as CSV evidence next to the HTML (names distinct from other notebooks)."""
        out = {
            "limit_fills_by_venue_category": self.by_venue, "limit_fills_by_venue_category_size": self.by_cell,
            "limit_fills_by_venue_distance": self.by_distance, "limit_fills_monthly": self.monthly,
            "limit_fill_survival": self.survival, "limit_time_to_fill": self.time_to_fill,
            "limit_end_states": self.end_states, "rule5310_05_exceptions": self.exceptions,
            "limit_fill_venue_comparison": self.comparison,
            "limit_fill_venue_comparison_same_type": self.comparison_same_type, "limit_venue_context": self.context, "limit_exceptions": self.exception_list,
            "limit_page_exception_groups": self.all_groups,
            "limit_reconciliation": self.reconciliation,
            "limit_exclusions_by_reason": self.exclusions_by_reason,
        }
        return out


def dimension_exceptions(review: Review, period, parameters: ReviewParameters,
                         decisions: Mapping[str, Decision], exceptions: pd.DataFrame | None = None) -> pd.DataFrame:
    """The rows of :meth:`Review.exceptions` this review raises (same ids, same dispositions): material
    differences in share fill rate and the Rule 5310 .05 exceptions. ``exceptions``: the period's whole
    table when the caller already has it (its rows are kept, nothing is computed again); without it, only
    these two providers run, not the other dimensions' comparisons."""
    if exceptions is not None:
        mine = ((exceptions["kind"] == "material_difference") & (exceptions["metric"] == "fill_rate_shares")
                | (exceptions["kind"] == "marketable_limit_outside_quote"))
        return exceptions[mine].reset_index(drop=True)
    own = replace(parameters, material_metrics=tuple(m for m in parameters.material_metrics if m == "fill_rate_shares"))
    return review.exceptions(period, parameters=own, decisions=decisions,
                             providers=[exception_register.material_difference_exceptions,
                                        exception_register.rule5310_05_exceptions])


def compute(review: Review, period: str, venue: str | None = None, *, parameters: ReviewParameters,
            decisions: Mapping[str, Decision]) -> LimitFills:
    """All frames of the review for ``period`` (and one routed ``venue``, or the whole firm).
    ``parameters`` and ``decisions``: the committee's (:func:`bestex_nb.contract.parameters.load_run`)."""
    by_venue = review.limit_fills(period, ["venue", "order_category"], venue)
    if by_venue.empty:
        where = f" at venue {venue}" if venue else ""
        raise EmptyPeriodError(
            f"no non-marketable limit orders to review in {parse_period(period).label}{where}; "
            "check the period and venue parameters and the exclusion summary")
    excl = review.exclusions(period, venue)
    by_reason = (excl.assign(venue=excl["venue"].fillna("(none)"))
                 .groupby(["reason", "scope", "venue"], as_index=False).size().rename(columns={"size": "order_rows"}))
    comparison = review.compare_venues(period, "fill_rate_shares", parameters=parameters)
    same_type = review.compare_venues(period, "fill_rate_shares", against="same_type", parameters=parameters)
    # the top of the page lists every open exception of the period, this review's and the others'; this
    # review's own list is its rows of that table (collected once: the .05 query and comparisons run once)
    all_exceptions = review.exceptions(period, parameters=parameters, decisions=decisions)
    exception_list = dimension_exceptions(review, period, parameters, decisions, all_exceptions)
    all_groups = review.exception_groups(period, exceptions=all_exceptions)
    if venue:
        comparison = comparison[comparison["venue"] == venue].reset_index(drop=True)
        same_type = same_type[same_type["venue"] == venue].reset_index(drop=True)
        exception_list = exception_list[exception_list["venue"] == venue].reset_index(drop=True)
        all_groups = all_groups[all_groups["venue"] == venue].reset_index(drop=True)
        all_exceptions = all_exceptions[all_exceptions["venue"] == venue].reset_index(drop=True)
    counts = review.survival_counts(period, ["venue", "order_category"], venue)
    return LimitFills(
        period=period, venue=venue,
        by_venue=by_venue,
        by_cell=review.limit_fills(period, ["venue", "order_category", "size_bucket"], venue),
        by_distance=review.limit_fills(period, ["venue", "distance_bucket"], venue),
        monthly=review.limit_fills(period, ["venue", "order_category", "month"], venue),
        survival=survival_curves_from_counts(counts, ["venue", "order_category"]),
        time_to_fill=time_to_fill(review.time_to_fill(period, ["venue", "order_category"], venue), counts),
        end_states=review.end_states(period, venue),
        comparison=comparison,
        comparison_same_type=same_type,
        context=review.venue_context(period),
        exceptions=review.marketable_limit_exceptions(period, venue),
        exception_list=exception_list,
        all_groups=all_groups,
        all_exceptions=all_exceptions,
        reconciliation=review.reconciliation(period, venue),
        exclusions_by_reason=by_reason,
    )


def time_to_fill(quantiles: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
    """Time to first fill per venue × category (ms): among filled orders, and the Kaplan–Meier median.

    ``quantiles``: :meth:`Review.time_to_fill` by venue × category; ``counts``: :meth:`Review.survival_counts`
    by the same. Columns: venue, order_category, orders, orders_filled, p10_ms, q1_ms, median_ms, q3_ms,
    p90_ms (over filled orders, unweighted, interpolated), mean_ms (weighted by filled shares), km_median_ms
    (the time by which half of all the orders would have filled had none been cancelled: NaN when the
    curve never reaches 0.5).
    """
    keys = ["venue", "order_category"]
    medians = {key: median_from_steps(count_steps(g)) for key, g in counts.groupby(keys, sort=True)}
    out = quantiles.sort_values(keys).reset_index(drop=True)
    out["km_median_ms"] = [medians.get(key, float("nan")) for key in zip(out["venue"], out["order_category"])]
    return out
