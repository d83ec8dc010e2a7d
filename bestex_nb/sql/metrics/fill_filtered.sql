-- fill_filtered: orders, shares and fill rates of the limit orders matching the explorer's filters, per
-- group (ratios of sums, as metrics/limit_fills).
-- grain: one row per group of the caller's grouping columns (/*group_by*/, from an allow-list)
-- params: $period_start (DATE, New York, inclusive), $period_end (DATE, exclusive),
--   $venue (routed venue, null = all), $order_category, $size_bucket, $distance_bucket, $symbol
--   (VARCHAR, null = all), $is_sp500 (BOOLEAN: S&P 500 or other stocks, null = both)
-- covers: the orders of metrics/limit_orders matching the filters.
-- columns: orders (count), order_shares (shares), fill_rate_shares, fill_rate_orders, cancel_rate_shares
--   (fractions)
-- covered_orders: macros/coverage.sql (limit_family_filtered over limit_family_orders).
with

covered_orders as (
    -- the review's orders matching the filters: macros/coverage.sql
    select *
    from limit_family_filtered($period_start, $period_end, $venue, $order_category, $size_bucket,
                               $distance_bucket, $symbol, $is_sp500)
),

sums as (
    select
        /*group_by*/
        count(*) as orders,
        sum(quantity)::double as order_shares,
        sum(filled_qty)::double as filled_shares,
        count(*) filter (where is_any_fill) as orders_filled,
        sum(cancelled_qty)::double as cancelled_shares,
    from covered_orders
    group by all
    having count(*) > 0
),

final as (
    select
        /*group_by*/
        orders,
        order_shares,
        filled_shares / nullif(order_shares, 0) as fill_rate_shares,
        orders_filled / orders as fill_rate_orders,
        cancelled_shares / nullif(order_shares, 0) as cancel_rate_shares,
    from sums
)

select * from final
order by all
