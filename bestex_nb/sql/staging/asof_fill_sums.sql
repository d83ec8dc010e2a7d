-- asof_fill_sums: the fills of every order row, as integers, for the per-order fill sums of
-- fct_orders_base (bestex_nb/asof.py fill_sums: count(*), sum(quantity), bool_or(bad fill),
-- min/max(executed_at) per order row, in one pass). Every copy of a duplicated order id gets the id's
-- fills, as a join on the text id would give it.
-- grain: one row per row of int_execution_orders with an order row
-- params: $none (BIGINT: the kernel's "no value", for a null quantity or time)
-- columns: order_row, quantity (DECIMAL(18,6) as staged: the kernel reads its 64-bit integer of
--   micro-shares straight from the Arrow buffer, bestex_nb/lookups.py; a SQL cast to BIGINT micro-shares
--   costs 2.4 s per 10M fills in 128-bit arithmetic), executed_us (BIGINT, UTC microseconds), is_bad_fill
select
    order_row,
    quantity::decimal(18, 6) as quantity,
    coalesce(epoch_us(executed_at), $none) as executed_us,
    is_bad_fill,
from int_execution_orders
where order_row is not null
