"""ipywidgets controls for interactive use in JupyterLab (never imported by batch code paths).

The explorer filters the per-order frame of a dimension and re-aggregates it (ratios of sums, like the
API) so a redraw takes milliseconds, without a round trip to the store.
"""

from __future__ import annotations

import ipywidgets as w
import pandas as pd
import plotly.express as px
from IPython.display import display

from bestex_nb.contract.buckets import SIZE_BUCKETS
from bestex_nb.dimensions.price_improvement.compute import PriceImprovement, aggregate_orders

ALL = "(all)"


def _options(values) -> list[str]:
    return [ALL] + sorted(str(v) for v in pd.unique(values) if pd.notna(v))


def filter_by(orders: pd.DataFrame, **chosen: str) -> pd.DataFrame:
    """The orders whose columns match the chosen values (``(all)`` matches everything)."""
    mask = pd.Series(True, index=orders.index)
    for col, value in chosen.items():
        if value != ALL:
            mask &= orders[col].astype(str) == value
    return orders[mask]


def filter_orders(orders: pd.DataFrame, venue=ALL, category=ALL, size=ALL, symbol=ALL) -> pd.DataFrame:
    """The orders matching the price-improvement explorer's filters."""
    return filter_by(orders, venue=venue, order_category=category, size_bucket=size, symbol=symbol)


def pi_explorer(pi: PriceImprovement, colors: dict) -> w.VBox:
    """Venue / order category / size bucket / symbol filters that redraw PI charts and the worst orders."""
    orders = pi.orders
    venue = w.Dropdown(options=_options(orders["venue"]), description="venue")
    category = w.Dropdown(options=_options(orders["order_category"]), description="category")
    size = w.Dropdown(options=[ALL] + [b for b in SIZE_BUCKETS if b in set(orders["size_bucket"])],
                      description="size")
    symbol = w.Dropdown(options=_options(orders["symbol"]), description="symbol")
    out = w.Output()

    def redraw(_=None):
        sel = filter_orders(orders, venue.value, category.value, size.value, symbol.value)
        with out:
            out.clear_output(wait=True)
            if sel.empty:
                print("No covered orders match these filters.")
                return
            monthly = aggregate_orders(sel, ["venue", "month"])
            fig = px.line(monthly, x="month", y="net_pi_ps", color="venue", markers=True,
                          color_discrete_map=colors, title="Net PI per share by month (filtered)",
                          labels={"net_pi_ps": "net PI per share (USD)"})
            fig.update_yaxes(tickformat="$.4f")
            fig.update_xaxes(type="category")
            fig.update_layout(height=380)
            fig.show()
            worst = sel[sel["executed_shares"] > 0].nsmallest(15, "net_pi_usd")
            display(worst[["order_id", "venue", "symbol", "side", "received_at", "quantity", "nbb_r", "nbo_r",
                           "avg_price", "net_pi_ps", "net_pi_usd"]])

    for control in (venue, category, size, symbol):
        control.observe(redraw, names="value")
    redraw()
    return w.VBox([w.HBox([venue, category]), w.HBox([size, symbol]), out])
