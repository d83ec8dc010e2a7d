"""ipywidgets explorer for the limit-order fill review (JupyterLab only; never imported in batch runs).

Each redraw asks the store for aggregates only: the fill rates of the filtered orders
(``sql/metrics/fill_filtered.sql``, ratios of sums like the API) and, per venue × category and distinct
survival time, the counts of first fills and censored orders (``sql/metrics/fill_survival_counts.sql``), from
which numpy finishes the Kaplan–Meier curves. No row per order reaches pandas. Categories and distances
read as the static tables do ("At the quote", "1-2 ticks"), in distance order, never alphabetically.
"""

from __future__ import annotations

import ipywidgets as w
from IPython.display import display

from bestex_nb.contract.buckets import DISTANCE_BUCKETS, LIMIT_CATEGORIES, LIMIT_CATEGORY_LABELS, SIZE_BUCKETS
from bestex_nb.dimensions.limit_fills.compute import LimitFills
from bestex_nb.dimensions.limit_fills.figures import survival_figure
from bestex_nb.dimensions.limit_fills.tables import DISTANCE_LABELS, RATE_FORMATS, rates_display
from bestex_nb.interactive.controls import SEGMENTS, dropdown, filters_of, labelled, parameters_line
from bestex_nb.report import plots
from bestex_nb.review import Review
from bestex_nb.stats.survival import survival_curves_from_counts


def limit_fill_explorer(review: Review, lf: LimitFills, colors: dict, drill: dict | None = None) -> w.VBox:
    """Venue / S&P 500 or other / category / size / distance / symbol filters that redraw the survival
    curves and fill rates. ``drill``: initial filters (:func:`bestex_nb.contract.drill.parse_drill`)."""
    drill = drill or {}
    symbols = review.symbols(lf.period, "fills", lf.venue)
    controls = {
        "venue": dropdown(labelled(lf.by_venue["venue"]), "venue"),
        "is_sp500": dropdown(SEGMENTS, "stocks", drill.get("is_sp500")),
        "order_category": dropdown(labelled(lf.by_venue["order_category"], LIMIT_CATEGORY_LABELS, LIMIT_CATEGORIES),
                                   "category", drill.get("order_category")),
        "size_bucket": dropdown(labelled(lf.by_cell["size_bucket"], order=SIZE_BUCKETS), "size (USD)",
                                drill.get("size_bucket")),
        "distance_bucket": dropdown(labelled(lf.by_distance["distance_bucket"], DISTANCE_LABELS, DISTANCE_BUCKETS),
                                    "distance", drill.get("distance_bucket")),
        "symbol": dropdown(labelled(symbols), "symbol", drill.get("symbol")),
    }
    if lf.venue:  # a venue's report: the venue is fixed
        controls["venue"].disabled = True
    out, copy = w.Output(), w.HTML()

    def redraw(_=None):
        filters = filters_of(controls, lf.venue)
        copy.value = parameters_line("limit_fill_likelihood", lf.period,
                                     {k: v for k, v in filters.items() if k != "venue"}, filters["venue"])
        by = ["venue", "order_category"]
        with out:
            out.clear_output(wait=True)
            table = review.limit_filtered(lf.period, by, **filters)
            if table.empty:
                print("No covered orders match these filters.")
                return
            curves = survival_curves_from_counts(review.survival_counts(lf.period, by, **filters), by)
            fig = survival_figure(curves, colors)
            fig.update_layout(title="P(no fill yet) for the filtered orders, with 95% bands")
            fig.show()
            display(plots.style_table(rates_display(table), RATE_FORMATS))

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    c = list(controls.values())
    box = w.VBox([w.HBox(c[:3]), w.HBox(c[3:]), out, copy])
    box.controls = controls
    return box
