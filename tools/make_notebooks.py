"""Write notebooks/<name>.ipynb from the cell sources in tools/notebooks/<name>.py.

Run: python tools/make_notebooks.py. Notebooks are committed without outputs; each source module
defines CELLS (a list of nbformat cells) and is listed in NOTEBOOKS.
"""

import importlib
import sys
from pathlib import Path

import nbformat as nbf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
NOTEBOOKS = ["price_improvement", "limit_fill_likelihood"]


def write(name, cells):
    nb = nbf.v4.new_notebook()
    nb.cells = cells
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):  # stable ids keep diffs and exported HTML stable
        cell.id = f"{name[:12]}-{i:02d}"
    nbf.validate(nb)
    nbf.write(nb, ROOT / "notebooks" / f"{name}.ipynb")


if __name__ == "__main__":
    for name in NOTEBOOKS:
        write(name, importlib.import_module(f"tools.notebooks.{name}").CELLS)
