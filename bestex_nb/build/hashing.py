"""SHA-256 of files, optionally copying them on the way (the store's evidence of its inputs)."""

from __future__ import annotations

import hashlib
import os
from contextlib import nullcontext

#: Bytes read per step. One buffer is read into again and again: a new buffer per read is fresh memory
#: for each block, and on a VM a page of memory not touched lately costs more to map than to hash.
CHUNK = 1 << 22


def sha256_file(path: str | os.PathLike[str], copy_to: str | os.PathLike[str] | None = None,
                chunk: int = CHUNK) -> str:
    """The hex SHA-256 of the bytes of ``path``; with ``copy_to``, those bytes are also written there
    (a byte-for-byte copy, whose hash is then the one returned: the file is read once)."""
    digest = hashlib.sha256()
    buf = bytearray(chunk)
    view = memoryview(buf)
    with open(path, "rb") as src, open(copy_to, "wb") if copy_to is not None else nullcontext() as dst:
        while n := src.readinto(buf):
            digest.update(view[:n])
            if dst is not None:
                dst.write(view[:n])
    return digest.hexdigest()
