"""Venue comparison against comparable peers (``against="same_type"``) and in basis points, hand-computed on
tests/fixtures/venue_case.py (its docstring has the cells; every AAA order there has the mid 10.02).

With V1 and V3 wholesalers and V2 an exchange, V1's only same-type peer is V3:
  cell A: m(V1) = 3/200 = 0.015, m(V3) = 1/200 = 0.005 → d = 0.01 (w 200); cell B: V3 has no order → unmatched
  difference 0.01 over 200 of V1's 350 shares; V3: −0.01; V2 has no peer of its type.
With all three wholesalers and a fourth venue V4, an exchange, filling 100 @ 10.00 in cell A (PI 0.04):
  same_type pools V2 and V3 as the others did before V4 came: V1 1/75, V2 −1/75, V3 −0.005 (ratio of sums)
  others pools V4 too: V1 in A: 0.015 − (0 + 1 + 4)/400 = 0.0025 (w 200), in B 0.02 (w 50) → 0.006.
"""

import math

import pandas as pd
import pytest
from conftest import fill as make_fill
from conftest import order
from fixtures.venue_case import D1, FILLS, ORDERS, QUOTES, VENUES

from bestex_nb.contract.parameters import ReviewParameters
from bestex_nb.stats import comparison


def params(**kw) -> ReviewParameters:
    base = {"material_difference": {m: 0.001 for m in comparison.METRICS}, "replicates": 1000, "seed": 7,
            "min_symbol_days": 20}
    return ReviewParameters(**{**base, **kw})


def typed(**types):
    return [{**v, "venue_type": types.get(v["venue_id"], v["venue_type"])} for v in VENUES]


def row(df, venue, is_sp500=True, category="market"):
    hit = df[(df["venue"] == venue) & (df["is_sp500"] == is_sp500) & (df["order_category"] == category)]
    assert len(hit) == 1, (venue, is_sp500, category)
    return hit.iloc[0]


def test_one_same_type_peer(build_review):
    review = build_review(ORDERS, FILLS, QUOTES, venues=typed(V3="wholesaler"))
    df = review.compare_venues("2026Q3", "net_pi_ps", against="same_type", parameters=params())
    assert set(df["against"]) == {"same_type"}
    v1 = row(df, "V1")
    assert v1["difference"] == pytest.approx(0.01, abs=1e-12)
    assert v1["matched_shares"] == pytest.approx(200) and v1["matched_pct"] == pytest.approx(200 / 350)
    assert v1["matched_cells"] == 1
    assert row(df, "V3")["difference"] == pytest.approx(-0.01, abs=1e-12)
    # the exchange has no other exchange to be compared with: a row, a null difference, never flagged
    for is_sp500 in (True, False):
        v2 = row(df, "V2", is_sp500=is_sp500)
        assert math.isnan(v2["difference"]) and v2["status"] == "no_same_type_peer" and not v2["is_material"]
    # the default comparison is unchanged
    others = review.compare_venues("2026Q3", "net_pi_ps", parameters=params())
    assert set(others["against"]) == {"others"}
    assert row(others, "V1")["difference"] == pytest.approx(1 / 75, abs=1e-12)


