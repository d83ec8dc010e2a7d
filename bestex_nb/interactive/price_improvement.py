"""ipywidgets explorer of the price-improvement review (JupyterLab only; never imported by batch code paths).

Each redraw asks the store for what it shows and nothing more: the filtered orders re-aggregated by DuckDB
(``sql/metrics/pi_filtered.sql``: ratios of sums, like the API) and one page of the orders that cost
customers money (``sql/metrics/pi_worst_orders.sql``, ORDER BY with LIMIT/OFFSET bound), so a redraw stays
small on a store of millions of orders. The filters reach SQL as bound parameters; ``(all)`` is null. The
drill-down is formatted as the static one above it (New York times, shares, USD per share), and the view
can be copied as the parameters of a batch run.
"""

from __future__ import annotations

import ipywidgets as w
import pandas as pd
import plotly.express as px
from IPython.display import display

from bestex_nb.contract.buckets import PI_CATEGORIES, SIZE_BUCKETS
from bestex_nb.dimensions.price_improvement import tables as pi_tables
from bestex_nb.dimensions.price_improvement.compute import PriceImprovement
from bestex_nb.interactive.controls import SEGMENTS, dropdown, filters_of, labelled, parameters_line
from bestex_nb.report import plots
from bestex_nb.review import Review

#: Orders per page of the explorer's drill-down.
PAGE_SIZE = 15
CATEGORY_LABELS = {"market": "market", "marketable_limit": "marketable limit"}


def worst_page(review: Review, period, filters: dict, page: int, page_size: int = PAGE_SIZE):
    """Page ``page`` (0, 1, ...) of the filled orders that cost customers money (net PI in USD below zero,
    most negative first) under ``filters``, and whether a next page exists (one row beyond the page is asked
    for to know it)."""
    rows = review.worst_orders(period, limit=page_size + 1, offset=page * page_size, **filters)
    losing = rows[rows["net_pi_usd"] < 0]
    return losing.head(page_size), len(losing) > page_size


def pi_explorer(review: Review, pi: PriceImprovement, colors: dict, page_size: int = PAGE_SIZE,
                drill: dict | None = None) -> w.VBox:
    """Venue / S&P 500 or other / order category / size / symbol filters that redraw the monthly net PI
    and the orders that cost customers money, a page at a time. ``drill``: initial filters
    (:func:`bestex_nb.contract.drill.parse_drill`)."""
    drill = drill or {}
    symbols = review.symbols(pi.period, "pi", pi.venue)
    controls = {
        "venue": dropdown(labelled(pi.by_venue["venue"]), "venue"),
        "is_sp500": dropdown(SEGMENTS, "stocks", drill.get("is_sp500")),
        "order_category": dropdown(labelled(pi.by_cell["order_category"], CATEGORY_LABELS, PI_CATEGORIES),
                                   "order type", drill.get("order_category")),
        "size_bucket": dropdown(labelled(pi.by_cell["size_bucket"], order=SIZE_BUCKETS), "size (USD)",
                                drill.get("size_bucket")),
        "symbol": dropdown(labelled(symbols), "symbol", drill.get("symbol")),
    }
    if pi.venue:  # a venue's report: the venue is fixed
        controls["venue"].disabled = True
    previous, following = w.Button(description="previous page"), w.Button(description="next page")
    out, copy = w.Output(), w.HTML()
    state = {"page": 0}

    def draw():
        filters = filters_of(controls, pi.venue)
        copy.value = parameters_line("price_improvement", pi.period,
                                     {k: v for k, v in filters.items() if k != "venue"}, filters["venue"])
        with out:
            out.clear_output(wait=True)
            monthly = review.pi_filtered(pi.period, ["venue", "month"], **filters)
            if monthly.empty:
                print("No covered orders match these filters.")
                box.shown = box.shown.iloc[:0]
                previous.disabled = following.disabled = True
                return
            fig = px.line(monthly, x="month", y="net_pi_bps", color="venue", markers=True,
                          color_discrete_map=colors, hover_data={"orders": ":,", "executed_shares": ":,.0f"},
                          category_orders={"venue": list(colors)},
                          title="Net price improvement by month, filtered orders (bp of the midpoint, value-weighted)",
                          labels={"net_pi_bps": "net PI (bp of the midpoint)", "month": "receipt month (New York)"})
            fig.update_yaxes(tickformat=".1f")
            fig.update_xaxes(type="category")
            fig.update_layout(height=380)
            fig.show()
            rows, more = worst_page(review, pi.period, filters, state["page"], page_size)
            box.shown = rows
            previous.disabled, following.disabled = state["page"] == 0, not more
            if rows.empty:
                print("No filled order matching these filters cost its customer money (net price improvement "
                      "below zero)." if state["page"] == 0 else "No more orders.")
                return
            display(plots.style_table(pi_tables.worst_orders_display(rows), pi_tables.WORST_DISPLAY_FORMATS,
                                      caption=f"Orders that cost customers most, page {state['page'] + 1} "
                                              f"({page_size} a page; times New York)"))

    def redraw(_=None):
        state["page"] = 0
        draw()

    def turn(step):
        def go(_=None):
            if (following if step > 0 else previous).disabled:
                return
            state["page"] = max(0, state["page"] + step)
            draw()
        return go

    for control in controls.values():
        control.observe(redraw, names="value")
    previous.on_click(turn(-1))
    following.on_click(turn(+1))
    c = list(controls.values())
    box = w.VBox([w.HBox(c[:3]), w.HBox(c[3:]), out, w.HBox([previous, following]), copy])
    box.controls = controls
    box.shown = pd.DataFrame()  # the page of orders on screen
    redraw()
    return box
