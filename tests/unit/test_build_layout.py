"""The build engine's layout (issue 16): each module of bestex_nb/build/ and benchmarks/ under 400 lines,
and a store's code version covering the build's code in its subpackages too."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_build_and_benchmark_modules_stay_under_400_lines():
    files = sorted((ROOT / "bestex_nb" / "build").rglob("*.py")) + sorted((ROOT / "benchmarks").glob("*.py"))
    long = {str(f.relative_to(ROOT)): n for f in files if (n := len(f.read_text().splitlines())) >= 400}
    assert long == {}


def test_code_version_hashes_every_build_module_by_relative_path():
    from bestex_nb.build import store

    listed = [rel for rel, _ in store._build_sources(resources.files("bestex_nb").joinpath("build"))]
    on_disk = sorted(str(f.relative_to(ROOT / "bestex_nb" / "build"))
                     for f in (ROOT / "bestex_nb" / "build").rglob("*.py") if "__pycache__" not in f.parts)
    assert listed == on_disk and "nbbo/kernel.py" in listed and "store.py" in listed


def test_the_build_layer_is_a_package_the_wheel_ships():
    """pyproject's ``packages.find`` keeps only folders with an ``__init__.py``: without one the wheel
    had no bestex_nb.build at all (an editable install hides it: a namespace package imports fine)."""
    from setuptools import find_packages

    found = set(find_packages(str(ROOT), include=["bestex_nb*"]))
    assert {"bestex_nb.build", "bestex_nb.build.nbbo"} <= found
    assert not any(p.split(".")[0] == "benchmarks" for p in found)
