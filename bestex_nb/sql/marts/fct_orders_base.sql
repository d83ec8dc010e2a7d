-- fct_orders_base: every order row received, with what needs a join or the quotes: its NBBO at
-- receipt and at routing, its fills summed up and whether its id is duplicated. Stored; the view
-- fct_orders derives everything else (categories, buckets, session flags, the exclusion reason) from
-- these columns when read: arithmetic on a row is cheaper to compute than 25 more columns are to write.
-- grain: one row per row of the orders extract (duplicate order ids keep every copy)
-- params: none
-- columns: row_no and the order row fields; received_local (New York wall clock), nbbo_r_quoted_at, nbb_r, nbo_r, nbb_route, nbo_route
--   (int_order_nbbo); fill_count, filled_qty (shares), has_bad_fill, first_fill_at, last_fill_at (over
--   the fills whose order_id is this row's, all copies of a duplicated id alike); is_duplicate_id
with

orders as (
    select * from stg_orders
),

-- NBBO at receipt (and at routing): the latest update at or before received_at (routed_at), same
-- symbol, same New York date; a quote stamped exactly at that instant counts. Looked up for every order
-- row in one streaming pass over the quotes, with the row's fills summed up in one pass over the fills
-- (asof_fills, each with its order row from the byte match of the ids: bestex_nb/lookups.py →
-- int_order_nbbo).
nbbo as (
    select * from int_order_nbbo
),

final as (
    select
        orders.*,
        nbbo.received_local,
        nbbo.nbbo_r_quoted_at,
        nbbo.nbb_r,
        nbbo.nbo_r,
        nbbo.nbb_route,
        nbbo.nbo_route,
        nbbo.fill_count,
        nbbo.filled_qty,
        nbbo.has_bad_fill,
        nbbo.first_fill_at,
        nbbo.last_fill_at,
        orders.order_id in (select order_id from int_duplicate_order_ids) as is_duplicate_id,
    from orders
    left join nbbo on orders.row_no = nbbo.row_no
)

select * from final
