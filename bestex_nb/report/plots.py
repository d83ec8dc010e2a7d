"""House plotly template, venue colours, number formats and tables for the review notebooks.

Notebooks call :func:`setup` once after their imports. Figures then use the ``bestex`` template, and
the kernel keeps plotly's default ``plotly_mimetype`` renderer: JupyterLab draws it natively and the
``bx_report`` nbconvert template draws it in the frozen HTML with plotly.js inlined once (see
``bestex_nb.report.export`` and shared/notes/stack-check.md section 3).
"""

from __future__ import annotations

import hashlib
import html
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from pandas.io.formats.style import Styler

from bestex_nb.contract import units

# the one set of formatters (tables, explorers, exception texts) lives in contract/units.py; FORMATS
# below names them for style_table
from bestex_nb.contract.units import fmt_bps, fmt_int, fmt_pct, fmt_shares, fmt_usd, fmt_usd0, fmt_usd_ps

ny_times = units.ny_times  # New York wall-clock text for people (the CSVs keep ISO UTC)
READING_TZ = units.READING_TZ

TEMPLATE_NAME = "bestex"

#: Qualitative palette for venues (Tableau 10): distinct, colour-blind-aware, prints well in grey.
VENUE_PALETTE: tuple[str, ...] = (
    "#4E79A7",  # blue
    "#F28E2B",  # orange
    "#E15759",  # red
    "#76B7B2",  # teal
    "#59A14F",  # green
    "#EDC948",  # yellow
    "#B07AA1",  # purple
    "#FF9DA7",  # pink
    "#9C755F",  # brown
    "#BAB0AC",  # grey
)

FONT_FAMILY = '"Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "Liberation Sans", sans-serif'

#: Shown in tables for a missing value (None / NaN), e.g. PI per share when no shares were filled.
NA_REP = units.NA_REP

#: Renderer the kernel keeps: a JSON mime bundle, drawn by JupyterLab and by the bx_report template.
KERNEL_RENDERER = "plotly_mimetype"


def _house_template() -> go.layout.Template:
    template = go.layout.Template(pio.templates["plotly_white"])
    template.layout.update(
        font={"family": FONT_FAMILY, "size": 14, "color": "#1f2328"},
        title={"font": {"size": 18}, "x": 0.0, "xanchor": "left"},
        colorway=list(VENUE_PALETTE),
        paper_bgcolor="white",
        plot_bgcolor="white",
        margin={"l": 70, "r": 30, "t": 70, "b": 60},
        legend={"bgcolor": "rgba(255,255,255,0.8)", "font": {"size": 13}},
        hoverlabel={"font": {"family": FONT_FAMILY, "size": 13}},
        separators=".,",
    )
    axis = {
        "showline": True,
        "linecolor": "#8c959f",
        "gridcolor": "#e6e9ed",
        "zerolinecolor": "#8c959f",
        "ticks": "outside",
        "tickcolor": "#8c959f",
        "title": {"font": {"size": 14}},
        "automargin": True,
    }
    template.layout.xaxis.update(axis)
    template.layout.yaxis.update(axis)
    return template


