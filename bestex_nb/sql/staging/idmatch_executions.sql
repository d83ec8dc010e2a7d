-- idmatch_executions: every execution row's order id and execution id, for the exact byte match of the
-- text ids (bestex_nb/build/idmatch.py: the order row each fill names, and whether an execution id repeats).
-- grain: one row per row of stg_executions (in row order as a plain scan gives it; the caller checks)
-- params: none
-- columns: row_no, order_id, execution_id
select row_no, order_id, execution_id from stg_executions
