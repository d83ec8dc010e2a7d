# %% [markdown]
# # Limit-order fill likelihood at each venue
#
# **Review question.** For each routed venue, how likely were our customers' non-marketable limit orders
# to be filled, how much of them, and how fast — inside, at, near and away from the quote, order size by
# order size? And did any marketable limit order fill at a price worse than the quote in force when we
# received it?
#
# **Rule factors evidenced.** FINRA Rule 5310 Supplementary Material .02 (iii), the likelihood of execution
# of limit orders, reviewed type of order by type of order and size by size; Supplementary Material .05
# (marketable limit orders executed outside the quote at receipt).
#
# *Method:* each order's category is set against the NBBO at receipt (the latest quote at or before
# receipt, same symbol, same New York trading day). Fill rates are ratios of sums; fill likelihood over time
# is a Kaplan–Meier curve in which the first fill is the event and a cancel, an expiry or the end of the
# data before any fill is censoring. Definitions: `docs/methods.md` (section *Limit-order fill likelihood*)
# and the metric specification, section 6. Orders that cannot be measured are listed with their reason in
# the reconciliation at the end.
#
# *Where each figure is computed* (package `bestex_nb`): fill rates in `sql/metrics/limit_fills.sql`, each
# order's outcome and survival time in `sql/metrics/limit_orders.sql` (counted per survival time in
# `sql/metrics/fill_survival_counts.sql`), the Kaplan–Meier curves in `stats/survival.py`, time to first fill
# in `sql/metrics/fill_time_quantiles.sql`, end states in `sql/metrics/fill_end_states.sql`, the Rule 5310 .05
# check in `sql/metrics/marketable_limit_exceptions.sql`, the like-for-like comparison in `stats/comparison.py`
# over `sql/metrics/comparison_fill_sums.sql`.

# %% tags=["parameters"]
# Parameters (papermill injects its own values below this cell)
period: str = "2026Q3"  # a quarter (2026Q3), a month (2026-07), or START..END ISO dates (end exclusive)
venue: str = ""  # a routed venue id for a venue report; empty for the whole firm
data_dir: str = "../data/sample"  # folder of extracts (see data/README.md)
store_path: str = ""  # review store built beforehand (opened read-only); empty to build or reuse the default one
evidence_dir: str = ""  # folder for the CSV tables behind each chart; empty for none
exceptions_n: int = 25  # how many Rule 5310 .05 exceptions to list (largest shortfall first)
interactive: bool = True  # widgets in JupyterLab; the batch runner passes False
parameters_dir: str = ""  # folder with defaults.yaml and decisions.yaml; empty: $BESTEX_PARAMETERS or parameters/
drill: str = ""  # drill-down filters, as an explorer's copy-as-parameters line gives them, e.g. is_sp500=true order_category=market

# %%
from IPython.display import Markdown, display

import bestex_nb
from bestex_nb.contract.drill import applicable, describe, parse_drill
from bestex_nb.contract.parameters import load_run
from bestex_nb.dimensions.limit_fills import compute as lf_compute
from bestex_nb.dimensions.limit_fills import figures as lf_figures
from bestex_nb.dimensions.limit_fills import tables as lf_tables
from bestex_nb.dimensions.venues import figures as venue_figures
from bestex_nb.dimensions.venues import tables as venue_tables
from bestex_nb.report import plots
from bestex_nb.report.evidence import evidence_note, provenance, write_tables

plots.setup()
review = bestex_nb.open_review(data_dir, store_path or None, build=not store_path)
params, decisions = load_run(period, parameters_dir or None)  # the committee's thresholds and dispositions
venue_filter = venue or None
drill_filters, drill_left_out = applicable(parse_drill(drill), "fills")  # checked: a typo is an error
lf = lf_compute.compute(review, period, venue_filter, parameters=params, decisions=decisions)
colors = plots.venue_colors(review.venue_ids())
figs = lf_figures.figures(lf, colors, params.min_orders_per_bar)
plots.params_table({"period": period, "venue": venue or "whole firm", "data": data_dir,
                    "store": str(review.store), "exceptions listed": exceptions_n,
                    "drill-down filters": drill or "none"})

# %% [markdown]
# ## Open exceptions, largest dollar impact first
#
# Every exception of the period still waiting for the committee's disposition, this review's and the
# price-improvement review's, one line per group (a venue's Rule 5310 .05 orders of one cause form one
# group; a venue's material differences in one metric another). A disposition in
# `parameters/decisions.yaml` may name the group id and then applies to all its members.

