"""The input files' SHA-256 (and the sidecar's byte-for-byte copies) read through one reused buffer."""

import hashlib

import pytest

from bestex_nb.build.hashing import sha256_file


@pytest.mark.parametrize("size", [0, 1, 7, 8, 9, 64, 1000])
def test_hash_and_copy_match_the_bytes_for_any_size_against_the_buffer(tmp_path, size):
    data = bytes((i * 37 + 11) % 256 for i in range(size))
    src = tmp_path / "in.bin"
    src.write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()
    # a buffer of 8 bytes: sizes below, at, just above and many times it; the last block is partial
    assert sha256_file(src, chunk=8) == expected
    copy = tmp_path / "copy.bin"
    assert sha256_file(src, copy_to=copy, chunk=8) == expected
    assert copy.read_bytes() == data


def test_the_default_buffer_hashes_a_file_larger_than_it(tmp_path):
    data = bytes(range(256)) * ((1 << 22) // 256 + 3)  # the default chunk plus 768 bytes
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    assert sha256_file(src) == hashlib.sha256(data).hexdigest()
