-- int_repeated_id_fills: the fills whose order id occurs on more than one order row, each with every one
-- of those rows (a join on the text id, restricted to the repeated ids: read only when there are some).
-- Every copy of a duplicated id gets the id's fills in its fill sums, as a join on the id would give
-- them; none of these fills is attributed to an order (bestex_nb/build/nbbo/answers.py).
-- grain: one row per (execution row, order row with the same order_id), for repeated order ids only
-- params: none
-- columns: execution_row, order_row
select executions.row_no as execution_row, orders.row_no as order_row
from stg_executions as executions
join stg_orders as orders on executions.order_id = orders.order_id
where orders.row_no in (select row_no from int_order_id_repeats)
order by execution_row, order_row
