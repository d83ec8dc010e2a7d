"""ipywidgets controls for interactive use in JupyterLab (never imported by batch code paths).

Each redraw asks the store for what it shows and nothing more: the filtered orders re-aggregated by DuckDB
(``sql/metrics/pi_filtered.sql``: ratios of sums, like the API) and one page of the costliest orders
(``sql/metrics/pi_worst_orders.sql``, ORDER BY with LIMIT/OFFSET bound), so a redraw stays small on a
store of millions of orders. The filters reach SQL as bound parameters; ``(all)`` is null.
"""

from __future__ import annotations

import ipywidgets as w
import pandas as pd
import plotly.express as px
from IPython.display import display

from bestex_nb.contract.buckets import SIZE_BUCKETS
from bestex_nb.dimensions.price_improvement.compute import PriceImprovement
from bestex_nb.review import Review

ALL = "(all)"
#: Orders per page of the explorer's drill-down.
PAGE_SIZE = 15
WORST_COLUMNS = ["order_id", "venue", "symbol", "side", "received_at", "quantity", "nbb_r", "nbo_r",
                 "avg_price", "net_pi_ps", "net_pi_usd"]


def options(values, order=None) -> list[str]:
    """``(all)`` then the distinct values present (in ``order`` when given, else sorted)."""
    present = {str(v) for v in pd.unique(pd.Series(values)) if pd.notna(v)}
    return [ALL] + ([v for v in order if v in present] if order else sorted(present))


def chosen(report_venue: str | None, **values: str) -> dict[str, str | None]:
    """The dropdowns' values as query filters: ``(all)`` is None; the venue of a venue report stays."""
    filters = {col: (None if v == ALL else v) for col, v in values.items()}
    if filters.get("venue") is None:
        filters["venue"] = report_venue
    return filters


def worst_page(review: Review, period, filters: dict, page: int, page_size: int = PAGE_SIZE):
    """Page ``page`` (0, 1, ...) of the filled orders that cost customers most under ``filters``, and
    whether a next page exists (one row beyond the page is asked for to know it)."""
    rows = review.worst_orders(period, limit=page_size + 1, offset=page * page_size, **filters)
    return rows.head(page_size), len(rows) > page_size


def pi_explorer(review: Review, pi: PriceImprovement, colors: dict, page_size: int = PAGE_SIZE) -> w.VBox:
    """Venue / order category / size bucket / symbol filters that redraw the monthly net PI and the
    costliest orders, a page at a time (previous / next)."""
    symbols = review.symbols(pi.period, "pi", pi.venue)
    venue = w.Dropdown(options=options(pi.by_venue["venue"]), description="venue")
    category = w.Dropdown(options=options(pi.by_cell["order_category"]), description="category")
    size = w.Dropdown(options=options(pi.by_cell["size_bucket"], SIZE_BUCKETS), description="size")
    symbol = w.Dropdown(options=options(symbols), description="symbol")
    previous, following = w.Button(description="previous page"), w.Button(description="next page")
    out = w.Output()
    state = {"page": 0}

    def draw():
        filters = chosen(pi.venue, venue=venue.value, order_category=category.value, size_bucket=size.value,
                         symbol=symbol.value)
        with out:
            out.clear_output(wait=True)
            monthly = review.pi_filtered(pi.period, ["venue", "month"], **filters)
            if monthly.empty:
                print("No covered orders match these filters.")
                box.shown = box.shown.iloc[:0]
                previous.disabled = following.disabled = True
                return
            fig = px.line(monthly, x="month", y="net_pi_ps", color="venue", markers=True,
                          color_discrete_map=colors, title="Net PI per share by month (filtered)",
                          labels={"net_pi_ps": "net PI per share (USD)"})
            fig.update_yaxes(tickformat="$.4f")
            fig.update_xaxes(type="category")
            fig.update_layout(height=380)
            fig.show()
            rows, more = worst_page(review, pi.period, filters, state["page"], page_size)
            box.shown = rows[WORST_COLUMNS]
            print(f"Costliest filled orders, page {state['page'] + 1} ({page_size} a page)")
            display(box.shown)
            previous.disabled, following.disabled = state["page"] == 0, not more

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

    for control in (venue, category, size, symbol):
        control.observe(redraw, names="value")
    previous.on_click(turn(-1))
    following.on_click(turn(+1))
    box = w.VBox([w.HBox([venue, category]), w.HBox([size, symbol]), out, w.HBox([previous, following])])
    box.shown = pd.DataFrame(columns=WORST_COLUMNS)  # the page of orders on screen
    redraw()
    return box
