-- idmatch_orders: every order row's id, for the exact byte match of the text ids
-- (bestex_nb/build/idmatch.py: which ids repeat, which order row each fill names).
-- grain: one row per row of stg_orders (in row order as a plain scan gives it; the caller checks)
-- params: none
-- columns: row_no, order_id
select row_no, order_id from stg_orders
