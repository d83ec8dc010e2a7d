-- fill_time_quantiles: time to first fill among the orders that filled: quantiles (quantile_cont, linear
-- interpolation between order statistics, as pandas' quantile) and the share-weighted mean.
-- grain: one row per group of the caller's grouping columns (/*group_by*/, from an allow-list)
-- params: $period_start (DATE, New York, inclusive), $period_end (DATE, exclusive),
--   $venue (routed venue, null = all)
-- covers: the orders of metrics/limit_orders.
-- columns: orders, orders_filled (counts); p10_ms, q1_ms, median_ms, q3_ms, p90_ms (ms, over filled orders,
--   unweighted); mean_ms (ms, over filled orders, weighted by filled shares)
-- covered_orders is metrics/limit_orders.sql's.
with

covered_orders as (
    select *
    from fct_limit_orders
    where exclusion_reason is null
        and not is_directed
        and receipt_date >= $period_start
        and receipt_date < $period_end
        and ($venue is null or venue = $venue)
),

filled as (
    select
        *,
        time_to_first_fill_ms::double as ms,
        filled_qty::double as shares,
    from covered_orders
),

final as (
    select
        /*group_by*/
        count(*) as orders,
        count(*) filter (where is_any_fill) as orders_filled,
        quantile_cont(ms, 0.1) filter (where is_any_fill) as p10_ms,
        quantile_cont(ms, 0.25) filter (where is_any_fill) as q1_ms,
        quantile_cont(ms, 0.5) filter (where is_any_fill) as median_ms,
        quantile_cont(ms, 0.75) filter (where is_any_fill) as q3_ms,
        quantile_cont(ms, 0.9) filter (where is_any_fill) as p90_ms,
        sum(ms * shares) filter (where is_any_fill)
            / nullif(sum(shares) filter (where is_any_fill), 0) as mean_ms,
    from filled
    group by all
    having count(*) > 0
)

select * from final
order by all
