-- comparison_fill_sums: the sums behind the cell-matched venue comparison (metrics.md section 8) of the
-- limit-order fill rate, one row per venue, comparison cell and symbol-day, for the bootstrap.
-- the sums: marts/agg_fill_symbol_days.sql (summed once at build time)
-- grain: one row per venue × is_sp500 × order_category × symbol × size_bucket × distance_bucket × month
--   × receipt_date (cell = symbol × order_category × size_bucket × distance_bucket × month;
--   cluster = symbol × receipt_date, New York)
-- params: $period_start (DATE, New York, inclusive), $period_end (DATE, exclusive)
-- covers: non-directed limit orders that are not excluded, received in the period, whose category at
--   receipt is inside_quote_limit, at_quote_limit, near_quote_limit or away_limit (section 6)
-- columns: orders (count); order_shares = Σ order quantity, filled_shares = Σ filled quantity (shares,
--   every fill of the order whenever it happened). DOUBLE, summed exactly in DECIMAL first. venue_type
--   (stg_venues, null for a venue the venues extract lacks): the peers of against='same_type'.
with

venues as (
    select venue_id, venue_type
    from stg_venues
),

final as (
    select
        sums.venue,
        venues.venue_type,
        sums.is_sp500,
        order_category,
        symbol,
        size_bucket,
        distance_bucket,
        month,
        receipt_date,
        orders::double as orders,
        order_shares::double as order_shares,
        filled_shares::double as filled_shares,
    from agg_fill_symbol_days as sums
    left join venues on sums.venue = venues.venue_id
    where receipt_date >= $period_start
        and receipt_date < $period_end
)

select * from final
order by venue, is_sp500, order_category, symbol, size_bucket, distance_bucket, month, receipt_date
