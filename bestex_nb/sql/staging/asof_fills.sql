-- asof_fills: every fill (with its order row, or -1 for none), as integers, read once for the uses the
-- build has for them (bestex_nb/lookups.py; the fills of no order row go to the exclusions):
--   * the per-order fill sums of fct_orders_base (bestex_nb/asof.py fill_sums: count(*), sum(quantity),
--     bool_or(bad fill), min/max(executed_at) per order row, in one pass). Every copy of a duplicated
--     order id gets the id's fills, as a join on the text id would give it;
--   * the markout lookups: the fills with is_attributed (the order id occurs exactly once, so the fill
--     belongs to that order row) need the latest valid NBBO after them (metrics.md section 1, M_{t+Δ});
--     fills of a duplicated id cannot be attributed and fct_fills leaves them out. The symbol comes
--     from the order row.
-- grain: one row per row of int_execution_orders (a fill whose order id matches no order row too: its
--   order_row is -1; bestex_nb/lookups.py registers those as int_orphan_fills for the exclusions)
-- params: $none (BIGINT: the kernel's "no value", for a null quantity or time)
-- columns: execution_row, order_row (-1: no order row), is_attributed, quantity (DECIMAL(18,6) as
--   staged: the kernel reads its 64-bit integer of micro-shares straight from the Arrow buffer,
--   bestex_nb/lookups.py; a SQL cast to BIGINT micro-shares costs 2.4 s per 10M fills in 128-bit
--   arithmetic), executed_us (BIGINT, UTC microseconds; executed_at is required by the contract),
--   is_bad_fill
select
    execution_row,
    coalesce(order_row, -1) as order_row,
    is_attributed,
    quantity::decimal(18, 6) as quantity,
    coalesce(epoch_us(executed_at), $none) as executed_us,
    is_bad_fill,
from int_execution_orders
