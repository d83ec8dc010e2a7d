"""Random row-level corruption of a valid data set never loses an order nor counts one twice (issue 17, item 6).

Hypothesis draws one to four corruptions of single rows of the hand-made price-improvement and
limit-order cases (tests/fixtures), among those the contract (shared/spec/extracts.md, docs/methods.md
"Exclusions") turns into exclusions — an unknown symbol or venue, a bad quantity or limit price, a bad or
early fill, an over-fill, timestamps out of order, special handling, not held, directed, not routed,
outside regular hours, no / one-sided / crossed NBBO at receipt, a duplicated order row, an orphan fill
(added, or left by dropping its order row) — and a few it makes schema errors (an enum outside its list,
an unreadable number, a naive timestamp, a null flag, a repeated execution id). For every example the
store is built and:

* a schema error is acceptable only as an ExtractError that names the file and the line of a corrupted row;
* otherwise orders in = the order rows written = analysed + Σ excluded by reason (the reconciliation,
  whole and for the quarter), each reason's count is the number of rows the exclusions list gives it,
  every order row written is exactly once in (analysed ∪ excluded), every row a corruption targets is
  excluded, and the orphan fills are exactly the fills whose order id names no order row.
"""

from __future__ import annotations

import copy
import itertools
import tempfile
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from conftest import EXEC_COLS, ORDER_COLS, fill, quote, write_extracts
from fixtures import limit_case, pi_case
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

import bestex_nb
from bestex_nb.build.store import build

# Hypothesis keeps a cache in .hypothesis/ of the working directory (besides its example database, off
# below), written as this module is collected: it goes to the temporary folder instead, so that a run
# writes nothing into the checkout
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "bestex_nb-hypothesis")

BASE_ORDERS = pi_case.ORDERS + limit_case.ORDERS
BASE_FILLS = pi_case.FILLS + limit_case.FILLS
BASE_QUOTES = pi_case.QUOTES + limit_case.QUOTES


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Data:
    """The rows to write, what each corruption did to them, and the rows that must name a build error."""

    def __init__(self):
        self.orders = copy.deepcopy(BASE_ORDERS)
        self.fills = copy.deepcopy(BASE_FILLS)
        self.quotes = copy.deepcopy(BASE_QUOTES)
        self.excluded_rows: list[dict] = []  # order rows a corruption makes excluded (by identity)
        self.error_rows: list[tuple[str, dict]] = []  # (file, row) a corruption makes a schema error
        self.new_ids = itertools.count(1)

    def fill_of(self, i: int) -> dict | None:
        return self.fills[i % len(self.fills)] if self.fills else None


# -- the corruptions: (phase, function(data, order row, index)), applied by phase: order fields first,
# then the fills and quotes that depend on an order's (possibly corrupted) receipt time, then copies of
# order rows, then dropped order rows
def _set(**fields):
    def apply(d, row, i):
        row.update(fields)
        d.excluded_rows.append(row)
    return apply


def _outside_hours(d, row, i):  # 12:00Z is 08:00 New York; routed at receipt, fills stay after it
    row["received_at"] = row["received_at"][:11] + "12:00:00Z"
    row["routed_at"] = row["received_at"] if row["routed_venue"] else ""
    d.excluded_rows.append(row)


def _cancel_before_receipt(d, row, i):
    row["canceled_at"] = _iso(_ts(row["received_at"]) - timedelta(seconds=1))
    d.excluded_rows.append(row)


def _add_fill(offset=timedelta(milliseconds=5), qty="1", price="10.00"):
    def apply(d, row, i):
        at = _iso(_ts(row["received_at"]) + offset)
        d.fills.append(fill(f"X{next(d.new_ids)}", row["order_id"], at, qty, price))
        d.excluded_rows.append(row)
    return apply


def _twin(d, row) -> dict:
    """A copy of ``row``: a copy of a row with a schema error has it too."""
    twin = dict(row)
    d.error_rows += [(file, twin) for file, r in d.error_rows if r is row]
    return twin


def _duplicate_order(d, row, i):  # both copies excluded while both are written (check_store)
    d.orders.append(_twin(d, row))


def _drop_order(d, row, i):  # its fills become orphans (unless a duplicate of its id stays)
    d.orders.remove(row)


def _orphan_fill(d, row, i):
    d.fills.append(fill(f"X{next(d.new_ids)}", f"GHOST{i}", row["received_at"], "1", "10.00"))


def _no_nbbo(d, row, i):
    d.quotes = [q for q in d.quotes if q["symbol"] != row["symbol"]]
    d.excluded_rows.append(row)


def _quote_at_receipt(bid, ask):  # appended last: the latest of any quotes sharing its instant
    def apply(d, row, i):
        d.quotes.append(quote(row["symbol"] or "AAA", row["received_at"], bid, ask))
        if row["symbol"]:
            d.excluded_rows.append(row)
    return apply


def _order_error(**fields):
    def apply(d, row, i):
        row.update(fields)
        d.error_rows.append(("orders.csv", row))
    return apply


def _fill_error(**fields):
    def apply(d, row, i):
        f = d.fill_of(i)
        if f is not None:
            f.update(fields)
            d.error_rows.append(("executions.csv", f))
    return apply


