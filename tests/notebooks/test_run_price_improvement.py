"""Smoke: the batch runs the price-improvement notebook for the firm and each venue, offline HTML."""

import json

import nbformat
import pandas as pd
import pytest
from conftest import write_extracts
from fixtures.pi_case import FILLS, ORDERS, QUOTES

from bestex_nb.report.export import external_loads
from bestex_nb.report.runner import run_batch

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("run")
    data = write_extracts(tmp / "data", ORDERS, FILLS, QUOTES)
    result = run_batch("2026Q3", ["price_improvement"], data, store=str(tmp / "store.duckdb"),
                       outputs=tmp / "outputs", workers=2)
    return tmp, data, result


def test_reports_for_firm_and_each_venue(run):
    _, _, result = run
    assert sorted(r.scope for r in result.reports) == ["V1", "V2", "firm"]
    for report in result.reports:
        assert report.html.parent.name == report.scope and report.html.exists()
        assert report.html.relative_to(result.folder.parent.parent).parts[0] == "2026Q3"


def test_html_has_figures_and_loads_nothing(run):
    _, _, result = run
    html = result.reports[0].html.read_text()
    assert html.count("Plotly.newPlot") >= 4
    assert external_loads(html) == []
    assert "Net price improvement per share" in html and "Reconciliation and exclusions" in html


def test_parameters_recorded_and_tables_match_api(run):
    _, _, result = run
    v2 = next(r for r in result.reports if r.scope == "V2")
    nb = nbformat.read(v2.ipynb, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "venue = \"V2\"" in injected[0].source and "interactive = False" in injected[0].source
    table = pd.read_csv(v2.html.parent / "tables" / "pi_by_venue.csv")
    assert table["venue"].tolist() == ["V2"]
    assert table["net_pi_usd"].iloc[0] == pytest.approx(-0.375 * 0.0051)


def test_manifest_records_inputs_outputs_and_versions(run):
    _, _data, result = run
    manifest = json.loads(result.manifest.read_text())
    inputs = {i["path"] for i in manifest["inputs"]}
    assert {"orders.csv", "executions.csv", "nbbo.csv", "venues.csv", "securities.csv"} == inputs
    assert all(len(i["sha256"]) == 64 for i in manifest["inputs"])
    outputs = {o["path"] for o in manifest["outputs"]}
    assert "firm/price_improvement.html" in outputs and "V1/tables/pi_by_venue.csv" in outputs
    assert manifest["versions"]["duckdb"] == "2.0.0" and manifest["period"]["end_exclusive"] == "2026-10-01"


def test_a_second_run_never_overwrites_the_first(run):
    tmp, data, first = run
    second = run_batch("2026Q3", ["price_improvement"], data, store=str(tmp / "store.duckdb"),
                       venues=["V2"], outputs=tmp / "outputs", workers=1)
    assert second.folder != first.folder and first.manifest.exists()
    assert sorted(r.scope for r in second.reports) == ["V2", "firm"]
    # same inputs and parameters give the same numbers
    a = pd.read_csv(first.folder / "V2" / "tables" / "pi_by_venue.csv")
    b = pd.read_csv(second.folder / "V2" / "tables" / "pi_by_venue.csv")
    pd.testing.assert_frame_equal(a, b)


def test_report_draws_every_chart_in_chromium_offline(run):
    from conftest import require_chromium

    from bestex_nb.report import browser

    require_chromium()
    _, _, result = run
    firm = next(r for r in result.reports if r.scope == "firm")
    dom = browser.dump_dom(firm.html)
    assert dom.count("js-plotly-plot") >= 4, "a chart did not draw"
    assert "Net price improvement by venue, order type and size, in basis points" in dom  # the value-weighted chart leads
