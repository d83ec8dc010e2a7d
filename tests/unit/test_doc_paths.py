"""Every module, file or folder of the package that the docs and the SQL headers name exists: a reader
following a pointer from a notebook, a SQL file or a page to the code never lands on a path that moved."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCES = sorted([*(REPO / "bestex_nb" / "sql").rglob("*.sql"), *(REPO / "bestex_nb" / "sql").glob("*.md"),
                  *(REPO / "docs").glob("*.md"), REPO / "README.md", REPO / "data" / "README.md",
                  REPO / "parameters" / "README.md", REPO / "benchmarks" / "README.md"])
#: Folders that exist only inside a built wheel (setup.py copies them there).
WHEEL_ONLY = {"bestex_nb/notebooks", "bestex_nb/parameters"}
SLASHED = re.compile(r"(?<![\w./~-])bestex_nb/[\w./]*\w")
DOTTED = re.compile(r"(?<![\w./~-])bestex_nb(?:\.[A-Za-z_]\w*)+")


def _dotted_exists(ref: str) -> bool:
    """``bestex_nb.a.b.c``: a module, or an attribute of the longest importable module prefix."""
    parts = ref.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for name in parts[i:]:
            if not hasattr(obj, name):
                return False
            obj = getattr(obj, name)
        return True
    return False


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_named_path_exists(source):
    text = source.read_text()
    missing = [ref for ref in SLASHED.findall(text)
               if ref.rstrip("/") not in WHEEL_ONLY and not (REPO / ref).exists()]
    missing += [ref for ref in DOTTED.findall(text) if not _dotted_exists(ref)]
    assert not missing, f"{source.relative_to(REPO)} names what does not exist: {sorted(set(missing))}"
