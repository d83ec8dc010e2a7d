"""ipywidgets explorer for the limit-order fill review (JupyterLab only; never imported in batch runs).

The explorer filters the per-order frame and recomputes the fill rates (ratios of sums, like the API)
and the Kaplan–Meier curves in numpy, so a redraw takes milliseconds without a round trip to the store.
"""

from __future__ import annotations

import ipywidgets as w
import pandas as pd
from IPython.display import display

from bestex_nb.contract.buckets import DISTANCE_BUCKETS, LIMIT_CATEGORIES, SIZE_BUCKETS
from bestex_nb.dimensions.limit_fills.compute import LimitFills
from bestex_nb.dimensions.limit_fills.figures import survival_figure
from bestex_nb.interactive.price_improvement import ALL
from bestex_nb.interactive.price_improvement import filter_by as filter_orders
from bestex_nb.report import plots
from bestex_nb.stats.survival import survival_curves


def _options(values, order=None) -> list[str]:
    present = {str(v) for v in pd.unique(values) if pd.notna(v)}
    return [ALL] + ([v for v in order if v in present] if order else sorted(present))


def fill_rates(orders: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Orders, shares and fill rates re-aggregated from the per-order frame (ratios of sums)."""
    g = orders.groupby(by, as_index=False, observed=True).agg(
        orders=("order_id", "size"), order_shares=("quantity", "sum"), filled_shares=("filled_qty", "sum"),
        orders_filled=("is_any_fill", "sum"), cancelled_shares=("cancelled_qty", "sum"))
    g["fill_rate_shares"] = g["filled_shares"] / g["order_shares"]
    g["fill_rate_orders"] = g["orders_filled"] / g["orders"]
    g["cancel_rate_shares"] = g["cancelled_shares"] / g["order_shares"]
    return g[[*by, "orders", "order_shares", "fill_rate_shares", "fill_rate_orders", "cancel_rate_shares"]]


def limit_fill_explorer(lf: LimitFills, colors: dict) -> w.VBox:
    """Venue / category / size / distance / symbol filters that redraw the survival curves and fill rates."""
    orders = lf.orders
    controls = {
        "venue": w.Dropdown(options=_options(orders["venue"]), description="venue"),
        "order_category": w.Dropdown(options=_options(orders["order_category"], LIMIT_CATEGORIES),
                                     description="category"),
        "size_bucket": w.Dropdown(options=_options(orders["size_bucket"], SIZE_BUCKETS), description="size"),
        "distance_bucket": w.Dropdown(options=_options(orders["distance_bucket"], DISTANCE_BUCKETS),
                                      description="distance"),
        "symbol": w.Dropdown(options=_options(orders["symbol"]), description="symbol"),
    }
    out = w.Output()

    def redraw(_=None):
        sel = filter_orders(orders, **{col: c.value for col, c in controls.items()})
        with out:
            out.clear_output(wait=True)
            if sel.empty:
                print("No covered orders match these filters.")
                return
            curves = survival_curves(sel, ["venue", "order_category"])
            fig = survival_figure(curves, colors)
            fig.update_layout(title="P(no fill yet) for the filtered orders, with 95% bands")
            fig.show()
            table = fill_rates(sel, ["venue", "order_category"])
            display(plots.style_table(table, {"orders": "int", "order_shares": "{:,.0f}", "fill_rate_shares": "pct",
                                              "fill_rate_orders": "pct", "cancel_rate_shares": "pct"}))

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    boxes = list(controls.values())
    return w.VBox([w.HBox(boxes[:3]), w.HBox(boxes[3:]), out])
