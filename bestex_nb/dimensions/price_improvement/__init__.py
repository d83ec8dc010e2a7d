"""Price improvement versus the NBBO at order receipt (FINRA 5310 .02 factors (i) and (ii)):
``compute`` (the frames, from :class:`~bestex_nb.review.Review` only), ``tables`` (text tables for
reading), ``figures`` (plotly). The formulas are in ``sql/metrics/price_improvement.sql`` and
``sql/metrics/order_pi.sql``, per fill in ``sql/marts/fct_fills_base.sql``."""
