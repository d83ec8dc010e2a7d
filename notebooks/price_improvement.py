# %% [markdown]
# # Price improvement versus the NBBO at order receipt
#
# **Review question.** For each routed venue, order type and order size: how did our customers' market and
# marketable-limit orders fare against the national best bid and offer in force when **we received** them —
# how often and by how much were they improved, how often and by how much were they executed outside the
# quote, and what did that cost or save them?
#
# **Rule factors evidenced.** FINRA Rule 5310 Supplementary Material .02: (i) price improvement
# opportunities and (ii) price dis-improvement, reviewed security by security, type of order by type of order
# and size by size; .02 (vi) transaction costs through the effective/quoted spread ratio (E/Q).
#
# *Method:* every fill is measured against the NBBO at receipt (the latest quote at or before receipt, same
# symbol, same New York trading day). Figures lead in **basis points of the midpoint at receipt,
# value-weighted** (Σ shares × improvement / Σ shares × midpoint), so that a cheap stock traded in many
# shares does not set a venue's average; USD per share are shown beside them. Averages are ratios of sums
# over fills. Definitions:
# `docs/methods.md` and the metric specification. Orders that cannot be measured are listed with their
# reason in the reconciliation at the end.
#
# *Where each figure is computed* (package `bestex_nb`): the tables by venue, type, size and month in
# `sql/metrics/price_improvement.sql`, the distribution of orders in `sql/metrics/pi_distribution.sql`, the
# drill-down to the costliest orders in `sql/metrics/pi_worst_orders.sql`, each fill's
# improvement against the NBBO at receipt in `sql/marts/fct_fills.sql`; the like-for-like comparison in
# `stats/comparison.py` over `sql/metrics/comparison_pi_sums.sql`; the deterioration trigger in
# `stats/deterioration.py`.

# %% tags=["parameters"]
# Parameters (papermill injects its own values below this cell)
period: str = "2026Q3"  # a quarter (2026Q3), a month (2026-07), or START..END ISO dates (end exclusive)
venue: str = ""  # a routed venue id for a venue report; empty for the whole firm
data_dir: str = "../data/sample"  # folder of extracts (see data/README.md)
store_path: str = ""  # review store built beforehand (opened read-only); empty to build or reuse the default one
evidence_dir: str = ""  # folder for the CSV tables behind each chart; empty for none
worst_n: int = 25  # how many of the costliest orders to list for drill-down
interactive: bool = True  # widgets in JupyterLab; the batch runner passes False
parameters_dir: str = ""  # folder with defaults.yaml and decisions.yaml; empty: $BESTEX_PARAMETERS or parameters/
drill: str = ""  # drill-down filters, as an explorer's copy-as-parameters line gives them, e.g. is_sp500=true order_category=market

# %%
from IPython.display import Markdown, display

import bestex_nb
from bestex_nb.contract.drill import applicable, describe, parse_drill
from bestex_nb.contract.parameters import load_run
from bestex_nb.dimensions.price_improvement import compute as pi_compute
from bestex_nb.dimensions.price_improvement import figures as pi_figures
from bestex_nb.dimensions.price_improvement import tables as pi_tables
from bestex_nb.dimensions.venues import compute as venue_compute
from bestex_nb.dimensions.venues import figures as venue_figures
from bestex_nb.dimensions.venues import tables as venue_tables
from bestex_nb.report import plots
from bestex_nb.report.evidence import evidence_note, provenance, write_tables

plots.setup()
review = bestex_nb.open_review(data_dir, store_path or None, build=not store_path)
params, decisions = load_run(period, parameters_dir or None)  # the committee's thresholds and dispositions
venue_filter = venue or None
drill_filters, drill_left_out = applicable(parse_drill(drill), "pi")  # checked: a typo is an error
pi = pi_compute.compute(review, period, venue_filter, worst_n=worst_n, drill=drill_filters)
colors = plots.venue_colors(review.venue_ids())
figs = pi_figures.figures(pi, colors, params.min_orders_per_bar)
vr = venue_compute.compute(review, period, venue_filter, parameters=params, decisions=decisions)
plots.params_table({"period": period, "venue": venue or "whole firm", "data": data_dir,
                    "store": str(review.store), "worst orders listed": worst_n,
                    "drill-down filters": drill or "none"})

