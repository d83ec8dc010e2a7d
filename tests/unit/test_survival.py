"""The Kaplan–Meier estimator and its Greenwood bands, against curves worked by hand.

Case A (ms; e = first fill, c = censored by a cancel or expiry), nine orders with ties:
    t:  1e  2e 2e 2c  3c  4e  5e 5c  6c
    t=1: at risk 9, 1 fill       S = 8/9
    t=2: at risk 8, 2 fills      S = 8/9 · 6/8 = 2/3   (the order censored at 2 is still at risk at 2)
    t=3: one censored            S = 2/3
    t=4: at risk 4, 1 fill       S = 2/3 · 3/4 = 1/2
    t=5: at risk 3, 1 fill       S = 1/2 · 2/3 = 1/3   (the other order at 5 is censored)
    t=6: censored                S = 1/3
    Greenwood Σ d/(n(n−d)) at 5: 1/72 + 2/48 + 1/12 + 1/6 = 22/72 = 11/36, so Var S(5) = (1/3)² · 11/36.
"""

import math

import numpy as np
import pandas as pd
import pytest

from bestex_nb.stats.survival import (
    CURVE_COLUMNS,
    default_grid_ms,
    kaplan_meier_grid,
    kaplan_meier_steps,
    median_from_steps,
    median_time_ms,
    steps_from_counts,
    survival_curves,
    survival_curves_from_counts,
)

A_T = [1, 2, 2, 2, 3, 4, 5, 5, 6]
A_E = [1, 1, 1, 0, 0, 1, 1, 0, 0]
Z = 1.959963984540054


def test_steps_by_hand():
    steps = kaplan_meier_steps(A_T, A_E)
    assert steps["time_ms"].tolist() == [1, 2, 3, 4, 5, 6]
    assert steps["at_risk"].tolist() == [9, 8, 5, 4, 3, 1]
    assert steps["filled"].tolist() == [1, 2, 0, 1, 1, 0]
    assert steps["censored"].tolist() == [0, 1, 1, 0, 1, 1]
    np.testing.assert_allclose(steps["survival"], [8 / 9, 2 / 3, 2 / 3, 1 / 2, 1 / 3, 1 / 3])
    assert steps["greenwood"].iloc[4] == pytest.approx(11 / 36)


def test_grid_values_and_linear_band():
    g = kaplan_meier_grid(A_T, A_E, grid_ms=[0.5, 1, 2.5, 5, 10], ci="linear").set_index("tau_ms")
    assert list(g.columns) == list(CURVE_COLUMNS[1:])
    np.testing.assert_allclose(g["survival"], [1, 8 / 9, 2 / 3, 1 / 3, 1 / 3])
    assert g["at_risk"].tolist() == [9, 9, 5, 3, 0]  # durations ≥ τ
    assert g["filled"].tolist() == [0, 1, 3, 5, 5]
    assert g["censored"].tolist() == [0, 0, 1, 3, 4]
    se = math.sqrt(11) / 18  # (1/3) · √(11/36)
    assert g.loc[5, "std_err"] == pytest.approx(se)
    assert g.loc[5, "ci_low"] == 0.0  # 1/3 − 1.96 · 0.184 < 0: clipped
    assert g.loc[5, "ci_high"] == pytest.approx(1 / 3 + Z * se)
    assert g.loc[0.5, "ci_low"] == g.loc[0.5, "ci_high"] == 1.0  # before the first fill


def test_loglog_band():
    g = kaplan_meier_grid(A_T, A_E, grid_ms=[5]).iloc[0]
    s, gw = 1 / 3, 11 / 36
    se_theta = math.sqrt(gw) / abs(math.log(s))
    assert g["ci_low"] == pytest.approx(s ** math.exp(Z * se_theta))
    assert g["ci_high"] == pytest.approx(s ** math.exp(-Z * se_theta))
    assert 0 < g["ci_low"] < s < g["ci_high"] < 1


def test_curve_reaching_zero_and_all_censored():
    g = kaplan_meier_grid([1, 2], [1, 1], grid_ms=[1, 2, 3]).reset_index(drop=True)
    assert g["survival"].tolist() == [0.5, 0.0, 0.0]
    assert g.loc[1, "ci_low"] == g.loc[1, "ci_high"] == 0.0
    none = kaplan_meier_grid([1, 2, 3], [0, 0, 0], grid_ms=[10])
    assert none["survival"].tolist() == [1.0] and none["ci_low"].tolist() == [1.0]
    empty = kaplan_meier_grid([], [], grid_ms=[10])
    assert empty["orders"].tolist() == [0] and math.isnan(empty["survival"].iloc[0])


