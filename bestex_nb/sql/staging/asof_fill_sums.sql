-- asof_fill_sums: the fills of every order row, as integers, for the per-order fill sums of
-- fct_orders_base (bestex_nb/asof.py fill_sums: count(*), sum(quantity), bool_or(bad fill),
-- min/max(executed_at) per order row, in one pass). Every copy of a duplicated order id gets the id's
-- fills, as a join on the text id would give it.
-- grain: one row per row of int_execution_orders with an order row
-- params: $none (BIGINT: the kernel's "no value", for a null quantity or time)
-- columns: order_row, qty_micro (BIGINT, quantity × 10^6, exact for DECIMAL(18,6)), executed_us (BIGINT,
--   UTC microseconds), is_bad_fill
select
    order_row,
    coalesce((quantity::decimal(38, 6) * 1000000)::bigint, $none) as qty_micro,
    coalesce(epoch_us(executed_at), $none) as executed_us,
    is_bad_fill,
from int_execution_orders
where order_row is not null