# %% [markdown]
# ## Open exceptions, largest dollar impact first
#
# Every exception of the period still waiting for the committee's disposition, one line per group (a
# venue's Rule 5310 .05 orders of one cause form one group; a venue's material differences in one metric
# form one group, and its deterioration breaches of one period another). A disposition in
# `parameters/decisions.yaml` may name the group id and then applies to all its members. Details follow in
# the sections below.

# %%
for view in venue_tables.open_exceptions_view(vr.groups, vr.exceptions):
    display(view)

# %% [markdown]
# ## The venues
#
# Who each venue is and what share of the firm's routed flow it received in the period (every routed
# order, directed ones included; value at the midpoint at receipt). Wholesalers that pay for order flow
# are the venues Rule 5310 .07 asks the firm to justify by execution quality, not payment.

# %%
for view in venue_tables.venues_view(vr.context, venue_filter, period):
    display(view)

# %% [markdown]
# ## Summary by venue
#
# One column per routed venue, value-weighted figures first. *Net price improvement in basis points* is
# Σ shares × (improvement − dis-improvement) / Σ shares × midpoint at receipt × 10,000; *E/Q* is the
# effective over the quoted spread (below 100% means customers paid less than the quoted spread); the
# same figures per share follow, then how often shares were improved; time to execution is share-weighted
# from our receipt to the fill. The full table, with every column of the specification, is the evidence
# table `pi_by_venue.csv`.

# %%
plots.style_table(pi_tables.summary_table(pi.by_venue))

# %% [markdown]
# ## By order type and size
#
# Net price improvement (basis points of the midpoint) and E/Q for each venue in each cell of order
# category × order size (notional at the receipt midpoint, amended Rule 605 size buckets). Compare venues
# within a cell, not across cells. Hover a bar for its orders and shares; a faded bar rests on fewer
# orders than the committee's minimum (`display.min_orders_per_bar`) and carries its count.

# %%
figs["net_pi_by_cell"]

# %%
figs["eq_by_cell"]

# %% [markdown]
# ## Monthly trend per venue
#
# A fall in one venue's net price improvement that the other venues do not share is the signal the
# committee's deterioration trigger looks for. The table gives the same figures with the change of the last
# month against the month before (shown where the earlier value is positive); the trigger itself is on net
# price improvement per share, as the committee's procedure defines it (next sections).

# %%
figs["monthly_trend"]

# %%
plots.style_table(pi_tables.monthly_pivot(pi.monthly, "net_pi_bps"))

# %% [markdown]
# ## Each venue against the other venues, like for like
#
# Venues receive different mixes of stocks, order types and sizes, so their raw averages are not
# comparable. Each venue is therefore compared with **all the other venues pooled, within the same cell**
# of symbol × order type × order size × month, and the cell differences are averaged with the venue's
# executed shares as weights (for the basis-point figures, its executed value at the midpoint; only cells
# where both sides executed shares count; the matched share of the venue's volume is in the table). **Positive = better for the customer** at this venue: more price
# improvement, or lower E/Q, effective spread, realized spread and time to execution.
#
# Bars are 95% intervals from a bootstrap that resamples symbol-days (a day of one stock is the unit of
# independent information). An outlined diamond marks a **material difference**: worse than the committee's
# threshold (dashed red line), significant after Holm's correction across the review groups, and resting
# on enough symbol-days. (An interval that excludes zero is not by itself significant: Holm's correction
# accounts for the number of review groups looked at.) Thresholds are in `parameters/defaults.yaml` (table at the end of this section);
# the method is in `docs/methods.md`, "Venue comparison and exceptions".

# %%
venue_figures.forest(vr.comparisons, ["net_pi_bps", "eq_ratio", "eff_spread_bps"], colors,
                     title="Each venue against all the other venues in the same cells, value-weighted "
                           "(positive = better for the customer)")

# %%
venue_figures.forest(vr.comparisons, ["net_pi_ps", "realized_spread_1m_ps", "avg_exec_ms"], colors,
                     title="Per share and speed, against all the other venues (positive = better for the customer)")

# %%
venue_tables.styled(venue_tables.comparison_table(vr.comparisons))

# %% [markdown]
# ### Against venues of the same type
#
# A wholesaler, an exchange and a midpoint ATS execute orders differently by design: a difference between
# an exchange and the wholesalers pooled is partly a difference of venue type, not a finding. Here each
# venue is compared only with the other venues of its own type (wholesaler with wholesalers, …), by the
# same method. Which comparison raises exceptions is the committee's choice (`exceptions.compare_against`
# in `parameters/defaults.yaml`; this run: the line below).

