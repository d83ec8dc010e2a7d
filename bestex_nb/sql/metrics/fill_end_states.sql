-- fill_end_states: how the covered limit orders ended (filled, cancelled, expired, open), with their shares.
-- grain: one row per venue and end state
-- params: $period_start (DATE, New York, inclusive), $period_end (DATE, exclusive),
--   $venue (routed venue, null = all)
-- covers: the orders of metrics/limit_orders.
-- columns: venue, end_state, orders (count), order_shares, filled_shares, cancelled_shares (shares)
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
