"""Live review notebooks in JupyterLab: every notebooks/*.ipynb, opened in headless Chromium and Run All.

What a reviewer sees in JupyterLab is not what the frozen HTML shows: JupyterLab runs MathJax over every
HTML output (a table cell pair like "$0.01 ... $0.02" becomes a formula), plotly draws through its
JupyterLab extension and the explorers are live ipywidgets. This test starts JupyterLab on 127.0.0.1 with a
token on a free port, over a temporary copy of the notebooks (JupyterLab autosaves) and a small generated
sample quarter with its store built beforehand, and for each notebook checks that:

- every code cell executed (has an execution count) and no output is an error;
- no output was typeset by MathJax (``mjx-container``, ``.MathJax``): a probe cell appended to the copy
  shows an HTML output with ``$x^2$`` last, and is typeset, so MathJax did run over the outputs before it;
- every plotly figure drew (``.js-plotly-plot`` with its svg);
- choosing a venue in the explorer redraws its figure within 1 s (timed in the page from the change event
  to the new figure's traces in its svg, by a MutationObserver) and the new figure shows only that venue.

JupyterLab runs with notebook windowing off (every cell in the DOM, as it was before JupyterLab 4), so
every output can be inspected; its own state (settings, workspaces, runtime) lives in the temporary folder.

Every request outside the local server is aborted. Skips locally without playwright or Chromium; fails
under CI=true, where .ci/run installs both.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bestex_nb.report import browser

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))
ON_CI = os.environ.get("CI", "").strip().lower() == "true"
REDRAW_BOUND_MS = 1000  # a functional bound, generous for a tiny store
PROBE_CLASS = "bx-mathjax-probe"
#: small enough to build in seconds, large enough that every figure and table of both reviews has rows
SAMPLE_ORDERS, SAMPLE_QUOTES = 3000, 150_000


def _require(what: str, ok: bool) -> None:
    if not ok:
        if ON_CI:
            pytest.fail(f"CI=true but {what} is missing (.ci/run installs it)")
        pytest.skip(f"{what} not installed (required on CI)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _copy_with_probe(src: Path, dst: Path) -> None:
    """The notebook with one code cell appended whose HTML output holds ``$x^2$``: MathJax typesets it
    after every output above it, which makes "no output typeset" a finding rather than a timing."""
    nb = json.loads(src.read_text(encoding="utf-8"))
    source = f"from IPython.display import HTML\nHTML('<p class=\"{PROBE_CLASS}\">$x^2$</p>')"
    nb["cells"].append({"cell_type": "code", "execution_count": None, "id": "bx-mathjax-probe",
                        "metadata": {}, "outputs": [], "source": source})
    dst.write_text(json.dumps(nb, indent=1), encoding="utf-8")


def _write_lab_settings(folder: Path) -> None:
    """Every cell in the DOM (no virtual scrolling), no news or update checks (no outside requests)."""
    settings = {
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                             "checkForUpdates": False},
    }
    for rel, values in settings.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory):
    """JupyterLab on 127.0.0.1 over <tmp>/notebooks (copies) and <tmp>/data/sample (store built)."""
    _require("Chromium", browser.chromium_path() is not None)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _require("the playwright package", False)
    from bestex_nb.build.store import build, default_store_path
    from bestex_nb.sample import generate

    root = tmp_path_factory.mktemp("live")
    (root / "notebooks").mkdir()
    for name in NOTEBOOKS:
        _copy_with_probe(REPO / "notebooks" / name, root / "notebooks" / name)
    data = root / "data" / "sample"  # the notebooks' default data_dir, relative to notebooks/
    generate(data, seed=20260930, orders=SAMPLE_ORDERS, quotes_target=SAMPLE_QUOTES)
    env = {**os.environ, "BESTEX_STORE_DIR": str(root / "stores"), "BESTEX_PARAMETERS": str(REPO / "parameters"),
           "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]),
           "JUPYTER_CONFIG_DIR": str(root / "jupyter" / "config"),
           "JUPYTER_DATA_DIR": str(root / "jupyter" / "data"),
           "JUPYTER_RUNTIME_DIR": str(root / "jupyter" / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(root / "jupyter" / "lab-settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(root / "jupyter" / "workspaces"),
           "IPYTHONDIR": str(root / "jupyter" / "ipython")}
    env.pop("PLOTLY_RENDERER", None)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BESTEX_STORE_DIR", env["BESTEX_STORE_DIR"])
        build(data, default_store_path(data))  # the path open_review(data_dir) finds in the kernel
    _write_lab_settings(Path(env["JUPYTERLAB_SETTINGS_DIR"]))

    port, token = _free_port(), secrets.token_hex(16)
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
           "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(root / "jupyterlab.log", "wb")  # noqa: SIM115 (closed at teardown)
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                req = urllib.request.Request(f"{base}/api/status", headers={"Authorization": f"token {token}"})
                with urllib.request.urlopen(req, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("JupyterLab did not start:\n" + (root / "jupyterlab.log").read_text()[-3000:])
            time.sleep(0.3)
        yield {"base": base, "token": token, "root": root}
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


# --- in-page scripts (window.jupyterapp: --LabApp.expose_app_in_browser) ---------------------------

_NOTEBOOK_READY = """(name) => {
  const nb = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (!nb || !nb.content || !nb.sessionContext || !nb.context.path.endsWith(name)) return false;
  const kernel = nb.sessionContext.session && nb.sessionContext.session.kernel;
  return !!kernel && kernel.status === 'idle' && nb.content.widgets.length > 0;
}"""

_RUN_ALL = """async () => {  // clearing first also clears execution counts a saved notebook may carry
  await window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs');
  await window.jupyterapp.commands.execute('notebook:run-all-cells');
}"""

_CELLS_DONE = """() => {
  const nb = window.jupyterapp.shell.currentWidget;
  const code = nb.content.widgets.filter(c => c.model.type === 'code');
  return nb.sessionContext.session.kernel.status === 'idle' && code.every(c => c.model.executionCount);
}"""

_CELLS = """() => window.jupyterapp.shell.currentWidget.content.widgets
  .filter(c => c.model.type === 'code')
  .map(c => ({count: c.model.executionCount, source: c.model.sharedModel.getSource().slice(0, 80),
              outputs: c.model.outputs.toJSON().map(o => ({type: o.output_type, ename: o.ename || null,
                                                           evalue: o.evalue || null,
                                                           mimes: Object.keys(o.data || {})}))}))"""

_PROBE_TYPESET = f"""() => !!document.querySelector('.{PROBE_CLASS} mjx-container')"""

_TYPESET_OUTPUTS = f"""() => [...document.querySelectorAll(
    '.jp-Cell-outputWrapper mjx-container, .jp-Cell-outputWrapper .MathJax, .jp-Cell-outputWrapper .MathJax_Display')]
  .filter(e => !e.closest('.{PROBE_CLASS}'))
  .map(e => (e.closest('td, th, p, div') || e).textContent.slice(0, 120))"""

_PLOTS = """() => [...document.querySelectorAll('.jp-Cell-outputWrapper .js-plotly-plot')]
  .map(e => !!e.querySelector('svg.main-svg') && e.querySelectorAll('svg.main-svg *').length > 0)"""

_REDRAW = """async (boundMs) => {
  const select = document.querySelector('.jp-Cell-outputWrapper .widget-dropdown select');
  if (!select) return {error: 'no explorer dropdown'};
  const box = select.closest('.widget-vbox');
  const before = [...box.querySelectorAll('.js-plotly-plot')];
  if (before.length === 0) return {error: 'the explorer shows no figure before the change'};
  before.forEach(e => { e.dataset.bxOld = '1'; });
  const names = gd => [...new Set((gd.data || []).map(t => t.name).filter(n => n))].sort();  // bands have none
  const oldNames = names(before[0]);
  const label = select.closest('.widget-dropdown').querySelector('label');
  const fresh = () => [...box.querySelectorAll('.js-plotly-plot')]
    .find(e => !e.dataset.bxOld && e.querySelector('svg.main-svg .cartesianlayer .trace'));  // traces drawn
  return await new Promise(resolve => {
    let t0 = 0;
    const done = (gd) => {
      obs.disconnect();
      resolve({ms: performance.now() - t0, control: label ? label.textContent : null, value: select.value,
               before: oldNames, after: gd ? names(gd) : null});
    };
    const obs = new MutationObserver(() => { const gd = fresh(); if (gd) done(gd); });
    obs.observe(box, {childList: true, subtree: true});
    setTimeout(() => done(null), 20 * boundMs);
    t0 = performance.now();
    select.selectedIndex = 1;
    select.dispatchEvent(new Event('change', {bubbles: true}));
  });
}"""

# issue 25: WSB's S&P 500 market orders in two clicks. The venue back to (all), then "stocks" → S&P 500
# and "order type" → market: the redrawn figure has every venue's line (WSB's among them) and the
# explorer's copy-as-parameters line names exactly those two filters.
_TWO_CLICKS = """async () => {
  const box = document.querySelector('.jp-Cell-outputWrapper .widget-dropdown select').closest('.widget-vbox');
  const pick = (labelText, optionText) => {
    const dd = [...box.querySelectorAll('.widget-dropdown')]
      .find(d => (d.querySelector('label') || {}).textContent === labelText);
    const select = dd.querySelector('select');
    const index = [...select.options].findIndex(o => o.textContent.replace(/\u00a0/g, ' ').trim() === optionText);
    if (index < 0) return [...select.options].map(o => JSON.stringify(o.textContent)).join('|');
    select.selectedIndex = index;
    select.dispatchEvent(new Event('change', {bubbles: true}));
    return index;
  };
  const settle = () => new Promise(r => setTimeout(r, 1500));
  pick('venue', '(all)'); await settle();
  const a = pick('stocks', 'S&P 500'); await settle();
  const b = pick('order type', 'market'); await settle();
  const gd = box.querySelector('.js-plotly-plot');
  const names = [...new Set((gd.data || []).map(t => t.name).filter(n => n))].sort();
  return {picked: [a, b], names, copy: box.querySelector('.widget-html-content').textContent};
}"""

_SHUTDOWN = """async () => { await window.jupyterapp.shell.currentWidget.sessionContext.shutdown(); }"""


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_live_in_jupyterlab(lab, name: str) -> None:
    from playwright.sync_api import sync_playwright

    base, started = lab["base"], time.perf_counter()
    aborted: list[str] = []
    page_errors: list[str] = []

    def only_local(route) -> None:
        if route.request.url.startswith(base + "/"):
            route.continue_()
        else:
            aborted.append(route.request.url)
            route.abort()

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=browser.chromium_path(), headless=True,
                                      args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            context = chromium.new_context(viewport={"width": 1400, "height": 1000})
            context.route("**/*", only_local)
            page = context.new_page()
            page.on("pageerror", lambda e: page_errors.append(str(e)))
            # a workspace of its own, reset: only this notebook opens (not the tabs a previous test left)
            page.goto(f"{base}/lab/workspaces/live-{Path(name).stem}/tree/notebooks/{name}"
                      f"?reset&token={lab['token']}")
            page.wait_for_function(_NOTEBOOK_READY, arg=name, timeout=90_000, polling=250)
            page.evaluate(_RUN_ALL)
            page.wait_for_function(_CELLS_DONE, timeout=120_000, polling=250)
            cells = page.evaluate(_CELLS)
            plotly_outputs = sum("application/vnd.plotly.v1+json" in o["mimes"] for c in cells for o in c["outputs"])
            # the probe is the last output: once it is typeset, MathJax has been over every output above it
            page.wait_for_function(_PROBE_TYPESET, timeout=30_000, polling=100)
            page.wait_for_function(f"() => ({_PLOTS})().filter(Boolean).length >= {plotly_outputs}",
                                   timeout=30_000, polling=250)
            typeset = page.evaluate(_TYPESET_OUTPUTS)
            plots = page.evaluate(_PLOTS)
            redraw = page.evaluate(_REDRAW, REDRAW_BOUND_MS)
            two_clicks = page.evaluate(_TWO_CLICKS) if name == "price_improvement.ipynb" else None
            # for whoever reads a failure: the explorer after the redraw, next to jupyterlab.log
            page.locator(".jp-Cell-outputWrapper .widget-vbox").first.screenshot(
                path=str(lab["root"] / f"{Path(name).stem}-explorer.png"))
            page.evaluate(_SHUTDOWN)  # the next notebook's kernel opens the same store
        finally:
            chromium.close()
    elapsed = time.perf_counter() - started
    print(f"{name}: {len(cells)} code cells, {plotly_outputs} plotly outputs, explorer redraw "
          f"{redraw.get('ms')} ms ({redraw.get('control')}={redraw.get('value')}), {elapsed:.1f} s, "
          f"{len(aborted)} outside requests aborted")

    assert [c["source"] for c in cells if not c["count"]] == [], "code cells not executed"
    errors = [(c["source"], o["ename"], o["evalue"]) for c in cells for o in c["outputs"] if o["type"] == "error"]
    assert errors == []
    assert typeset == [], f"outputs rendered as maths by MathJax: {typeset}"
    assert plotly_outputs >= 1 and len(plots) >= plotly_outputs and all(plots), \
        f"plotly figures not drawn: {plots} ({plotly_outputs} plotly outputs)"
    assert "error" not in redraw, redraw["error"]
    assert redraw["after"] is not None, f"the explorer's figure was not redrawn: {redraw}"
    assert redraw["control"] == "venue" and redraw["after"] == [redraw["value"]] != redraw["before"], redraw
    assert redraw["ms"] < REDRAW_BOUND_MS, f"explorer redraw took {redraw['ms']:.0f} ms"
    assert page_errors == [], page_errors
    if two_clicks is not None:  # the sample's planted WSB fall is in S&P 500 market orders
        assert min(two_clicks["picked"]) > 0 and "WSB" in two_clicks["names"], two_clicks
        assert 'drill = "is_sp500=true order_category=market"' in two_clicks["copy"], two_clicks


def test_every_table_of_ours_is_marked_for_mathjax_to_skip() -> None:
    """Fast twin of the live check: the Stylers behind every notebook table carry MathJax's ignore classes
    (the live test proves JupyterLab honours them), and marking twice or over a class keeps one of each."""
    import pandas as pd

    from bestex_nb.report import plots

    frame = pd.DataFrame({"change": ["+$0.0012", "-$0.0030"]})
    for styler in (plots.style_table(frame), plots.params_table({"from": "$1", "to": "$2"})):
        assert styler.to_html().count('class="tex2jax_ignore mathjax_ignore"') == 1
    twice = plots.no_mathjax(plots.no_mathjax(plots.style_table(frame).set_table_attributes('class="wide"')))
    assert twice.table_attributes == 'class="tex2jax_ignore mathjax_ignore wide"'
