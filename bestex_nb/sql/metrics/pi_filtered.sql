-- pi_filtered: net price improvement and E/Q of the orders matching the explorer's filters, re-aggregated
-- per group (ratios of sums over the orders' fills, as metrics/price_improvement).
-- grain: one row per group of the caller's grouping columns (/*group_by*/, from an allow-list)
-- params: $period_start (DATE, New York, inclusive), $period_end (DATE, exclusive),
--   $venue (routed venue, null = all), $order_category, $size_bucket, $symbol (VARCHAR, null = all)
-- covers: the orders of metrics/order_pi matching the filters.
-- columns: orders (count), executed_shares (shares), net_pi_usd, es_usd, qs_usd (USD), net_pi_ps (USD/share),
--   eq_ratio (ratio), pct_orders_improved (fraction of filled orders with net PI > 0)
-- per order: the CTEs covered_orders, per_order and order_pi are metrics/order_pi.sql's (its final),
-- copied so that a change of the order's fill sums is made the same way in each file; here without
-- executed_venues (a string aggregate per order that nothing here shows).
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

per_order as (
    select
        order_id,
        count(*) as fill_count,
        sum(quantity::decimal(38, 6)) as executed_shares,
        sum(quantity::decimal(38, 6) * price) as notional,
        sum(quantity::decimal(38, 6) * pi_ps) as net_pi_usd,
        sum(quantity::decimal(38, 6) * pi_ps) filter (where pi_ps > 0) as pi_usd,
        sum(quantity::decimal(38, 6) * -pi_ps) filter (where pi_ps < 0) as disimprovement_usd,
        sum(quantity::decimal(38, 6) * es_ps) as es_usd,
        sum(quantity::decimal(38, 6) * qs_ps) as qs_usd,
        sum(quantity::decimal(38, 6) * exec_ms) as exec_share_ms,
        min(exec_ms) as first_fill_ms,
    from fct_fills
    where order_id in (select order_id from covered_orders)
    group by order_id
),

order_pi as (
    select
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
        coalesce(per_order.fill_count, 0) as fill_count,
        coalesce(per_order.executed_shares, 0)::double as executed_shares,
        per_order.notional / nullif(per_order.executed_shares, 0) as avg_price,
        per_order.net_pi_usd / nullif(per_order.executed_shares, 0) as net_pi_ps,
        coalesce(per_order.net_pi_usd, 0)::double as net_pi_usd,
        coalesce(per_order.pi_usd, 0)::double as pi_usd,
        coalesce(per_order.disimprovement_usd, 0)::double as disimprovement_usd,
        coalesce(per_order.es_usd, 0)::double as es_usd,
        coalesce(per_order.qs_usd, 0)::double as qs_usd,
        coalesce(per_order.exec_share_ms, 0)::double as exec_share_ms,
        per_order.first_fill_ms::double as first_fill_ms,
    from covered_orders
    left join per_order on covered_orders.order_id = per_order.order_id
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
