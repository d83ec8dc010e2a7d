-- pi_filtered: net price improvement and E/Q of the orders matching the explorer's filters, re-aggregated
-- per group (ratios of sums over the orders' fills, as metrics/price_improvement).
-- grain: one row per group of the caller's grouping columns (/*group_by*/, from an allow-list)
-- params: $period_start (DATE, New York, inclusive), $period_end (DATE, exclusive),
--   $venue (routed venue, null = all), $order_category, $size_bucket, $symbol (VARCHAR, null = all),
--   $is_sp500 (BOOLEAN: S&P 500 or other stocks, null = both)
-- covers: the orders of metrics/order_pi (pi_orders) matching the filters.
-- columns: orders (count), executed_shares (shares), net_pi_usd, es_usd, qs_usd (USD), net_pi_ps (USD/share),
--   eq_ratio (ratio), pct_orders_improved (fraction of filled orders with net PI > 0), mid_usd = Σ q·M_r
--   (USD), net_pi_bps = Σ q·PI / Σ q·M_r × 10⁴ (basis points of the midpoint at receipt, value-weighted:
--   metrics.md section 5)
-- reads: marts/agg_pi_cells (the covered orders of macros/coverage.sql, pi_orders, summed per cell of every
--   filter column × receipt date at build time), as metrics/price_improvement does: a redraw sums cells,
--   not the period's orders (issue 18), and its figures are the table's to the last digit.
with

cells as (
    select *
    from agg_pi_cells
    where ($period_start is null or receipt_date >= $period_start)
        and ($period_end is null or receipt_date < $period_end)
        and ($venue is null or venue = $venue)
        and ($order_category is null or order_category = $order_category)
        and ($size_bucket is null or size_bucket = $size_bucket)
        and ($symbol is null or symbol = $symbol)
        and ($is_sp500 is null or is_sp500 = $is_sp500)
),

sums as (
    select
        /*group_by*/
        sum(orders)::bigint as orders,
        coalesce(sum(executed_shares), 0)::double as executed_shares,
        coalesce(sum(net_pi_usd), 0)::double as net_pi_usd,
        coalesce(sum(es_usd), 0)::double as es_usd,
        coalesce(sum(qs_usd), 0)::double as qs_usd,
        coalesce(sum(mid_usd), 0)::double as mid_usd,
        sum(orders_filled)::bigint as orders_filled,
        sum(orders_improved)::bigint as orders_improved,
    from cells
    group by all
    having sum(orders) > 0
),

final as (
    select
        /*group_by*/
        orders,
        executed_shares,
        net_pi_usd,
        es_usd,
        qs_usd,
        net_pi_usd / nullif(executed_shares, 0) as net_pi_ps,
        es_usd / nullif(qs_usd, 0) as eq_ratio,
        orders_improved / nullif(orders_filled, 0) as pct_orders_improved,
        mid_usd,
        net_pi_usd / nullif(mid_usd, 0) * 10000 as net_pi_bps,
    from sums
)

select * from final
order by all
