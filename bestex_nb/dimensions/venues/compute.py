"""The frames of the venue-comparison section: pure (a Review, the committee's parameters and decisions
in, frames out; no display, no file I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from bestex_nb.contract.parameters import Decision, ReviewParameters
from bestex_nb.contract.periods import parse_period
from bestex_nb.dimensions.venues.tables import PI_METRICS, SAME_TYPE_METRICS


@dataclass
class VenueReview:
    """Frames behind the venue-comparison section of a report (grain in each comment)."""

    period: str
    venue: str | None
    parameters: ReviewParameters
    comparisons: pd.DataFrame  # against × metric × review group (compare_venues rows, both comparisons)
    context: pd.DataFrame  # one row per venue: type, affiliation, PFOF, share of routed flow
    deterioration: pd.DataFrame  # trigger period × review group
    exceptions: pd.DataFrame  # one row per exception, with its disposition
    groups: pd.DataFrame  # one row per exception group (venue × cause), open first by dollar impact

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"venue_comparison": self.comparisons, "venue_context": self.context,
                "deterioration": self.deterioration,
                "exceptions": self.exceptions, "exception_groups": self.groups,
                "review_parameters": self.parameters.table()}


def compute(review, period, venue: str | None = None, *, parameters: ReviewParameters,
            decisions: Mapping[str, Decision]) -> VenueReview:
    """Comparisons of the price-improvement metrics (and the exception metrics), the deterioration
    triggers and the exceptions of ``period``; rows of one ``venue`` only when given (the comparison
    itself always pits each venue against all the others). ``parameters`` and ``decisions``: the
    committee's (:func:`bestex_nb.contract.parameters.load_run`)."""
    p = parse_period(period)
    metrics = list(dict.fromkeys([*PI_METRICS, *parameters.material_metrics]))
    comps = review.compare_venues(p, metrics, parameters=parameters)
    same = list(dict.fromkeys([*SAME_TYPE_METRICS, *(parameters.material_metrics
                                                     if parameters.compare_against == "same_type" else [])]))
    comps = pd.concat([comps, review.compare_venues(p, same, against="same_type", parameters=parameters)],
                      ignore_index=True)
    trig = review.deterioration_triggers(p, parameters=parameters)
    exc = review.exceptions(p, parameters=parameters, decisions=decisions)
    groups = review.exception_groups(p, exceptions=exc)
    if venue:
        comps, trig, exc, groups = (df[df["venue"] == venue].reset_index(drop=True)
                                    for df in (comps, trig, exc, groups))
    return VenueReview(p.label, venue, parameters, comps, review.venue_context(p), trig, exc, groups)
