-- agg_fill_symbol_days: the venue comparison's sums for the limit-order fill rate (metrics.md section 8),
-- one row per venue, comparison cell and symbol-day over the whole store, summed once at build time
-- (exact decimals); metrics/comparison_fill_sums reads a period's rows. Stored sorted by receipt date.
-- grain: one row per venue × is_sp500 × order_category × symbol × size_bucket × distance_bucket × month
--   × receipt_date
-- params: none
-- covers: the limit-order review's orders (macros/coverage.sql, limit_family_orders: section 6)
-- columns: the grain's columns; orders (count); order_shares, filled_shares (shares, exact DECIMAL)
with

covered_orders as (
    select
        venue, is_sp500, order_category, symbol, size_bucket, distance_bucket, month, receipt_date, quantity,
        filled_qty,  -- every fill of the order whenever it happened, 0 when none
    from limit_family_orders(null, null, null)  -- macros/coverage.sql: every period and venue
),

final as (
    select
        venue,
        is_sp500,
        order_category,
        symbol,
        size_bucket,
        distance_bucket,
        month,
        receipt_date,
        count(*) as orders,
        sum(quantity) as order_shares,
        sum(filled_qty) as filled_shares,
    from covered_orders
    group by all
)

select * from final
order by receipt_date, venue, is_sp500, order_category, symbol, size_bucket, distance_bucket, month
