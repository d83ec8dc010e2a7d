-- fill_survival_counts: what a Kaplan-Meier curve of time to first fill needs, per group: at each distinct
-- survival time, how many orders ended then in a first fill and how many were censored (cancelled,
-- expired or open at the end of the data before any fill); stats/survival.py finishes the curves.
-- grain: one row per group of the caller's grouping columns (/*group_by*/, from an allow-list) and
--   distinct survival time
-- params: $period_start (DATE, New York, inclusive), $period_end (DATE, exclusive),
--   $venue (routed venue, null = all), $order_category, $size_bucket, $distance_bucket, $symbol
--   (VARCHAR, null = all), $is_sp500 (BOOLEAN: S&P 500 or other stocks, null = both)
-- covers: the orders of metrics/limit_orders matching the filters.
-- columns: survival_ms (ms), filled (count of orders whose survival ends in a fill), censored (count of
--   the others)
-- covered_orders: macros/coverage.sql (limit_family_filtered over limit_family_orders).
with

covered_orders as (
    -- the review's orders matching the filters: macros/coverage.sql
    select *
    from limit_family_filtered($period_start, $period_end, $venue, $order_category, $size_bucket,
                               $distance_bucket, $symbol, $is_sp500)
),

final as (
    select
        /*group_by*/
        survival_ms::double as survival_ms,
        count(*) filter (where is_fill_event) as filled,
        count(*) filter (where not is_fill_event) as censored,
    from covered_orders
    group by all
)

select * from final
order by all
