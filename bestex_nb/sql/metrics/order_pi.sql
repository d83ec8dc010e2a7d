-- order_pi: one row per covered order (non-directed market and marketable-limit orders that are not
-- excluded) with its NBBO at receipt and its share-weighted execution figures, for drill-down,
-- distributions and interactive filtering.
-- grain: one row per covered order received in the period
-- params: $period_start (DATE, New York, inclusive), $period_end (DATE, exclusive),
--   $venue (routed venue, null = all)
-- columns: order_id, venue, symbol, is_sp500, side, order_category, size_bucket, share_bucket, month,
--   received_at (UTC), quantity, limit_price, nbb_r, nbo_r, nbbo_r_quoted_at, is_locked (USD/share),
--   executed_shares, avg_price (USD/share, share-weighted), net_pi_ps (USD/share), net_pi_usd,
--   pi_usd, disimprovement_usd, es_usd, qs_usd (USD), exec_share_ms (share·ms), first_fill_ms,
--   fill_count, executed_venues
with

covered_orders as (
    -- the review's orders with their figures: macros/coverage.sql (pi_order_rows)
    select *
    from pi_order_rows($period_start, $period_end, $venue)
),

-- each order's fills were summed once, at build time (marts/int_order_fill_sums, on its fct_orders row);
-- what only this drill-down shows is gathered here, from the covered orders' fills
drill as (
    select
        order_row,
        sum(quantity::decimal(38, 6) * price) as notional,
        min(exec_ms) as first_fill_ms,
        string_agg(distinct executed_venue, ', ' order by executed_venue) as executed_venues,
    from fct_fills
    where order_row in (select row_no from covered_orders)
    group by order_row
),

final as (
    select
        covered_orders.* exclude (row_no, executed_shares_exact, net_pi_ps, net_pi_usd, pi_usd,
            disimprovement_usd, es_usd, qs_usd, exec_share_ms, mid_usd),
        drill.notional / nullif(covered_orders.executed_shares_exact, 0) as avg_price,
        covered_orders.net_pi_ps,
        covered_orders.net_pi_usd,
        covered_orders.pi_usd,
        covered_orders.disimprovement_usd,
        covered_orders.es_usd,
        covered_orders.qs_usd,
        covered_orders.exec_share_ms,
        drill.first_fill_ms::double as first_fill_ms,
        drill.executed_venues,
    from covered_orders
    left join drill on covered_orders.row_no = drill.order_row
)

select * from final
order by received_at, order_id
