"""bestex_nb: the FINRA Rule 5310 regular-and-rigorous review of best execution, in notebooks.

``open_review`` is here because it joins the two halves of the package that never import each other: the
build engine (:mod:`bestex_nb.build`, which makes the review store) and the read path
(:class:`~bestex_nb.review.Review`, which only reads it). See docs/architecture.md.
"""

import warnings as _warnings

from bestex_nb._version import __version__

# duckdb 2.0's DataFrame conversion calls a pandas 3.1 API that is being deprecated; the warning is
# about duckdb's internals, not ours, and would otherwise print into every notebook and report.
_warnings.filterwarnings("ignore", message="The inplace keyword in DataFrame.drop", module="duckdb")
_warnings.filterwarnings("ignore", message="The inplace keyword in DataFrame.drop")

import os
from pathlib import Path

from bestex_nb.build.staging import find_sources
from bestex_nb.build.store import build as build_store
from bestex_nb.build.store import default_store_path, fingerprint, stored_fingerprint
from bestex_nb.contract.errors import BestexError, EmptyPeriodError, ExtractError, PeriodError
from bestex_nb.review import Review

__all__ = [
    "BestexError",
    "EmptyPeriodError",
    "ExtractError",
    "PeriodError",
    "Review",
    "__version__",
    "open_review",
]


def open_review(data_dir: str | os.PathLike, store: str | os.PathLike | None = None, *,
                build: bool = True, verbose: bool = False) -> Review:
    """Open the review store for ``data_dir`` read-only.

    With ``build`` (the default) the store is built first when it is missing or its inputs changed.
    With ``build=False`` (batch runs: the runner built it once before any notebook started) the store
    is only opened, and a store whose inputs have changed since it was built is refused, so a report
    never mixes numbers from one version of the data with provenance from another.
    """

    if build:
        report = build_store(data_dir, store)
        if verbose:
            print(report.text())
        return Review(report.store)
    store = Path(store) if store else default_store_path(data_dir)
    if not store.exists():
        raise BestexError(f"no review store at {store}; run `bestex build --data {data_dir}` first")
    if stored_fingerprint(store) != fingerprint(find_sources(Path(data_dir))):
        raise BestexError(f"the review store {store} was built from other inputs than {data_dir} holds now "
                          "(or by other code); rebuild it with `bestex build`")
    return Review(store)
