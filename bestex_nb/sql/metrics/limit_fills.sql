-- limit_fills: the limit-order fill-likelihood table of metrics.md section 6.
-- grain: one row per group of the caller's grouping columns (/*group_by*/, from an allow-list)
-- params: $period_start (DATE, New York, inclusive), $period_end (DATE, exclusive),
--   $venue (VARCHAR routed venue, null = all venues)
-- covers: non-directed limit orders that are not excluded, whose category at receipt is inside, at, near
--   or away from the quote (IOC included), received in the period.
-- columns: orders (count); order_shares (shares); fill_rate_shares (Σ filled / Σ ordered);
--   fill_rate_orders (orders with any fill / orders); full_fill_rate_orders (fully filled / orders);
--   cancel_rate_shares (Σ unfilled shares of cancelled or expired orders / Σ ordered), all fractions;
--   median_time_to_first_fill_ms (ms, over orders with a fill, unweighted, interpolated between the two
--   middle orders); mean_time_to_first_fill_ms (ms, over orders with a fill, weighted by filled shares).
with

covered_orders as (
    -- the review's orders: macros/coverage.sql
    select *
    from limit_family_orders($period_start, $period_end, $venue)
),

sums as (
    select
        /*group_by*/
        count(*) as orders,
        sum(quantity::decimal(38, 6)) as order_shares,
        sum(filled_qty) as filled_shares,
        sum(cancelled_qty::decimal(38, 6)) as cancelled_shares,
        count(*) filter (where is_any_fill) as orders_filled,
        count(*) filter (where is_full_fill) as orders_full,
        quantile_cont(time_to_first_fill_ms::double, 0.5) filter (where is_any_fill)
            as median_time_to_first_fill_ms,
        sum(filled_qty * time_to_first_fill_ms) filter (where is_any_fill) as first_fill_share_ms,
    from covered_orders
    group by all
    having count(*) > 0
),

final as (
    select
        /*group_by*/
        orders,
        order_shares::double as order_shares,
        filled_shares / nullif(order_shares, 0) as fill_rate_shares,
        orders_filled / orders as fill_rate_orders,
        orders_full / orders as full_fill_rate_orders,
        cancelled_shares / nullif(order_shares, 0) as cancel_rate_shares,
        median_time_to_first_fill_ms,
        first_fill_share_ms / nullif(filled_shares, 0) as mean_time_to_first_fill_ms,
    from sums
)

select * from final
order by all
