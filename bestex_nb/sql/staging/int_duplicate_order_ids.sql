-- int_duplicate_order_ids: the order ids that occur on more than one row of the orders extract (every
-- copy is excluded as duplicate_order_id, and their fills cannot be attributed to one order).
-- grain: one row per duplicated order_id (a temporary table of the build; usually empty or tiny)
-- params: none
-- columns: order_id, copies (rows with that id, > 1)
select order_id, count(*) as copies
from stg_orders
group by order_id
having count(*) > 1
