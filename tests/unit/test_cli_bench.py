"""`bestex bench` runs the benchmark of a source checkout (``python -m benchmarks.bench``) in a child
process: the package itself never imports ``benchmarks`` (the wheel does not ship it)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bestex_nb import cli
from bestex_nb.contract.errors import BestexError


def test_the_package_does_not_import_the_benchmarks():
    code = ("import sys, bestex_nb.cli, bestex_nb.build.store, bestex_nb.build.nbbo.answers; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'benchmarks'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_bench_hands_its_arguments_to_the_checkouts_benchmark(capfd):
    assert cli.main(["bench", "--help"]) == 0
    printed = capfd.readouterr().out
    assert "benchmarks.bench" in printed and "--repeat" in printed and "ours_receipt" in printed
    assert cli.main(["bench", "--repeat", "0"]) == 2  # argparse's refusal, from the benchmark's own parser
    assert "must be at least 1" in capfd.readouterr().err


def test_bench_outside_a_checkout_says_so(tmp_path, capsys, monkeypatch):
    with pytest.raises(BestexError, match="bestex bench runs from a source checkout: make bench"):
        cli.bench_checkout([tmp_path])
    assert cli.bench_checkout([tmp_path, cli.bench_checkout()]) == cli.bench_checkout()
    monkeypatch.chdir(tmp_path)  # an installed package: neither here nor beside it
    monkeypatch.setattr(cli, "__file__", str(tmp_path / "site-packages" / "bestex_nb" / "cli.py"))
    assert cli.main(["bench", "--quick"]) == 2
    assert "bestex bench runs from a source checkout: make bench" in capsys.readouterr().err
