"""Frozen HTML reports: plotly drawn from one inlined plotly.js, zero network loads, reproducible bytes,
and a headless Chromium with no network actually draws the chart.

Chromium tests skip locally when no Chromium is installed, but fail under CI=true: on CI the browser
check is part of the evidence that reports open offline.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import nbformat
import pytest

from bestex_nb.build.hashing import sha256_file
from bestex_nb.report import browser, export

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "notebooks" / "fixtures" / "plotly_smoke.ipynb"
TITLE = "Offline smoke: PI by venue"
PLOTLY_JS_HEADER = "* plotly.js v"  # the licence comment that opens plotly.min.js


def _kernel_env(mp: pytest.MonkeyPatch) -> None:
    """Let the kernel import this checkout's bestex_nb even when the package is not installed."""
    current = os.environ.get("PYTHONPATH")
    mp.setenv("PYTHONPATH", str(REPO) + (os.pathsep + current if current else ""))


@pytest.fixture(scope="module")
def frozen(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("frozen")
    with pytest.MonkeyPatch.context() as mp:
        _kernel_env(mp)
        ipynb = out / "plotly_smoke.ipynb"
        export.execute_notebook(FIXTURE, ipynb, {"title": TITLE}, cwd=out)
    html = export.export_html(ipynb, out / "plotly_smoke.html")
    return {"dir": out, "ipynb": ipynb, "html": html}


def _require_chromium() -> None:
    if browser.chromium_path() is None:
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail("CI=true but no Chromium found: install Debian 'chromium' (or set BESTEX_CHROMIUM)")
        pytest.skip("no Chromium installed (required on CI)")


# ---------------------------------------------------------------------------------------------------
# external_loads: fast, no kernel
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<script src="https://cdn.plot.ly/plotly.min.js"></script>', 1),
        ("<script src='http://x.org/require.js'></script>", 1),
        ('<link rel="stylesheet" href="//fonts.example.com/a.css">', 1),
        ('<img src="HTTPS://example.com/logo.png"/>', 1),
        ('<img srcset="a.png 1x, https://example.com/b.png 2x">', 1),
        ('<script>var topojsonURL = "https://cdn.plot.ly/un/"; "<img src=\\"https://x\\">";</script>', 0),
        ('<a href="https://www.finra.org/rules">Rule 5310</a>', 0),
        ('<img src="data:image/png;base64,AAAA"><script src="local.js"></script>', 0),
        ("<p>see https://example.com</p>", 0),
    ],
)
def test_external_loads(html: str, expected: int) -> None:
    assert len(export.external_loads(html)) == expected


# ---------------------------------------------------------------------------------------------------
# Export: papermill + nbconvert
# ---------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_executed_notebook_records_parameters(frozen: dict[str, Path]) -> None:
    nb = nbformat.read(frozen["ipynb"], as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    assert f'title = "{TITLE}"' in injected[0].source
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    mimetypes = {m for c in nb.cells for o in c.get("outputs", []) for m in o.get("data", {})}
    assert "application/vnd.plotly.v1+json" in mimetypes  # the kernel kept plotly's default renderer


@pytest.mark.slow
def test_html_is_self_contained(frozen: dict[str, Path]) -> None:
    html = frozen["html"].read_text(encoding="utf-8")
    assert html.count(PLOTLY_JS_HEADER) == 1, "plotly.js must be inlined exactly once"
    assert html.count("Plotly.newPlot(") >= 1
    assert export.external_loads(html) == []
    assert "<script src=" not in html
    assert TITLE in html  # the injected parameter reached the figure
    for cell_text in ("$0.0123", "-$0.0012", "12.3%", "7,890", "Run parameters"):
        assert cell_text in html  # style_table / params_table formatting
    assert "px.bar(" not in html  # code hidden
    assert "plotly_mimetype" not in html  # plots.setup() prints nothing


@pytest.mark.slow
def test_export_is_byte_identical(frozen: dict[str, Path]) -> None:
    again = export.export_html(frozen["ipynb"], frozen["dir"] / "again.html")
    export._exporter.cache_clear()  # a fresh exporter, as in a new process
    fresh = export.export_html(frozen["ipynb"], frozen["dir"] / "fresh.html")
    first = frozen["html"].read_bytes()
    assert again.read_bytes() == first
    assert fresh.read_bytes() == first
    assert sha256_file(fresh) == sha256_file(frozen["html"])


@pytest.mark.slow
def test_export_with_code(frozen: dict[str, Path]) -> None:
    html = export.export_html(frozen["ipynb"], frozen["dir"] / "with_code.html", hide_code=False)
    text = html.read_text(encoding="utf-8")
    assert 'class="jp-InputArea' in text and "color_discrete_map" in text  # highlighted source shown
    assert export.external_loads(text) == []


@pytest.mark.slow
def test_failing_cell_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import papermill as pm

    _kernel_env(monkeypatch)
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("n: int = 1", metadata={"tags": ["parameters"]}),
            nbformat.v4.new_code_cell("raise ValueError(f'boom {n}')"),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    src = tmp_path / "fails.ipynb"
    nbformat.write(nb, src)
    with pytest.raises(pm.PapermillExecutionError, match="boom 7"):
        export.execute_notebook(src, tmp_path / "out" / "fails.ipynb", {"n": 7})
    assert (tmp_path / "out" / "fails.ipynb").exists()  # the failed run is still recorded


# ---------------------------------------------------------------------------------------------------
# Browser: headless Chromium, no network
# ---------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_chromium_draws_chart_offline(frozen: dict[str, Path]) -> None:
    _require_chromium()
    dom = browser.dump_dom(frozen["html"])
    assert 'class="main-svg"' in dom, "plotly did not draw the figure"
    assert "js-plotly-plot" in dom
    assert TITLE in dom
    assert "$0.0123" in dom


@pytest.mark.slow
def test_chromium_screenshot(frozen: dict[str, Path], tmp_path: Path) -> None:
    _require_chromium()
    png = browser.screenshot(frozen["html"], tmp_path / "report.png", width=1200, height=1600)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1200, 1600)
    # A blank white page compresses to a few KB; the drawn chart and tables give tens of KB.
    assert len(data) > 20_000, f"screenshot only {len(data)} bytes: page likely blank"
