"""The deterioration trigger (metrics.md section 8): the boundary, a negative prior, significance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bestex_nb.stats.deterioration import deterioration, trigger_met


@pytest.mark.parametrize("prior, current, met, basis", [
    (0.005, 0.004, False, "pct"),      # exactly 20%: "by more than" the threshold → not a breach
    (0.005, 0.00399, True, "pct"),     # 20.2%
    (0.0025, 0.002, False, "pct"),     # exactly 20% again, other magnitudes
    (0.003, 0.0015, True, "pct"),      # 50%
    (0.003, 0.0035, False, "pct"),     # a rise
    (-0.001, -0.0016, True, "abs"),    # prior ≤ 0: absolute fall 0.0006 > 0.0005
    (-0.001, -0.0015, False, "abs"),   # absolute fall exactly 0.0005: not a breach
    (-0.001, -0.0014, False, "abs"),
    (0.0, -0.0006, True, "abs"),       # a prior of exactly 0 uses the absolute threshold
    (-0.002, -0.001, False, "abs"),    # an improvement from a negative prior
    (np.nan, 0.001, False, ""),        # no prior value: nothing to compare
    (0.001, np.nan, False, ""),
])
def test_trigger_boundary_and_negative_prior(prior, current, met, basis):
    got, got_basis = trigger_met(np.array([prior]), np.array([current]), 0.20, 0.0005)
    assert bool(got[0]) is met and got_basis[0] == basis


def sums(values: dict[str, float], days: int, start: str, noise: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """One S&P 500 market-order group per venue, ``days`` symbol-days of 1,000 shares at net PI ``values``."""
    rng = np.random.default_rng(seed)
    rows = []
    for day in pd.date_range(start, periods=days, freq="D"):
        for venue, pi in values.items():
            rows.append({"venue": venue, "is_sp500": True, "order_category": "market", "symbol": "AAA",
                         "receipt_date": day, "fills": 3.0, "executed_shares": 1000.0,
                         "net_pi_usd": 1000.0 * (pi + rng.normal(0, noise))})
    return pd.DataFrame(rows)


def run(prior, current, **kw):
    return deterioration(current, prior, period="2026-09", prior_period="2026-08", replicates=1000, seed=1, **kw)


def test_a_significant_fall_breaches_and_a_stable_venue_does_not():
    prior = sums({"A": 0.0027, "B": 0.0029}, 21, "2026-08-01", noise=0.0004, seed=1)
    current = sums({"A": 0.0015, "B": 0.0029}, 21, "2026-09-01", noise=0.0004, seed=2)
    df = run(prior, current).set_index("venue")
    assert df.loc["A", "is_breach"] and df.loc["A", "status"] == "breach"
    assert df.loc["A", "pct_ci_high"] < 0 and df.loc["A", "change_ci_high"] < 0
    assert df.loc["A", "pct_change"] == pytest.approx(-0.44, abs=0.05)
    assert not df.loc["B", "is_breach"] and df.loc["B", "status"] == "within_threshold"
    assert (df["symbol_days"] == 21).all() and (df["prior_symbol_days"] == 21).all()


def test_exactly_twenty_percent_is_not_a_breach_even_when_significant():
    # no noise: every resample gives exactly −20%, so the fall is as significant as it can be
    df = run(sums({"A": 0.005}, 25, "2026-08-01"), sums({"A": 0.004}, 25, "2026-09-01"))
    assert df["pct_change"].iloc[0] == pytest.approx(-0.2)
    assert df["p_holm"].iloc[0] < 0.05
    assert not df["is_breach"].iloc[0] and df["status"].iloc[0] == "within_threshold"
    df = run(sums({"A": 0.005}, 25, "2026-08-01"), sums({"A": 0.00399}, 25, "2026-09-01"))
    assert df["is_breach"].iloc[0]


def test_negative_prior_uses_the_absolute_threshold():
    df = run(sums({"A": -0.001}, 25, "2026-08-01"), sums({"A": -0.0017}, 25, "2026-09-01"))
    r = df.iloc[0]
    assert r["basis"] == "abs" and r["threshold"] == 0.0005 and np.isnan(r["pct_change"])
    assert r["change_ps"] == pytest.approx(-0.0007) and r["is_breach"]


def test_too_few_symbol_days_never_breach_and_no_prior_is_reported():
    df = run(sums({"A": 0.003}, 5, "2026-08-01"), sums({"A": 0.001}, 5, "2026-09-01"))
    assert df["status"].iloc[0] == "insufficient_data" and not df["is_breach"].iloc[0]
    empty_prior = sums({"A": 0.003}, 5, "2026-08-01").iloc[0:0]
    df = run(empty_prior, sums({"A": 0.001}, 25, "2026-09-01"))
    assert df["status"].iloc[0] == "no_prior_data" and np.isnan(df["prior_value"].iloc[0])
