"""Evidence helpers used by notebooks: CSV tables behind the charts and the provenance table."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from bestex_nb.review import Review


def write_tables(tables: dict[str, pd.DataFrame], folder: str | os.PathLike) -> list[Path]:
    """Write each frame as ``<folder>/tables/<name>.csv`` (full precision, stable row order)."""
    out = Path(folder) / "tables"
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, df in tables.items():
        path = out / f"{name}.csv"
        df.to_csv(path, index=False, float_format="%.10g", date_format="%Y-%m-%dT%H:%M:%S.%fZ")
        paths.append(path)
    return paths


def provenance(review: Review) -> pd.DataFrame:
    """What made these numbers: build facts of the store and the SHA-256 of every input file."""
    info = review.build_info()
    rows = [{"item": k, "value": info[k]} for k in
            ("data_dir", "built_at", "bestex_nb", "duckdb", "python", "fingerprint") if k in info]
    rows += [{"item": f"input {r.table_name}: {r.path} ({r.bytes:,} bytes)", "value": f"sha256 {r.sha256}"}
             for r in review.input_files().itertuples()]
    rows += [{"item": "build warning", "value": w} for w in review.build_warnings()[:20]]
    return pd.DataFrame(rows, columns=["item", "value"])


def evidence_note(evidence_dir: str | os.PathLike | None, written: list[Path] | None = None) -> str:
    """Where this report's evidence tables are, in words: the folder they were written to, or, in an
    interactive run without an evidence folder, that none were written and where a batch run puts them."""
    if evidence_dir and written:
        return (f"The {len(written)} evidence tables named in this report (CSV, full precision, times in UTC) "
                f"were written to {Path(evidence_dir) / 'tables'}.")
    return ("No evidence folder was given (parameter evidence_dir), so no table was written: the CSV files "
            "this report names exist only for a batch run, which writes them to "
            "outputs/<period>/<run id>/<firm or venue>/tables/ (bestex run --period … --notebook …).")
