-- exclusion_list: the excluded order rows and orphan fills, optionally for one period and venue.
-- grain: one row per excluded order row or orphan fill
-- params: $period_start (DATE, New York, inclusive; null = all), $period_end (DATE, exclusive; null = all),
--   $venue (routed venue; null = all)
-- columns: as the exclusions table: table, order_id, execution_id, reason, scope, venue, symbol,
--   received_at, month, receipt_date, order_category
with

final as (
    select *
    from exclusions
    where ("table" = 'executions' and $period_start is null and $period_end is null and $venue is null)
        or ("table" = 'orders'
            and ($period_start is null or receipt_date >= $period_start)
            and ($period_end is null or receipt_date < $period_end)
            and ($venue is null or venue = $venue))
)

select * from final