# %%
for view in venue_tables.open_exceptions_view(lf.all_groups, lf.all_exceptions, evidence="limit_page_exception_groups.csv"):
    display(view)

# %% [markdown]
# ## The venues
#
# Who each venue is and what share of the firm's routed flow it received in the period (every routed
# order, directed ones included; value at the midpoint at receipt).

# %%
for view in venue_tables.venues_view(lf.context, venue_filter, period):
    display(view)

# %% [markdown]
# ## About the data
#
# A fill rate is only as good as the record of how orders ended. With the firm's own order records every
# cancel is known. When the extracts were imported from a public **level-1 order-book file** (a LOBSTER
# sample, `bestex import lobster`), the book only shows events at the best quotes: orders entered behind
# the best quote are missing, an order that drifts behind the best quote can be cancelled unseen (it then
# looks open until the close and expires), the NBBO is one exchange's book rather than the consolidated
# quote, and the customers are every participant of that exchange. The import report, when there is one,
# follows.

# %%
Markdown(lf_tables.source_notes(data_dir) or "No adapter import report next to the extracts: they are the firm's own records.")

# %% [markdown]
# ## Summary by category and venue
#
# Covered orders are the analysed, non-directed limit orders whose limit at receipt was inside, at, near
# (up to $0.10 behind) or away from the quote, IOC orders included. *Fill rate (shares)* is shares filled
# over shares ordered; *cancelled or expired* is the unfilled shares of orders that were cancelled or
# expired over shares ordered (GTC orders still open at the end of the data are neither). Times run from
# our receipt to the first fill, over the orders that filled. The full table is
# the evidence table `limit_fills_by_venue_category.csv`.

# %%
plots.style_table(lf_tables.summary_table(lf.by_venue), lf_tables.SUMMARY_FORMATS)

# %% [markdown]
# ## Fill rates by category and size
#
# Compare venues within a panel and a size, not across them: a limit further from the quote or larger
# relative to the book fills less often everywhere.

# %%
figs["fill_rate_by_cell"]

# %%
figs["fill_rate_by_distance"]

# %% [markdown]
# ## Monthly share fill rate

# %%
plots.style_table(lf_tables.monthly_pivot(lf.monthly))

# %% [markdown]
# ## How fast orders fill: survival curves
#
# Each curve is the Kaplan–Meier probability that an order has **not yet** received its first fill a given
# time after we received it; the shaded band is the 95% Greenwood interval (on the log–log scale). Orders
# cancelled or expired before any fill leave the curve at that moment without counting as failures, so a
# venue is not credited or blamed for orders the customer withdrew. A lower curve is a venue that fills
# sooner and more often. The time axis is logarithmic, from a millisecond to the length of the session.

# %%
figs["survival"]

# %% [markdown]
# ## Time to first fill
#
# Among the orders that filled: quartiles, 10th and 90th percentiles and the share-weighted mean per venue
# and category. The table adds the
# share-weighted mean and the Kaplan–Meier median (the time by which half of all the orders would have
# filled had none been cancelled; blank when fewer than half ever fill).

# %%
figs["time_to_fill"]

# %%
plots.style_table(lf_tables.time_to_fill_display(lf.time_to_fill), {"orders": "int", "filled": "int"})

# %% [markdown]
# ## Venue comparison in like-for-like cells
#
# Each venue against all other venues pooled, in cells of the same symbol, category at receipt, size,
# month and distance from the quote, weighted by the venue's order shares in each cell (metrics.md
# section 8). A positive difference means the venue filled more of its customers' shares than the other
# venues did for comparable orders. The intervals are 95% bootstrap intervals over symbol-days; a
# difference is **material** when it is worse than the committee's threshold (`parameters/defaults.yaml`,
# `fill_rate_shares`) and significant after Holm's correction across the review groups. The full table is
# the evidence table `limit_fill_venue_comparison.csv`.

# %%
venue_figures.forest(lf.comparison, ["fill_rate_shares"], colors,
                  title="Share fill rate against the other venues in the same cells (positive = fills more)")

# %%
plots.style_table(lf_tables.comparison_display(lf.comparison))

