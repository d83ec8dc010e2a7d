"""One exceptions table across review dimensions, joined to the committee's recorded decisions.

Each dimension contributes its exception rows through a *provider*: a function
``provider(review, period, parameters) -> DataFrame`` whose rows carry a stable ``exception_id`` (derived
from the kind, the period and the cell or order, never from a counter or a timestamp), so that
``parameters/decisions.yaml`` can refer to it across re-runs. Providers are listed in :data:`PROVIDERS`
as ``"module:function"`` strings (imported only when exceptions are collected, so no dimension has to
be imported for its exceptions to be found), or added at run time with :func:`register`.

To add a dimension's exceptions: write ``def my_exceptions(review, period, parameters) -> pd.DataFrame``
returning the columns of :data:`PROVIDER_COLUMNS` it knows (at least ``exception_id``, ``kind``,
``period``), and add ``"bestex_nb.dimensions.<dimension>:my_exceptions"`` to :data:`PROVIDERS` (the
limit-order review's Rule 5310 .05 exceptions are added that way).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping

import pandas as pd

from bestex_nb.contract.parameters import Decision, ReviewParameters
from bestex_nb.contract.periods import Period

#: Columns a provider may fill (missing ones are left empty). ``value`` is the figure that raised the
#: exception (a difference, a change, a shortfall), ``threshold`` what it was compared with, both in
#: ``unit``; ``subject`` names what the row is about beyond venue and segment (e.g. an order id).
PROVIDER_COLUMNS = [
    "exception_id", "kind", "period", "venue", "is_sp500", "order_category", "subject", "metric",
    "value", "ci_low", "ci_high", "threshold", "unit", "p_holm", "detail",
]
DECISION_COLUMNS = ["disposition", "rationale", "decided_on", "decided_by"]
EXCEPTION_COLUMNS = PROVIDER_COLUMNS + DECISION_COLUMNS
NO_DECISION = "no decision recorded"

Provider = Callable[..., pd.DataFrame]

PROVIDERS: list[str | Provider] = [
    "bestex_nb.dimensions.venues:material_difference_exceptions",
    "bestex_nb.dimensions.venues:deterioration_exceptions",
    "bestex_nb.dimensions.limit_fills:rule5310_05_exceptions",
]


def register(provider: str | Provider) -> None:
    """Add a provider (a callable or a ``"module:function"`` string) unless it is already listed."""
    if provider not in PROVIDERS:
        PROVIDERS.append(provider)


def resolve(provider: str | Provider) -> Provider:
    if callable(provider):
        return provider
    module, _, name = provider.partition(":")
    return getattr(importlib.import_module(module), name)


def slug(*parts) -> str:
    """A readable, stable id from its parts: ``slug("DET", "2026-09", "WSB", "sp500", "market")`` →
    ``DET-2026-09-WSB-sp500-market``. Characters other than letters, digits, ``.``, ``_`` and ``-`` in a
    part become ``_``."""
    return "-".join(re.sub(r"[^A-Za-z0-9._-]", "_", str(p)) for p in parts if p is not None and str(p) != "")


def segment_code(is_sp500) -> str:
    """``sp500`` / ``other`` for ids (the security group of metrics.md section 7)."""
    return "sp500" if bool(is_sp500) else "other"


def collect(review, period: Period, parameters: ReviewParameters, decisions: Mapping[str, Decision],
            providers: list[str | Provider] | None = None) -> pd.DataFrame:
    """Every provider's exceptions for ``period``, with the committee's decision joined on the id.

    Returns one row per exception with :data:`EXCEPTION_COLUMNS`, sorted by kind, venue and id. An
    exception without a decision shows disposition ``open`` and rationale ``no decision recorded``.
    """
    frames = []
    for provider in PROVIDERS if providers is None else providers:
        frame = resolve(provider)(review, period, parameters)
        unknown = set(frame.columns) - set(PROVIDER_COLUMNS)
        if unknown:
            raise ValueError(f"exception provider {provider!r} returned unknown columns {sorted(unknown)}")
        if not frame.empty:
            frames.append(frame.reindex(columns=PROVIDER_COLUMNS))
    table = (pd.concat(frames, ignore_index=True) if frames
             else pd.DataFrame(columns=PROVIDER_COLUMNS))
    duplicated = table["exception_id"][table["exception_id"].duplicated()].tolist()
    if duplicated:
        raise ValueError(f"exception ids must be unique; duplicated: {duplicated[:5]}")
    return join_decisions(table, decisions).sort_values(["kind", "venue", "exception_id"], ignore_index=True)


def join_decisions(table: pd.DataFrame, decisions: Mapping[str, Decision]) -> pd.DataFrame:
    """Add the decision columns: the recorded decision, or ``open`` / ``no decision recorded``."""
    out = table.copy()
    found = [decisions.get(i) for i in out["exception_id"]]
    out["disposition"] = [d.disposition if d else "open" for d in found]
    out["rationale"] = [d.rationale if d else NO_DECISION for d in found]
    out["decided_on"] = [d.decided_on.isoformat() if d and d.decided_on else "" for d in found]
    out["decided_by"] = [d.decided_by if d else "" for d in found]
    return out.loc[:, EXCEPTION_COLUMNS]
