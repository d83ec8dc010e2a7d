-- fct_orders: every order row received, enriched with the NBBO at receipt and at routing, its
-- Rule 605 category, size buckets, session flags, the one exclusion reason that applies (or none), and
-- its fills summed up. Stored as a table at every scale, sorted by New York receipt date, routed venue
-- and row, so a period's (and a venue's) reads skip the other row groups by their zone maps
-- (bestex_nb/build/layout.py says why): every metric reads its orders and their fill sums from here.
-- grain: one row per row of the orders extract (duplicate order ids keep every copy, all excluded)
-- params: none
-- columns: row_no, order row fields; venue (= routed_venue); receipt_date, month (New York); nbb_r, nbo_r,
--   mid_r, quoted_spread_r (USD/share); nbb_route, nbo_route; nbbo_status; is_locked; order_category;
--   is_beyond_midpoint; distance_ticks, distance_bucket; notional_usd; size_bucket; share_bucket;
--   is_regular_hours; is_sp500; fill_count, filled_qty (shares), first_fill_at, last_fill_at (every fill
--   with the order's id); exclusion_reason, exclusion_scope ('all' | 'quality' | null when analysed);
--   then the sums over its attributed fills (marts/int_order_fill_sums: attributed_fills …
--   exec_share_ms, with executed_usd and mid_usd for the bps figures; null when it has none)
-- the query: macros/order_facts.sql (order_facts, via marts/int_order_facts) with
--   marts/int_order_fill_sums on the order row
with

facts as (
    select * from int_order_facts
),

sums as (
    select * from int_order_fill_sums
),

final as (
    select
        facts.*,
        sums.* exclude (order_row),
    from facts
    left join sums on facts.row_no = sums.order_row
)

select * from final
order by receipt_date, venue, row_no
