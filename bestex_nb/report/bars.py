"""Bars that say how many orders they rest on (issue 19, honest precision).

Every bar of a review chart carries its order count in the hover; a bar resting on fewer orders than the
committee's ``display.min_orders_per_bar`` (parameters/defaults.yaml) is drawn faded, with its count
printed on it, so a tall bar of three orders is not read like one of three thousand.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

#: opacity of a bar resting on too few orders, and of the others
THIN_OPACITY, FULL_OPACITY = 0.3, 1.0


def fade_thin_bars(fig: go.Figure, min_orders: int, orders_index: int = 0) -> go.Figure:
    """Fade the bars of ``fig`` whose order count is below ``min_orders`` and print ``n=…`` on them.

    The count is read from each bar trace's ``customdata[:, orders_index]`` (plotly express puts the
    ``hover_data`` columns there in order: name ``orders`` first). Traces without customdata are left
    alone. Returns ``fig``, changed in place.
    """
    for trace in fig.data:
        if trace.type != "bar" or trace.customdata is None or len(trace.customdata) == 0:
            continue
        orders = np.asarray(trace.customdata, dtype=object)[:, orders_index].astype(float)
        thin = orders < min_orders
        trace.marker.opacity = np.where(thin, THIN_OPACITY, FULL_OPACITY).tolist()
        trace.text = [f"n={int(n):,}" if t else "" for n, t in zip(orders, thin)]
        trace.textposition = "outside"
        trace.textfont = {"size": 10, "color": "#57606a"}
        trace.cliponaxis = False
    if any(getattr(t, "text", None) is not None and any(t.text) for t in fig.data if t.type == "bar"):
        # a subtitle, not an annotation: it must not sit on a facet's title
        title = fig.layout.title.text or ""
        fig.update_layout(title_text=f"{title}<br><sup>faded bars rest on fewer than {min_orders:,} orders "
                                     "(count printed on them)</sup>")
    return fig
