"""Venue context (issue 19): each venue's identity and its share of the period's routed flow,
hand-computed on the venue-comparison case (tests/fixtures/venue_case.py) plus a directed order, an order
that was not routed and a venue that received nothing."""

import pytest
from conftest import order
from fixtures.venue_case import D1, FILLS, ORDERS, QUOTES, VENUES

from bestex_nb.dimensions.venues.tables import venue_context_line, venue_context_table

V4 = {"venue_id": "V4", "name": "Idle Venue", "venue_type": "exchange", "is_affiliate": "true",
      "pays_pfof": "false", "mic": "XIDL", "rule605_code": ""}
EXTRA = [
    order("D1", D1 + "14:02:00Z", routed_venue="V2", is_directed="true"),  # 100 AAA, mid 10.02
    order("N1", D1 + "14:02:01Z", routed_venue=""),                       # not routed: in no share
]


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    from conftest import write_extracts

    from bestex_nb import open_review
    folder = write_extracts(tmp_path_factory.mktemp("ctx"), ORDERS + EXTRA, FILLS, QUOTES, VENUES + [V4])
    with open_review(folder, store=folder / "store.duckdb") as review:
        yield review.venue_context("2026-07").set_index("venue")


def test_identity_columns(context):
    assert context.loc["V1", ["name", "venue_type", "is_affiliate", "pays_pfof"]].tolist() == [
        "Wholesaler One", "wholesaler", False, True]
    assert context.loc["V4", "is_affiliate"]


def test_counts_and_value(context):
    # V1: O1 O2 O5 O9 L1 L2; AAA 450 shares × mid 10.02 + BBB 100 × 20.01
    v1 = context.loc["V1"]
    assert (v1.routed_orders, v1.directed_orders, v1.routed_shares, v1.executed_shares) == (6, 0, 550, 350)
    assert v1.routed_usd == pytest.approx(450 * 10.02 + 100 * 20.01, abs=1e-9)
    # V2: O3 O6 O8 L3 and the directed D1; fills F3 F6 F8 F10
    v2 = context.loc["V2"]
    assert (v2.routed_orders, v2.directed_orders, v2.routed_shares, v2.executed_shares) == (5, 1, 450, 280)
    assert v2.routed_usd == pytest.approx(350 * 10.02 + 100 * 20.01, abs=1e-9)
    assert (context.loc["V3", "routed_orders"], context.loc["V3", "routed_usd"]) == (1, pytest.approx(2004.0))


def test_shares_of_routed_flow(context):
    # the not-routed order is in no venue's share; totals 12 orders, 1,200 shares, $14,022
    assert context.loc["V1", "pct_orders"] == pytest.approx(6 / 12)
    assert context.loc["V2", "pct_shares"] == pytest.approx(450 / 1200)
    assert context.loc["V1", "pct_usd"] == pytest.approx(6510 / 14022)
    assert context["pct_orders"].sum() == pytest.approx(1.0)


def test_a_venue_that_received_nothing_keeps_its_row(context):
    v4 = context.loc["V4"]
    assert (v4.routed_orders, v4.routed_shares, v4.pct_orders, v4.pct_usd) == (0, 0, 0, 0)


def test_readable_table_and_line(context):
    table = venue_context_table(context.reset_index())
    row = table[table["venue"] == "V1"].iloc[0]
    assert row["type"] == "wholesaler" and row["pays PFOF"] == "yes" and row["affiliate"] == "no"
    assert row["orders"] == "6 (50.0%)"
    line = venue_context_line(context.reset_index(), "V2", "2026-07")
    assert line == ("**V2 — Exchange Two**: exchange, not affiliated, does not pay for order flow. In 2026-07 it "
                    "received 5 orders (41.7% of routed orders), 450 shares (37.5%) and $5,508 at the "
                    "midpoint (39.3% of routed value); 1 of its orders were directed by the customer.")


def test_line_of_an_affiliate_and_a_payer(context):
    ctx = context.reset_index()
    assert venue_context_line(ctx, "V4", "2026-07").startswith(
        "**V4 — Idle Venue**: exchange, an affiliate of the firm, does not pay for order flow.")
    assert "wholesaler, not affiliated, pays for order flow." in venue_context_line(ctx, "V1", "2026-07")
    assert venue_context_line(ctx, "V9", "2026-07") == "V9: no orders were routed to this venue in 2026-07."


def test_peers_sentence_and_the_same_type_table():
    import pandas as pd

    from bestex_nb.dimensions.venues.tables import comparison_table, peers_sentence
    ctx = pd.DataFrame({"venue": ["WSA", "WSB", "EXCH"], "venue_type": ["wholesaler", "wholesaler", "exchange"]})
    assert peers_sentence(ctx, ["EXCH", "WSA", "WSB"]) == (
        "Compared with venues of their own type: WSA (wholesaler), WSB (wholesaler); no venue of the same type "
        "to compare with: EXCH (exchange).")
    rows = pd.DataFrame({
        "venue": ["WSA", "EXCH", "WSA"], "is_sp500": [True, True, True], "order_category": ["market"] * 3,
        "metric": ["net_pi_bps"] * 3, "difference": [-1.25, float("nan"), 0.5], "ci_low": [-2.0, None, 0.1],
        "ci_high": [-0.5, None, 0.9], "status": ["material", "no_same_type_peer", "better"],
        "against": ["same_type", "same_type", "others"]})
    table = comparison_table(rows, ["net_pi_bps"], "same_type")
    # the venue without a peer is left to the sentence; the minus sign never breaks from its figure
    assert table["review group"].tolist() == ["WSA · S&P 500 · market"]
    assert table.iloc[0, 1] == "−\u20601.25 bp [−\u20602.00 bp, −\u20600.50 bp] ● material"
    assert comparison_table(rows, ["net_pi_bps"], "others").iloc[0, 1] == "+0.50 bp [+0.10 bp, +0.90 bp]"


