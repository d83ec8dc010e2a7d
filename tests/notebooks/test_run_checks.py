"""`bestex run` checks what it can before any notebook starts, and a run that fails part-way is marked
failed, never left looking finished (issue 17, item 5: the runner's part)."""

import json

import nbformat
import pytest
from conftest import write_extracts
from fixtures.pi_case import FILLS, ORDERS, QUOTES

from bestex_nb import cli
from bestex_nb.contract import parameters
from bestex_nb.contract.errors import BestexError, EmptyPeriodError, PeriodError
from bestex_nb.report import runner
from bestex_nb.report.runner import run_batch

pytestmark = pytest.mark.slow


@pytest.fixture
def data(tmp_path):
    return write_extracts(tmp_path / "data", ORDERS, FILLS, QUOTES)


def _no_run_folders(outputs):
    return not outputs.exists() or not any(p.is_dir() for p in outputs.glob("*/*"))


@pytest.mark.parametrize("period", ["9999Q4", "0000Q1", "2026Q5", "junk"])
def test_an_unusable_period_is_a_clear_error(tmp_path, data, period, capsys):
    with pytest.raises(PeriodError, match=period):
        run_batch(period, ["price_improvement"], data, store=str(tmp_path / "s.duckdb"),
                  outputs=tmp_path / "outputs")
    assert not (tmp_path / "s.duckdb").exists() and _no_run_folders(tmp_path / "outputs")
    assert cli.main(["run", "--period", period, "--notebook", "price_improvement", "--data", str(data),
                     "--store", str(tmp_path / "s.duckdb"), "--outputs", str(tmp_path / "outputs")]) == 2
    assert period in capsys.readouterr().err


def test_a_period_without_orders_names_the_period(tmp_path, data):
    with pytest.raises(EmptyPeriodError, match=r"no orders received in 2026Q1 \(2026-01-01 to 2026-04-01"):
        run_batch("2026Q1", ["price_improvement"], data, store=str(tmp_path / "s.duckdb"),
                  outputs=tmp_path / "outputs")
    assert _no_run_folders(tmp_path / "outputs")


def test_malformed_parameters_stop_the_run_before_the_build(tmp_path, data, monkeypatch):
    folder = tmp_path / "params"
    folder.mkdir()
    (folder / "defaults.yaml").write_text("venue_comparison: [unclosed\n")
    monkeypatch.setattr(parameters, "PARAMETERS_DIR", folder)
    with pytest.raises(BestexError, match="defaults.yaml"):
        run_batch("2026Q3", ["price_improvement"], data, store=str(tmp_path / "s.duckdb"),
                  outputs=tmp_path / "outputs")
    assert not (tmp_path / "s.duckdb").exists() and _no_run_folders(tmp_path / "outputs")


def _notebook(path, body):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('period = ""\nvenue = ""\ndata_dir = ""\nstore_path = ""\n'
                                       'evidence_dir = ""\ninteractive = True')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_run_that_fails_part_way_is_marked_failed(tmp_path, data, monkeypatch, workers):
    books = tmp_path / "books"
    books.mkdir()
    _notebook(books / "ok.ipynb", "print('fine', venue)")
    _notebook(books / "zz_bad.ipynb", "raise RuntimeError('boom in the notebook')")
    monkeypatch.setattr(runner, "NOTEBOOKS_DIR", books)
    with pytest.raises(BestexError, match="boom in the notebook") as caught:
        run_batch("2026Q3", ["ok", "zz_bad"], data, store=str(tmp_path / "s.duckdb"),
                  outputs=tmp_path / "outputs", all_venues=False, workers=workers)
    assert "marked FAILED" in str(caught.value)
    (folder,) = [p for p in (tmp_path / "outputs" / "2026Q3").iterdir() if p.is_dir()]
    assert "boom in the notebook" in (folder / "FAILED").read_text()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "failed" and "boom in the notebook" in manifest["error"]
    assert manifest["completed"] == [{"scope": "firm", "folder": "firm", "notebook": "ok"}]
    assert "firm/ok.html" in {o["path"] for o in manifest["outputs"]}


def test_a_finished_run_says_complete(tmp_path, data, monkeypatch):
    books = tmp_path / "books"
    books.mkdir()
    _notebook(books / "ok.ipynb", "print('fine', venue)")
    monkeypatch.setattr(runner, "NOTEBOOKS_DIR", books)
    result = run_batch("2026Q3", ["ok"], data, store=str(tmp_path / "s.duckdb"), outputs=tmp_path / "outputs",
                       workers=2)
    manifest = json.loads(result.manifest.read_text())
    assert manifest["status"] == "complete" and "error" not in manifest
    assert not (result.folder / "FAILED").exists()
    assert {s["folder"] for s in manifest["scopes"]} == {"firm", "V1", "V2"}


def test_a_bad_drill_text_stops_the_run_before_the_build(tmp_path, data):
    with pytest.raises(BestexError, match="choose from"):
        run_batch("2026Q3", ["price_improvement"], data, store=str(tmp_path / "s.duckdb"),
                  outputs=tmp_path / "outputs", drill="venue=WSB")
    assert not (tmp_path / "s.duckdb").exists() and _no_run_folders(tmp_path / "outputs")


def test_the_drill_text_reaches_every_notebook_in_its_canonical_form(tmp_path, data, monkeypatch):
    books = tmp_path / "books"
    books.mkdir()
    _notebook(books / "ok.ipynb", "drill = ''\nprint(drill)")
    monkeypatch.setattr(runner, "NOTEBOOKS_DIR", books)
    result = run_batch("2026Q3", ["ok"], data, store=str(tmp_path / "s.duckdb"), outputs=tmp_path / "outputs",
                       all_venues=False, drill="order_category=market,is_sp500=TRUE")
    manifest = json.loads(result.manifest.read_text())
    assert manifest["notebooks"][0]["parameters"]["drill"] == "is_sp500=true order_category=market"
    executed = nbformat.read(result.reports[0].ipynb, as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert 'drill = "is_sp500=true order_category=market"' in injected[0].source
