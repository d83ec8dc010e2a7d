-- fct_fills_base: every fill attributed to one order row (a known, single-copy order id), with its
-- order row and the valid midpoints after it: the part of fct_fills that needs the quotes, stored. The
-- view fct_fills adds the order's fields and NBBO at receipt (an integer join on order_row) and computes
-- PI, ES, QS, time to execution, realized spreads, price impacts and markouts from them when read.
-- grain: one row per attributed execution
-- params: none
-- columns: execution_row, order_row (row numbers of the executions and orders extracts), execution_id,
--   executed_venue, executed_at, quantity (shares), price, capacity, mid_{1s,15s,1m,5m} (DECIMAL(21,7):
--   M_{t+Δ}, the latest valid midpoint at or before min(executed_at + Δ, 16:00 New York) on the fill's
--   New York date; null when there is none)
with

-- the attributed fills (nbbo_fills where is_attributed, each with its order row from the byte match of
-- the ids: bestex_nb/build/idmatch.py), each with the midpoints looked up in the same streaming pass as the
-- NBBO at receipt (bestex_nb/build/nbbo/answers.py → int_fill_mids).
marks as (
    select * from int_fill_mids
),

final as (
    select
        marks.row_no as execution_row,
        marks.order_row,
        executions.execution_id,
        executions.executed_venue,
        executions.executed_at,
        executions.quantity,
        executions.price,
        executions.capacity,
        marks.mid_1s,
        marks.mid_15s,
        marks.mid_1m,
        marks.mid_5m,
    from stg_executions as executions
    join marks on executions.row_no = marks.row_no
)

select * from final
