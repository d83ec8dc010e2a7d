"""Venue ids that are not file names (``../../../../x``, ``{oops}``, ``<script>``) next to a real MPID:
the run writes only inside its folder, maps each venue to a safe folder in the manifest, never hands a
path to papermill's templates, and shows every id escaped in the HTML (issue 17, item 1)."""

import json
from pathlib import Path

import pytest
from conftest import DEFAULT_VENUES, write_extracts
from fixtures.pi_case import FILLS, ORDERS, QUOTES

from bestex_nb.report.runner import run_batch
from bestex_nb.report.scopes import SAFE_NAME

pytestmark = pytest.mark.slow

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
#: pi_case's orders O1..O5 moved to these venues (O5 stays with O1 at CDRG)
VENUE_OF = {"O1": "CDRG", "O2": "../../../../x", "O3": "{oops}", "O4": SCRIPT, "O5": "CDRG"}
HOSTILE = sorted(set(VENUE_OF.values()))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    orders = [dict(o, routed_venue=VENUE_OF[o["order_id"]]) for o in ORDERS]
    fills = [dict(f, executed_venue=VENUE_OF[f["order_id"]]) for f in FILLS]
    venues = [dict(DEFAULT_VENUES[1], venue_id=v, name=f"Venue {v}", mic="") for v in HOSTILE]
    data = write_extracts(tmp / "data", orders, fills, QUOTES, venues=venues)
    # the outputs folder itself has braces: papermill must not read it as a template
    outputs = tmp / "work" / "out{period}s"
    before = {p for p in tmp.rglob("*")}
    result = run_batch("2026Q3", ["price_improvement"], data, store=str(tmp / "store" / "store.duckdb"),
                       outputs=outputs, workers=2)
    return tmp, before, result


def test_every_venue_gets_a_report(run):
    _, _, result = run
    assert sorted(r.scope for r in result.reports) == sorted(["firm", *HOSTILE])
    assert all(r.html.is_file() and r.ipynb.is_file() for r in result.reports)
    assert "out{period}s" in result.folder.parts


def test_nothing_written_outside_the_run_folder(run):
    tmp, before, result = run
    new = {p for p in tmp.rglob("*")} - before
    outside = [p for p in new if not p.resolve().is_relative_to(result.folder.resolve())
               and not p.is_relative_to(tmp / "store") and p not in result.folder.parents]
    assert outside == []
    assert not (tmp.parent / "x").exists() and not any(tmp.parent.glob("**/x/price_improvement.html"))


def test_real_ids_keep_their_folder_and_odd_ids_are_mapped(run):
    _, _, result = run
    folders = {r.scope: r.folder for r in result.reports}
    assert folders["CDRG"] == "CDRG" and folders["firm"] == "firm"
    for venue in ("../../../../x", "{oops}", SCRIPT):
        assert folders[venue] != venue and SAFE_NAME.fullmatch(folders[venue])
    assert len(set(folders.values())) == len(folders)
    for r in result.reports:
        assert r.html.parent == result.folder / r.folder


def test_manifest_maps_each_scope_to_its_folder(run):
    _, _, result = run
    manifest = json.loads(result.manifest.read_text())
    scopes = {s["venue"]: s["folder"] for s in manifest["scopes"]}
    assert scopes == {"": "firm", **{r.scope: r.folder for r in result.reports if r.scope != "firm"}}
    outputs = {o["path"] for o in manifest["outputs"]}
    for folder in scopes.values():
        assert f"{folder}/price_improvement.html" in outputs
    injected = {n["parameters"]["venue"] for n in manifest["notebooks"]}
    assert injected == {"", *HOSTILE}


def test_ids_are_escaped_in_the_html(run):
    _, _, result = run
    for r in result.reports:
        html = r.html.read_text(encoding="utf-8")
        assert SCRIPT not in html, r.scope
    html = next(r for r in result.reports if r.scope == SCRIPT).html.read_text(encoding="utf-8")
    # in the parameters table and in the summary's cells
    assert html.count(f">{ESCAPED}</td>") >= 1 and html.count(ESCAPED) >= 2
    firm = next(r for r in result.reports if r.scope == "firm").html.read_text(encoding="utf-8")
    assert ESCAPED in firm and "{oops}" in firm and "../../../../x" in firm


def test_the_tables_keep_the_real_ids(run):
    _, _, result = run
    import pandas as pd

    r = next(r for r in result.reports if r.scope == "{oops}")
    table = pd.read_csv(Path(r.html.parent) / "tables" / "pi_by_venue.csv")
    assert table["venue"].tolist() == ["{oops}"]


def test_no_script_runs_when_the_evidence_is_opened(run):
    from conftest import require_chromium

    from bestex_nb.report import browser

    require_chromium()
    _, _, result = run
    for scope in (SCRIPT, "firm"):
        report = next(r for r in result.reports if r.scope == scope)
        dom = browser.dump_dom(report.html)
        assert dom.count("js-plotly-plot") >= 4, "a chart did not draw"
        # a live <script> element would serialize as itself; the venue id shows as text only
        assert SCRIPT not in dom and ESCAPED in dom
