"""Thin bars are faded and carry their order count (issue 19, item 5)."""

import pandas as pd
import plotly.express as px

from bestex_nb.report.bars import FULL_OPACITY, THIN_OPACITY, fade_thin_bars


def _fig():
    df = pd.DataFrame({"venue": ["A", "A", "B"], "size": ["s", "m", "s"], "y": [0.01, 0.02, -0.01],
                       "orders": [12, 400, 30], "executed_shares": [1200.0, 40000.0, 3000.0]})
    return px.bar(df, x="size", y="y", color="venue", barmode="group",
                  hover_data={"orders": ":,", "executed_shares": ":,.0f"})


def test_bars_below_the_minimum_are_faded_with_their_count():
    fig = fade_thin_bars(_fig(), min_orders=30)
    a, b = fig.data
    assert list(a.marker.opacity) == [THIN_OPACITY, FULL_OPACITY]
    assert list(a.text) == ["n=12", ""]
    # exactly the minimum is enough
    assert list(b.marker.opacity) == [FULL_OPACITY] and list(b.text) == [""]
    assert "fewer than 30 orders" in fig.layout.title.text


def test_no_thin_bar_no_note():
    fig = fade_thin_bars(_fig(), min_orders=5)
    assert all(o == FULL_OPACITY for t in fig.data for o in t.marker.opacity)
    assert "fewer than" not in (fig.layout.title.text or "")
