-- comparison_fill_sums: the sums behind the cell-matched venue comparison (metrics.md section 8) of the
-- limit-order fill rate, one row per venue, comparison cell and symbol-day, for the bootstrap.
-- grain: one row per venue × is_sp500 × order_category × symbol × size_bucket × distance_bucket × month
--   × receipt_date (cell = symbol × order_category × size_bucket × distance_bucket × month;
--   cluster = symbol × receipt_date, New York)
-- params: $period_start (DATE, New York, inclusive), $period_end (DATE, exclusive)
-- covers: non-directed limit orders that are not excluded, received in the period, whose category at
--   receipt is inside_quote_limit, at_quote_limit, near_quote_limit or away_limit (section 6)
-- columns: orders (count); order_shares = Σ order quantity, filled_shares = Σ filled quantity (shares,
--   every fill of the order whenever it happened). DOUBLE, summed exactly in DECIMAL first.
with

covered_orders as (
    select
        venue, is_sp500, order_category, symbol, size_bucket, distance_bucket, month, receipt_date, quantity,
        coalesce(filled_qty, 0) as filled_qty,
    from fct_orders
    where exclusion_reason is null
        and order_category in ('inside_quote_limit', 'at_quote_limit', 'near_quote_limit', 'away_limit')
        and receipt_date >= $period_start
        and receipt_date < $period_end
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
        count(*)::double as orders,
        sum(quantity)::double as order_shares,
        sum(filled_qty)::double as filled_shares,
    from covered_orders
    group by all
)

select * from final
order by venue, is_sp500, order_category, symbol, size_bucket, distance_bucket, month, receipt_date
