-- asof_fill_instants: the fills whose markouts need the latest valid NBBO after them (metrics.md
-- section 1, M_{t+Δ}): every fill of an order whose id occurs once (fills of a duplicated id cannot be
-- attributed; fct_fills leaves them out), with the order's symbol.
-- grain: one row per row of stg_executions whose order id occurs exactly once in stg_orders
-- params: none
-- columns: row_no (the execution row), symbol_hash (UBIGINT, hash of the order's symbol), executed_us
--   (BIGINT, UTC microseconds)
with

single_orders as (
    select order_id, any_value(symbol) as symbol
    from stg_orders
    group by order_id
    having count(*) = 1
),

final as (
    select
        executions.row_no,
        hash(single_orders.symbol) as symbol_hash,
        epoch_us(executions.executed_at) as executed_us,
    from stg_executions as executions
    join single_orders on executions.order_id = single_orders.order_id
    where single_orders.symbol is not null
)

select * from final
