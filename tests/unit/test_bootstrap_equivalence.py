"""Issue 18: the venue-comparison bootstrap evaluated block by block (bestex_nb/stats/resample.py) gives the
results of the code before it (float32 replicates, one block product per batch of replicates).

The expected figures in tests/fixtures/bootstrap_before/ were computed by that code on the frames of
tests/fixtures/boot_case.py (17 significant digits, so they read back bit for bit). Point estimates, counts,
p-values, Holm and statuses must be identical; the intervals must agree to every digit the notebooks print
(the old replicates were summed in float32, so they differ from the float64 ones by about 1e-6 of the
interval's value). Set BESTEX_BOOT_FRAMES to a folder of dumped sums frames and the old code's results
to run the same comparison on the sample store's and a 10 M-order store's frames.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from fixtures.boot_case import fill_sums, pi_sums

from bestex_nb.contract.units import fmt_value
from bestex_nb.stats import comparison, deterioration, resample

BEFORE = Path(__file__).resolve().parents[1] / "fixtures" / "bootstrap_before"
PI = ["net_pi_ps", "eq_ratio", "eff_spread_ps", "realized_spread_1m_ps", "avg_exec_ms"]
KW = {"alpha": 0.05, "min_symbol_days": 5, "replicates": 2000, "seed": 20260930, "level": 0.95}
EXACT = ["venue", "is_sp500", "order_category", "metric", "difference", "p_holm", "is_material", "matched_shares",
         "matched_pct", "venue_shares", "matched_cells", "symbol_days", "p_value", "replicates", "threshold",
         "status"]
INTERVALS = ["ci_low", "ci_high"]


def new_compare(pi, fills, kw=KW, threshold=0.0005):
    res = comparison.compare_many(pi, PI, thresholds={m: threshold for m in PI}, **kw)
    fill = comparison.compare(fills, "fill_rate_shares", threshold=0.1, **kw)
    return pd.concat([res[m] for m in PI] + [fill], ignore_index=True)


def assert_same(before: pd.DataFrame, after: pd.DataFrame, exact, close) -> None:
    assert list(before.columns) == list(after.columns) and len(before) == len(after)
    for col in exact:
        b, a = before[col].to_numpy(), after[col].to_numpy()
        if b.dtype.kind == "f":
            assert np.array_equal(b, a.astype(float), equal_nan=True), col  # bit for bit
        else:
            assert (b == a).all(), col
    for col in close:
        b, a = before[col].to_numpy(float), after[col].to_numpy(float)
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-12, equal_nan=True, err_msg=col)
        units = [comparison.METRICS[m].unit if m in comparison.METRICS else "fraction of prior"
                 for m in after.get("metric", ["net_pi_ps"] * len(after))]
        printed = [fmt_value(x, u, True) for x, u in zip(b, units)]
        assert printed == [fmt_value(x, u, True) for x, u in zip(a, units)], col


def read_before(name: str) -> pd.DataFrame:
    return pd.read_csv(BEFORE / name, keep_default_na=False, na_values=[""]).replace({"": np.nan})


def test_comparison_equals_the_code_before():
    before = read_before("compare.csv")
    after = new_compare(pi_sums(), fill_sums())
    # the default comparison (every other venue pooled) is the one the code before made, bit for bit
    assert set(after.pop("against")) == {"others"}
    assert set(before["status"]) >= {"material", "better", "worse", "no_significant_difference"}
    assert_same(before, after, EXACT, INTERVALS)


def test_deterioration_equals_the_code_before_bit_for_bit():
    before = read_before("deterioration.csv")
    pi = pi_sums()
    after = deterioration.deterioration(
        pi[pi["month"] == "2026-08"], pi[pi["month"] == "2026-07"], period="2026-08", prior_period="2026-07",
        pct_threshold=0.2, abs_threshold=0.0005, **{**KW, "min_symbol_days": 2})
    after = after.assign(basis=after["basis"].replace("", np.nan))
    assert_same(before, after.reset_index(drop=True), list(before.columns), [])


def test_distinct_tuples_stand_for_every_replicate(monkeypatch):
    # the two-day blocks are evaluated once per distinct count tuple; evaluating every replicate on its
    # own must give the same figures
    est = comparison.CellMatched(pi_sums(), PI)
    counts = resample.cluster_counts(est.n_clusters, 500, np.random.default_rng(0))
    found = resample.tuples(counts, est.blocks, np.arange(len(est.blocks.k)))
    short = est.blocks.k == 2
    assert short.any() and (~short).any()
    assert all((f is not None) == s for f, s in zip(found, short))  # only the short blocks deduplicate
    deduplicated = new_compare(pi_sums(), fill_sums())
    monkeypatch.setattr(resample, "CODES_PER_BLOCK", 0)
    every = new_compare(pi_sums(), fill_sums())
    assert_same(every, deduplicated, EXACT, [])
    np.testing.assert_allclose(deduplicated[INTERVALS], every[INTERVALS], rtol=1e-12, atol=1e-15)


def test_tuples_are_the_rows_they_stand_for():
    rng = np.random.default_rng(3)
    est = comparison.CellMatched(pi_sums(), PI)
    counts = resample.cluster_counts(est.n_clusters, 300, rng)
    found = resample.tuples(counts, est.blocks, np.arange(len(est.blocks.k)))
    checked = 0
    for b, f in enumerate(found):
        if f is not None:
            t, inv = f
            assert len(t) == len(np.unique(t, axis=0)) < 300
            assert np.array_equal(t[inv], counts[:, est.blocks.clusters[b]])
            checked += 1
    assert checked == int((est.blocks.k == 2).sum()) > 0
