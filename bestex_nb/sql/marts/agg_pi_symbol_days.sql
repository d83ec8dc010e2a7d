-- agg_pi_symbol_days: the venue comparison's sums for the price-improvement metrics (metrics.md section
-- 8), one row per venue, comparison cell and symbol-day over the whole store, summed once at build time
-- (exact decimals); metrics/comparison_pi_sums reads a period's rows. Stored sorted by receipt date, so a
-- period's read skips the other row groups (bestex_nb/build/layout.py).
-- grain: one row per venue × is_sp500 × order_category × symbol × size_bucket × month × receipt_date
-- params: none
-- covers: non-directed market and marketable-limit orders that are not excluded (section 5); a row also
--   for orders that did not fill (their fill sums are 0).
-- columns: the grain's columns; orders, fills, qs_fills, rs_1m_fills (counts); order_shares,
--   executed_shares, rs_1m_shares (shares); net_pi_usd, es_usd, qs_usd, rs_1m_usd, mid_usd (USD);
--   exec_share_ms
--   (share·ms): exact DECIMAL sums, as metrics/comparison_pi_sums.sql says
with

covered_orders as (
    -- each order's fills summed once, at build time (marts/int_order_fill_sums, on its fct_orders row)
    select
        venue, is_sp500, order_category, symbol, size_bucket, month, receipt_date, quantity,
        attributed_fills, qs_fills, rs_1m_fills, executed_shares, rs_1m_shares, net_pi_usd, es_usd, qs_usd,
        rs_1m_usd, exec_share_ms, mid_usd,
    from pi_orders(null, null, null)  -- macros/coverage.sql: every period and venue
),

sums as (
    select
        covered_orders.venue,
        covered_orders.is_sp500,
        covered_orders.order_category,
        covered_orders.symbol,
        covered_orders.size_bucket,
        covered_orders.month,
        covered_orders.receipt_date,
        count(*) as orders,
        coalesce(sum(covered_orders.attributed_fills), 0) as fills,
        coalesce(sum(covered_orders.qs_fills), 0) as qs_fills,
        coalesce(sum(covered_orders.rs_1m_fills), 0) as rs_1m_fills,
        sum(covered_orders.quantity) as order_shares,
        coalesce(sum(covered_orders.executed_shares), 0) as executed_shares,
        coalesce(sum(covered_orders.rs_1m_shares), 0) as rs_1m_shares,
        coalesce(sum(covered_orders.net_pi_usd), 0) as net_pi_usd,
        coalesce(sum(covered_orders.es_usd), 0) as es_usd,
        coalesce(sum(covered_orders.qs_usd), 0) as qs_usd,
        coalesce(sum(covered_orders.rs_1m_usd), 0) as rs_1m_usd,
        coalesce(sum(covered_orders.exec_share_ms), 0) as exec_share_ms,
        coalesce(sum(covered_orders.mid_usd), 0) as mid_usd,
    from covered_orders
    group by all
)

select * from sums
order by receipt_date, venue, is_sp500, order_category, symbol, size_bucket, month
