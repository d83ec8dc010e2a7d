-- asof_fill_instants: the fills whose markouts need the latest valid NBBO after them (metrics.md
-- section 1, M_{t+Δ}): every fill attributed to one order row (fills of a duplicated id cannot be
-- attributed; fct_fills leaves them out). The symbol comes from the order row (bestex_nb/lookups.py).
-- grain: one row per attributed execution row of int_execution_orders
-- params: none
-- columns: execution_row, order_row, executed_us (BIGINT, UTC microseconds)
select
    execution_row,
    order_row,
    epoch_us(executed_at) as executed_us,
from int_execution_orders
where is_attributed
