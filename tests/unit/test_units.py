"""Honest precision (issue 19): a figure is never printed so that it rounds onto its threshold."""

import pytest

from bestex_nb.contract.units import fmt_pair, fmt_value


@pytest.mark.parametrize("x, threshold, unit, figure, printed_threshold", [
    # the case the committee was shown: −0.000503 printed "−$0.00050" against "−$0.00050"
    (-0.000503, -0.0005, "USD/share", "−$0.000503", "−$0.000500"),
    # beyond by more than the default precision: the default 5 decimals are enough
    (-0.0006, -0.0005, "USD/share", "−$0.00060", "−$0.00050"),
    # just inside the threshold must not round onto it either
    (-0.0004996, -0.0005, "USD/share", "−$0.0004996", "−$0.0005000"),
    # E/Q differences are in points, the threshold too
    (-0.05004, -0.05, "ratio", "−5.004 pts", "−5.000 pts"),
    (-0.0502, -0.05, "ratio", "−5.02 pts", "−5.00 pts"),
    (-100.04, -100, "ms", "−100.04 ms", "−100.00 ms"),
    (-1.0049, -1.0, "bps", "−1.005 bp", "−1.000 bp"),
])
def test_figure_never_prints_as_its_threshold(x, threshold, unit, figure, printed_threshold):
    assert fmt_pair(x, threshold, unit) == (figure, printed_threshold)
    assert fmt_value(x, unit, True, threshold=threshold) == figure


def test_equal_to_the_threshold_prints_at_default_precision():
    assert fmt_pair(-0.0005, -0.0005, "USD/share") == ("−$0.00050", "−$0.00050")


def test_rounding_never_crosses_the_threshold():
    # −0.0004999996 would print −$0.000500 at 6 decimals: on the threshold; it needs 10 decimals,
    # beyond the cap of 6 extra, so the closest honest text is the longest one, still not "beyond"
    text = fmt_value(-0.00049996, "USD/share", True, threshold=-0.0005)
    assert text == "−$0.00049996"


def test_units_and_signs():
    assert fmt_value(None, "USD/share") == "—"
    assert fmt_value(float("nan"), "bps") == "—"
    assert fmt_value(-0.123, "ratio", True) == "−12.3 pts"
    assert fmt_value(-0.123, "ratio") == "−12.3%"
    assert fmt_value(12.345, "bps", True) == "+12.35 bp"
    assert fmt_value(1234.5, "USD") == "$1,234.50"
    # a figure that prints as zero carries no sign
    assert fmt_value(-0.0000001, "USD/share", True) == "$0.00000"


def test_shares_and_new_york_times():
    from bestex_nb.report.plots import fmt_shares, ny_times
    assert [fmt_shares(x) for x in (8010.0, 1234567, 0.125, 12.5, 2_000_000.0, -0.0, None)] == [
        "8,010", "1,234,567", "0.125", "12.5", "2,000,000", "0", "—"]
    # EDT (UTC−4) in July, EST (UTC−5) in December; microseconds cut to milliseconds, not rounded
    assert ny_times(["2026-07-01T13:45:32.213852Z", "2026-12-01T14:30:00Z", None]).tolist() == [
        "2026-07-01 09:45:32.213", "2026-12-01 09:30:00.000", "—"]
