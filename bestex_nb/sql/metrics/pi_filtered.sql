-- pi_filtered: net price improvement and E/Q of the orders matching the explorer's filters, re-aggregated
-- per group (ratios of sums over the orders' fills, as metrics/price_improvement).
-- grain: one row per group of the caller's grouping columns (/*group_by*/, from an allow-list)
-- params: $period_start (DATE, New York, inclusive), $period_end (DATE, exclusive),
--   $venue (routed venue, null = all), $order_category, $size_bucket, $symbol (VARCHAR, null = all)
-- covers: the orders of metrics/order_pi matching the filters.
-- columns: orders (count), executed_shares (shares), net_pi_usd, es_usd, qs_usd (USD), net_pi_ps (USD/share),
--   eq_ratio (ratio), pct_orders_improved (fraction of filled orders with net PI > 0)
-- per order: the CTEs covered_orders and order_pi are metrics/order_pi.sql's (its final), copied so that
-- a change of the order's figures is made the same way in each file; here without avg_price, first_fill_ms
-- and executed_venues (read from the fills: nothing here shows them).
with

covered_orders as (
    select *
    from fct_orders
    where exclusion_reason is null
        and order_category in ('market', 'marketable_limit')
        and receipt_date >= $period_start
        and receipt_date < $period_end
        and ($venue is null or venue = $venue)
        and ($order_category is null or order_category = $order_category)
        and ($size_bucket is null or size_bucket = $size_bucket)
        and ($symbol is null or symbol = $symbol)
),

-- each order's fills were summed once, at build time (marts/int_order_fill_sums, on its fct_orders row):
-- the per-order figures of metrics/order_pi.sql, from those sums
order_pi as (
    select
        covered_orders.row_no,
        covered_orders.order_id,
        covered_orders.venue,
        covered_orders.symbol,
        covered_orders.is_sp500,
        covered_orders.side,
        covered_orders.order_category,
        covered_orders.size_bucket,
        covered_orders.share_bucket,
        covered_orders.month,
        covered_orders.received_at,
        covered_orders.quantity::double as quantity,
        covered_orders.limit_price::double as limit_price,
        covered_orders.nbb_r::double as nbb_r,
        covered_orders.nbo_r::double as nbo_r,
        covered_orders.nbbo_r_quoted_at,
        covered_orders.is_locked,
        coalesce(covered_orders.attributed_fills, 0) as fill_count,
        covered_orders.executed_shares as executed_shares_exact,
        coalesce(covered_orders.executed_shares, 0)::double as executed_shares,
        covered_orders.net_pi_usd / nullif(covered_orders.executed_shares, 0) as net_pi_ps,
        coalesce(covered_orders.net_pi_usd, 0)::double as net_pi_usd,
        coalesce(covered_orders.pi_usd, 0)::double as pi_usd,
        coalesce(covered_orders.disimprovement_usd, 0)::double as disimprovement_usd,
        coalesce(covered_orders.es_usd, 0)::double as es_usd,
        coalesce(covered_orders.qs_usd, 0)::double as qs_usd,
        coalesce(covered_orders.exec_share_ms, 0)::double as exec_share_ms,
    from covered_orders
),

sums as (
    select
        /*group_by*/
        count(*) as orders,
        sum(executed_shares) as executed_shares,
        sum(net_pi_usd) as net_pi_usd,
        sum(es_usd) as es_usd,
        sum(qs_usd) as qs_usd,
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
    from sums
)

select * from final
order by all
