-- comparison_pi_sums: the sums behind the cell-matched venue comparison (metrics.md section 8) of the
-- price-improvement metrics, one row per venue, comparison cell and symbol-day, for the bootstrap.
-- grain: one row per venue × is_sp500 × order_category × symbol × size_bucket × month × receipt_date
--   (cell = symbol × order_category × size_bucket × month; cluster = symbol × receipt_date, New York)
-- params: $period_start (DATE, New York, inclusive), $period_end (DATE, exclusive)
-- covers: non-directed market and marketable-limit orders that are not excluded, received in the period
--   (section 5); a row also for orders that did not fill (their fill sums are 0).
-- columns: orders, fills, qs_fills (fills with QS_r > 0), rs_1m_fills (fills whose M_{t+1m} exists)
--   (counts); order_shares, executed_shares, rs_1m_shares (shares); net_pi_usd = Σ q·PI,
--   es_usd = Σ q·ES, qs_usd = Σ q·QS_r, rs_1m_usd = Σ q·RS_1m (USD); exec_share_ms = Σ q·ms.
--   Sums are exact DECIMAL, cast to DOUBLE at the end. Signs as in fct_fills (PI > 0 improved).
with

covered_orders as (
    -- each order's fills summed once, at build time (marts/int_order_fill_sums, on its fct_orders row)
    select
        venue, is_sp500, order_category, symbol, size_bucket, month, receipt_date, quantity,
        attributed_fills, qs_fills, rs_1m_fills, executed_shares, rs_1m_shares, net_pi_usd, es_usd, qs_usd,
        rs_1m_usd, exec_share_ms,
    from fct_orders
    where exclusion_reason is null
        and order_category in ('market', 'marketable_limit')
        and receipt_date >= $period_start
        and receipt_date < $period_end
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
    from covered_orders
    group by all
),

final as (
    select
        venue,
        is_sp500,
        order_category,
        symbol,
        size_bucket,
        month,
        receipt_date,
        orders::double as orders,
        fills::double as fills,
        qs_fills::double as qs_fills,
        rs_1m_fills::double as rs_1m_fills,
        order_shares::double as order_shares,
        executed_shares::double as executed_shares,
        rs_1m_shares::double as rs_1m_shares,
        net_pi_usd::double as net_pi_usd,
        es_usd::double as es_usd,
        qs_usd::double as qs_usd,
        rs_1m_usd::double as rs_1m_usd,
        exec_share_ms::double as exec_share_ms,
    from sums
)

select * from final
order by venue, is_sp500, order_category, symbol, size_bucket, month, receipt_date
