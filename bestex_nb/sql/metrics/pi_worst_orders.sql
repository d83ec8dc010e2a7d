-- pi_worst_orders: the filled orders that cost customers most (net price improvement in USD ascending),
-- one page of them, for the drill-down table and the explorer's drill-down.
-- grain: one row per covered order with executed shares, at most $limit rows from row $offset
-- params: $period_start (DATE, New York, inclusive), $period_end (DATE, exclusive),
--   $venue (routed venue, null = all), $order_category, $size_bucket, $symbol (VARCHAR, null = all),
--   $is_sp500 (BOOLEAN: S&P 500 or other stocks, null = both),
--   $limit (INTEGER, rows), $offset (INTEGER, rows skipped)
-- covers: the orders of metrics/order_pi (with the filters) that have executed shares.
-- columns: order_id, venue, symbol, side, order_category, received_at (UTC), quantity (shares),
--   limit_price, nbb_r, nbo_r (USD/share), nbbo_r_quoted_at (UTC), is_locked, executed_shares (shares),
--   avg_price, net_pi_ps (USD/share), net_pi_usd (USD), executed_venues; ordered by net_pi_usd, net_pi_ps,
--   order_id
-- per order: macros/coverage.sql (pi_order_rows), as metrics/order_pi.sql.
with

order_pi as not materialized (
    -- the review's orders with their figures: macros/coverage.sql (pi_order_rows)
    select *
    from pi_order_rows($period_start, $period_end, $venue)
    where ($order_category is null or order_category = $order_category)
        and ($size_bucket is null or size_bucket = $size_bucket)
        and ($symbol is null or symbol = $symbol)
        and ($is_sp500 is null or is_sp500 = $is_sp500)
),

-- the ($offset + $limit)-th lowest net PI in USD: no order above it can be on the page, so only the orders
-- up to it (ties included) are put in the page's full order; null when there are fewer orders
cutoff as (
    select net_pi_usd
    from order_pi
    where executed_shares > 0
    order by net_pi_usd
    limit 1 offset greatest($limit::bigint + $offset::bigint - 1, 0)
),

page as (
    select *
    from order_pi
    where executed_shares > 0
        and net_pi_usd <= coalesce((select net_pi_usd from cutoff), 'infinity'::double)
    order by net_pi_usd, net_pi_ps, order_id
    limit $limit::bigint offset $offset::bigint
),

page_fills as (
    -- the average price and the venues that executed the page's orders, from these orders' fills only
    -- (fct_fills_base: the attributed fills, the rows of fct_fills, without the per-fill measures that
    -- would join every fill to its order first)
    select
        order_row,
        sum(quantity::decimal(38, 6) * price) as notional,
        string_agg(distinct executed_venue, ', ' order by executed_venue) as executed_venues,
    from fct_fills_base
    where order_row in (select row_no from page)
    group by order_row
),

final as (
    select
        page.order_id,
        page.venue,
        page.symbol,
        page.side,
        page.order_category,
        page.received_at,
        page.quantity,
        page.limit_price,
        page.nbb_r,
        page.nbo_r,
        page.nbbo_r_quoted_at,
        page.is_locked,
        page.executed_shares,
        page_fills.notional / nullif(page.executed_shares_exact, 0) as avg_price,
        page.net_pi_ps,
        page.net_pi_usd,
        page_fills.executed_venues,
    from page
    left join page_fills on page.row_no = page_fills.order_row
)

select * from final
order by net_pi_usd, net_pi_ps, order_id
