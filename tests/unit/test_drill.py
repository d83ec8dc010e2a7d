"""Drill-down filters as text, both ways (issue 25: an explorer state copied as batch parameters)."""

import pytest

from bestex_nb.contract.drill import DrillError, drill_text, parse_drill


def test_round_trip():
    filters = {"symbol": "BRK.B", "is_sp500": True, "order_category": "market", "size_bucket": ">=200k"}
    text = drill_text(filters)
    assert text == "is_sp500=true order_category=market size_bucket=>=200k symbol=BRK.B"
    assert parse_drill(text) == filters
    assert parse_drill("is_sp500=False, distance_bucket=1-2") == {"is_sp500": False, "distance_bucket": "1-2"}
    assert parse_drill("") == {} and parse_drill(None) == {} and drill_text({"symbol": None}) == ""


@pytest.mark.parametrize("text, message", [
    ("venue=WSB", "choose from"),
    ("is_sp500=yes", "true .S&P 500. or false"),
    ("order_category=limit", "choose from"),
    ("size_bucket=1k", "choose from"),
    ("symbol=';drop", "not a ticker"),
    ("symbol", "key=value"),
    ("symbol=A symbol=B", "given twice"),
])
def test_bad_filters_are_errors(text, message):
    with pytest.raises(DrillError, match=message):
        parse_drill(text)


def test_each_review_keeps_the_filters_that_apply_to_it():
    from bestex_nb.contract.drill import applicable
    f = parse_drill("is_sp500=true order_category=market distance_bucket=0")
    assert applicable(f, "pi") == ({"is_sp500": True, "order_category": "market"}, ["distance_bucket=0"])
    assert applicable(f, "fills") == ({"is_sp500": True, "distance_bucket": "0"}, ["order_category=market"])
