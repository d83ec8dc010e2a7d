-- fill_time_quantiles: time to first fill among the orders that filled: quantiles (linear interpolation
-- between the sorted values, exactly as pandas' and numpy's quantile: at position (n − 1)·q, a + (b − a)·g,
-- or b − (b − a)·(1 − g) when g ≥ 1/2; quantile_cont always takes the first form, which can change the last
-- bit) and the share-weighted mean.
-- grain: one row per group of the caller's grouping columns (/*group_by*/, from an allow-list)
-- params: $period_start (DATE, New York, inclusive), $period_end (DATE, exclusive),
--   $venue (routed venue, null = all)
-- covers: the orders of metrics/limit_orders.
-- columns: orders, orders_filled (counts); p10_ms, q1_ms, median_ms, q3_ms, p90_ms (ms, over filled orders,
--   unweighted); mean_ms (ms, over filled orders, weighted by filled shares)
-- covered_orders: macros/coverage.sql (limit_family_orders), as metrics/limit_orders.sql.
with

covered_orders as (
    -- the review's orders: macros/coverage.sql
    select *
    from limit_family_orders($period_start, $period_end, $venue)
),

ranked as (
    -- k: the order's position among its group's filled orders sorted by time (0-based); n: how many
    select
        *,
        time_to_first_fill_ms::double as ms,
        row_number() over (partition by /*group_by*/ is_any_fill order by time_to_first_fill_ms) - 1 as k,
        count(*) over (partition by /*group_by*/ is_any_fill) as n,
    from covered_orders
),

sums as (
    -- per quantile the sorted values a (at the floor of its position) and b (the next one, or the last)
    select
        /*group_by*/
        count(*) as orders,
        count(*) filter (where is_any_fill) as orders_filled,
        max(ms) filter (where is_any_fill and k = least(floor((n - 1)::double * 0.1), n - 1)) as p10_a,
        max(ms) filter (where is_any_fill and k = least(floor((n - 1)::double * 0.1) + 1, n - 1)) as p10_b,
        max(ms) filter (where is_any_fill and k = least(floor((n - 1)::double * 0.25), n - 1)) as q1_a,
        max(ms) filter (where is_any_fill and k = least(floor((n - 1)::double * 0.25) + 1, n - 1)) as q1_b,
        max(ms) filter (where is_any_fill and k = least(floor((n - 1)::double * 0.5), n - 1)) as median_a,
        max(ms) filter (where is_any_fill and k = least(floor((n - 1)::double * 0.5) + 1, n - 1)) as median_b,
        max(ms) filter (where is_any_fill and k = least(floor((n - 1)::double * 0.75), n - 1)) as q3_a,
        max(ms) filter (where is_any_fill and k = least(floor((n - 1)::double * 0.75) + 1, n - 1)) as q3_b,
        max(ms) filter (where is_any_fill and k = least(floor((n - 1)::double * 0.9), n - 1)) as p90_a,
        max(ms) filter (where is_any_fill and k = least(floor((n - 1)::double * 0.9) + 1, n - 1)) as p90_b,
        -- exact decimal sums (the same whatever order DuckDB's threads add them in), as metrics/limit_fills
        sum(filled_qty * time_to_first_fill_ms) filter (where is_any_fill) as share_ms,
        sum(filled_qty) filter (where is_any_fill) as filled_shares,
    from ranked
    group by all
    having count(*) > 0
),

final as (
    select
        /*group_by*/
        orders,
        orders_filled,
        case when p10_g >= 0.5 then p10_b - (p10_b - p10_a) * (1 - p10_g)
            else p10_a + (p10_b - p10_a) * p10_g end as p10_ms,
        case when q1_g >= 0.5 then q1_b - (q1_b - q1_a) * (1 - q1_g)
            else q1_a + (q1_b - q1_a) * q1_g end as q1_ms,
        case when median_g >= 0.5 then median_b - (median_b - median_a) * (1 - median_g)
            else median_a + (median_b - median_a) * median_g end as median_ms,
        case when q3_g >= 0.5 then q3_b - (q3_b - q3_a) * (1 - q3_g)
            else q3_a + (q3_b - q3_a) * q3_g end as q3_ms,
        case when p90_g >= 0.5 then p90_b - (p90_b - p90_a) * (1 - p90_g)
            else p90_a + (p90_b - p90_a) * p90_g end as p90_ms,
        share_ms / nullif(filled_shares, 0) as mean_ms,
    from (
        select
            *,
            (orders_filled - 1)::double * 0.1 - floor((orders_filled - 1)::double * 0.1) as p10_g,
            (orders_filled - 1)::double * 0.25 - floor((orders_filled - 1)::double * 0.25) as q1_g,
            (orders_filled - 1)::double * 0.5 - floor((orders_filled - 1)::double * 0.5) as median_g,
            (orders_filled - 1)::double * 0.75 - floor((orders_filled - 1)::double * 0.75) as q3_g,
            (orders_filled - 1)::double * 0.9 - floor((orders_filled - 1)::double * 0.9) as p90_g,
        from sums
    )
)

select * from final
order by all
