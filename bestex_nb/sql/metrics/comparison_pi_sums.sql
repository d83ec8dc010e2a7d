-- comparison_pi_sums: the sums behind the cell-matched venue comparison (metrics.md section 8) of the
-- price-improvement metrics, one row per venue, comparison cell and symbol-day, for the bootstrap.
-- the sums: marts/agg_pi_symbol_days.sql (summed once at build time over the order's stored fill sums)
-- grain: one row per venue × is_sp500 × order_category × symbol × size_bucket × month × receipt_date
--   (cell = symbol × order_category × size_bucket × month; cluster = symbol × receipt_date, New York)
-- params: $period_start (DATE, New York, inclusive), $period_end (DATE, exclusive)
-- covers: non-directed market and marketable-limit orders that are not excluded, received in the period
--   (section 5); a row also for orders that did not fill (their fill sums are 0).
-- columns: orders, fills, qs_fills (fills with QS_r > 0), rs_1m_fills (fills whose M_{t+1m} exists)
--   (counts); order_shares, executed_shares, rs_1m_shares (shares); net_pi_usd = Σ q·PI,
--   es_usd = Σ q·ES, qs_usd = Σ q·QS_r, rs_1m_usd = Σ q·RS_1m, mid_usd = Σ q·M_r (USD); exec_share_ms = Σ q·ms;
--   venue_type (stg_venues, null for a venue the venues extract lacks): the peers of against='same_type'.
--   Sums are exact DECIMAL, cast to DOUBLE at the end. Signs as in fct_fills (PI > 0 improved).
with

sums as (
    select *
    from agg_pi_symbol_days
    where receipt_date >= $period_start
        and receipt_date < $period_end
),

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
        mid_usd::double as mid_usd,
    from sums
    left join venues on sums.venue = venues.venue_id
)

select * from final
order by venue, is_sp500, order_category, symbol, size_bucket, month, receipt_date
