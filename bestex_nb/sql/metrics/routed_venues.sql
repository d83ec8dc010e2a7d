-- routed_venues: the venues orders were routed to in the period, with their counts.
-- grain: one row per routed venue with at least one order received in the period
-- params: $period_start (DATE, New York, inclusive), $period_end (DATE, exclusive)
-- columns: venue, name, venue_type, pays_pfof, is_affiliate, orders (count, all order rows routed there),
--   analysed_orders (count, not excluded)
with

orders as (
    select venue, exclusion_reason
    from fct_orders
    where receipt_date >= $period_start and receipt_date < $period_end and venue is not null
),

final as (
    select
        orders.venue,
        venues.name,
        venues.venue_type,
        venues.pays_pfof,
        venues.is_affiliate,
        count(*) as orders,
        count(*) filter (where orders.exclusion_reason is null) as analysed_orders,
    from orders
    join stg_venues as venues on orders.venue = venues.venue_id
    group by all
)

select * from final
order by venue
