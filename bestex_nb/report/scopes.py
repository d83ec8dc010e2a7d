"""Safe folder names for the scopes of a run (the firm, each venue) and the check that a run stayed inside.

A venue id comes from the firm's extracts and is used as the name of the venue's report folder, so it
must never be able to name a path outside the run folder (``../../x``), a hidden or special file, or a
papermill template (``{x}``). Venue ids are not rejected, so an odd id never stops the evidence being
built; instead each scope gets a folder name:

* the firm: ``firm``;
* a venue id that matches :data:`SAFE_NAME` (1 to 64 characters from ``A-Z a-z 0-9 . _ -``, starting with
  a letter or a digit and not ending with a dot: MPIDs such as ``CDRG`` and MICs such as ``XNAS`` do),
  is not a Windows device name (``CON``, ``NUL``, ``COM1``...), and does not equal the name of another
  scope's folder ignoring case (``firm``, or ``CDRG`` beside ``cdrg``): kept as it is;
* any other id: a slug of its safe characters (at most 40, or ``venue``) plus ``-`` and the first 10
  hex digits of the SHA-256 of the id's UTF-8 bytes, e.g. ``../../../../x`` → ``x-<hash>``.

The run's ``manifest.json`` lists every scope with its folder (``scopes``), so the real id is never lost.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

from bestex_nb.contract.errors import BestexError

FIRM = "firm"
#: A venue id used as its folder name as it is.
SAFE_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9_-])?")
_UNSAFE_RUN = re.compile(r"[^A-Za-z0-9_-]+")
_DEVICES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
HASH_DIGITS = 10


def _is_safe(venue_id: str) -> bool:
    return (SAFE_NAME.fullmatch(venue_id) is not None
            and venue_id.split(".")[0].upper() not in _DEVICES)


def mapped_name(venue_id: str) -> str:
    """The folder name of a venue id that cannot be used as it is: slug plus a short hash of the id."""
    slug = _UNSAFE_RUN.sub("_", venue_id).strip("_-")[:40].strip("_-") or "venue"
    return f"{slug}-{hashlib.sha256(venue_id.encode('utf-8', 'surrogatepass')).hexdigest()[:HASH_DIGITS]}"


def scope_folders(venues: Iterable[str]) -> dict[str, str]:
    """``{venue id: folder name}`` for each venue id (see the module docstring for the rule); the firm's
    folder is always :data:`FIRM`, which no venue's folder equals, ignoring case.

    Raises
    ------
    BestexError
        Two scopes would share a folder (only if two different ids' hashes collided).
    """
    venues = [str(v) for v in venues]
    counts: dict[str, int] = {FIRM: 1}
    for v in dict.fromkeys(venues):
        if _is_safe(v):
            counts[v.casefold()] = counts.get(v.casefold(), 0) + 1
    folders = {v: v if _is_safe(v) and counts[v.casefold()] == 1 else mapped_name(v) for v in venues}
    seen: dict[str, str] = {FIRM: "the firm"}
    for venue, name in folders.items():
        other = seen.setdefault(name.casefold(), repr(venue))
        if other != repr(venue):
            raise BestexError(f"{other} and venue {venue!r} would share the report folder {name!r}")
    return folders


def inside(path: str | Path, folder: str | Path) -> bool:
    """Whether ``path``, with symlinks and ``..`` resolved, lies inside ``folder``."""
    return Path(path).resolve().is_relative_to(Path(folder).resolve())


def check_inside(folder: str | Path, paths: Iterable[str | Path] = ()) -> None:
    """Fail loudly when a given path, or any file or link found under ``folder``, resolves outside it.

    Raises
    ------
    BestexError
        Naming the paths that lie outside the run folder.
    """
    folder = Path(folder)
    found = [*paths, *folder.rglob("*")]
    outside = sorted({str(p) for p in found if not inside(p, folder)})
    if outside:
        raise BestexError(f"the run wrote outside its folder {folder}: {outside[:5]}"
                          + (f" and {len(outside) - 5} more" if len(outside) > 5 else ""))
