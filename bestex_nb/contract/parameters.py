"""Committee parameters (``parameters/defaults.yaml``, optional ``parameters/<period>.yaml``) and review
decisions (``parameters/decisions.yaml``).

The folder is ``$BESTEX_PARAMETERS`` when set, else the copy an installed wheel carries in
``bestex_nb/parameters/`` (see setup.py), else ``parameters/`` of the checkout. Every key of
``defaults.yaml`` is required and unknown keys are refused, so a typo cannot silently fall back to a
default. A period file overrides any subset of the keys for that period.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
import yaml

from bestex_nb.contract.errors import BestexError
from bestex_nb.contract.periods import parse_period

_PACKAGED, _CHECKOUT = (Path(__file__).resolve().parents[n] / "parameters" for n in (1, 2))
PARAMETERS_DIR = Path(os.environ.get("BESTEX_PARAMETERS") or (_PACKAGED if _PACKAGED.is_dir() else _CHECKOUT))
DISPOSITIONS = ("routing_changed", "justified", "open")
#: Whom the venue comparison behind the exceptions compares a venue against (bestex_nb.stats.comparison.AGAINST).
COMPARE_AGAINST = ("others", "same_type")

#: section → key → (type, meaning); the shape of defaults.yaml
SCHEMA: dict[str, dict[str, tuple[type, str]]] = {
    "venue_comparison": {
        "material_difference": (dict, "material difference threshold per metric, in the metric's unit"),
        "holm_alpha": (float, "Holm family-wise level across the review groups of one metric and period"),
        "min_symbol_days": (int, "minimum symbol-days behind a review group (below: insufficient_data)"),
        "ci_level": (float, "level of the bootstrap percentile intervals"),
    },
    "deterioration": {
        "pct_fall": (float, "breach when net PI per share falls by more than this fraction"),
        "abs_fall_ps": (float, "breach when the prior value is <= 0 and the fall exceeds this, USD/share"),
    },
    "bootstrap": {
        "replicates": (int, "minimum number of symbol-day resamples"),
        "seed": (int, "random seed of the bootstrap"),
    },
    "exceptions": {
        "material_metrics": (list, "metrics whose material differences are exceptions"),
        "monthly_deterioration": (bool, "for a quarter, also run the monthly trigger per month"),
        "compare_against": (str, "the comparison whose material differences are exceptions: others | same_type"),
    },
    "pfof": {
        "variance_threshold": (float, "a PFOF payment differing from the expected one by more than this fraction is an exception"),
    },
    "display": {
        "min_orders_per_bar": (int, "a chart's bar resting on fewer orders than this is drawn faded, with its count"),
    },
}


def _number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


#: section.key → (test of a value of the right type, what it must be)
RANGES = {
    "venue_comparison.material_difference": (
        lambda v: all(isinstance(k, str) and _number(x) and x >= 0 for k, x in v.items()),
        "a mapping of metric → threshold >= 0"),
    "venue_comparison.holm_alpha": (lambda v: 0 < v < 1, "between 0 and 1"),
    "venue_comparison.min_symbol_days": (lambda v: v >= 1, "at least 1"),
    "venue_comparison.ci_level": (lambda v: 0 < v < 1, "between 0 and 1"),
    "deterioration.pct_fall": (lambda v: v > 0, "above 0"),
    "deterioration.abs_fall_ps": (lambda v: v >= 0, "0 or more"),
    "bootstrap.replicates": (lambda v: v >= 1, "at least 1"),
    "exceptions.material_metrics": (lambda v: all(isinstance(m, str) for m in v), "a list of metric names"),
    "exceptions.compare_against": (lambda v: v in COMPARE_AGAINST, f"one of {list(COMPARE_AGAINST)}"),
    "display.min_orders_per_bar": (lambda v: v >= 1, "at least 1"),
    "pfof.variance_threshold": (lambda v: v >= 0, "0 or more"),
}


class ParameterError(BestexError, ValueError):
    """A parameters or decisions file that does not have the expected shape."""


@dataclass(frozen=True)
class ReviewParameters:
    """The thresholds and settings of metrics.md section 8 (units in ``defaults.yaml``)."""

    material_difference: Mapping[str, float]
    holm_alpha: float = 0.05
    min_symbol_days: int = 20
    ci_level: float = 0.95
    deterioration_pct: float = 0.20
    deterioration_abs_ps: float = 0.0005
    replicates: int = 2000
    seed: int = 20260930
    material_metrics: tuple[str, ...] = ()
    monthly_deterioration: bool = True
    compare_against: str = "others"
    min_orders_per_bar: int = 30
    pfof_variance_threshold: float = 0.05
    sources: tuple[str, ...] = field(default=(), compare=False)  # files read, with SHA-256

    def threshold(self, metric: str) -> float:
        if metric not in self.material_difference:
            raise ParameterError(f"no material_difference threshold for {metric!r} in parameters "
                                 f"(venue_comparison.material_difference in {', '.join(self.sources) or 'defaults'})")
        return float(self.material_difference[metric])

    def trigger_periods(self, period) -> list:
        """The periods whose deterioration trigger a review of ``period`` runs: the period itself (against
        its prior period) and, with ``monthly_deterioration``, each month of a quarter."""
        p = parse_period(period)
        out = [p]
        if self.monthly_deterioration and p.label[4:5] == "Q":
            year, quarter = int(p.label[:4]), int(p.label[5])
            out += [parse_period(f"{year}-{3 * quarter - 2 + i:02d}") for i in range(3)]
        return out

    def table(self) -> pd.DataFrame:
        """The parameters as a readable two-column table (``parameter``, ``value``) for the report."""
        rows = [(f"material difference: {k}", v) for k, v in self.material_difference.items()]
        rows += [("Holm alpha", self.holm_alpha), ("minimum symbol-days", self.min_symbol_days),
                 ("interval level", self.ci_level),
                 ("deterioration: fall of more than (fraction of prior)", self.deterioration_pct),
                 ("deterioration: fall when prior <= 0 (USD/share)", self.deterioration_abs_ps),
                 ("bootstrap replicates (minimum)", self.replicates), ("bootstrap seed", self.seed),
                 ("exceptions: venues compared against", self.compare_against),
                 ("charts: bars faded below this many orders", self.min_orders_per_bar),
                 ("PFOF: payment variance exception above (fraction of expected)", self.pfof_variance_threshold)]
        rows += [("source", s) for s in self.sources]
        return pd.DataFrame(rows, columns=["parameter", "value"]).astype({"value": str})


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe YAML that refuses a key given twice in one mapping (plain YAML keeps the last silently:
    a second decision for one id, or a second threshold, would replace the first unseen)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ParameterError(f"line {key_node.start_mark.line + 1}: key {key!r} is given twice")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


# dates stay text, so that load_decisions checks them and names the decision (2026-13-01 would
# otherwise fail inside the YAML parser, with no id)
_UniqueKeyLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.load(path.read_text(), Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except ParameterError as exc:
        raise ParameterError(f"{path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ParameterError(f"{path}: not valid YAML: {exc}") from exc
    except ValueError as exc:  # an explicit !!timestamp that is not a date
        raise ParameterError(f"{path}: not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParameterError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def _digest(path: Path) -> str:
    return f"{path} (sha256 {hashlib.sha256(path.read_bytes()).hexdigest()[:16]})"


def _check(data: dict, path: Path, partial: bool) -> None:
    for section, body in data.items():
        if section not in SCHEMA:
            raise ParameterError(f"{path}: unknown section {section!r}; expected {list(SCHEMA)}")
        if not isinstance(body, dict):
            raise ParameterError(f"{path}: section {section!r} must be a mapping")
        for key, value in body.items():
            if key not in SCHEMA[section]:
                raise ParameterError(f"{path}: unknown key {section}.{key}; expected {list(SCHEMA[section])}")
            kind = SCHEMA[section][key][0]
            ok = isinstance(value, kind) or (kind is float and isinstance(value, int) and not isinstance(value, bool))
            if kind is int and isinstance(value, bool):
                ok = False
            if not ok:
                raise ParameterError(f"{path}: {section}.{key} must be {kind.__name__}, got {value!r}")
            test, meaning = RANGES.get(f"{section}.{key}", (None, ""))
            if test and not test(value):
                raise ParameterError(f"{path}: {section}.{key} must be {meaning}, got {value!r}")
    if not partial:
        for section, keys in SCHEMA.items():
            for key in keys:
                if key not in data.get(section, {}):
                    raise ParameterError(f"{path}: missing {section}.{key} ({keys[key][1]})")


def load(period=None, folder: str | os.PathLike | None = None) -> ReviewParameters:
    """Read ``defaults.yaml`` (and ``<period label>.yaml`` over it when present) from ``folder``."""
    folder = Path(folder) if folder else PARAMETERS_DIR
    path = folder / "defaults.yaml"
    if not path.exists():
        raise ParameterError(f"no parameters file {path}; set BESTEX_PARAMETERS to the folder holding "
                             "defaults.yaml or restore parameters/defaults.yaml from the repository")
    data = _read_yaml(path)
    _check(data, path, partial=False)
    sources = [_digest(path)]
    if period is not None:
        override = folder / f"{parse_period(period).label}.yaml"
        if override.exists():
            extra = _read_yaml(override)
            _check(extra, override, partial=True)
            for section, body in extra.items():
                data[section] = {**data[section], **body}
            sources.append(_digest(override))
    vc, det, boot, exc = (data[s] for s in ("venue_comparison", "deterioration", "bootstrap", "exceptions"))
    missing = [m for m in exc["material_metrics"] if m not in vc["material_difference"]]
    if missing:
        raise ParameterError(f"{' + '.join(sources)}: exceptions.material_metrics names {missing}, which have no "
                             "venue_comparison.material_difference threshold")
    return ReviewParameters(
        material_difference={str(k): float(v) for k, v in vc["material_difference"].items()},
        holm_alpha=float(vc["holm_alpha"]), min_symbol_days=int(vc["min_symbol_days"]),
        ci_level=float(vc["ci_level"]), deterioration_pct=float(det["pct_fall"]),
        deterioration_abs_ps=float(det["abs_fall_ps"]), replicates=int(boot["replicates"]),
        seed=int(boot["seed"]), material_metrics=tuple(str(m) for m in exc["material_metrics"]),
        monthly_deterioration=bool(exc["monthly_deterioration"]), compare_against=str(exc["compare_against"]),
        min_orders_per_bar=int(data["display"]["min_orders_per_bar"]),
        pfof_variance_threshold=float(data["pfof"]["variance_threshold"]), sources=tuple(sources),
    )


# -- review decisions ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Decision:
    """The committee's disposition of one exception."""

    disposition: str  # routing_changed | justified | open
    rationale: str
    decided_on: date | None
    decided_by: str
    source: str = field(default="", compare=False)  # the file it was read from