def test_median():
    assert median_time_ms(A_T, A_E) == 4  # S(4) = 1/2
    assert median_time_ms([1, 2], [0, 1]) == 2  # S(2) = 0
    assert math.isnan(median_time_ms([1, 2, 3], [1, 0, 0]))  # S stays at 2/3


def _reference_km(t, e, tau):
    """A plain loop over the sorted orders (no numpy tricks): product-limit at τ."""
    s = 1.0
    for time in sorted(set(t)):
        if time > tau:
            break
        at_risk = sum(1 for x in t if x >= time)
        fills = sum(1 for x, ev in zip(t, e) if x == time and ev)
        s *= 1 - fills / at_risk
    return s


def test_matches_a_plain_loop_on_random_data_with_ties():
    rng = np.random.default_rng(7)
    t = rng.integers(0, 40, 300).astype(float)
    e = rng.random(300) < 0.6
    grid = [0, 3, 7.5, 12, 20, 39, 50]
    got = kaplan_meier_grid(t, e, grid_ms=grid)["survival"].to_numpy()
    want = [_reference_km(list(t), list(e), tau) for tau in grid]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_survival_curves_per_group():
    orders = pd.DataFrame({"venue": ["X"] * 9 + ["Y"] * 2, "survival_ms": A_T + [1, 2],
                           "is_fill_event": [bool(v) for v in A_E] + [True, True]})
    curves = survival_curves(orders, ["venue"], grid_ms=[5])
    assert list(curves.columns) == ["venue", *CURVE_COLUMNS]
    assert curves.set_index("venue")["survival"].to_dict() == pytest.approx({"X": 1 / 3, "Y": 0.0})
    assert survival_curves(orders.iloc[:0], ["venue"]).empty


def test_default_grid():
    grid = default_grid_ms()
    assert grid[0] == 1 and grid[-1] == pytest.approx(6.5 * 3600 * 1000)
    assert np.all(np.diff(np.log(grid)) > 0) and len(grid) > 100


def test_rejects_bad_input():
    with pytest.raises(ValueError):
        kaplan_meier_steps([1, -1], [1, 0])
    with pytest.raises(ValueError):
        kaplan_meier_grid([1], [1], ci="plain")


def test_counts_give_the_curves_of_the_orders_to_the_last_bit():
    """What fill_survival_counts.sql returns (per group and distinct time: fills, censored) gives the same
    steps, curves and medians as the orders themselves."""
    rng = np.random.default_rng(11)
    orders = pd.DataFrame({"venue": rng.choice(["X", "Y", "Z"], 500), "survival_ms": rng.integers(0, 60, 500) * 0.5,
                           "is_fill_event": rng.random(500) < 0.55})
    counts = (orders.assign(filled=orders["is_fill_event"].astype(int), censored=(~orders["is_fill_event"]).astype(int))
              .groupby(["venue", "survival_ms"], as_index=False)[["filled", "censored"]].sum())
    grid = [0, 0.5, 3, 7.25, 20, 29.5, 40]
    for ci in ("loglog", "linear"):
        pd.testing.assert_frame_equal(survival_curves_from_counts(counts, ["venue"], grid, ci=ci),
                                      survival_curves(orders, ["venue"], grid, ci=ci), check_exact=True)
    pd.testing.assert_frame_equal(survival_curves_from_counts(counts, [], grid), survival_curves(orders, [], grid),
                                  check_exact=True)
    x = counts[counts["venue"] == "X"]
    steps = steps_from_counts(x["survival_ms"], x["filled"], x["censored"])
    mine = orders[orders["venue"] == "X"]
    pd.testing.assert_frame_equal(steps, kaplan_meier_steps(mine["survival_ms"], mine["is_fill_event"]), check_exact=True)
    assert median_from_steps(steps) == median_time_ms(mine["survival_ms"], mine["is_fill_event"])
    assert survival_curves_from_counts(counts.iloc[:0], ["venue"]).empty
    with pytest.raises(ValueError, match="ascending"):
        steps_from_counts([2.0, 1.0], [1, 1], [0, 0])
