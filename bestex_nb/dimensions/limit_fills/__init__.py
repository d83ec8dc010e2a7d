"""Limit-order fill likelihood (FINRA 5310 .02 (iii)) and the Rule 5310 .05 marketable-limit check:
``compute`` (the frames), ``tables`` (text tables for reading), ``figures`` (plotly). The formulas are in
``sql/metrics/limit_fills.sql``, ``sql/metrics/limit_orders.sql`` and
``sql/metrics/marketable_limit_exceptions.sql``; Kaplan–Meier in :mod:`bestex_nb.stats.survival`."""
