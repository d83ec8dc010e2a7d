"""The built wheel works outside the checkout: notebooks, parameters, SQL and templates travel inside it.

Builds the wheel offline (no build isolation: setuptools is in the test extra) from a copy of the source
tree, installs it with --no-deps into a fresh venv that sees this venv's dependencies through a plain
.pth path entry (a path entry, so this venv's own .pth files, among them the editable finder that maps
bestex_nb to the checkout, are not processed), then in an empty folder runs sample-data, build and run
with that venv's `bestex`, and compares the CSV tables with the same run by the checkout's install.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
VENUE = "WSA"  # one venue besides the firm keeps the two runs to four notebook executions
RUN = ["run", "--period", "2026Q3", "--notebook", "price_improvement", "--venue", VENUE]
WHERE = """
import bestex_nb, bestex_nb.report.runner as r, bestex_nb.contract.parameters as p
from jupyter_client.kernelspec import KernelSpecManager
print(bestex_nb.__file__, r.NOTEBOOKS_DIR, p.PARAMETERS_DIR, KernelSpecManager().get_kernel_spec("python3").argv[0],
      sep="\\n")
"""
TIMEOUT = 900  # seconds per command; a loaded 2-core machine runs each in well under that


def _copy_sources(dest: Path) -> None:
    """The tracked and untracked-but-not-ignored files: what a fresh clone (plus work in progress) has."""
    try:
        listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "-co", "--exclude-standard"],
                                check=True, capture_output=True, timeout=60).stdout.decode().split("\0")
    except (OSError, subprocess.SubprocessError):
        shutil.copytree(REPO, dest, ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "*.egg-info", "__pycache__", "data", "outputs"))
        return
    for rel in filter(None, listed):
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def _run(cmd, cwd, env) -> subprocess.CompletedProcess:
    out = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True,
                         timeout=TIMEOUT, check=False)
    assert out.returncode == 0, f"{cmd} exited {out.returncode}\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out


def _env(tmp: Path, venv_bin: Path, name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"PYTHONPATH", "VIRTUAL_ENV", "JUPYTER_PATH", "BESTEX_NOTEBOOKS", "BESTEX_PARAMETERS"}}
    env.update({
        "PATH": f"{venv_bin}{os.pathsep}{env.get('PATH', '')}",
        "BESTEX_STORE_DIR": str(tmp / f"stores-{name}"),  # each install builds its own store
        "JUPYTER_PREFER_ENV_PATH": "1",  # the venv's python3 kernelspec, not one a user installed
        "JUPYTER_DATA_DIR": str(tmp / f"jupyter-{name}"),
    })
    return env


def _tables(run_folder: Path) -> dict[str, list[list[str]]]:
    """Every CSV of a run by relative path; review_parameters' `source` row keeps its hash, not its path."""
    tables = {}
    for path in sorted(run_folder.rglob("*.csv")):
        rows = list(csv.reader(path.open(newline="")))
        if path.name == "review_parameters.csv":
            rows = [[r[0], re.sub(r"^.*(\(sha256 [0-9a-f]+\))$", r"\1", r[1])] if r[:1] == ["source"] else r
                    for r in rows]
        tables[str(path.relative_to(run_folder))] = rows
    return tables


def _one_run(outputs: Path) -> Path:
    runs = sorted((outputs / "2026Q3").iterdir())
    assert len(runs) == 1, runs
    return runs[0]


def test_wheel_runs_a_review_outside_the_checkout(tmp_path):
    src, wheels, venv = tmp_path / "src", tmp_path / "wheels", tmp_path / "venv"
    _copy_sources(src)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
          src, "-w", wheels], tmp_path, None)
    (wheel,) = wheels.glob("bestex_nb-*.whl")

    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"bestex_nb/notebooks/{p.name}" for p in (REPO / "notebooks").glob("*.ipynb")} == {
        n for n in names if n.startswith("bestex_nb/notebooks/")}
    assert {"bestex_nb/parameters/defaults.yaml", "bestex_nb/parameters/decisions.yaml"} <= names
    for folder in ("bestex_nb/sql", "bestex_nb/report/templates"):
        files = {str(p.relative_to(REPO)) for p in (REPO / folder).rglob("*") if p.is_file()
                 and "__pycache__" not in p.parts}
        assert files and files <= names, sorted(files - names)

    _run([sys.executable, "-m", "venv", "--without-pip", venv], tmp_path, None)
    vpy, vbin = venv / "bin" / "python", venv / "bin"
    _run([sys.executable, "-m", "pip", "--python", vpy, "install", "--no-deps", "--no-index", "-q", wheel],
         tmp_path, None)
    vsite = Path(_run([vpy, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                      tmp_path, None).stdout.strip())
    ours = sysconfig.get_paths()
    (vsite / "_bestex_test_dependencies.pth").write_text(
        "\n".join(dict.fromkeys([ours["purelib"], ours["platlib"]])) + "\n")
    # what pip would install with the dependencies: nbconvert's templates and a python3 kernelspec
    (venv / "share" / "jupyter").mkdir(parents=True)
    (venv / "share" / "jupyter" / "nbconvert").symlink_to(Path(sys.prefix) / "share" / "jupyter" / "nbconvert")
    _run([vpy, "-m", "ipykernel", "install", "--prefix", venv, "--name", "python3"], tmp_path, None)

    work = tmp_path / "work"
    work.mkdir()
    env = _env(tmp_path, vbin, "wheel")
    where = _run([vpy, "-c", WHERE], work, env).stdout.split("\n")
    for path in filter(None, where):  # the package, its notebooks and parameters, the kernel's python
        assert Path(os.path.abspath(path)).is_relative_to(venv), (path, where)
        assert not Path(os.path.abspath(path)).is_relative_to(REPO), (path, where)

    _run([vbin / "bestex", "sample-data", "--out", "data", "--orders", "2000"], work, env)
    _run([vbin / "bestex", "build", "--data", "data"], work, env)
    _run([vbin / "bestex", *RUN, "--data", "data"], work, env)
    wheel_run = _one_run(work / "outputs")  # outputs/ of the current directory
    for scope in ("firm", VENUE):
        assert (wheel_run / scope / "price_improvement.html").stat().st_size > 0

    here = tmp_path / "checkout-run"
    here.mkdir()
    _run([Path(sys.executable).parent / "bestex", *RUN, "--data", work / "data"], here,
         _env(tmp_path, Path(sys.executable).parent, "checkout"))
    checkout_run = _one_run(here / "outputs")
    got, want = _tables(wheel_run), _tables(checkout_run)
    assert sorted(got) == sorted(want)
    assert len(want) > 10
    for name in want:
        assert got[name] == want[name], name
