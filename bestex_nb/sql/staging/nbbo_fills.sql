-- nbbo_fills: every fill as integers, in execution row order, read once for the uses the build has for
-- them (bestex_nb/build/nbbo/answers.py adds each fill's order row from the exact byte match of the order ids,
-- bestex_nb/build/idmatch.py: the order row whose order_id is the fill's, −1 for none; and is_attributed, the
-- id occurring on exactly one order row):
--   * the per-order fill sums of fct_orders_base (bestex_nb/build/fill_sums.py: count(*), sum(quantity),
--     bool_or(bad fill), min/max(executed_at) per order row, in one pass). Every copy of a duplicated
--     order id gets the id's fills (staging/int_repeated_id_fills), as a join on the text id would give;
--   * the markout lookups: the attributed fills need the latest valid NBBO after them (metrics.md
--     section 1, M_{t+Δ}); fills of a duplicated id cannot be attributed and fct_fills leaves them out.
--     The symbol comes from the order row.
--   * a fill whose order id matches no order row goes to the exclusions (unknown_order).
-- grain: one row per row of stg_executions
-- params: $none (BIGINT: the kernel's "no value", for a null time)
-- columns: execution_row, quantity (DECIMAL(18,6) as staged: the kernel reads its 64-bit integer of
--   micro-shares straight from the Arrow buffer, bestex_nb/build/nbbo/answers.py; a SQL cast to BIGINT micro-shares
--   costs 2.4 s per 10M fills in 128-bit arithmetic), executed_us (BIGINT, UTC microseconds;
--   executed_at is required by the contract), is_bad_fill (quantity or price null or ≤ 0)
select
    row_no as execution_row,
    quantity::decimal(18, 6) as quantity,
    coalesce(epoch_us(executed_at), $none) as executed_us,
    quantity is null or quantity <= 0 or price is null or price <= 0 as is_bad_fill,
from stg_executions
