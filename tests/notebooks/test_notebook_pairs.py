"""Each review notebook is a jupytext pair, notebooks/<name>.py (percent format, the source that is
reviewed and linted) and notebooks/<name>.ipynb (what JupyterLab opens and papermill runs), kept in
sync by `make notebooks` (jupytext --sync, configured by notebooks/jupytext.toml)."""

import re
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
from jupytext.combine import combine_inputs_with_outputs

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
STEMS = sorted({p.stem for p in NOTEBOOKS_DIR.glob("*.py")} | {p.stem for p in NOTEBOOKS_DIR.glob("*.ipynb")})
RESYNC = "run `make notebooks` (jupytext --sync) and commit both files"


def cells(nb):
    return [(c.cell_type, c.source, list(c.metadata.get("tags", []))) for c in nb.cells]


def test_pairs_found():
    assert "price_improvement" in STEMS


@pytest.mark.parametrize("stem", STEMS)
def test_pair_complete(stem):
    missing = [f"{stem}{ext}" for ext in (".py", ".ipynb") if not (NOTEBOOKS_DIR / f"{stem}{ext}").exists()]
    assert not missing, f"notebooks/{missing[0]} is missing: every notebook is a .py/.ipynb pair; {RESYNC}"


@pytest.mark.parametrize("stem", STEMS)
def test_pair_in_sync(stem):
    py, ipynb = NOTEBOOKS_DIR / f"{stem}.py", NOTEBOOKS_DIR / f"{stem}.ipynb"
    if not (py.exists() and ipynb.exists()):
        pytest.skip("incomplete pair (test_pair_complete fails)")
    source = jupytext.read(py, fmt="py:percent")
    nb = nbformat.read(ipynb, as_version=4)
    want, have = cells(source), cells(nb)
    for i, (w, h) in enumerate(zip(want, have, strict=False)):
        assert w == h, f"cell {i} of {ipynb.name} differs from {py.name}: {RESYNC}\n.py:    {w}\n.ipynb: {h}"
    assert len(want) == len(have), f"{py.name} has {len(want)} cells, {ipynb.name} {len(have)}: {RESYNC}"


@pytest.mark.parametrize("stem", STEMS)
def test_cell_ids_stable(stem):
    """Ids live in the .ipynb only (the .py has none): jupytext --sync keeps the id of every cell it matches
    and gives a new cell a fresh one, so diffs and the exported HTML change only where a cell did."""
    py, ipynb = NOTEBOOKS_DIR / f"{stem}.py", NOTEBOOKS_DIR / f"{stem}.ipynb"
    if not (py.exists() and ipynb.exists()):
        pytest.skip("incomplete pair (test_pair_complete fails)")
    nb = nbformat.read(ipynb, as_version=4)
    nbformat.validate(nb)
    ids = [c.get("id") for c in nb.cells]
    assert all(isinstance(i, str) and re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", i) for i in ids), ids
    assert len(set(ids)) == len(ids), f"duplicate cell ids in {ipynb.name}: {RESYNC}"
    resynced = combine_inputs_with_outputs(jupytext.read(py, fmt="py:percent"), nb)  # what --sync writes
    assert [c.get("id") for c in resynced.cells] == ids, f"a resync would change the cell ids: {RESYNC}"


def test_sources_lint_clean():
    """ruff reads the .py sources with the project's settings (pyproject.toml; E402 is ignored there)."""
    out = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", *map(str, NOTEBOOKS_DIR.glob("*.py"))],
                         check=False, capture_output=True, text=True, cwd=NOTEBOOKS_DIR.parent)
    assert out.returncode == 0, out.stdout + out.stderr
