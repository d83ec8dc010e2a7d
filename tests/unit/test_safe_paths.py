"""Identifiers that become paths or HTML are safe (issue 17, item 1): the scope → folder rule, the check
that a run stayed inside its folder, escaped tables, and paths papermill never reads as templates."""

import os

import pandas as pd
import pytest

from bestex_nb.contract.errors import BestexError
from bestex_nb.report import plots
from bestex_nb.report.export import _literal_path
from bestex_nb.report.scopes import FIRM, SAFE_NAME, check_inside, mapped_name, scope_folders

SCRIPT = "<script>alert(1)</script>"


@pytest.mark.parametrize("venue", ["CDRG", "XNAS", "NITE", "V1", "a.b", "ats_1", "UBS-ATS", "x" * 64])
def test_real_venue_ids_are_their_own_folder(venue):
    assert scope_folders([venue]) == {venue: venue}


@pytest.mark.parametrize("venue", ["../../../../x", "..", ".", "", "{oops}", SCRIPT, "a/b", "a\\b", "x" * 65,
                                   ".hidden", "-rf", "x.", "NUL", "com1.txt", "firm", "FIRM", "é", "a b",
                                   "C:\\x", "\x00", "a\nb"])
def test_other_ids_get_a_slug_and_a_hash(venue):
    folder = scope_folders([venue])[venue]
    assert folder == mapped_name(venue) and SAFE_NAME.fullmatch(folder) and len(folder) <= 64
    assert folder.casefold() != FIRM and folder not in {".", ".."} and "/" not in folder


def test_mapping_is_stable_and_distinct():
    ids = ["../../../../x", "../x", "x", "{oops}", "{OOPS}", SCRIPT, "CDRG"]
    first, second = scope_folders(ids), scope_folders(list(reversed(ids)))
    assert first == second  # a venue's folder depends only on its id and its neighbours' case clashes
    assert len({f.casefold() for f in first.values()}) == len(ids)
    assert first["x"] == "x" and first["CDRG"] == "CDRG"


def test_ids_equal_ignoring_case_are_both_mapped():
    folders = scope_folders(["CDRG", "cdrg"])
    assert folders["CDRG"] != "CDRG" and folders["cdrg"] != "cdrg"
    assert folders["CDRG"].casefold() != folders["cdrg"].casefold()


def test_check_inside_names_what_escaped(tmp_path):
    run = tmp_path / "run"
    (run / "firm").mkdir(parents=True)
    (run / "firm" / "a.html").write_text("ok")
    check_inside(run, [run / "firm" / "a.html"])
    with pytest.raises(BestexError, match="outside its folder"):
        check_inside(run, [run / "V1" / ".." / ".." / "x" / "a.html"])
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", run / "link")
    with pytest.raises(BestexError, match="link"):
        check_inside(run)


def test_papermill_reads_the_literal_path_back():
    from papermill.parameterize import parameterize_path

    for path in ["/tmp/out{period}s/{oops}/a.ipynb", "/tmp/{}/{{x}}/}{/a.ipynb", "/tmp/plain/a.ipynb"]:
        assert parameterize_path(_literal_path(path), {"period": "2026Q3", "oops": "no"}) == path


def test_style_table_escapes_cells_headers_and_caption():
    df = pd.DataFrame({"venue": [SCRIPT, "CDRG"], "<b>net</b>": [0.01, None]})
    html = plots.style_table(df, {"<b>net</b>": "usd_ps"}, caption=f"by venue {SCRIPT}").to_html()
    assert SCRIPT not in html and "<b>" not in html
    assert ">&lt;script&gt;alert(1)&lt;/script&gt;</td>" in html and "&lt;b&gt;net&lt;/b&gt;" in html
    assert ">CDRG</td>" in html and plots.NA_REP in html


def test_params_table_escapes_values():
    html = plots.params_table({"venue": SCRIPT, "data": "/d/{x}&y"}).to_html()
    assert SCRIPT not in html and "&lt;script&gt;" in html and "/d/{x}&amp;y" in html
