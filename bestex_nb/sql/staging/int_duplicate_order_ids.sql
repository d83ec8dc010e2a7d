-- int_duplicate_order_ids: the order ids that occur on more than one row of the orders extract (every
-- copy is excluded as duplicate_order_id, and their fills cannot be attributed to one order).
-- The rows come from the exact byte match of the ids (bestex_nb/build/idmatch.py), registered by the build as
-- int_order_id_repeats (row_no of every order row whose id occurs on another row too): usually none, so
-- this groups nothing instead of all 10M ids.
-- grain: one row per duplicated order_id (usually empty or tiny)
-- params: none
-- columns: order_id, copies (rows with that id, > 1)
select order_id, count(*) as copies
from stg_orders
where row_no in (select row_no from int_order_id_repeats)
group by order_id
having count(*) > 1
