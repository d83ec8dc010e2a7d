"""Where an editable install finds its notebooks and committee parameters, and the env overrides."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHOW = ("import bestex_nb.report.runner as r, bestex_nb.contract.parameters as p;"
        "print(r.NOTEBOOKS_DIR); print(p.PARAMETERS_DIR)")


def _dirs(tmp_path, **env):
    base = {k: v for k, v in os.environ.items() if k not in {"BESTEX_NOTEBOOKS", "BESTEX_PARAMETERS"}}
    out = subprocess.run([sys.executable, "-c", SHOW], env={**base, **env}, cwd=tmp_path, check=True,
                         capture_output=True, text=True, timeout=120)
    return [Path(line) for line in out.stdout.splitlines()]


@pytest.mark.parametrize("env", [{}, {"BESTEX_NOTEBOOKS": "", "BESTEX_PARAMETERS": ""}], ids=["unset", "empty"])
def test_checkout_folders_by_default(tmp_path, env):
    if (REPO / "bestex_nb" / "notebooks").exists():
        pytest.skip("bestex_nb/notebooks exists in this checkout (an in-place build?)")
    assert _dirs(tmp_path, **env) == [REPO / "notebooks", REPO / "parameters"]


def test_env_overrides(tmp_path):
    nbs, params = tmp_path / "nbs", tmp_path / "params"
    assert _dirs(tmp_path, BESTEX_NOTEBOOKS=str(nbs), BESTEX_PARAMETERS=str(params)) == [nbs, params]
