-- int_data_end: the last instant the data knows of (open GTC limit orders are censored there,
-- metrics.md section 6): the latest receipt, routing, cancel, fill or quote time anywhere in the extracts.
-- grain: one row
-- params: none
-- columns: data_end_at (TIMESTAMPTZ)
select max(last_at) as data_end_at
from (
    select max(received_at) as last_at from stg_orders
    union all select max(routed_at) from stg_orders
    union all select max(canceled_at) from stg_orders
    union all select max(executed_at) from stg_executions
    union all select last_quoted_at from int_nbbo_extent
) as instants
