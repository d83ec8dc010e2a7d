-- pi_worst_orders: the filled orders that cost customers most (net price improvement in USD ascending),
-- one page of them, for the drill-down table and the explorer's drill-down.
-- grain: one row per covered order with executed shares, at most $limit rows from row $offset
-- params: $period_start (DATE, New York, inclusive), $period_end (DATE, exclusive),
--   $venue (routed venue, null = all), $order_category, $size_bucket, $symbol (VARCHAR, null = all),
--   $limit (INTEGER, rows), $offset (INTEGER, rows skipped)
-- covers: the orders of metrics/order_pi (with the filters) that have executed shares.
-- columns: order_id, venue, symbol, side, order_category, received_at (UTC), quantity (shares),
--   limit_price, nbb_r, nbo_r (USD/share), nbbo_r_quoted_at (UTC), is_locked, executed_shares (shares),
--   avg_price, net_pi_ps (USD/share), net_pi_usd (USD), executed_venues; ordered by net_pi_usd, net_pi_ps,
--   order_id
-- per order: the CTEs covered_orders and order_pi are metrics/order_pi.sql's (its final), copied so that
-- a change of the order's figures is made the same way in each file; avg_price and executed_venues are
-- read from the fills of the page's orders only (page_fills).
with

covered_orders as (
    select *
    from fct_orders
    where exclusion_reason is null
        and order_category in ('market', 'marketable_limit')
        and receipt_date >= $period_start
        and receipt_date < $period_end
        and ($venue is null or venue = $venue)
        and ($order_category is null or order_category = $order_category)
        and ($size_bucket is null or size_bucket = $size_bucket)
        and ($symbol is null or symbol = $symbol)
),

-- each order's fills were summed once, at build time (marts/int_order_fill_sums, on its fct_orders row):
-- the per-order figures of metrics/order_pi.sql, from those sums
order_pi as (
    select
        covered_orders.row_no,
        covered_orders.order_id,
        covered_orders.venue,
        covered_orders.symbol,
        covered_orders.is_sp500,
        covered_orders.side,
        covered_orders.order_category,
        covered_orders.size_bucket,
        covered_orders.share_bucket,
        covered_orders.month,
        covered_orders.received_at,
        covered_orders.quantity::double as quantity,
        covered_orders.limit_price::double as limit_price,
        covered_orders.nbb_r::double as nbb_r,
        covered_orders.nbo_r::double as nbo_r,
        covered_orders.nbbo_r_quoted_at,
        covered_orders.is_locked,
        coalesce(covered_orders.attributed_fills, 0) as fill_count,
        covered_orders.executed_shares as executed_shares_exact,
        coalesce(covered_orders.executed_shares, 0)::double as executed_shares,
        covered_orders.net_pi_usd / nullif(covered_orders.executed_shares, 0) as net_pi_ps,
        coalesce(covered_orders.net_pi_usd, 0)::double as net_pi_usd,
        coalesce(covered_orders.pi_usd, 0)::double as pi_usd,
        coalesce(covered_orders.disimprovement_usd, 0)::double as disimprovement_usd,
        coalesce(covered_orders.es_usd, 0)::double as es_usd,
        coalesce(covered_orders.qs_usd, 0)::double as qs_usd,
        coalesce(covered_orders.exec_share_ms, 0)::double as exec_share_ms,
    from covered_orders
),

page as (
    select *
    from order_pi
    where executed_shares > 0
    order by net_pi_usd, net_pi_ps, order_id
    limit $limit::bigint offset $offset::bigint
),

page_fills as (
    -- the average price and the venues that executed the page's orders, from these orders' fills only
    select
        order_row,
        sum(quantity::decimal(38, 6) * price) as notional,
        string_agg(distinct executed_venue, ', ' order by executed_venue) as executed_venues,
    from fct_fills
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
