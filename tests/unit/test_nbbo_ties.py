"""Updates that share a timestamp: the last one (highest seq, else later in the file) is the NBBO."""

from conftest import fill, order, quote

T = "2026-07-06T"


def test_seq_orders_ties_and_superseded_valid_update_is_never_used(build_review):
    quotes = [
        quote("AAA", T + "13:59:00Z", "10.00", "10.02", seq="1"),
        # two updates at 14:00:00: the higher seq (written first) wins, and it is crossed
        quote("AAA", T + "14:00:00Z", "10.05", "10.03", seq="3"),
        quote("AAA", T + "14:00:00Z", "10.01", "10.03", seq="2"),
    ]
    orders = [order("X", T + "14:00:00Z"), order("Y", T + "13:59:30Z")]
    fills = [fill("FY", "Y", T + "13:59:59Z", "100", "10.01")]
    review = build_review(orders, fills, quotes)
    got = dict(review.con.execute("select order_id, exclusion_reason from fct_orders").fetchall())
    assert got == {"X": "crossed_nbbo", "Y": None}
    # FY + 1 s = 14:00:00: the NBBO in force then is crossed, so the latest *valid* one is 13:59:00's
    mid = review.con.execute("select mid_1s from fct_fills where execution_id = 'FY'").fetchall()[0][0]
    assert float(mid) == 10.01


def test_without_seq_the_later_row_in_the_file_wins(build_review):
    quotes = [
        quote("AAA", T + "14:00:00Z", "10.00", "10.04"),
        quote("AAA", T + "14:00:00Z", "10.01", "10.03"),
    ]
    review = build_review([order("X", T + "14:00:00Z")], [], quotes)
    row = review.con.execute("select nbb_r, nbo_r from fct_orders").fetchall()[0]
    assert [float(x) for x in row] == [10.01, 10.03]
