"""Smoke: the batch runs the limit-order fill notebook for the firm and each venue, offline HTML."""

import nbformat
import pandas as pd
import pytest
from conftest import write_extracts
from fixtures.limit_case import FILLS, ORDERS, QUOTES

from bestex_nb.report.export import external_loads
from bestex_nb.report.runner import run_batch

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("run")
    data = write_extracts(tmp / "data", ORDERS, FILLS, QUOTES)
    return run_batch("2026Q3", ["limit_fill_likelihood"], data, store=str(tmp / "store.duckdb"),
                     outputs=tmp / "outputs", workers=2)


def test_reports_for_firm_and_each_venue(run):
    assert sorted(r.scope for r in run.reports) == ["V1", "V2", "firm"]
    html = next(r for r in run.reports if r.scope == "firm").html.read_text()
    assert html.count("Plotly.newPlot") >= 4 and external_loads(html) == []
    for text in ("Kaplan–Meier probability", "Rule 5310 .05", "Reconciliation and exclusions", "Provenance"):
        assert text in html


def test_parameters_recorded_and_tables_match_api(run):
    v1 = next(r for r in run.reports if r.scope == "V1")
    nb = nbformat.read(v1.ipynb, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "interactive = False" in injected[0].source
    table = pd.read_csv(v1.html.parent / "tables" / "limit_fills_by_venue_category.csv")
    assert set(table["venue"]) == {"V1"}
    at_quote = table.set_index("order_category").loc["at_quote_limit"]
    assert at_quote["fill_rate_shares"] == pytest.approx(50 / 400)
    exceptions = pd.read_csv(v1.html.parent / "tables" / "rule5310_05_exceptions.csv")
    assert exceptions["order_id"].tolist() == ["L9"]


def test_report_draws_every_chart_in_chromium_offline(run):
    from conftest import require_chromium

    from bestex_nb.report import browser

    require_chromium()
    firm = next(r for r in run.reports if r.scope == "firm")
    dom = browser.dump_dom(firm.html)
    assert dom.count("js-plotly-plot") >= 4, "a chart did not draw"
