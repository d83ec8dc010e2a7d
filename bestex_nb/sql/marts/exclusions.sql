-- exclusions: every order row that is not analysed, and every fill whose order does not exist.
-- grain: one row per excluded order row (table 'orders') or orphan fill (table 'executions')
-- params: none
-- reads int_orphan_fills, which the build's lookups register on its connection (bestex_nb/lookups.py):
--   so exclusions is a table built there, never a view
-- columns: table, order_id, execution_id, reason, scope ('all' | 'quality'), venue, symbol,
--   received_at (UTC), month (New York, YYYY-MM), receipt_date, order_category
with

orders as (
    select
        'orders' as "table", order_id, null::varchar as execution_id, exclusion_reason as reason,
        exclusion_scope as scope, venue, symbol, received_at, month, receipt_date, order_category, row_no,
    from fct_orders
    where exclusion_reason is not null
),

orphan_fills as (
    select
        'executions' as "table", executions.order_id, executions.execution_id, 'unknown_order' as reason,
        'all' as scope, null::varchar as venue, null::varchar as symbol, null::timestamptz as received_at,
        null::varchar as month, null::date as receipt_date, null::varchar as order_category, executions.row_no,
    from stg_executions as executions
    where executions.row_no in (select execution_row from int_orphan_fills)  -- bestex_nb/lookups.py
),

final as (
    select * from orders
    union all by name
    select * from orphan_fills
)

select * exclude (row_no) from final
order by "table" desc, row_no
