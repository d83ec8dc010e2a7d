"""The Review object: the public API over one review store, opened read-only.

A thin facade: each metric method runs one query of ``sql/metrics/`` (the file named in its body holds
the formula) with bound parameters; the venue comparison and the deterioration trigger feed those
queries' sums to :mod:`bestex_nb.stats`; :meth:`Review.exceptions` collects the providers of
:mod:`bestex_nb.exception_register`. It never imports the build engine or the review dimensions.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Self

import pandas as pd

from bestex_nb import exception_register, query
from bestex_nb.contract import parameters as params_mod
from bestex_nb.contract.errors import EmptyPeriodError
from bestex_nb.contract.parameters import ReviewParameters
from bestex_nb.contract.periods import Period, parse_period
from bestex_nb.review_pfof import PfofMixin
from bestex_nb.stats import comparison
from bestex_nb.stats import deterioration as det
from bestex_nb.stats.survival import survival_curves_from_counts

#: The sums query behind each coverage of the venue comparison (metrics.md section 8).
COMPARISON_SUMS = {"pi": "metrics/comparison_pi_sums", "fills": "metrics/comparison_fill_sums"}

PI_COLUMNS = (
    "orders", "order_shares", "executed_shares", "improved_shares", "at_quote_shares", "outside_shares",
    "pct_shares_improved", "pct_shares_at_or_better", "avg_improvement_ps", "avg_disimprovement_ps",
    "net_pi_ps", "pi_usd", "disimprovement_usd", "net_pi_usd", "eff_spread_ps", "quoted_spread_ps",
    "eq_ratio", "realized_spread_1m_ps", "realized_spread_5m_ps", "avg_exec_ms", "pct_orders_improved",
    "executed_usd", "net_pi_bps", "eff_spread_bps", "quoted_spread_bps",
)


class Review(PfofMixin):
    """Read-only access to a built review store.

    Parameters
    ----------
    store : path of a DuckDB review store (``bestex build`` makes one; :func:`bestex_nb.open_review` finds it).
    """

    def __init__(self, store: str | os.PathLike):
        self.store = Path(store)
        self.con = query.connect(self.store)
        self.con.execute("set TimeZone = 'UTC'")
        #: Results of the bootstrap statistics by their full inputs (the store is read-only, so a result
        #: never goes stale): the notebook and the exceptions list compute each comparison once.
        self._results: dict[tuple, pd.DataFrame] = {}

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Self:
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
        """Run ``name`` with ``params``; ``group_by``: a column name or a sequence of them."""
        group_by = [group_by] if isinstance(group_by, str) else list(group_by)
        return query.run(self.con, name, params, group_by)

    # -- price improvement (metrics.md section 5) ---------------------------------------------
    def price_improvement(self, period, by=("venue",), venue: str | None = None) -> pd.DataFrame:
        """The price-improvement table: one row per group of ``by``.

        Covers non-directed market and marketable-limit orders that are not excluded, received in
        ``period`` (``2026Q3``, ``2026-07`` or two ISO dates, half-open), optionally at one routed
        ``venue``. Columns: the ``by`` columns, then :data:`PI_COLUMNS` (units in metrics.md §5:
        shares, USD per share ``_ps``, USD ``_usd``, fractions ``pct_``, milliseconds ``_ms``, basis points
        of the midpoint at receipt ``_bps``, value-weighted: Σ q·x / Σ q·M_r × 10⁴).
        A period with no covered orders returns an empty frame with those columns.
        """
        p = parse_period(period)
        return self._run("metrics/price_improvement", {**p.params(), "venue": venue}, by)

    def order_pi(self, period, venue: str | None = None) -> pd.DataFrame:
        """One row per covered order with its NBBO at receipt and share-weighted PI (drill-down)."""
        p = parse_period(period)
        return self._run("metrics/order_pi", {**p.params(), "venue": venue})

    def pi_distribution(self, period, venue: str | None = None, bins: int = 80) -> pd.DataFrame:
        """Filled orders per venue in ``bins`` equal bins of net PI per share between the 0.5th and 99.5th
        percentiles of all of them (``sql/metrics/pi_distribution.sql``): venue, bin, bin_lo, bin_hi,
        orders, pct."""
        return self._run("metrics/pi_distribution", {**parse_period(period).params(), "venue": venue,
                                                     "bins": int(bins)})

    def worst_orders(self, period, venue: str | None = None, *, limit: int = 25, offset: int = 0,
                     order_category: str | None = None, size_bucket: str | None = None,
                     symbol: str | None = None, is_sp500: bool | None = None) -> pd.DataFrame:
        """One page (``limit`` rows from row ``offset``) of the filled orders with the lowest net PI in USD,
        optionally only those of an order category, size bucket, symbol or segment (``is_sp500``)
        (``sql/metrics/pi_worst_orders.sql``)."""
        return self._run("metrics/pi_worst_orders", {
            **parse_period(period).params(), "venue": venue, "order_category": order_category,
            "size_bucket": size_bucket, "symbol": symbol, "is_sp500": is_sp500, "limit": int(limit),
            "offset": int(offset)})

    def pi_filtered(self, period, by=("venue",), venue: str | None = None, *, order_category: str | None = None,
                    size_bucket: str | None = None, symbol: str | None = None,
                    is_sp500: bool | None = None) -> pd.DataFrame:
        """Orders, executed shares, net PI and E/Q per group of ``by`` over the orders matching the filters
        (None = all; ``sql/metrics/pi_filtered.sql``): the explorer's figures."""
        return self._run("metrics/pi_filtered", {
            **parse_period(period).params(), "venue": venue, "order_category": order_category,
            "size_bucket": size_bucket, "symbol": symbol, "is_sp500": is_sp500}, by)

    def symbols(self, period, coverage: str = "pi", venue: str | None = None) -> list[str]:
        """The symbols of the covered orders (``coverage``: ``pi`` market and marketable-limit, ``fills``
        non-marketable limit), sorted (``sql/metrics/explorer_symbols.sql``)."""
        if coverage not in COMPARISON_SUMS:
            raise ValueError(f"coverage must be one of {list(COMPARISON_SUMS)}, not {coverage!r}")
        params = {**parse_period(period).params(), "venue": venue, "coverage": coverage}
        return self._run("metrics/explorer_symbols", params)["symbol"].tolist()

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

    def venue_context(self, period) -> pd.DataFrame:
        """Each venue's name, type, affiliation, whether it pays for order flow, and its share of the
        period's routed orders, shares and value at the midpoint (``sql/metrics/venue_context.sql``)."""
        return self._run("metrics/venue_context", parse_period(period).params())

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
        a frame of them, e.g. a :meth:`price_improvement` table, when the caller already has one)."""
        if (self.price_improvement(period, (), venue) if orders is None else orders).empty:
            where = f" at venue {venue}" if venue else ""
            raise EmptyPeriodError(
                f"no market or marketable-limit orders to review in {parse_period(period).label}{where}; "
                "check the period and venue parameters and the exclusion summary"
            )

    # -- venue comparison, deterioration trigger, exceptions (metrics.md section 8) ----------------
    def comparison_sums(self, period, coverage: str) -> pd.DataFrame:
        """The per venue × cell × symbol-day sums the venue comparison resamples (``coverage``: ``pi``
        for market and marketable-limit orders, ``fills`` for non-marketable limit orders)."""
        return self._kept_sums(parse_period(period), coverage).copy()  # a caller may change its copy

    def _kept_sums(self, p: Period, coverage: str) -> pd.DataFrame:
        """The sums as read once per review (the statistics only read them: no copy for them)."""
        key = ("sums", coverage, p.start, p.end)
        if key not in self._results:
            self._results[key] = self._run(COMPARISON_SUMS[coverage], p.params())
        return self._results[key]

    def compare_venues(self, period, metric: str | list[str] = "net_pi_ps", *, against: str = "others",
                       seed: int | None = None, replicates: int | None = None,
                       parameters: ReviewParameters | None = None) -> pd.DataFrame:
        """Each venue against the other venues in like-for-like cells: one row per review group
        (venue × is_sp500 × order_category).

        ``metric``: ``net_pi_ps``, ``eq_ratio``, ``eff_spread_ps``, ``realized_spread_1m_ps``,
        ``avg_exec_ms``, ``net_pi_bps``, ``eff_spread_bps``, ``quoted_spread_bps`` (market and
        marketable-limit orders) or ``fill_rate_shares`` (non-marketable limit orders); a list gives each
        metric's rows one after the other (metrics of one coverage share the resamples). ``against``:
        ``others`` pools every other venue in a cell; ``same_type`` only the other venues of the venue's
        ``venue_type`` (a venue with none has status ``no_same_type_peer`` and a null difference). Holm's
        family is the review groups of one metric, period and ``against``. Each metric is computed once per review and period and then reused, so the
        notebook's tables and the exceptions list show the same figures. Columns: ``venue, is_sp500,
        order_category, metric, difference`` (positive = the venue is better for the customer; in the
        metric's unit), ``ci_low, ci_high`` (95% symbol-day bootstrap), ``p_holm, is_material,
        matched_shares, matched_pct``, then ``against, venue_shares, matched_cells, symbol_days, p_value,
        replicates, threshold, status``. Thresholds, seed and replicates come from
        ``parameters/defaults.yaml`` unless given. See docs/methods.md and :mod:`bestex_nb.stats.comparison`.
        """
        p = parse_period(period)
        params = parameters or params_mod.load(p)
        seed = params.seed if seed is None else int(seed)
        replicates = params.replicates if replicates is None else int(replicates)
        ms = [comparison.get_metric(m) for m in ([metric] if isinstance(metric, str) else metric)]
        if against not in comparison.AGAINST:
            raise ValueError(f"against must be one of {list(comparison.AGAINST)}, not {against!r}")
        if not ms:
            raise ValueError(f"name at least one metric; choose from {list(comparison.METRICS)}")

        def key(m):  # the Metric itself: a custom metric never reuses a built-in's result
            return ("compare", p.start, p.end, m, against, seed, replicates, params.holm_alpha,
                    params.min_symbol_days, params.ci_level, params.threshold(m.name))

        for coverage in dict.fromkeys(m.coverage for m in ms):
            todo = [m for m in ms if m.coverage == coverage and key(m) not in self._results]
            if todo:
                results = comparison.compare_many(
                    self._kept_sums(p, coverage), todo,
                    thresholds={m.name: params.threshold(m.name) for m in todo}, alpha=params.holm_alpha,
                    min_symbol_days=params.min_symbol_days, replicates=replicates, seed=seed,
                    level=params.ci_level, against=against)
                for m in todo:
                    self._results[key(m)] = results[m.name]
        frames = [self._results[key(m)] for m in ms]
        return (frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)).copy()

    def deterioration(self, period, prior_period=None, *, seed: int | None = None,
                      replicates: int | None = None, parameters: ReviewParameters | None = None) -> pd.DataFrame:
        """Net PI per share per review group versus ``prior_period`` (default: the previous month or
        quarter), with bootstrap intervals and ``is_breach`` for the committee's trigger
        (:mod:`bestex_nb.stats.deterioration`)."""
        p = parse_period(period)
        prior = parse_period(prior_period) if prior_period is not None else p.prior()
        params = parameters or params_mod.load(p)
        seed = params.seed if seed is None else int(seed)
        replicates = params.replicates if replicates is None else int(replicates)
        key = ("deterioration", p.start, p.end, prior.start, prior.end, seed, replicates, params.holm_alpha,
               params.min_symbol_days, params.ci_level, params.deterioration_pct, params.deterioration_abs_ps)
        if key not in self._results:
            self._results[key] = det.deterioration(
                self._kept_sums(p, "pi"), self._kept_sums(prior, "pi"), period=p.label,
                prior_period=prior.label, pct_threshold=params.deterioration_pct,
                abs_threshold=params.deterioration_abs_ps, alpha=params.holm_alpha,
                min_symbol_days=params.min_symbol_days, replicates=replicates, seed=seed, level=params.ci_level)
        return self._results[key].copy()

    def deterioration_triggers(self, period, *, parameters: ReviewParameters | None = None) -> pd.DataFrame:
        """:meth:`deterioration` for every trigger period of a review of ``period``
        (:meth:`~bestex_nb.contract.parameters.ReviewParameters.trigger_periods`: the period against its
        prior period and, for a quarter with ``monthly_deterioration``, each of its months), stacked."""
        params = parameters or params_mod.load(parse_period(period))
        frames = [self.deterioration(t, parameters=params) for t in params.trigger_periods(period)]
        frames = [f for f in frames if not f.empty]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=det.RESULT_COLUMNS)

    def exceptions(self, period, *, parameters: ReviewParameters | None = None, decisions=None,
                   providers=None) -> pd.DataFrame:
        """Every exception of the period across dimensions, with a stable ``exception_id`` and the
        disposition recorded in ``parameters/decisions.yaml`` (``decisions``: a path or a mapping of
        id → :class:`~bestex_nb.contract.parameters.Decision`; default the repository's file).
        ``providers``: only these of :data:`bestex_nb.exception_register.PROVIDERS`.

        One row per exception (a member of its group, ``group_id``); a decision may name the exception or
        its group (the exception's own wins; ``decision_id`` says whose is shown). Rule 5310 .05 rows carry
        the NBBO at receipt (``nbb_r``, ``nbo_r``) and at execution of the worst fill (``executed_at``,
        ``nbb_x``, ``nbo_x``) and the ``cause``. Columns: :data:`~bestex_nb.exception_register.EXCEPTION_COLUMNS`."""
        p = parse_period(period)
        params = parameters or params_mod.load(p)
        if decisions is None or isinstance(decisions, str | os.PathLike):
            decisions = params_mod.load_decisions(decisions)
        return exception_register.collect(self, p, params, decisions, providers)

    def exception_groups(self, period, *, parameters: ReviewParameters | None = None, decisions=None,
                         providers=None, exceptions: pd.DataFrame | None = None) -> pd.DataFrame:
        """:meth:`exceptions` (same arguments) summed by group: one row per group with its members, open
        members, dollar impact (USD), costliest member ids, disposition and one line of text, the open
        groups first by size of their dollar impact (:func:`bestex_nb.exception_register.groups`).
        ``exceptions``: the table :meth:`exceptions` already gave for this period (not collected again)."""
        if exceptions is None:
            exceptions = self.exceptions(period, parameters=parameters, decisions=decisions, providers=providers)
        return exception_register.groups(exceptions)

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
        by = [by] if isinstance(by, str) else list(by)
        return survival_curves_from_counts(self.survival_counts(period, by, venue), by, grid_ms, level, ci)

    def survival_counts(self, period, by=("venue",), venue: str | None = None, **filters: str | None) -> pd.DataFrame:
        """Per group of ``by`` and distinct survival time (ms): the orders whose survival ends there in a
        first fill (``filled``) or censored (``censored``), what Kaplan–Meier needs
        (``sql/metrics/fill_survival_counts.sql``). ``filters``: ``order_category``, ``size_bucket``,
        ``distance_bucket``, ``symbol``, ``is_sp500`` (None = all)."""
        return self._run("metrics/fill_survival_counts", self._limit_filters(period, venue, filters), by)

    def limit_filtered(self, period, by=("venue",), venue: str | None = None, **filters: str | None) -> pd.DataFrame:
        """Orders, shares and fill rates per group of ``by`` over the limit orders matching ``filters`` (as
        :meth:`survival_counts`; ``sql/metrics/fill_filtered.sql``): the explorer's table."""
        return self._run("metrics/fill_filtered", self._limit_filters(period, venue, filters), by)

    @staticmethod
    def _limit_filters(period, venue, filters: dict) -> dict:
        names = ("order_category", "size_bucket", "distance_bucket", "symbol", "is_sp500")
        if set(filters) - set(names):
            raise ValueError(f"filter on {sorted(set(filters) - set(names))}? choose from {list(names)}")
        return {**parse_period(period).params(), "venue": venue, **{n: filters.get(n) for n in names}}

    def time_to_fill(self, period, by=("venue", "order_category"), venue: str | None = None) -> pd.DataFrame:
        """Time to first fill per group of ``by``: orders, orders_filled, quantiles p10/q1/median/q3/p90 over
        the filled orders and their share-weighted mean, in ms (``sql/metrics/fill_time_quantiles.sql``)."""
        return self._run("metrics/fill_time_quantiles", {**parse_period(period).params(), "venue": venue}, by)

    def end_states(self, period, venue: str | None = None) -> pd.DataFrame:
        """Covered limit orders per venue and end state with their ordered, filled and cancelled shares
        (``sql/metrics/fill_end_states.sql``)."""
        return self._run("metrics/fill_end_states", {**parse_period(period).params(), "venue": venue})

    def marketable_limit_exceptions(self, period, venue: str | None = None,
                                    include_excluded: bool = False) -> pd.DataFrame:
        """Rule 5310 .05: marketable limit orders with fills priced worse than the far touch at receipt.

        One row per order (received in ``period``) with at least one fill whose PI < 0, with the
        shortfall Σ q·max(−PI, 0) in USD (``shortfall_usd``), the exception ``fills`` and shares, the
        NBBO at receipt and the limit. Covers the orders of the price-improvement table; with
        ``include_excluded`` also those excluded from quality statistics whose NBBO was usable
        (``exclusion_reason`` says why). The NBBO at execution of the worst fill (``nbb_x``, ``nbo_x``)
        gives the ``cause``: ``market_moved``, ``through_quote`` or ``no_quote_at_execution``
        (``sql/metrics/marketable_limit_exceptions.sql``).
        """
        params = {**parse_period(period).params(), "venue": venue, "include_excluded": bool(include_excluded)}
        return self._run("metrics/marketable_limit_exceptions", params)

