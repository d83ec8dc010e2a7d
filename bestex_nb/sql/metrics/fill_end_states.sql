-- fill_end_states: how the covered limit orders ended (filled, cancelled, expired, open), with their shares.
-- grain: one row per venue and end state
-- params: $period_start (DATE, New York, inclusive), $period_end (DATE, exclusive),
--   $venue (routed venue, null = all)
-- covers: the orders of metrics/limit_orders.
-- columns: venue, end_state, orders (count), order_shares, filled_shares, cancelled_shares (shares)
-- covered_orders: macros/coverage.sql (limit_family_orders), as metrics/limit_orders.sql.
with

covered_orders as (
    -- the review's orders: macros/coverage.sql
    select *
    from limit_family_orders($period_start, $period_end, $venue)
),

final as (
    select
        venue,
        end_state,
        count(*) as orders,
        sum(quantity)::double as order_shares,
        sum(filled_qty)::double as filled_shares,
        sum(cancelled_qty)::double as cancelled_shares,
    from covered_orders
    group by all
)

select * from final
order by venue, end_state
