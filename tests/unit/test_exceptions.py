"""Exceptions across dimensions: stable ids, decisions joined, providers; the parameter files."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import pytest
import yaml
from fixtures.venue_case import FILLS, ORDERS, QUOTES, VENUES

from bestex_nb import exception_register
from bestex_nb.contract import parameters
from bestex_nb.contract.parameters import ParameterError, load, load_decisions

REPO_PARAMETERS = Path(__file__).resolve().parents[2] / "parameters"


def params_dir(folder: Path, **sections) -> Path:
    """A copy of the repository's defaults.yaml with some keys overridden (``section={key: value}``)."""
    data = yaml.safe_load((REPO_PARAMETERS / "defaults.yaml").read_text())
    for section, body in sections.items():
        data[section].update(body)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "defaults.yaml").write_text(yaml.safe_dump(data))
    return folder


# tiny data: one symbol-day per group, so allow one; net PI only
TINY = {"venue_comparison": {"min_symbol_days": 1}, "exceptions": {"material_metrics": ["net_pi_ps"]}}
# V1's net PI per share also falls from 0.02 (July: (1 + 2 + 2)/250) to 0.01 (August): a 50% fall
EXPECTED = ["DET-2026-08-V1-sp500-market", "MAT-2026Q3-net_pi_ps-V2-sp500-market",
            "MAT-2026Q3-net_pi_ps-V3-sp500-market"]


def test_ids_are_stable_across_runs_and_decisions_are_joined(build_review, tmp_path):
    folder = params_dir(tmp_path / "params", **TINY)
    (folder / "decisions.yaml").write_text(textwrap.dedent("""
        MAT-2026Q3-net_pi_ps-V2-sp500-market:
          disposition: justified
          rationale: Exchange fills at the quote; speed and certainty are the reason we route there.
          decided_on: 2026-10-14
          decided_by: Best Execution Committee
        MAT-2026Q2-net_pi_ps-V2-sp500-market:
          disposition: open
    """))
    tables = []
    for name in ("first", "second"):  # two stores built separately from the same extracts
        review = build_review(ORDERS, FILLS, QUOTES, venues=VENUES, name=name)
        tables.append(review.exceptions("2026Q3", parameters=load("2026Q3", folder),
                                        decisions=folder / "decisions.yaml"))
    first, second = tables
    assert first["exception_id"].tolist() == EXPECTED == second["exception_id"].tolist()
    pd.testing.assert_frame_equal(first, second)
    assert list(first.columns) == exception_register.EXCEPTION_COLUMNS
    det, v2, v3 = first.iloc[0], first.iloc[1], first.iloc[2]
    assert det["kind"] == "deterioration" and det["value"] == pytest.approx(-0.5) and det["subject"] == "vs 2026-07"
    assert v2["kind"] == "material_difference" and v2["venue"] == "V2" and v2["metric"] == "net_pi_ps"
    assert v2["value"] == pytest.approx(-1 / 75) and v2["threshold"] == pytest.approx(-0.0005)
    assert (v2["disposition"], v2["decided_on"], v2["decided_by"]) == (
        "justified", "2026-10-14", "Best Execution Committee")
    assert (v3["disposition"], v3["rationale"], v3["decided_on"]) == ("open", "no decision recorded", "")
    # grouped by venue and cause (the metric; for a breach, the trigger period); the dollar impact of a
    # USD-per-share difference is its cost on the matched shares
    assert first["group_id"].tolist() == ["GROUP-DET-2026-08-V1", "GROUP-MAT-2026Q3-net_pi_ps-V2",
                                          "GROUP-MAT-2026Q3-net_pi_ps-V3"]
    assert v2["decision_id"] == "MAT-2026Q3-net_pi_ps-V2-sp500-market" and v3["decision_id"] == ""
    comp = review.compare_venues("2026Q3", "net_pi_ps", parameters=load("2026Q3", folder))
    matched = comp.set_index(["venue", "is_sp500", "order_category"]).loc[("V2", True, "market"), "matched_shares"]
    assert v2["usd_impact"] == pytest.approx(1 / 75 * matched) and v2["usd_impact"] > 0
    # a fall in net PI per share costs the fall × the shares executed in the period: V1's S&P 500 market
    # orders fell from $0.02 (July: 5 USD over 250 shares) to $0.01 (August: O7, 100 shares)
    assert det["usd_impact"] == pytest.approx(0.01 * 100) and "$1.00 over 100 shares" in det["detail"]
    groups = exception_register.groups(first)
    # open first by dollar impact; V3's difference costs 0.005 × 200 matched shares = $1.00 too, and the
    # tie goes by id; V2's justified group last
    assert v3["usd_impact"] == pytest.approx(0.005 * 200)
    assert groups["group_id"].tolist() == ["GROUP-DET-2026-08-V1", "GROUP-MAT-2026Q3-net_pi_ps-V3",
                                           "GROUP-MAT-2026Q3-net_pi_ps-V2"]
    assert groups["group_id"].iloc[-1] == "GROUP-MAT-2026Q3-net_pi_ps-V2"  # decided: last