def test_two_same_type_peers_are_pooled_and_another_type_is_left_out(build_review):
    orders = ORDERS + [order("X1", D1 + "14:00:08Z", routed_venue="V4")]
    fills = FILLS + [make_fill("FX", "X1", D1 + "14:00:08.010Z", "100", "10.00", "V4", "agency")]
    venues = typed(V2="wholesaler", V3="wholesaler") + [
        {"venue_id": "V4", "name": "Exchange Four", "venue_type": "exchange", "is_affiliate": "false",
         "pays_pfof": "false", "mic": "XFOR", "rule605_code": ""}]
    review = build_review(orders, fills, QUOTES, venues=venues)
    same = review.compare_venues("2026Q3", "net_pi_ps", against="same_type", parameters=params())
    assert row(same, "V1")["difference"] == pytest.approx(1 / 75, abs=1e-12)
    assert row(same, "V2")["difference"] == pytest.approx(-1 / 75, abs=1e-12)
    assert row(same, "V3")["difference"] == pytest.approx(-0.005, abs=1e-12)
    assert row(same, "V4")["status"] == "no_same_type_peer" and math.isnan(row(same, "V4")["difference"])
    others = review.compare_venues("2026Q3", "net_pi_ps", against="others", parameters=params())
    assert row(others, "V1")["difference"] == pytest.approx((200 * 0.0025 + 50 * 0.02) / 250, abs=1e-12)
    assert row(others, "V4")["difference"] == pytest.approx(0.04 - (3 + 0 + 1) / 500, abs=1e-12)  # A: V4 vs V1+V2+V3
    # each comparison is memoised under its own key: asking again gives the same rows
    again = review.compare_venues("2026Q3", "net_pi_ps", against="same_type", parameters=params())
    assert again.equals(same)


def test_comparison_in_basis_points(build_review):
    review = build_review(ORDERS, FILLS, QUOTES, venues=VENUES)
    df = review.compare_venues("2026Q3", ["net_pi_bps", "eff_spread_bps", "quoted_spread_bps"],
                               parameters=params())
    net = df[df["metric"] == "net_pi_bps"]
    v1 = row(net, "V1")
    # every cell's mid is 10.02: the bps difference is the per-share one over 10.02, × 10⁴, and the cells
    # are weighted by the venue's Σ q·M_r (here 10.02 × its shares)
    assert v1["difference"] == pytest.approx(1 / 75 / 10.02 * 1e4, rel=1e-9)
    assert v1["matched_shares"] == pytest.approx(250 * 10.02) and v1["matched_pct"] == pytest.approx(5 / 7)
    assert row(net, "V3")["difference"] == pytest.approx(-0.005 / 10.02 * 1e4, rel=1e-9)
    # effective spread is a cost: V1's is lower (A: 0.01 vs (0.04·100 + 0.03·200)/300; B: −0.04 vs 0)
    es = row(df[df["metric"] == "eff_spread_bps"], "V1")
    d_a, d_b = (10 / 300 - 0.01) / 10.02 * 1e4, (0 + 0.04) / 10.02 * 1e4
    assert es["difference"] == pytest.approx((200 * d_a + 50 * d_b) / 250, rel=1e-9)
    # every AAA order met the same 0.04 spread: no quoted-spread difference anywhere
    qs = df[(df["metric"] == "quoted_spread_bps") & df["difference"].notna()]
    assert len(qs) and (qs["difference"].abs() < 1e-9).all()


def test_unknown_against_is_refused(build_review):
    review = build_review(ORDERS, FILLS, QUOTES, venues=VENUES)
    with pytest.raises(ValueError, match="against must be one of"):
        review.compare_venues("2026Q3", "net_pi_ps", against="peers", parameters=params())


def test_the_exceptions_use_the_committees_comparison(tmp_path):
    from bestex_nb import exception_register
    from bestex_nb.contract import parameters as params_mod
    from bestex_nb.contract.periods import parse_period

    asked = []

    class Recorder:
        def compare_venues(self, period, metric, *, against="others", parameters=None):
            asked.append((metric, against))
            return pd.DataFrame(columns=comparison.RESULT_COLUMNS).astype({"is_material": bool})

    folder = tmp_path / "parameters"
    folder.mkdir()
    (folder / "defaults.yaml").write_text((params_mod.PARAMETERS_DIR / "defaults.yaml").read_text())
    assert params_mod.load(folder=folder).compare_against == "others"
    (folder / "2026Q3.yaml").write_text("exceptions:\n  compare_against: same_type\n")
    p = params_mod.load("2026Q3", folder)
    assert p.compare_against == "same_type"
    exception_register.material_difference_exceptions(Recorder(), parse_period("2026Q3"), p)
    assert asked and {a for _, a in asked} == {"same_type"}
    assert [m for m, _ in asked] == list(p.material_metrics)  # which metrics raise exceptions is unchanged