def load_decisions(path: str | os.PathLike | None = None) -> dict[str, Decision]:
    """``{exception_id: Decision}`` from ``decisions.yaml`` (a missing or empty file: no decisions).

    A decision other than ``open`` needs a rationale, a date and who decided.
    """
    path = Path(path) if path else PARAMETERS_DIR / "decisions.yaml"
    if not path.exists():
        return {}
    out = {}
    for exception_id, entry in _read_yaml(path).items():
        where = f"{path}: decision {exception_id!r}"
        if not isinstance(entry, dict):
            raise ParameterError(f"{where} must be a mapping with disposition, rationale, decided_on, decided_by")
        unknown = set(entry) - {"disposition", "rationale", "decided_on", "decided_by"}
        if unknown:
            raise ParameterError(f"{where}: unknown fields {sorted(unknown)}")
        disposition = entry.get("disposition")
        if disposition not in DISPOSITIONS:
            raise ParameterError(f"{where}: disposition must be one of {list(DISPOSITIONS)}, got {disposition!r}")
        decided_on = entry.get("decided_on")
        if isinstance(decided_on, str):
            try:
                if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", decided_on.strip()):
                    raise ValueError(decided_on)
                decided_on = date.fromisoformat(decided_on.strip())
            except ValueError as exc:
                raise ParameterError(f"{where}: decided_on must be an ISO date, got {decided_on!r}") from exc
        elif decided_on is not None and not isinstance(decided_on, date):
            raise ParameterError(f"{where}: decided_on must be an ISO date, got {decided_on!r}")
        rationale = str(entry.get("rationale") or "").strip()
        decided_by = str(entry.get("decided_by") or "").strip()
        if disposition != "open" and not (rationale and decided_on and decided_by):
            raise ParameterError(f"{where}: a {disposition} decision needs rationale, decided_on and decided_by")
        out[str(exception_id)] = Decision(disposition, rationale, decided_on, decided_by, str(path))
    return out


def load_run(period, folder: str | os.PathLike | None = None) -> tuple[ReviewParameters, dict[str, Decision]]:
    """The committee's parameters for ``period`` and its decisions, from ``folder`` (defaults.yaml, the
    period's override and decisions.yaml; default :data:`PARAMETERS_DIR`): what a notebook reads once and
    passes to the dimensions' ``compute``."""
    decisions = Path(folder) / "decisions.yaml" if folder else None
    return load(period, folder or None), load_decisions(decisions)