# %% [markdown]
# ### Against venues of the same type
#
# The same comparison with each venue pooled only against the other venues of its own type (wholesaler
# with wholesalers, …): an exchange's queue and a wholesaler's are different by design. Which comparison
# raises exceptions is the committee's choice (`exceptions.compare_against`; this run: the line below).

# %%
display(Markdown(venue_tables.peers_sentence(lf.context, sorted(set(lf.comparison["venue"])))
                 + f" Exceptions are raised by the comparison **{venue_tables.AGAINST_LABELS[params.compare_against]}**."))
paired = lf.comparison_same_type[lf.comparison_same_type["status"] != "no_same_type_peer"]
plots.style_table(lf_tables.comparison_display(paired)) if len(paired) else Markdown(
    "No venue in this review has a venue of its own type to be compared with.")

# %% [markdown]
# ## Rule 5310 .05: marketable limit orders filled outside the quote
#
# Every fill of a marketable limit order priced worse than the far touch at receipt (the offer for a buy,
# the bid for a sell) is an exception. The shortfall is Σ shares × how much worse than the far touch, in
# dollars. Each is also judged against the NBBO **at execution**: a fill within the quote in force when it
# executed means the market moved between receipt and execution; a fill worse than that quote too went
# **through the quote**, the finding that needs an answer from the venue. The summary is one line per
# venue and cause (the groups a disposition can name), fills through the quote first; the list shows the
# largest shortfalls, and the evidence table `rule5310_05_exceptions.csv` lists every exception order by order.

# %%
for view in lf_tables.exceptions_views(lf.exceptions, exceptions_n):
    display(view)

# %% [markdown]
# ## Exceptions and their dispositions
#
# The exceptions this review raises: material differences in share fill rate, and the Rule 5310 .05
# marketable limit orders above. Each needs a disposition recorded in `parameters/decisions.yaml` under its
# id (routing changed, or a written rationale); one without an entry is **open**. The price-improvement
# review lists the venue-level exceptions of the other metrics; the evidence table `limit_exceptions.csv` lists these
# order by order.

# %%
venue_tables.styled(venue_tables.exceptions_summary(lf.exception_list), flags=[], columns=[])

# %%
material = venue_tables.exceptions_table(lf.exception_list, kinds=["material_difference"])
venue_tables.styled(material, flags=["open"], columns=["disposition"]) if len(material) else Markdown(
    "No venue's share fill rate differs materially from the other venues' in this period.")

# %% [markdown]
# ## Drill-down for the run's filters
#
# The fill rates of the orders the run's `drill` parameter selects (S&P 500 or not, category, size, distance
# from the quote, symbol), per venue and category, in distance order: the explorer's view below, frozen.

# %%
display(Markdown(describe(drill_filters, drill_left_out)))
drilled = review.limit_filtered(period, ["venue", "order_category"], venue_filter, **drill_filters)
plots.style_table(lf_tables.rates_display(drilled), lf_tables.RATE_FORMATS) if len(drilled) else Markdown(
    "No covered limit order matches these filters.")

# %% [markdown]
# ## Explore (JupyterLab only)
#
# Filters by venue, S&P 500 or other stocks, category, size, distance from the quote and symbol redraw the
# survival curves and the fill rates. Below the explorer, its view is written as the parameters of a batch
# run (`drill`), which freezes the same view into the HTML evidence (the section above). The frozen HTML
# shows the static charts above instead.

# %%
if interactive:
    from bestex_nb.interactive.limit_fills import limit_fill_explorer
    display(limit_fill_explorer(review, lf, colors, drill=drill_filters))

# %% [markdown]
# ## Reconciliation and exclusions
#
# Every order received in the period is either analysed or excluded with the first reason that applies
# (scope `all`: unusable data, out of every figure; scope `quality`: out of execution-quality statistics but
# still counted in routing volumes and PFOF). The tables above cover the analysed non-marketable limit
# orders; market and marketable-limit orders are reviewed in the price-improvement notebook.

# %%
plots.style_table(lf.reconciliation, {"order_rows": "int", "executions": "int"})

# %%
plots.style_table(lf.exclusions_by_reason, {"order_rows": "int"})

# %% [markdown]
# ## Provenance

# %%
written = write_tables(lf.tables(), evidence_dir) if evidence_dir else []
print(evidence_note(evidence_dir, written))
plots.style_table(provenance(review), {})
