"""The committee's input is checked: a decision for an exception id of the reviewed period that matches
no exception (a typo: ``DET_2026…`` for ``DET-2026…``) stops the review naming the file, the id and the
closest existing id; malformed decisions and parameters name the file, the id or the key."""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest
import yaml
from fixtures.venue_case import FILLS, ORDERS, QUOTES, VENUES
from test_exceptions import EXPECTED, REPO_PARAMETERS, TINY, params_dir

from bestex_nb import exception_register
from bestex_nb.contract.parameters import Decision, ParameterError, load, load_decisions
from bestex_nb.contract.periods import parse_period

JUSTIFIED = """
  disposition: justified
  rationale: Exchange fills at the quote.
  decided_on: 2026-10-14
  decided_by: Best Execution Committee
"""


def test_typo_in_an_id_of_the_period_stops_the_review_naming_file_id_and_closest(build_review, tmp_path):
    folder = params_dir(tmp_path / "params", **TINY)
    path = folder / "decisions.yaml"
    path.write_text("DET_2026-08-V1-sp500-market:" + JUSTIFIED)
    review = build_review(ORDERS, FILLS, QUOTES, venues=VENUES)
    with pytest.raises(ParameterError) as info:
        review.exceptions("2026Q3", parameters=load("2026Q3", folder), decisions=path)
    message = str(info.value)
    assert str(path) in message and "'DET_2026-08-V1-sp500-market'" in message
    assert "unknown kind 'DET_2026'" in message and "closest existing id: DET-2026-08-V1-sp500-market" in message
    # the corrected id is joined
    path.write_text("DET-2026-08-V1-sp500-market:" + JUSTIFIED)
    table = review.exceptions("2026Q3", parameters=load("2026Q3", folder), decisions=path)
    assert table.set_index("exception_id").loc["DET-2026-08-V1-sp500-market", "disposition"] == "justified"
    assert table.attrs["unmatched_decisions"] == []


def unmatched(decisions, period="2026Q3", providers=None, ids=EXPECTED):
    table = pd.DataFrame({"exception_id": ids})
    decisions = {i: Decision("open", "", None, "", "decisions.yaml") for i in decisions}
    out = exception_register.unmatched_decisions(table, decisions, parse_period(period), load(),
                                                 providers or exception_register.PROVIDERS)
    return dict(zip(out["exception_id"], zip(out["is_error"], out["reason"], out["closest"])))


def test_which_unmatched_ids_are_errors():
    found = unmatched([
        "MAT-2026Q3-net_pi_ps-V9-sp500-market",  # this period, no such venue
        "DET-2026-09-V1-sp500-market",  # a trigger month of 2026Q3, nothing raised
        "DET-2026-9-V1-sp500-market",  # no period after DET-
        "XYZ-2026Q3-1",  # unknown kind
        "MAT-2026Q2-net_pi_ps-V2-sp500-market",  # another period: kept for that period's review
        "DET-2026-05-V1-sp500-market",  # a month of another quarter
        "R5310.05-O99",  # ids by order carry no period
        EXPECTED[0],  # matched: not listed
    ])
    errors = {i for i, (is_error, _, _) in found.items() if is_error}
    assert errors == {"MAT-2026Q3-net_pi_ps-V9-sp500-market", "DET-2026-09-V1-sp500-market",
                      "DET-2026-9-V1-sp500-market", "XYZ-2026Q3-1"}
    assert set(found) - errors == {"MAT-2026Q2-net_pi_ps-V2-sp500-market", "DET-2026-05-V1-sp500-market",
                                   "R5310.05-O99"}
    assert found["MAT-2026Q3-net_pi_ps-V9-sp500-market"][2] in EXPECTED[1:]
    assert "no period after DET-" in found["DET-2026-9-V1-sp500-market"][1]
    assert found["DET-2026-9-V1-sp500-market"][2] == EXPECTED[0]


def test_ids_of_a_kind_whose_provider_did_not_run_are_not_errors():
    # the limit-fill notebook collects material differences and Rule 5310.05 only
    found = unmatched(["DET-2026-09-V1-sp500-market"], providers=[
        exception_register.material_difference_exceptions, exception_register.rule5310_05_exceptions])
    assert found["DET-2026-09-V1-sp500-market"][0] is False


def test_a_provider_prefix_seen_in_the_table_is_known():
    found = unmatched(["MLX-2026Q3-O2", "MLX-2026Q2-O1"], ids=["MLX-2026Q3-O1"])
    assert found["MLX-2026Q3-O2"][0] is True and found["MLX-2026Q2-O1"][0] is False
    assert found["MLX-2026Q3-O2"][2] == "MLX-2026Q3-O1"


def test_a_month_review_checks_its_own_month():
    found = unmatched(["DET-2026-08-V2-sp500-market", "MAT-2026Q3-net_pi_ps-V9-sp500-market"],
                      period="2026-08", ids=["DET-2026-08-V1-sp500-market"])
    assert found["DET-2026-08-V2-sp500-market"][0] is True
    assert found["MAT-2026Q3-net_pi_ps-V9-sp500-market"][0] is False


