"""ipywidgets explorer for the limit-order fill review (JupyterLab only; never imported in batch runs).

Each redraw asks the store for aggregates only: the fill rates of the filtered orders
(``sql/metrics/fill_filtered.sql``, ratios of sums like the API) and, per venue × category and distinct
survival time, the counts of first fills and censored orders (``sql/metrics/fill_survival_counts.sql``), from
which numpy finishes the Kaplan–Meier curves. No row per order reaches pandas.
"""

from __future__ import annotations

import ipywidgets as w
from IPython.display import display

from bestex_nb.contract.buckets import DISTANCE_BUCKETS, LIMIT_CATEGORIES, SIZE_BUCKETS
from bestex_nb.dimensions.limit_fills.compute import LimitFills
from bestex_nb.dimensions.limit_fills.figures import survival_figure
from bestex_nb.interactive.price_improvement import chosen, options
from bestex_nb.report import plots
from bestex_nb.review import Review
from bestex_nb.stats.survival import survival_curves_from_counts

#: What the explorer's table shows.
RATE_COLUMNS = ["venue", "order_category", "orders", "order_shares", "fill_rate_shares", "fill_rate_orders",
                "cancel_rate_shares"]


def limit_fill_explorer(review: Review, lf: LimitFills, colors: dict) -> w.VBox:
    """Venue / category / size / distance / symbol filters that redraw the survival curves and fill rates."""
    symbols = review.symbols(lf.period, "fills", lf.venue)
    controls = {
        "venue": w.Dropdown(options=options(lf.by_venue["venue"]), description="venue"),
        "order_category": w.Dropdown(options=options(lf.by_venue["order_category"], LIMIT_CATEGORIES),
                                     description="category"),
        "size_bucket": w.Dropdown(options=options(lf.by_cell["size_bucket"], SIZE_BUCKETS), description="size"),
        "distance_bucket": w.Dropdown(options=options(lf.by_distance["distance_bucket"], DISTANCE_BUCKETS),
                                      description="distance"),
        "symbol": w.Dropdown(options=options(symbols), description="symbol"),
    }
    out = w.Output()

    def redraw(_=None):
        filters = chosen(lf.venue, **{col: c.value for col, c in controls.items()})
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
            display(plots.style_table(table[RATE_COLUMNS], {
                "orders": "int", "order_shares": "shares", "fill_rate_shares": "pct", "fill_rate_orders": "pct",
                "cancel_rate_shares": "pct"}))

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    boxes = list(controls.values())
    return w.VBox([w.HBox(boxes[:3]), w.HBox(boxes[3:]), out])
