"""Notebooks are thin, parameterised and committed clean (design.md section 5)."""

import ast
import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
SQL_WORDS = ("select ", "create table", "from fct_", "insert into")


def test_notebooks_exist():
    assert any(p.stem == "price_improvement" for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_contract(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), "strip outputs"
    params = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1, "exactly one cell tagged parameters"
    tree = ast.parse("".join(params[0]["source"]))
    for node in tree.body:  # typed literals only
        assert isinstance(node, ast.AnnAssign) and isinstance(node.value, ast.Constant), ast.dump(node)
    names = {n.target.id for n in tree.body}
    assert {"period", "venue", "data_dir", "store_path", "evidence_dir", "interactive"} <= names
    assert nb["cells"][0]["cell_type"] == "markdown" and "".join(nb["cells"][0]["source"]).startswith("# ")
    for cell in code:
        src = "".join(cell["source"])
        body = ast.parse(src)
        assert not any(isinstance(n, ast.FunctionDef | ast.ClassDef | ast.Lambda) for n in ast.walk(body)), \
            "no def/class/lambda in notebooks: move logic into bestex_nb"
        assert not any(w in src.lower() for w in SQL_WORDS), "no SQL in notebooks"
