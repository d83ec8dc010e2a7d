-- reconciliation: orders in = analysed + excluded by reason, in the rulebook's order of precedence.
-- grain: one row per line of the reconciliation (orders in, analysed, each reason that occurs)
-- params: $period_start (DATE, New York, inclusive; null = from the start),
--   $period_end (DATE, exclusive; null = to the end), $venue (routed venue; null = all),
--   $orders_in (BIGINT: the order rows of the whole store when the caller already knows them, as the
--   build does from the orders file's metadata; null = count fct_orders. Only without a period or venue)
-- columns: label, scope ('all' | 'quality' | null), order_rows (count), executions (count; orphan
--   fills only), position (sort key)
--
-- Orders in are counted from fct_orders (or given as $orders_in), the excluded ones from the stored
-- exclusions table (the same rows, reason, scope, receipt date and venue as fct_orders gives them:
-- marts/exclusions.sql), and analysed = in - excluded. Counting reasons off fct_orders itself would evaluate every exclusion rule
-- for every order row at each call (about 3 s at 10M orders when fct_orders was a view over files).
with

-- fct_orders has one row per order row, so the build passes their number rather than have it counted:
-- counting fct_orders over files joins every order row to its lookups (0.7 s at 10M orders). The
-- count's own filter is false when $orders_in is given, so DuckDB then reads nothing for it.
orders_in as (
    select
        case
            when $orders_in is not null
                and ($period_start is not null or $period_end is not null or $venue is not null)
                then error('reconciliation: $orders_in is the whole store''s count; it takes no period or venue')
            when $orders_in is not null then $orders_in::bigint
            else (
                select count(*)
                from fct_orders
                where $orders_in is null
                    and ($period_start is null or receipt_date >= $period_start)
                    and ($period_end is null or receipt_date < $period_end)
                    and ($venue is null or venue = $venue)
            )
        end as order_rows
),

orders as (
    select reason as exclusion_reason, scope as exclusion_scope
    from exclusions
    where "table" = 'orders'
        and ($period_start is null or receipt_date >= $period_start)
        and ($period_end is null or receipt_date < $period_end)
        and ($venue is null or venue = $venue)
),

-- the reasons in the rulebook's order of precedence (macros/rulebook.sql)
precedence as (
    select position, reason from exclusion_reasons()
),

by_reason as (
    select
        coalesce(precedence.position, 90) + 10 as position,  -- an unknown reason still shows
        'excluded: ' || orders.exclusion_reason as label,
        any_value(orders.exclusion_scope) as scope,
        count(*) as order_rows,
    from orders
    left join precedence on orders.exclusion_reason = precedence.reason
    where orders.exclusion_reason is not null
    group by all
),

orphans as (
    select 100 as position, 'fills with no order (unknown_order)' as label, 'all' as scope, 0 as order_rows,
        count(*) as executions,
    from exclusions
    where "table" = 'executions' and $period_start is null and $period_end is null and $venue is null
    having count(*) > 0
),

final as (
    select 1 as position, 'orders in' as label, null as scope, order_rows, null as executions from orders_in
    union all
    select 2, 'analysed', null, order_rows - (select count(*) from orders), null from orders_in
    union all
    select position, label, scope, order_rows, null from by_reason
    union all
    select position, label, scope, order_rows, executions from orphans
)

select * from final
order by position
