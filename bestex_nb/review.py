"""The Review object: the public API over one review store, opened read-only."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from bestex_nb import query
from bestex_nb.build.store import connect as store_connect
from bestex_nb.contract.errors import BestexError, EmptyPeriodError
from bestex_nb.contract.periods import Period, parse_period

PI_COLUMNS = (
    "orders", "order_shares", "executed_shares", "improved_shares", "at_quote_shares", "outside_shares",
    "pct_shares_improved", "pct_shares_at_or_better", "avg_improvement_ps", "avg_disimprovement_ps",
    "net_pi_ps", "pi_usd", "disimprovement_usd", "net_pi_usd", "eff_spread_ps", "quoted_spread_ps",
    "eq_ratio", "realized_spread_1m_ps", "realized_spread_5m_ps", "avg_exec_ms", "pct_orders_improved",
)


class Review:
    """Read-only access to a built review store.

    Parameters
    ----------
    store : path of the DuckDB store built by :func:`bestex_nb.build.store.build`.
    """

    def __init__(self, store: str | os.PathLike):
        self.store = Path(store)
        self.con = store_connect(self.store)
        self.con.execute("set TimeZone = 'UTC'")

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Review:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Review({str(self.store)!r})"

    # -- helpers ------------------------------------------------------------------------------
    @staticmethod
    def period(period) -> Period:
        return parse_period(period)

    def _run(self, name: str, params: dict, group_by=()) -> pd.DataFrame:
        return query.run(self.con, name, params, group_by)

    # -- price improvement (metrics.md section 5) ---------------------------------------------
    def price_improvement(self, period, by=("venue",), venue: str | None = None) -> pd.DataFrame:
        """The price-improvement table: one row per group of ``by``.

        Covers non-directed market and marketable-limit orders that are not excluded, received in
        ``period`` (``2026Q3``, ``2026-07`` or two ISO dates, half-open), optionally at one routed
        ``venue``. Columns: the ``by`` columns, then :data:`PI_COLUMNS` (units in metrics.md §5:
        shares, USD per share ``_ps``, USD ``_usd``, fractions ``pct_``, milliseconds ``_ms``).
        A period with no covered orders returns an empty frame with those columns.
        """
        by = [by] if isinstance(by, str) else list(by)
        p = parse_period(period)
        return self._run("metrics/price_improvement", {**p.params(), "venue": venue}, by)

    def order_pi(self, period, venue: str | None = None) -> pd.DataFrame:
        """One row per covered order with its NBBO at receipt and share-weighted PI (drill-down)."""
        p = parse_period(period)
        return self._run("metrics/order_pi", {**p.params(), "venue": venue})

    # -- reconciliation and exclusions ---------------------------------------------------------
    def exclusions(self, period=None, venue: str | None = None) -> pd.DataFrame:
        """Every excluded order row (table ``orders``) and orphan fill (table ``executions``).

        Columns: ``table, order_id, execution_id, reason, scope, venue, symbol, received_at, month,
        receipt_date, order_category``. With a period (and venue) only the orders received then
        (routed there); orphan fills have no period and appear only in the unfiltered list.
        """
        params = {"period_start": None, "period_end": None, "venue": venue}
        if period is not None:
            params.update(parse_period(period).params())
        return self._run("metrics/exclusion_list", params)

    def reconciliation(self, period=None, venue: str | None = None) -> pd.DataFrame:
        """Orders in = analysed + excluded by reason (in the spec's order of precedence)."""
        params = {"period_start": None, "period_end": None, "venue": venue, "orders_in": None}
        if period is not None:
            params.update(parse_period(period).params())
        df = self._run("metrics/reconciliation", params)
        return df.drop(columns="position")

    # -- reference data ------------------------------------------------------------------------
    def routed_venues(self, period) -> pd.DataFrame:
        """Venues with orders routed to them in the period."""
        return self._run("metrics/routed_venues", parse_period(period).params())

    def venue_ids(self) -> list[str]:
        """Every venue id in the venues extract, sorted (stable colours across reports)."""
        return [r[0] for r in self.con.execute("select venue_id from stg_venues order by venue_id").fetchall()]

    def build_info(self) -> dict[str, str]:
        return dict(self.con.execute("select key, value from build_info").fetchall())

    def input_files(self) -> pd.DataFrame:
        return self.con.execute("select * from input_files order by table_name, path").df()

    def build_warnings(self) -> list[str]:
        return [r[0] for r in self.con.execute("select message from build_warnings").fetchall()]

    def require_orders(self, period, venue: str | None = None, orders: pd.DataFrame | None = None) -> None:
        """Raise :class:`EmptyPeriodError` when the period (and venue) has no covered order (``orders``:
        the :meth:`order_pi` frame when the caller already has it)."""
        if (self.order_pi(period, venue) if orders is None else orders).empty:
            where = f" at venue {venue}" if venue else ""
            raise EmptyPeriodError(
                f"no market or marketable-limit orders to review in {parse_period(period).label}{where}; "
                "check the period and venue parameters and the exclusion summary"
            )

    # -- venue comparison, deterioration trigger, exceptions (metrics.md section 8) ----------------
    def compare_venues(self, period, metric: str = "net_pi_ps", *, seed: int | None = None,
                       replicates: int | None = None, parameters=None) -> pd.DataFrame:
        """Each venue against the other venues in like-for-like cells: one row per review group
        (venue × is_sp500 × order_category).

        ``metric``: ``net_pi_ps``, ``eq_ratio``, ``eff_spread_ps``, ``realized_spread_1m_ps``,
        ``avg_exec_ms`` (market and marketable-limit orders) or ``fill_rate_shares`` (non-marketable
        limit orders). Columns: ``venue, is_sp500, order_category, metric, difference`` (positive = the
        venue is better for the customer; in the metric's unit), ``ci_low, ci_high`` (95% symbol-day
        bootstrap), ``p_holm, is_material, matched_shares, matched_pct``, then ``venue_shares,
        matched_cells, symbol_days, p_value, replicates, threshold, status``. Thresholds, seed and
        replicates come from ``parameters/defaults.yaml`` unless given. See docs/methods.md.
        """
        from bestex_nb.dimensions import venues

        return venues.compare_all(self, period, [metric], seed=seed, replicates=replicates,
                                  parameters=parameters)[metric]

    def deterioration(self, period, prior_period=None, *, seed: int | None = None,
                      replicates: int | None = None, parameters=None) -> pd.DataFrame:
        """Net PI per share per review group versus ``prior_period`` (default: the previous month or
        quarter), with bootstrap intervals and ``is_breach`` for the committee's trigger."""
        from bestex_nb.dimensions import venues

        return venues.deterioration(self, period, prior_period, seed=seed, replicates=replicates,
                                    parameters=parameters)

    def exceptions(self, period, *, parameters=None, decisions=None) -> pd.DataFrame:
        """Every exception of the period across dimensions, with a stable ``exception_id`` and the
        disposition recorded in ``parameters/decisions.yaml`` (``decisions``: a path or a mapping of
        id → :class:`~bestex_nb.contract.parameters.Decision`; default the repository's file)."""
        from bestex_nb import exception_register
        from bestex_nb.contract import parameters as params_mod

        p = parse_period(period)
        params = parameters or params_mod.load(p)
        if decisions is None or isinstance(decisions, str | os.PathLike):
            decisions = params_mod.load_decisions(decisions)
        return exception_register.collect(self, p, params, decisions)

    # -- limit-order fill likelihood (metrics.md section 6) ------------------------------------
    def limit_fills(self, period, by=("venue",), venue: str | None = None) -> pd.DataFrame:
        """The fill-likelihood table of non-marketable limit orders: one row per group of ``by``.

        Covers non-directed limit orders that are not excluded, received in ``period``, whose category
        at receipt is inside, at, near or away from the quote (IOC included). ``by`` may also name
        ``distance_bucket``. Columns: the ``by`` columns, ``orders``, ``order_shares``,
        ``fill_rate_shares``, ``fill_rate_orders``, ``full_fill_rate_orders``, ``cancel_rate_shares``
        (fractions), ``median_time_to_first_fill_ms`` and ``mean_time_to_first_fill_ms`` (ms, over
        orders with a fill; the mean weighted by filled shares).
        """
        by = [by] if isinstance(by, str) else list(by)
        return self._run("metrics/limit_fills", {**parse_period(period).params(), "venue": venue}, by)

    def limit_orders(self, period, venue: str | None = None) -> pd.DataFrame:
        """One row per covered non-marketable limit order: fill outcome, end state, survival time (ms)."""
        return self._run("metrics/limit_orders", {**parse_period(period).params(), "venue": venue})

    def fill_survival(self, period, by=("venue",), venue: str | None = None, grid_ms=None,
                      level: float = 0.95, ci: str = "loglog") -> pd.DataFrame:
        """Kaplan–Meier P(no fill yet at τ) per group of ``by``, on a log-spaced grid (1 ms to 6.5 h).

        The event is the first fill; a cancel, an expiry or the end of the data before any fill censors
        the order. Columns: the ``by`` columns, ``tau_ms``, ``orders``, ``at_risk``, ``filled``,
        ``censored``, ``survival``, ``std_err`` and the Greenwood ``level`` band ``ci_low``/``ci_high``
        (see :mod:`bestex_nb.stats.survival`).
        """
        from bestex_nb.stats.survival import survival_curves

        by = [by] if isinstance(by, str) else list(by)
        query.render("metrics/limit_fills", by)  # the same allow-list as the table
        return survival_curves(self.limit_orders(period, venue), by, grid_ms, level, ci)

    def marketable_limit_exceptions(self, period, venue: str | None = None,
                                    include_excluded: bool = False) -> pd.DataFrame:
        """Rule 5310 .05: marketable limit orders with fills priced worse than the far touch at receipt.

        One row per order (received in ``period``) with at least one fill whose PI < 0, with the
        shortfall Σ q·max(−PI, 0) in USD (``shortfall_usd``), the exception ``fills`` and shares, the
        NBBO at receipt and the limit. Covers the orders of the price-improvement table; with
        ``include_excluded`` also those excluded from quality statistics whose NBBO was usable
        (``exclusion_reason`` says why).
        """
        params = {**parse_period(period).params(), "venue": venue, "include_excluded": bool(include_excluded)}
        return self._run("metrics/marketable_limit_exceptions", params)


def open_review(data_dir: str | os.PathLike, store: str | os.PathLike | None = None, *,
                build: bool = True, verbose: bool = False) -> Review:
    """Open the review store for ``data_dir`` read-only.

    With ``build`` (the default) the store is built first when it is missing or its inputs changed.
    With ``build=False`` (batch runs: the runner built it once before any notebook started) the store
    is only opened, and a store whose inputs have changed since it was built is refused, so a report
    never mixes numbers from one version of the data with provenance from another.
    """
    from bestex_nb.build.staging import find_sources
    from bestex_nb.build.store import build as build_store
    from bestex_nb.build.store import default_store_path, fingerprint, stored_fingerprint

    if build:
        report = build_store(data_dir, store)
        if verbose:
            print(report.text())
        return Review(report.store)
    store = Path(store) if store else default_store_path(data_dir)
    if not store.exists():
        raise BestexError(f"no review store at {store}; run `bestex build --data {data_dir}` first")
    if stored_fingerprint(store) != fingerprint(find_sources(Path(data_dir))):
        raise BestexError(f"the review store {store} was built from other inputs than {data_dir} holds now "
                          "(or by other code); rebuild it with `bestex build`")
    return Review(store)
