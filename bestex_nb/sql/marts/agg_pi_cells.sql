-- agg_pi_cells: the price-improvement table's sums (metrics.md section 5) per cell of every column the
-- table may be grouped by × receipt date, over the whole store, summed once at build time;
-- metrics/price_improvement reads a period's (and a venue's) cells and sums them again. Sums of exact
-- decimals are associative, so that table equals the one grouped from the orders, digit for digit.
-- Stored sorted by receipt date and venue, so a period's read skips the other row groups
-- (bestex_nb/build/layout.py).
-- grain: one row per receipt_date × venue × order_category × size_bucket × share_bucket × symbol × side ×
--   is_sp500 × month × distance_bucket with covered orders (is_sp500 follows from the symbol, month from
--   the receipt date and distance_bucket from the order category: they split no cell, and every column
--   of query.GROUPABLE is here)
-- params: none
-- covers: pi_orders(null, null, null) (macros/coverage.sql): non-directed market and marketable-limit
--   orders that are not excluded, every period and venue; a row also for a cell none of whose orders
--   filled.
-- columns: the grain's columns; orders, orders_filled (orders with an attributed fill), orders_improved
--   (orders whose Σ q·PI > 0) (counts); order_shares = Σ order quantity; executed_shares, improved_shares,
--   at_quote_shares, outside_shares, rs_1m_shares, rs_5m_shares (shares); pi_usd, disimprovement_usd,
--   net_pi_usd, es_usd, qs_usd, rs_1m_usd, rs_5m_usd, executed_usd, mid_usd (USD); exec_share_ms
--   (share·ms): exact DECIMAL sums of the orders' stored fill sums (marts/int_order_fill_sums), of the
--   types fct_orders' sums give; a fill sum is null when no order of the cell has one (as on the
--   orders' rows), order_shares when no order has a quantity.
with

covered_orders as (
    -- each order's fills summed once, at build time (marts/int_order_fill_sums, on its fct_orders row)
    select
        receipt_date, venue, order_category, size_bucket, share_bucket, symbol, side, is_sp500, month,
        distance_bucket, quantity, attributed_fills, executed_shares, improved_shares, at_quote_shares,
        outside_shares, pi_usd, disimprovement_usd, net_pi_usd, es_usd, qs_usd, executed_usd, mid_usd,
        exec_share_ms, rs_1m_shares, rs_1m_usd, rs_5m_shares, rs_5m_usd,
    from pi_orders(null, null, null)  -- macros/coverage.sql: every period and venue
),

sums as (
    select
        receipt_date,
        venue,
        order_category,
        size_bucket,
        share_bucket,
        symbol,
        side,
        is_sp500,
        month,
        distance_bucket,
        count(*) as orders,
        count(*) filter (where attributed_fills > 0) as orders_filled,
        -- an order is improved when its share-weighted PI is > 0, i.e. Σ q·PI > 0
        count(*) filter (where net_pi_usd > 0) as orders_improved,
        sum(quantity) as order_shares,
        sum(executed_shares) as executed_shares,
        sum(improved_shares) as improved_shares,
        sum(at_quote_shares) as at_quote_shares,
        sum(outside_shares) as outside_shares,
        sum(pi_usd) as pi_usd,
        sum(disimprovement_usd) as disimprovement_usd,
        sum(net_pi_usd) as net_pi_usd,
        sum(es_usd) as es_usd,
        sum(qs_usd) as qs_usd,
        sum(executed_usd) as executed_usd,
        sum(mid_usd) as mid_usd,
        sum(exec_share_ms) as exec_share_ms,
        sum(rs_1m_shares) as rs_1m_shares,
        sum(rs_1m_usd) as rs_1m_usd,
        sum(rs_5m_shares) as rs_5m_shares,
        sum(rs_5m_usd) as rs_5m_usd,
    from covered_orders
    group by all
)

select * from sums
order by receipt_date, venue, order_category, symbol, side, size_bucket, share_bucket, is_sp500, month,
    distance_bucket