# -- decisions.yaml ------------------------------------------------------------------------------

@pytest.mark.parametrize("text, fragments", [
    ("X-1:\n  disposition: kept\n", ["decision 'X-1'", "disposition must be one of"]),
    ("X-1:\n  disposition: routing_changed\n  decided_on: 2026-10-14\n  decided_by: C\n",
     ["decision 'X-1'", "needs rationale"]),
    ("X-1:\n  disposition: justified\n  rationale: '  '\n  decided_on: 2026-10-14\n  decided_by: C\n",
     ["decision 'X-1'", "needs rationale"]),
    ("X-1:\n  disposition: open\n  decided_on: 2026-13-01\n", ["decision 'X-1'", "ISO date", "2026-13-01"]),
    ("X-1:\n  disposition: open\n  decided_on: 20261014\n", ["decision 'X-1'", "ISO date"]),
    ("X-1:\n  disposition: open\n  decided_on: 14/10/2026\n", ["decision 'X-1'", "ISO date"]),
    ("X-1: justified\n", ["decision 'X-1'", "must be a mapping"]),
    ("X-1:\n  disposition: open\nX-1:\n  disposition: justified\n", ["key 'X-1' is given twice", "line 3"]),
    ("- X-1\n", ["expected a mapping at the top level"]),
    ("X-1: [unclosed\n", ["not valid YAML"]),
])
def test_malformed_decisions_name_the_file_and_the_id(tmp_path, text, fragments):
    path = tmp_path / "decisions.yaml"
    path.write_text(text)
    with pytest.raises(ParameterError) as info:
        load_decisions(path)
    assert str(path) in str(info.value)
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


def test_a_decision_keeps_its_date_and_file(tmp_path):
    path = tmp_path / "decisions.yaml"
    path.write_text("DET-2026-08-V1-sp500-market:" + JUSTIFIED)
    (decision,) = load_decisions(path).values()
    assert decision.decided_on.isoformat() == "2026-10-14" and decision.source == str(path)


# -- defaults.yaml and <period>.yaml -----------------------------------------------------------------

@pytest.mark.parametrize("file, text, fragments", [
    ("defaults", {"venue_comparison": {"holm_alpha": "0.05"}}, ["venue_comparison.holm_alpha must be float"]),
    ("defaults", {"venue_comparison": {"holm_alpha": 1.5}}, ["venue_comparison.holm_alpha must be between 0 and 1"]),
    ("defaults", {"venue_comparison": {"ci_level": 0}}, ["venue_comparison.ci_level must be between 0 and 1"]),
    ("defaults", {"venue_comparison": {"min_symbol_days": True}}, ["venue_comparison.min_symbol_days must be int"]),
    ("defaults", {"bootstrap": {"replicates": 0}}, ["bootstrap.replicates must be at least 1"]),
    ("defaults", {"deterioration": {"pct_fall": -0.2}}, ["deterioration.pct_fall must be above 0"]),
    ("defaults", {"venue_comparison": {"material_difference": {"net_pi_ps": "x"}}},
     ["venue_comparison.material_difference must be a mapping of metric"]),
    ("2026Q3", {"exceptions": {"material_metrics": "net_pi_ps"}}, ["exceptions.material_metrics must be list"]),
    ("2026Q3", {"exceptions": {"material_metrics": ["net_pi"]}}, ["names ['net_pi']", "no venue_comparison"]),
    ("2026Q3", {"exceptions": {"compare_against": "peers"}},
     ["exceptions.compare_against must be one of ['others', 'same_type']"]),
    ("2026Q3", {"exceptionz": {}}, ["unknown section 'exceptionz'"]),
    ("2026Q3", {"bootstrap": 5}, ["section 'bootstrap' must be a mapping"]),
])
def test_parameter_files_name_the_file_and_the_key(tmp_path, file, text, fragments):
    folder = params_dir(tmp_path)
    if file == "defaults":
        data = yaml.safe_load((folder / "defaults.yaml").read_text())
        for section, body in text.items():
            data[section].update(body)
        (folder / "defaults.yaml").write_text(yaml.safe_dump(data))
    else:
        (folder / f"{file}.yaml").write_text(yaml.safe_dump(text))
    with pytest.raises(ParameterError) as info:
        load("2026Q3", folder)
    assert f"{file}.yaml" in str(info.value)
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


def test_a_key_given_twice_in_a_parameters_file_is_refused(tmp_path):
    folder = params_dir(tmp_path)
    (folder / "2026Q3.yaml").write_text(textwrap.dedent("""
        deterioration:
          pct_fall: 0.25
          pct_fall: 0.30
    """))
    with pytest.raises(ParameterError, match=r"2026Q3.yaml: line 4: key 'pct_fall' is given twice"):
        load("2026Q3", folder)


def test_repository_parameters_still_load():
    assert load("2026Q3", REPO_PARAMETERS).holm_alpha == 0.05
    assert load_decisions(REPO_PARAMETERS / "decisions.yaml") == {}
