-- limit_orders: one row per covered non-marketable limit order with its fill outcome and survival time,
-- for the fill-survival curves, drill-down and interactive filtering.
-- grain: one row per covered order received in the period (coverage as metrics/limit_fills)
-- params: $period_start (DATE, New York, inclusive), $period_end (DATE, exclusive),
--   $venue (routed venue, null = all)
-- columns: order_id, venue, symbol, is_sp500, side, order_category, size_bucket, share_bucket,
--   distance_bucket, month, time_in_force, received_at, canceled_at, ended_at, first_fill_at (UTC);
--   quantity, filled_qty, cancelled_qty (shares); limit_price, nbb_r, nbo_r (USD/share);
--   distance_ticks (ticks); fill_count; is_any_fill, is_full_fill; end_state; time_to_first_fill_ms,
--   time_to_full_fill_ms, survival_ms (ms); is_fill_event (survival_ms ends in a fill, else censored)
with

covered_orders as (
    -- the review's orders: macros/coverage.sql
    select *
    from limit_family_orders($period_start, $period_end, $venue)
),

final as (
    select
        order_id,
        venue,
        symbol,
        is_sp500,
        side,
        order_category,
        size_bucket,
        share_bucket,
        distance_bucket,
        month,
        time_in_force,
        received_at,
        canceled_at,
        ended_at,
        first_fill_at,
        quantity::double as quantity,
        filled_qty::double as filled_qty,
        cancelled_qty::double as cancelled_qty,
        limit_price::double as limit_price,
        nbb_r::double as nbb_r,
        nbo_r::double as nbo_r,
        distance_ticks::double as distance_ticks,
        fill_count,
        is_any_fill,
        is_full_fill,
        end_state,
        time_to_first_fill_ms::double as time_to_first_fill_ms,
        time_to_full_fill_ms::double as time_to_full_fill_ms,
        survival_ms::double as survival_ms,
        is_fill_event,
    from covered_orders
)

select * from final
order by received_at, order_id