def _naive_fill_time(d, row, i):
    f = d.fill_of(i)
    if f is not None:
        f["executed_at"] = f["executed_at"].rstrip("Z")
        d.error_rows.append(("executions.csv", f))


def _duplicate_execution_id(d, row, i):
    f = d.fill_of(i)
    if f is not None:
        twin = _twin(d, f)
        d.fills.append(twin)
        d.error_rows += [("executions.csv", f), ("executions.csv", twin)]


EXCLUSIONS = {
    "unknown_symbol": (0, _set(symbol="ZZZ")),
    "null_symbol": (0, _set(symbol="")),
    "unknown_venue": (0, _set(routed_venue="V9")),
    "zero_quantity": (0, _set(quantity="0")),
    "null_quantity": (0, _set(quantity="")),
    "bad_limit_price": (0, _set(order_type="limit", limit_price="-1")),
    "cancel_before_receipt": (1, _cancel_before_receipt),
    "special_handling": (0, _set(order_type="stop", limit_price="")),
    "fok": (0, _set(time_in_force="fok")),
    "not_held": (0, _set(is_not_held="true")),
    "directed": (0, _set(is_directed="true")),
    "not_routed": (0, _set(routed_venue="", routed_at="")),
    "outside_regular_hours": (0, _outside_hours),
    "duplicate_order_row": (2, _duplicate_order),
    "dropped_order_row": (3, _drop_order),
    "overfill": (1, _add_fill(qty="100000")),
    "fill_before_receipt": (1, _add_fill(offset=timedelta(minutes=-1))),
    "zero_price_fill": (1, _add_fill(price="0")),
    "orphan_fill": (1, _orphan_fill),
    "no_nbbo": (1, _no_nbbo),
    "crossed_nbbo": (1, _quote_at_receipt("10.05", "10.01")),
    "one_sided_nbbo": (1, _quote_at_receipt("10.00", "0")),
}
# each after the exclusions of its table, which would otherwise overwrite the broken value (a quantity
# "ten" set to "0"), and before the copies, which keep it
SCHEMA_ERRORS = {
    "side_outside_enum": (0.5, _order_error(side="hold")),
    "unreadable_quantity": (0.5, _order_error(quantity="ten")),
    "null_directed_flag": (0.5, _order_error(is_directed="")),
    "capacity_outside_enum": (1.5, _fill_error(capacity="broker")),
    "naive_fill_time": (1.5, _naive_fill_time),
    "duplicate_execution_id": (1.5, _duplicate_execution_id),
}
CORRUPTIONS = {**EXCLUSIONS, **SCHEMA_ERRORS}

corruptions = st.lists(
    st.tuples(st.sampled_from(sorted(EXCLUSIONS) * 4 + sorted(SCHEMA_ERRORS)),  # mostly exclusions
              st.integers(0, len(BASE_ORDERS) - 1)),
    min_size=1, max_size=4,
)


def corrupt(drawn) -> Data:
    d = Data()
    targets = [d.orders[i] for _, i in drawn]  # chosen before any row is added or dropped
    for (name, i), row in sorted(zip(drawn, targets), key=lambda p: CORRUPTIONS[p[0][0]][0]):
        if name == "dropped_order_row" and _present(d.orders, row) is None:
            continue
        CORRUPTIONS[name][1](d, row, i)
    return d


def _present(rows, row) -> int | None:
    """The 0-based index of ``row`` (by identity) in ``rows``, or None."""
    return next((k for k, r in enumerate(rows) if r is row), None)


def check_schema_error(d: Data, err: bestex_nb.ExtractError) -> None:
    msg = str(err)
    named = []
    for file, row in d.error_rows:
        k = _present(d.orders if file == "orders.csv" else d.fills, row)
        if k is not None:
            named.append((file, k + 2))  # line in the CSV: the header is line 1
    assert any(file in msg and f"row {line} (line)" in msg for file, line in named), (msg, named)


