-- exclusions: every order row that is not analysed, and every fill whose order does not exist.
-- The order rows are those fct_orders excludes (reason and scope: macros/rulebook.sql), found by
-- fct_orders' own query (macros/order_facts.sql) over the candidate rows only: the order rows and answers
-- of staging/int_exclusion_candidates, a superset of the rows the rulebook excludes
-- (tests/unit/test_rulebook.py). Built before fct_orders was stored: when fct_orders was a view over
-- files at 10M orders, reading it whole to keep its 1% of excluded rows was the build's dearest step.
-- grain: one row per excluded order row (table 'orders') or orphan fill (table 'executions')
-- params: none
-- reads int_orphan_fills, which the build's lookups register on its connection (bestex_nb/build/nbbo/answers.py):
--   so exclusions is a table built there, never a view
-- columns: table, order_id, execution_id, reason, scope ('all' | 'quality'), venue, symbol,
--   received_at (UTC), month (New York, YYYY-MM), receipt_date, order_category
with

candidate_rows as (
    select row_no from int_exclusion_candidates
),

candidate_orders as (
    select * from stg_orders where row_no in (select row_no from candidate_rows)
),

candidate_nbbo as (
    select * from int_order_nbbo where row_no in (select row_no from candidate_rows)
),

candidate_base as (
    select * from order_base(candidate_orders, candidate_nbbo)  -- as fct_orders_base
),

candidate_facts as (
    select * from order_facts(candidate_base)  -- as fct_orders
),

orders as (
    select
        'orders' as "table", order_id, null::varchar as execution_id, exclusion_reason as reason,
        exclusion_scope as scope, venue, symbol, received_at, month, receipt_date, order_category, row_no,
    from candidate_facts
    where exclusion_reason is not null
),

orphan_fills as (
    select
        'executions' as "table", executions.order_id, executions.execution_id, 'unknown_order' as reason,
        'all' as scope, null::varchar as venue, null::varchar as symbol, null::timestamptz as received_at,
        null::varchar as month, null::date as receipt_date, null::varchar as order_category, executions.row_no,
    from stg_executions as executions
    where executions.row_no in (select execution_row from int_orphan_fills)  -- bestex_nb/build/nbbo/answers.py
),

final as (
    select * from orders
    union all by name
    select * from orphan_fills
)

select * exclude (row_no) from final
order by "table" desc, row_no