def _in_kernel() -> bool:
    """True inside a Jupyter kernel (JupyterLab, papermill, nbclient), False in a plain interpreter."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def setup() -> None:
    """Register and select the ``bestex`` plotly template; keep the kernel's mimetype renderer.

    Inside a Jupyter kernel the default renderer is set to ``plotly_mimetype`` (plotly's own kernel
    default). This also undoes a ``PLOTLY_RENDERER=notebook`` environment, which would embed a second
    plotly.js copy (and CDN tags) in every frozen report. Outside a kernel the renderer is left alone.

    Returns None, so it can end a notebook cell without printing anything.
    """
    pio.templates[TEMPLATE_NAME] = _house_template()
    pio.templates.default = TEMPLATE_NAME
    if _in_kernel() and pio.renderers.default != KERNEL_RENDERER:  # assigning activates it: 2 s
        pio.renderers.default = KERNEL_RENDERER


def venue_colors(venues: list[str]) -> dict[str, str]:
    """Fixed colour per venue, assigned in sorted venue-id order (palette cycles after 10 venues).

    Pass the whole venue universe of the review (not just one chart's venues), then reuse the mapping
    in every chart, e.g. ``color_discrete_map=venue_colors(all_venues)``: a venue keeps its colour.

    Parameters
    ----------
    venues : list of str
        Venue ids (MIC or internal ids); duplicates and order do not matter.

    Returns
    -------
    dict
        ``{venue_id: "#RRGGBB"}``, keys in sorted order.
    """
    ordered = sorted({str(v) for v in venues})
    return {venue: VENUE_PALETTE[i % len(VENUE_PALETTE)] for i, venue in enumerate(ordered)}


# ---------------------------------------------------------------------------------------------------
# Number formats (contract/units.py; named here for style_table)
# ---------------------------------------------------------------------------------------------------


FORMATS: dict[str, Callable[[Any], str]] = {
    "usd_ps": fmt_usd_ps,
    "usd": fmt_usd,
    "usd0": fmt_usd0,
    "bps": fmt_bps,
    "pct": fmt_pct,
    "int": fmt_int,
    "shares": fmt_shares,
}


def _formatter(spec: str | Callable[[Any], str]) -> str | Callable[[Any], str]:
    if callable(spec):
        return spec
    return FORMATS.get(spec, spec)  # a FORMATS key, or a format string such as "{:.2f}"


# ---------------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------------


def _stable_uuid(df: pd.DataFrame, extra: str) -> str:
    """A Styler id from the table's content, so re-running a notebook gives the same HTML."""
    digest = hashlib.sha256()
    digest.update(df.to_csv(index=True).encode())
    digest.update(extra.encode())
    return "bx" + digest.hexdigest()[:12]


def style_table(
    df: pd.DataFrame,
    formats: Mapping[str, str | Callable[[Any], str]] | None = None,
    *,
    caption: str | None = None,
) -> Styler:
    """A readable table for notebooks and the frozen HTML: formatted numbers, no index.

    Parameters
    ----------
    df : DataFrame
        The table to show, one row per displayed line; columns in display order.
    formats : mapping, optional
        ``{column: format}`` where format is a callable (``fmt_pct``), a key of :data:`FORMATS`
        (``"usd_ps"``, ``"usd"``, ``"pct"``, ``"int"``) or a format string (``"{:.2f}"``). Columns
        not listed show as pandas prints them. Missing values show as :data:`NA_REP`.
    caption : str, optional
        A title printed above the table.

    Returns
    -------
    Styler
        Display it as a cell's last expression.
    """
    formats = dict(formats or {})
    unknown = sorted(set(formats) - set(df.columns))
    if unknown:
        raise KeyError(f"style_table: formats name columns not in the table: {unknown}")
    styler = Styler(df, uuid=_stable_uuid(df, repr(sorted(formats)) + (caption or "")), cell_ids=False)
    styler = _escaped(no_mathjax(styler)).format({col: _formatter(spec) for col, spec in formats.items()}, na_rep=NA_REP,
                                     escape="html")
    styler = styler.hide(axis="index")
    # Numbers right-aligned under right-aligned headers, text left-aligned (JupyterLab's CSS
    # right-aligns every cell otherwise).
    numeric = {c for c in df.columns if pd.api.types.is_numeric_dtype(df[c]) or c in formats}
    per_column = {
        col: [
            {"selector": cell, "props": [("text-align", "right" if col in numeric else "left")]}
            for cell in ("th", "td")
        ]
        for col in df.columns
    }
    styler = styler.set_table_styles(per_column, overwrite=False)
    styler = styler.set_table_styles(
        [{"selector": "td, th", "props": [("padding", "4px 10px")]}],
        overwrite=False,
    )
    if caption:
        styler = styler.set_caption(html.escape(caption, quote=False))
    return styler


def no_mathjax(styler: Styler) -> Styler:
    """The table marked for MathJax to skip (the classes of MathJax 2 and 3; what pandas' option
    ``styler.html.mathjax = False`` adds, but kept by the Styler rather than read from a global option at
    display time). JupyterLab typesets every HTML output, so two cells like "+$0.0012" in one table would
    otherwise render as one formula; the frozen HTML loads no MathJax and is unaffected."""
    attributes = styler.table_attributes or ""
    if "mathjax_ignore" in attributes:
        return styler
    if 'class="' in attributes:
        return styler.set_table_attributes(attributes.replace('class="', 'class="tex2jax_ignore mathjax_ignore ', 1))
    return styler.set_table_attributes(f'{attributes} class="tex2jax_ignore mathjax_ignore"'.strip())


def _escaped(styler: Styler) -> Styler:
    """Every cell and column header shown as text: a data value such as ``<script>`` is escaped, never
    markup (pandas' Styler does not escape by default). Later ``format`` calls must pass ``escape``."""
    return styler.format(na_rep=NA_REP, escape="html").format_index(escape="html", axis=1)


def params_table(params: Mapping[str, Any], *, caption: str = "Run parameters") -> Styler:
    """Run parameters as a two-column table (``parameter``, ``value``), in the given order.

    Widgets do not survive the HTML export, so the frozen report shows the parameters this way.
    """
    rows = [{"parameter": str(k), "value": _param_text(v)} for k, v in params.items()]
    frame = pd.DataFrame(rows, columns=["parameter", "value"], dtype=object)
    styler = _escaped(no_mathjax(Styler(frame, uuid=_stable_uuid(frame, caption), cell_ids=False)))
    styler = styler.hide(axis="index").set_caption(html.escape(caption, quote=False))
    return styler.set_table_styles(
        [
            {"selector": "th, td", "props": [("text-align", "left"), ("padding", "4px 10px")]},
            {"selector": "td.col0", "props": [("font-family", "monospace")]},
        ],
        overwrite=False,
    )


def _param_text(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, set | frozenset):
        return ", ".join(sorted(str(v) for v in value))
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~$])")  # inline marks ($: MathJax in JupyterLab)


def md_escape(value: Any) -> str:
    """A data value (a venue id, a name) as literal text inside Markdown: HTML escaped and Markdown's
    marks backslashed, so ``<script>`` or ``**`` in an extract never becomes markup in the evidence."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(value), quote=True))