def test_open_exceptions_fit_one_screen_largest_first():
    import pandas as pd

    from bestex_nb.dimensions.venues.tables import open_exceptions_table
    groups = pd.DataFrame({
        "group_id": [f"G{i}" for i in range(15)], "kind": ["marketable_limit_outside_quote"] * 15, "venue": ["WSA"] * 15,
        "description": ["x"] * 15, "cause": ["through_quote"] * 15, "members": [3] * 15, "open_members": [3] * 14 + [0],
        "usd_impact": [-100.0 + i for i in range(15)], "worst_ids": ["a, b"] * 15})
    table, note = open_exceptions_table(groups, limit=12)  # 14 open, 12 shown
    assert len(table) == 12 and table["group"].iloc[0] == "G0" and table["dollar impact"].iloc[0] == "−$100.00"
    assert note.startswith("14 open exception group(s) holding 42 open exception(s); 1 group(s) fully decided.")
    assert "The 12 largest are shown" in note
    assert table["what"].iloc[0] == "3 orders: filled through the quote in force at execution"
    assert table["costliest orders"].iloc[0] == "a, b"


def test_a_group_of_one_reads_as_its_figure_beside_its_threshold():
    import pandas as pd

    from bestex_nb.dimensions.venues.tables import open_exceptions_table
    member = {"group_id": "MAT-x", "exception_id": "MAT-x", "kind": "material_difference", "metric": "net_pi_ps",
              "value": -0.000503, "threshold": -0.0005, "unit": "USD/share", "is_sp500": True,
              "order_category": "market", "subject": "", "detail": "long text"}
    groups = pd.DataFrame({"group_id": ["MAT-x"], "kind": ["material_difference"], "venue": ["WSB"],
                           "cause": [None], "description": ["long text"], "members": [1], "open_members": [1],
                           "usd_impact": [515.11], "worst_ids": ["MAT-x"]})
    table, _ = open_exceptions_table(groups, pd.DataFrame([member]))
    # the figure is not printed so that it rounds onto its threshold
    assert table["what"].iloc[0] == ("Net price improvement per share −$0.000503 (threshold −$0.000500); "
                                     "S&P 500 · market")
    assert table["costliest orders"].iloc[0] == "" and table["dollar impact"].iloc[0] == "$515.11"


def test_a_venue_metric_group_reads_as_its_worst_review_group():
    import pandas as pd

    from bestex_nb.dimensions.venues.tables import open_exceptions_table
    base = {"group_id": "GROUP-MAT-2026Q3-eq_ratio-WSB", "kind": "material_difference", "metric": "eq_ratio",
            "threshold": -0.05, "unit": "ratio", "subject": "", "detail": ""}
    members = pd.DataFrame([{**base, "exception_id": "a", "value": -0.09, "is_sp500": True, "order_category": "market"},
                            {**base, "exception_id": "b", "value": -0.1004, "is_sp500": False,
                             "order_category": "marketable_limit"}])
    groups = pd.DataFrame({"group_id": [base["group_id"]], "kind": ["material_difference"], "venue": ["WSB"],
                           "cause": ["eq_ratio"], "description": ["x"], "members": [2], "open_members": [2],
                           "usd_impact": [float("nan")], "worst_ids": ["a, b"]})
    table, _ = open_exceptions_table(groups, members)
    assert table["what"].iloc[0] == ("E/Q (effective / quoted spread): 2 review groups (S&P 500 market, other "
                                     "stocks marketable limit); worst −10.0 pts (threshold −5.0 pts)")
    assert table["dollar impact"].iloc[0] == "—"


def test_hostile_ids_stay_text_in_markdown():
    import pandas as pd

    from bestex_nb.dimensions.venues.tables import peers_sentence, venue_context_line
    ctx = pd.DataFrame({"venue": ["<script>alert(1)</script>"], "name": ["**bold** [x](y)"],
                        "venue_type": ["exchange"], "is_affiliate": [False], "pays_pfof": [False],
                        "routed_orders": [1], "pct_orders": [1.0], "routed_shares": [1.0], "pct_shares": [1.0],
                        "routed_usd": [1.0], "pct_usd": [1.0], "directed_orders": [0]})
    line = venue_context_line(ctx, "<script>alert(1)</script>", "2026Q3")
    assert "<script>" not in line and "&lt;script&gt;" in line and r"\*\*bold\*\* \[x\](y)" in line
    assert "<script>" not in peers_sentence(ctx, ["<script>alert(1)</script>"])
