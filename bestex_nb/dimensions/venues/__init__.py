"""Venue comparison, deterioration trigger and exceptions (metrics.md section 8; FINRA 5310 .02 (a)(1):
comparing the quality of the markets the orders are routed to with competing markets): ``compute``
(the frames, from :meth:`Review.compare_venues`, :meth:`Review.deterioration_triggers` and
:meth:`Review.exceptions`), ``tables`` (text tables), ``figures`` (forest plots). The statistics are in
:mod:`bestex_nb.stats.comparison` and :mod:`bestex_nb.stats.deterioration`."""
