-- int_fill_exec_nbbo: the NBBO at execution of each fill of a marketable limit order, for the Rule 5310
-- .05 check (metrics.md section 6: a fill worse than the far touch at receipt is told apart as a market
-- that moved or a fill through the quote in force when it executed). The NBBO at execution is the
-- latest valid NBBO (both sides > 0, bid <= ask, as metrics.md section 1 defines for the markouts) at or
-- before executed_at on the fill's New York date, not clipped at 16:00, answered for every attributed
-- fill in the streaming pass (bestex_nb/build/nbbo/answers.py: x_bid_us, x_ask_us of nbbo_fill_answers,
-- micro-dollars, null for "none"); kept only for marketable limit orders (a few percent of the fills).
-- grain: one row per attributed fill of an order whose order_category is marketable_limit
-- params: none
-- columns: execution_row, order_row (row numbers of the executions and orders extracts); nbb_x, nbo_x
--   (DECIMAL(18,6), exact: the micro-dollar integers x 0.000001; null: no valid NBBO at or before the
--   fill that New York day)
select
    answers.row_no as execution_row,
    answers.order_row,
    (answers.x_bid_us::decimal(18, 0) * 0.000001::decimal(7, 6))::decimal(18, 6) as nbb_x,
    (answers.x_ask_us::decimal(18, 0) * 0.000001::decimal(7, 6))::decimal(18, 6) as nbo_x,
from nbbo_fill_answers as answers
where answers.order_row in (select row_no from fct_orders where order_category = 'marketable_limit')
order by answers.order_row, answers.row_no