def check_store(d: Data, review: bestex_nb.Review) -> None:
    written = Counter(o["order_id"] for o in d.orders)
    rec = review.reconciliation().set_index("label")
    orders_in = int(rec.loc["orders in", "order_rows"])
    analysed_n = int(rec.loc["analysed", "order_rows"])
    by_reason = rec[rec.index.str.startswith("excluded: ")]["order_rows"]
    assert orders_in == len(d.orders) == analysed_n + int(by_reason.sum())

    excl = review.exclusions()
    excl_orders = excl[excl["table"] == "orders"]
    assert {f"excluded: {r}": n for r, n in Counter(excl_orders["reason"]).items()} == \
        {k: int(v) for k, v in by_reason.items()}

    analysed = [r[0] for r in review.con.execute(
        "select order_id from fct_orders where exclusion_reason is null").fetchall()]
    assert len(analysed) == analysed_n
    assert Counter(analysed) + Counter(excl_orders["order_id"]) == written  # each row once, none lost
    assert not set(analysed) & set(excl_orders["order_id"])

    reasons = dict(zip(excl_orders["order_id"], excl_orders["reason"]))
    for order_id, n in written.items():  # a repeated id: every copy excluded, as a duplicate
        if n > 1:
            assert reasons[order_id] == "duplicate_order_id" and order_id not in analysed, order_id
    for row in d.excluded_rows:
        if _present(d.orders, row) is not None:
            assert row["order_id"] not in analysed, row

    order_ids = set(written)
    orphans = Counter(f["execution_id"] for f in d.fills if f["order_id"] not in order_ids)
    excl_fills = excl[excl["table"] == "executions"]
    assert Counter(excl_fills["execution_id"]) == orphans
    assert set(excl_fills["reason"]) <= {"unknown_order"}
    if orphans:
        assert rec.loc["fills with no order (unknown_order)", "executions"] == sum(orphans.values())
    else:
        assert "fills with no order (unknown_order)" not in rec.index

    quarter = review.reconciliation("2026Q3").set_index("label")  # every receipt is in July 2026
    q_excluded = quarter[quarter.index.str.startswith("excluded: ")]["order_rows"].sum()
    assert quarter.loc["orders in", "order_rows"] == len(d.orders)
    assert quarter.loc["analysed", "order_rows"] + q_excluded == len(d.orders)


def test_the_valid_data_set_reconciles(tmp_path):
    """The starting point: the two fixtures together build, with only their own two exclusions."""
    d = Data()
    report = build(write_extracts(tmp_path / "data", d.orders, d.fills, d.quotes), tmp_path / "s.duckdb")
    with bestex_nb.Review(report.store) as review:
        check_store(d, review)
        assert sorted(review.exclusions()["order_id"]) == ["L12", "L8"]


_examples = itertools.count()

# Every corruption at least once, whatever hypothesis draws: the orders are indices into BASE_ORDERS
# (0-4 O1-O5, 5-16 L1-L12; O4, L7 and L10 are BBB, the rest AAA; O1, L1-L3, L8, L9, L11 share 14:00:00Z)
EVERY_CORRUPTION = [
    [("unknown_symbol", 0), ("null_symbol", 1), ("unknown_venue", 2), ("zero_quantity", 5),
     ("null_quantity", 6), ("bad_limit_price", 7), ("cancel_before_receipt", 9)],
    [("special_handling", 0), ("fok", 13), ("not_held", 15), ("directed", 1), ("not_routed", 2),
     ("outside_regular_hours", 4), ("duplicate_order_row", 5)],
    [("dropped_order_row", 1), ("overfill", 0), ("fill_before_receipt", 5), ("zero_price_fill", 7),
     ("orphan_fill", 9)],
    [("no_nbbo", 3), ("crossed_nbbo", 0), ("one_sided_nbbo", 8)],
    [("duplicate_order_row", 4), ("dropped_order_row", 4)],  # one copy left: no longer a duplicate
    # a schema error stops the build at the first problem it checks: one at a time, so that each is seen
    [("side_outside_enum", 3)], [("unreadable_quantity", 6)], [("null_directed_flag", 10)],
    [("capacity_outside_enum", 2)], [("naive_fill_time", 4)], [("duplicate_execution_id", 11)],
    [("side_outside_enum", 16), ("naive_fill_time", 0)],  # two: the error names one of them
    [("side_outside_enum", 3), ("dropped_order_row", 3)],  # the broken row is gone: the build succeeds
    [("side_outside_enum", 3), ("duplicate_order_row", 3), ("dropped_order_row", 3)],  # its copy stays
    [("unreadable_quantity", 6), ("zero_quantity", 6)],  # the broken value is the one written
]
assert {name for ex in EVERY_CORRUPTION for name, _ in ex} == set(CORRUPTIONS)


def _examples_of(test):
    for drawn in reversed(EVERY_CORRUPTION):
        test = example(drawn=drawn)(test)
    return test


# one store built per example: about 13 s in all on an idle 2-core machine, up to a minute on a busy one
@settings(max_examples=12, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@_examples_of
@given(drawn=corruptions)
def test_row_corruption_keeps_every_order_once(tmp_path, drawn):
    for name, _ in drawn:
        event(name)  # pytest --hypothesis-show-statistics counts the corruptions tried
    d = corrupt(drawn)
    folder = tmp_path / f"ex{next(_examples)}"
    data = write_extracts(folder / "data", d.orders, d.fills, d.quotes)
    try:
        report = build(data, folder / "store.duckdb")
    except bestex_nb.ExtractError as err:
        event("ExtractError naming the row")
        assert d.error_rows, f"an ExtractError for exclusion-only corruptions {drawn}: {err}"
        check_schema_error(d, err)
        return
    assert not any(_present(d.orders if f == "orders.csv" else d.fills, r) is not None
                   for f, r in d.error_rows), f"no ExtractError for {drawn}"
    with bestex_nb.Review(report.store) as review:
        check_store(d, review)


def test_columns_are_the_contract_ones():
    """The corruptions write the conftest columns: a renamed contract column would make every build fail."""
    assert set(BASE_ORDERS[0]) == set(ORDER_COLS) and set(BASE_FILLS[0]) == set(EXEC_COLS)
