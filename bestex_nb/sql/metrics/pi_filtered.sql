-- pi_filtered: net price improvement and E/Q of the orders matching the explorer's filters, re-aggregated
-- per group (ratios of sums over the orders' fills, as metrics/price_improvement).
-- grain: one row per group of the caller's grouping columns (/*group_by*/, from an allow-list)
-- params: $period_start (DATE, New York, inclusive), $period_end (DATE, exclusive),
--   $venue (routed venue, null = all), $order_category, $size_bucket, $symbol (VARCHAR, null = all),
--   $is_sp500 (BOOLEAN: S&P 500 or other stocks, null = both)
-- covers: the orders of metrics/order_pi matching the filters.
-- columns: orders (count), executed_shares (shares), net_pi_usd, es_usd, qs_usd (USD), net_pi_ps (USD/share),
--   eq_ratio (ratio), pct_orders_improved (fraction of filled orders with net PI > 0), mid_usd = Σ q·M_r
--   (USD), net_pi_bps = Σ q·PI / Σ q·M_r × 10⁴ (basis points of the midpoint at receipt, value-weighted:
--   metrics.md section 5)
-- per order: macros/coverage.sql (pi_order_rows), as metrics/order_pi.sql.
with

order_pi as (
    -- the review's orders with their figures: macros/coverage.sql (pi_order_rows)
    select *
    from pi_order_rows($period_start, $period_end, $venue)
    where ($order_category is null or order_category = $order_category)
        and ($size_bucket is null or size_bucket = $size_bucket)
        and ($symbol is null or symbol = $symbol)
        and ($is_sp500 is null or is_sp500 = $is_sp500)
),

sums as (
    select
        /*group_by*/
        count(*) as orders,
        sum(executed_shares) as executed_shares,
        sum(net_pi_usd) as net_pi_usd,
        sum(es_usd) as es_usd,
        sum(qs_usd) as qs_usd,
        sum(mid_usd) as mid_usd,
        count(*) filter (where fill_count > 0) as orders_filled,
        count(*) filter (where net_pi_usd > 0) as orders_improved,
    from order_pi
    group by all
    having count(*) > 0
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
