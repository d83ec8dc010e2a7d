-- int_execution_orders: each fill matched to its order row (a temporary view of the build, read once by
-- the NBBO lookups: bestex_nb/lookups.py), so every later step joins fills and
-- orders on integers (the row numbers) instead of on the text order id.
-- grain: one row per (execution row, order row with the same order_id); an execution whose order_id
--   matches no order row has one row with order_row null; one whose id is duplicated has one row per copy
-- params: none
-- columns: execution_row (row_no of stg_executions), order_row (row_no of stg_orders, null: unknown
--   order), is_attributed (the order id occurs exactly once: the fill belongs to that order), executed_at,
--   quantity, price, is_bad_fill (quantity or price null or ≤ 0)
with

duplicate_ids as (
    select order_id from int_duplicate_order_ids
),

orders as (
    select row_no, order_id from stg_orders
),

final as (
    select
        executions.row_no as execution_row,
        orders.row_no as order_row,
        orders.row_no is not null and executions.order_id not in (select order_id from duplicate_ids)
            as is_attributed,
        executions.executed_at,
        executions.quantity,
        executions.price,
        executions.quantity is null or executions.quantity <= 0 or executions.price is null
            or executions.price <= 0 as is_bad_fill,
    from stg_executions as executions
    left join orders on executions.order_id = orders.order_id
)

select * from final
