"""Payment for order flow (metrics.md section 7; issue 20): the methods :class:`bestex_nb.review.Review`
takes from :class:`PfofMixin`.

The figures come from ``sql/metrics/pfof_reconciliation.sql``, over the store's ``stg_pfof_rates`` and
``stg_pfof_payments`` (the optional extracts ``pfof_rates`` and ``pfof_payments``; the build refuses
overlapping rates). A store built without them has no such tables, and :meth:`pfof_reconciliation` says so.
"""

from __future__ import annotations

import pandas as pd

from bestex_nb import exception_register, query
from bestex_nb.contract import parameters as params_mod
from bestex_nb.contract.errors import BestexError
from bestex_nb.contract.parameters import ReviewParameters
from bestex_nb.contract.periods import parse_period
from bestex_nb.contract.units import fmt_value

PFOF_TABLES = ("pfof_rates", "pfof_payments")

PFOF_COLUMNS = (
    "venue", "month", "security_group", "order_group", "pays_pfof", "executed_shares", "rated_shares",
    "no_rate_shares", "expected_usd", "received_usd", "variance_usd", "variance_pct", "pfof_ps",
    "is_exception", "reason",
)


class MissingPfofError(BestexError):
    """The store was built without the PFOF extracts (``pfof_rates``, ``pfof_payments``)."""


class PfofMixin:
    """PFOF methods of :class:`~bestex_nb.review.Review` (which supplies ``con`` and ``store``)."""

    def has_pfof(self) -> bool:
        """Whether the store holds both PFOF extracts."""
        names = {r[0] for r in self.con.execute(
            "select table_name from information_schema.tables where table_name in ($a, $b)",
            {"a": "stg_pfof_rates", "b": "stg_pfof_payments"}).fetchall()}
        return names == {f"stg_{t}" for t in PFOF_TABLES}

    def pfof_reconciliation(self, period, *, parameters: ReviewParameters | None = None) -> pd.DataFrame:
        """The PFOF a venue owes by its rate card against the controller's ledger, per venue × receipt
        month (× ``security_group`` × ``order_group`` where the ledger itemises that venue-month), for
        ``period`` (``2026-08``, ``2026Q3`` or two ISO dates, half-open).

        Shares: every executed share (fills executed away included) of the non-directed orders routed to
        the venue and received in the period, excluded from quality statistics or not, except scope-``all``
        exclusions. Money (``expected_usd``, ``received_usd``, ``variance_usd``) is exact decimal USD;
        ``variance_pct`` a fraction of the expected payment. ``is_exception`` with ``reason``:
        ``payment_without_flow``, ``flow_without_payment`` (a paying venue with money owed and no ledger
        row), ``no_rate`` (shares at a paying venue with no rate in force) and ``variance_over_threshold``
        (|variance_pct| above ``pfof.variance_threshold`` of the parameters). Columns: :data:`PFOF_COLUMNS`.
        """
        p = parse_period(period)
        if not self.has_pfof():
            raise MissingPfofError(
                f"{self.store}: this store was built without the PFOF extracts ({', '.join(PFOF_TABLES)}); "
                "add pfof_rates and pfof_payments to the data folder and rebuild to reconcile PFOF")
        params = parameters or params_mod.load(p)
        return query.run(self.con, "metrics/pfof_reconciliation",
                         {**p.params(), "threshold": float(params.pfof_variance_threshold)})


def pfof_exceptions(review, period, parameters: ReviewParameters) -> pd.DataFrame:
    """One exception per row of :meth:`PfofMixin.pfof_reconciliation` that is one (metrics.md section 7),
    registered with :mod:`bestex_nb.exception_register` so that it has a stable id, a group and a
    disposition like any other. Id ``PFOF-<month>-<venue>[-<security group>-<order group>]``; group
    ``GROUP-PFOF-<month>-<venue>``. ``value`` is the variance in USD (received − expected), its dollar
    impact the size of it. A store without the PFOF extracts raises none."""
    if not review.has_pfof():
        return pd.DataFrame()
    rec = review.pfof_reconciliation(period, parameters=parameters)
    rec = rec[rec["is_exception"].astype(bool)]
    slug = exception_register.slug
    rows = [{
        "exception_id": slug("PFOF", r.month, r.venue, r.security_group, r.order_group),
        "group_id": slug(exception_register.GROUP, "PFOF", r.month, r.venue),
        "kind": "pfof", "period": r.month, "venue": r.venue, "subject": r.month, "metric": "variance_usd",
        "value": r.variance_usd, "threshold": float("nan"), "unit": "USD", "cause": str(r.reason).split(",")[0],
        "usd_impact": abs(float(r.variance_usd)) if pd.notna(r.variance_usd) else None,
        "detail": (f"PFOF {r.month}: received {fmt_value(r.received_usd, 'USD')} against "
                   f"{fmt_value(r.expected_usd, 'USD')} owed by the rate card "
                   f"({fmt_value(r.variance_pct, 'fraction of prior', True)}; threshold ±"
                   f"{fmt_value(parameters.pfof_variance_threshold, 'fraction of prior')}); {r.reason}"),
    } for r in rec.itertuples(index=False)]
    return pd.DataFrame(rows)


exception_register.register(pfof_exceptions)
