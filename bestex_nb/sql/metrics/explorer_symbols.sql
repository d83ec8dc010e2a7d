-- explorer_symbols: the symbols of a review's covered orders, for the explorers' symbol filter (read from
-- the orders alone: no fill is summed).
-- grain: one row per symbol with a covered order received in the period
-- params: $period_start (DATE, New York, inclusive), $period_end (DATE, exclusive),
--   $venue (routed venue, null = all), $coverage ('pi': the orders of metrics/order_pi; 'fills': the
--   orders of metrics/limit_orders)
-- columns: symbol
with

pi_orders as (
    -- the covered orders of metrics/order_pi
    select symbol
    from pi_orders($period_start, $period_end, $venue)  -- macros/coverage.sql
    where $coverage = 'pi'
),

limit_orders as (
    -- the covered orders of metrics/limit_orders
    select symbol
    from limit_family_orders($period_start, $period_end, $venue)  -- macros/coverage.sql
    where $coverage = 'fills'
),

final as (
    select distinct symbol from pi_orders
    union
    select distinct symbol from limit_orders
)

select * from final
where symbol is not null
order by symbol
