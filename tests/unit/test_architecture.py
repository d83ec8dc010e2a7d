"""The architecture stays visible: the layer contract (.importlinter) holds and can fail, modules stay
small, no object keeps hidden caches, compliance-exception providers are callables."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "bestex_nb"
MAX_LINES = 400


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(exe), "--config", str(cwd / ".importlinter"), "--no-cache"], cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False)


def test_the_import_contract_holds():
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "BROKEN" not in result.stdout and "KEPT" in result.stdout


@pytest.mark.parametrize("module, planted", [
    ("review.py", "from bestex_nb.build import store as _store  # noqa"),          # read path → build engine
    ("stats/survival.py", "from bestex_nb.dimensions.venues import tables as _t  # noqa"),  # upward
    ("report/runner.py", "import benchmarks as _b  # noqa"),                         # product → benchmarks
    ("query.py", "import numba as _nb  # noqa"),                                     # read path → numba
    ("dimensions/limit_fills/compute.py", "from bestex_nb.dimensions.venues import tables as _v  # noqa"),
])
def test_the_import_contract_fails_on_a_planted_violation(tmp_path, module, planted):
    for name in ("bestex_nb", "benchmarks"):
        shutil.copytree(REPO / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / ".importlinter", tmp_path / ".importlinter")
    target = tmp_path / "bestex_nb" / module
    target.write_text(target.read_text() + "\n" + planted + "\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0 and "BROKEN" in result.stdout, result.stdout[-3000:]


def test_every_module_is_small():
    long = {str(p.relative_to(REPO)): n for p in sorted(PACKAGE.rglob("*.py"))
            if (n := len(p.read_text().splitlines())) >= MAX_LINES}
    assert not long, f"split these modules (at most {MAX_LINES - 1} lines each): {long}"


def test_no_object_keeps_caches_in_another_objects_dict():
    offenders = [str(p.relative_to(REPO)) for p in PACKAGE.rglob("*.py") if "__dict__" in p.read_text()]
    assert not offenders


def test_exception_providers_are_callables_over_the_review_api():
    from bestex_nb import exception_register

    assert exception_register.PROVIDERS and all(callable(p) for p in exception_register.PROVIDERS)
    with pytest.raises(TypeError):
        exception_register.register("bestex_nb.dimensions.limit_fills:rule5310_05_exceptions")