# %%
display(Markdown(venue_tables.peers_sentence(vr.context, sorted(set(vr.comparisons["venue"])))
                 + f" Exceptions are raised by the comparison **{venue_tables.AGAINST_LABELS[params.compare_against]}**."))
venue_tables.styled(venue_tables.comparison_table(vr.comparisons, venue_tables.SAME_TYPE_METRICS, "same_type"))

# %% [markdown]
# ## Deterioration trigger
#
# The committee's numerical trigger: a venue's net price improvement per share in a review group (venue ×
# S&P 500 or not × order type) falls against the previous period by **more than** the threshold
# percentage (or, when the previous value was zero or negative, by more than the threshold in USD per
# share), and the fall is significant after Holm's correction. For a quarter, each month is also compared
# with the month before (monthly monitoring). Intervals resample each period's symbol-days independently.
# The table lists the breaches, the falls beyond the threshold that are not significant, and the groups
# with too few symbol-days to decide; every group is in the evidence table `deterioration.csv`.

# %%
venue_figures.deterioration_figure(vr.deterioration, colors)

# %%
venue_tables.styled(venue_tables.deterioration_table(vr.deterioration), columns=["status"])

# %% [markdown]
# ## Exceptions and their dispositions
#
# Every material difference, every breach of the trigger and every marketable limit order filled worse than
# the quote at receipt (Rule 5310 .05) is an exception that needs a recorded disposition: routing changed, or
# a written rationale for keeping it. Dispositions are recorded in `parameters/decisions.yaml` under the
# exception id, which stays the same when the review is re-run on the same data; an exception without an
# entry is **open**. The summary counts every kind; the table lists the venue-level ones. The Rule 5310 .05
# exceptions are listed order by order in the limit-order review, and all of them in the evidence table `exceptions.csv`.

# %%
venue_tables.styled(venue_tables.exceptions_summary(vr.exceptions), flags=[], columns=[])

# %%
venue_tables.styled(venue_tables.exceptions_table(vr.exceptions, kinds=["material_difference", "deterioration"]),
                    flags=["open"], columns=["disposition"])

# %%
plots.style_table(vr.parameters.table(), caption="Committee parameters used")

# %% [markdown]
# ## Distribution of price improvement per order
#
# Each venue's filled orders by their net price improvement per share, in 80 equal bins between the 0.5th
# and 99.5th percentiles of all filled orders (orders beyond are counted in the end bins). The bins are
# the evidence table `pi_distribution.csv`.

# %%
figs["pi_distribution"]

# %% [markdown]
# ## Drill-down: the orders that cost customers most
#
# The orders that lost money against the NBBO at receipt, ranked by net price improvement in dollars (most
# negative first), with the NBBO in force at receipt and the age of that quote when the order arrived, so
# each can be traced to the order record. Times are New York; the evidence table `worst_orders.csv` has the
# UTC timestamps. The run's `drill` parameter narrows the list (S&P 500 or not, order type, size, symbol).

# %%
display(Markdown(describe(drill_filters, drill_left_out)))
pi_tables.worst_orders_view(pi.worst_orders)

# %% [markdown]
# ## Explore (JupyterLab only)
#
# Filters by venue, S&P 500 or other stocks, order type, size and symbol redraw the monthly trend and the
# orders that cost customers money, a page at a time. Below the explorer, its view is written as the
# parameters of a batch run (`drill`), which freezes the same drill-down into the HTML evidence. The frozen
# HTML shows the static charts above instead.

# %%
if interactive:
    from bestex_nb.interactive.price_improvement import pi_explorer
    display(pi_explorer(review, pi, colors, drill=drill_filters))

# %% [markdown]
# ## Reconciliation and exclusions
#
# Every order received in the period is either analysed or excluded with the first reason that applies
# (scope `all`: unusable data, out of every figure; scope `quality`: out of execution-quality statistics but
# still counted in routing volumes and PFOF). The price-improvement tables above cover the analysed market
# and marketable-limit orders; analysed non-marketable limit orders are reviewed in the limit-order fill
# notebook.

# %%
plots.style_table(pi.reconciliation, {"order_rows": "int", "executions": "int"})

# %%
plots.style_table(pi.exclusions_by_reason, {"order_rows": "int"})

# %% [markdown]
# ## Provenance

# %%
written = write_tables({**pi.tables(), **vr.tables()}, evidence_dir) if evidence_dir else []
print(evidence_note(evidence_dir, written))
plots.style_table(provenance(review), {})
