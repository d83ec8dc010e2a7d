"""What both explorers share: dropdowns with human labels whose values are the query's filters (None =
all), set from a drill-down text, and the "copy as parameters" line that reproduces a view in a batch run
(:mod:`bestex_nb.contract.drill`)."""

from __future__ import annotations

import html

import ipywidgets as w
import pandas as pd

from bestex_nb.contract.drill import drill_text

ALL = "(all)"
SEGMENTS = [(ALL, None), ("S&P 500", True), ("other stocks", False)]


def labelled(values, labels: dict | None = None, order=None) -> list[tuple[str, object]]:
    """``(all)`` then the distinct values present, as (label, value) pairs, in ``order`` when given."""
    present = {v for v in pd.unique(pd.Series(values)) if pd.notna(v)}
    ordered = [v for v in order if v in present] if order else sorted(present, key=str)
    labels = labels or {}
    return [(ALL, None)] + [(str(labels.get(v, v)), v) for v in ordered]


def dropdown(pairs: list[tuple[str, object]], description: str, initial=None) -> w.Dropdown:
    values = [v for _, v in pairs]
    return w.Dropdown(options=pairs, value=initial if initial in values else None, description=description,
                      style={"description_width": "initial"})


def filters_of(controls: dict[str, w.Dropdown], report_venue: str | None) -> dict:
    """The controls' values as query filters; a venue report keeps its venue."""
    out = {name: c.value for name, c in controls.items()}
    if out.get("venue") is None:
        out["venue"] = report_venue
    return out


def parameters_line(notebook: str, period: str, filters: dict, report_venue: str | None) -> str:
    """The explorer's view as the parameters of a batch run (HTML, for a w.HTML)."""
    venue = filters.get("venue") or report_venue
    drill = drill_text(filters)
    command = (f"bestex run --period {period} --notebook {notebook}"
               + (f" --venue {venue}" if venue else "") + (f' --drill "{drill}"' if drill else ""))
    return ("<div style='font-size:12px;color:#57606a'>This view as batch parameters: "
            f"<code>drill = \"{html.escape(drill)}\"</code>{' · venue = ' + html.escape(venue) if venue else ''}"
            f"<br><code>{html.escape(command)}</code></div>")
