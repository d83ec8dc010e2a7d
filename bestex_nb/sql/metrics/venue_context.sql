-- venue_context: who each venue is and what share of the firm's routed flow it received in the period
-- (issue 19: every page states a venue's type, affiliation and PFOF beside its figures).
-- grain: one row per venue of the venues table (a venue that received nothing in the period gets a row
--   with zero counts), plus one row per routed venue id missing from the venues table (name null)
-- params: $period_start (DATE, New York, inclusive), $period_end (DATE, exclusive)
-- covers: every order row received in the period with a routed venue, excluded or not, directed or not
--   (the routing decision is what the share describes); not_routed orders are not in any venue's share
-- columns: venue, name, venue_type, is_affiliate, pays_pfof; routed_orders, directed_orders (counts);
--   routed_shares (Σ order quantity), executed_shares (Σ shares filled, every fill with the order's id)
--   (shares); routed_usd (Σ order quantity × midpoint at receipt, USD; orders without a usable NBBO at
--   receipt add nothing and are counted in unvalued_orders); pct_orders, pct_shares, pct_usd (fractions
--   of the period's routed totals; null when the total is 0)
with

routed as (
    select venue, quantity, filled_qty, notional_usd, is_directed
    from fct_orders
    where receipt_date >= $period_start and receipt_date < $period_end and venue is not null
),

per_venue as (
    select
        venue,
        count(*) as routed_orders,
        count(*) filter (where is_directed) as directed_orders,
        sum(quantity) as routed_shares,
        coalesce(sum(filled_qty), 0) as executed_shares,
        coalesce(sum(notional_usd), 0) as routed_usd,
        count(*) filter (where notional_usd is null) as unvalued_orders,
    from routed
    group by venue
),

venues as (
    select venue_id as venue, name, venue_type, is_affiliate, pays_pfof
    from stg_venues
),

joined as (
    select
        coalesce(venues.venue, per_venue.venue) as venue,
        venues.name,
        venues.venue_type,
        venues.is_affiliate,
        venues.pays_pfof,
        coalesce(per_venue.routed_orders, 0) as routed_orders,
        coalesce(per_venue.directed_orders, 0) as directed_orders,
        coalesce(per_venue.routed_shares, 0) as routed_shares,
        coalesce(per_venue.executed_shares, 0) as executed_shares,
        coalesce(per_venue.routed_usd, 0) as routed_usd,
        coalesce(per_venue.unvalued_orders, 0) as unvalued_orders,
    from venues
    full join per_venue on venues.venue = per_venue.venue
),

final as (
    select
        venue, name, venue_type, is_affiliate, pays_pfof, routed_orders, directed_orders,
        routed_shares::double as routed_shares,
        executed_shares::double as executed_shares,
        routed_usd::double as routed_usd,
        unvalued_orders,
        routed_orders / nullif(sum(routed_orders) over (), 0) as pct_orders,
        routed_shares / nullif(sum(routed_shares) over (), 0) as pct_shares,
        routed_usd / nullif(sum(routed_usd) over (), 0) as pct_usd,
    from joined
)

select * from final
order by venue
