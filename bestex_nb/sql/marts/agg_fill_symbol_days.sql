-- agg_fill_symbol_days: the venue comparison's sums for the limit-order fill rate (metrics.md section 8),
-- one row per venue, comparison cell and symbol-day over the whole store, summed once at build time
-- (exact decimals); metrics/comparison_fill_sums reads a period's rows. Stored sorted by receipt date.
-- grain: one row per venue × is_sp500 × order_category × symbol × size_bucket × distance_bucket × month
--   × receipt_date
-- params: none
-- covers: limit orders that are not excluded whose category at receipt is inside_quote_limit,
--   at_quote_limit, near_quote_limit or away_limit (section 6)
-- columns: the grain's columns; orders (count); order_shares, filled_shares (shares, exact DECIMAL)
with

covered_orders as (
    select
        venue, is_sp500, order_category, symbol, size_bucket, distance_bucket, month, receipt_date, quantity,
        coalesce(filled_qty, 0) as filled_qty,
    from fct_orders
    where exclusion_reason is null
        and order_category in ('inside_quote_limit', 'at_quote_limit', 'near_quote_limit', 'away_limit')
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