def test_providers_can_be_added_and_ids_must_be_unique(build_review, tmp_path):
    review = build_review(ORDERS, FILLS, QUOTES, venues=VENUES)
    p = load("2026Q3", params_dir(tmp_path / "params", **TINY))

    def rule5310_05(review, period, parameters):
        return pd.DataFrame([{"exception_id": f"MLX-{period.label}-O1", "kind": "marketable_limit_worse_than_far_touch",
                              "period": period.label, "venue": "V1", "subject": "order O1", "value": -0.5,
                              "unit": "USD"}])

    table = exception_register.collect(review, review.period("2026Q3"), p, {},
                               providers=[*exception_register.PROVIDERS, rule5310_05])
    extra = table[table["kind"] == "marketable_limit_worse_than_far_touch"].iloc[0]
    assert extra["exception_id"] == "MLX-2026Q3-O1" and extra["disposition"] == "open"
    assert extra["subject"] == "order O1"
    with pytest.raises(ValueError, match="unique"):
        exception_register.collect(review, review.period("2026Q3"), p, {}, providers=[rule5310_05, rule5310_05])
    registered = list(exception_register.PROVIDERS)
    try:
        exception_register.register(rule5310_05)
        exception_register.register(rule5310_05)
        assert exception_register.PROVIDERS.count(rule5310_05) == 1
    finally:
        exception_register.PROVIDERS[:] = registered


def test_slug_is_readable_and_safe():
    assert exception_register.slug("DET", "2026-09", "WSB", "sp500", "market") == "DET-2026-09-WSB-sp500-market"
    assert exception_register.slug("MAT", "2026-07-01..2026-08-15", "V 1/x") == "MAT-2026-07-01..2026-08-15-V_1_x"


# -- parameter files ----------------------------------------------------------------------------------

def test_repository_defaults_load_and_cover_every_metric():
    p = load()
    assert set(p.material_difference) == {"net_pi_ps", "eq_ratio", "eff_spread_ps", "realized_spread_1m_ps",
                                          "avg_exec_ms", "fill_rate_shares", "net_pi_bps", "eff_spread_bps",
                                          "quoted_spread_bps"}
    assert p.compare_against == "others"  # the exceptions compare each venue with every other, as before
    assert (p.holm_alpha, p.min_symbol_days, p.deterioration_pct) == (0.05, 20, 0.20)
    assert p.replicates >= 1000 and set(p.material_metrics) <= set(p.material_difference)
    assert load_decisions(REPO_PARAMETERS / "decisions.yaml") == {}  # only the commented example


def test_a_period_file_overrides_and_typos_are_refused(tmp_path):
    folder = params_dir(tmp_path)
    (folder / "2026Q3.yaml").write_text("deterioration:\n  pct_fall: 0.25\n")
    assert load("2026Q3", folder).deterioration_pct == 0.25
    assert load("2026-09", folder).deterioration_pct == 0.20
    assert any("2026Q3.yaml" in s for s in load("2026Q3", folder).sources)
    (folder / "2026Q3.yaml").write_text("deterioration:\n  pct_fal: 0.25\n")
    with pytest.raises(ParameterError, match="unknown key deterioration.pct_fal"):
        load("2026Q3", folder)
    (folder / "defaults.yaml").write_text("bootstrap:\n  replicates: 1000\n  seed: 1\n")
    with pytest.raises(ParameterError, match="missing venue_comparison.material_difference"):
        load(folder=folder)
    with pytest.raises(ParameterError, match="no parameters file"):
        load(folder=tmp_path / "nowhere")


@pytest.mark.parametrize("entry, message", [
    ("X-1:\n  disposition: kept\n", "disposition must be one of"),
    ("X-1:\n  disposition: justified\n  rationale: fine\n", "needs rationale, decided_on and decided_by"),
    ("X-1:\n  disposition: open\n  decided_on: yesterday\n", "ISO date"),
    ("X-1:\n  disposition: open\n  reason: x\n", "unknown fields"),
])
def test_malformed_decisions_are_refused(tmp_path, entry, message):
    path = tmp_path / "decisions.yaml"
    path.write_text(entry)
    with pytest.raises(ParameterError, match=message):
        parameters.load_decisions(path)
