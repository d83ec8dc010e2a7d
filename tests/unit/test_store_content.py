"""The store is reused only while every input holds the bytes it was built from (issue 17 item 2):
a file's times are not its content."""

import hashlib
import os
import shutil

import duckdb
import pytest
from conftest import write_extracts
from fixtures.pi_case import FILLS, ORDERS, QUOTES

import bestex_nb
from bestex_nb.build import fingerprint as content
from bestex_nb.build import store
from bestex_nb.build.store import build
from bestex_nb.contract.errors import BestexError


@pytest.fixture
def data(tmp_path):
    return write_extracts(tmp_path / "data", ORDERS, FILLS, QUOTES)


def _f1_price(path):
    with duckdb.connect(str(path), read_only=True) as con:
        price = con.execute("select price from fct_fills where execution_id = 'F1'").fetchall()[0][0]
        sha = dict(con.execute("select path, sha256 from input_files").fetchall())["executions.csv"]
    return float(price), sha


def _edit_keeping_size_and_mtime(path, old, new):
    """Rewrite ``path`` in place with ``old`` replaced by ``new`` (same length), its times set back:
    what an edit followed by ``touch -r`` (or ``cp -p`` / ``rsync -t`` over it) leaves."""
    assert len(old) == len(new)
    st = os.stat(path)
    path.write_bytes(path.read_bytes().replace(old, new, 1))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_size, after.st_mtime_ns) == (st.st_size, st.st_mtime_ns)


def test_an_edit_with_size_and_mtime_kept_rebuilds_and_the_hash_is_the_new_bytes(data, tmp_path):
    s = tmp_path / "s.duckdb"
    build(data, s)
    assert _f1_price(s)[0] == pytest.approx(10.03)
    _edit_keeping_size_and_mtime(data / "executions.csv", b"100,10.03,", b"100,10.05,")
    assert store.stored_fingerprint(s) is None
    with pytest.raises(BestexError, match="other inputs"):
        bestex_nb.open_review(data, s, build=False)
    again = build(data, s)
    assert not again.reused
    price, sha = _f1_price(s)
    assert price == pytest.approx(10.05)
    assert sha == hashlib.sha256((data / "executions.csv").read_bytes()).hexdigest()
    with bestex_nb.open_review(data, s, build=False) as review:  # the rebuilt store is accepted
        assert review.input_files().set_index("path").loc["executions.csv", "sha256"] == sha


def test_a_touched_file_with_the_same_bytes_keeps_the_store(data, tmp_path):
    s = tmp_path / "s.duckdb"
    build(data, s)
    for f in data.iterdir():
        os.utime(f, ns=(1, 1))
    assert build(data, s).reused
    assert "reused, inputs unchanged" in build(data, s).text()
    with bestex_nb.open_review(data, s, build=False) as review:
        assert review.price_improvement("2026Q3", ["venue"])["orders"].sum() == 5


def test_an_unchanged_file_is_not_read_to_check_the_store(data, tmp_path, monkeypatch):
    s = tmp_path / "s.duckdb"
    build(data, s)
    hashed = []
    monkeypatch.setattr(content, "sha256_file", lambda p, *a, **k: hashed.append(p) or "x")
    assert store.stored_fingerprint(s) is not None and hashed == []
    os.utime(data / "nbbo.csv", ns=(1, 1))
    assert store.stored_fingerprint(s) is None  # hashed (the stub's hash differs) because it was touched
    assert [os.path.basename(p) for p in hashed] == ["nbbo.csv"]


def test_a_copied_data_folder_is_other_inputs(data, tmp_path):
    """``cp -p`` to another folder keeps bytes and times; the fingerprint names each file's absolute path,
    so a store is for one folder: the copy gets its own store (default path) or a rebuild (same path)."""
    s = tmp_path / "s.duckdb"
    build(data, s)
    copy = tmp_path / "copy"
    shutil.copytree(data, copy, copy_function=shutil.copy2)
    with pytest.raises(BestexError, match="other inputs"):
        bestex_nb.open_review(copy, s, build=False)
    assert not build(copy, s).reused


def test_a_store_without_input_stats_is_not_used(data, tmp_path):
    s = tmp_path / "s.duckdb"
    build(data, s)
    with duckdb.connect(str(s)) as con:
        con.execute(f"drop table {content.TABLE}")
    assert store.stored_fingerprint(s) is None
    assert not build(data, s).reused
