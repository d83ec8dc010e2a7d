-- nbbo_order_quantities: each order row's quantity, for the build's preselection of the rows an
-- exclusion rule may apply to (bestex_nb/build/exclusion_candidates.py answer_candidates: more filled than ordered).
-- grain: one row per row of stg_orders (in row order as a plain scan gives it; the caller checks)
-- params: none
-- columns: row_no, quantity (DECIMAL(18,6) as staged: its 64-bit integer of micro-shares is read from
--   the Arrow buffer, bestex_nb/build/nbbo/answers.py micro_units)
select row_no, quantity::decimal(18, 6) as quantity from stg_orders
