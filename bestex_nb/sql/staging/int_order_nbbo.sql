-- int_order_nbbo: each order row's NBBO in force at receipt and at routing (metrics.md section 1), from
-- the streaming lookups' answers (bestex_nb/lookups.py registers them as asof_order_answers, one row per
-- order row in row order: row_no, r_quoted_at_us, r_bid_us, r_ask_us, o_bid_us, o_ask_us, integers,
-- null for "none").
-- grain: one row per order row
-- params: none
-- columns: row_no; nbbo_r_quoted_at (TIMESTAMPTZ, the matched update; null: no symbol or no quote yet
--   that New York day); nbb_r, nbo_r, nbb_route, nbo_route (DECIMAL(18,6), exact: the micro-dollar
--   integers × 0.000001; null also for a null price in the quote)
select
    row_no,
    make_timestamptz(r_quoted_at_us) as nbbo_r_quoted_at,
    (r_bid_us::decimal(18, 0) * 0.000001::decimal(7, 6))::decimal(18, 6) as nbb_r,
    (r_ask_us::decimal(18, 0) * 0.000001::decimal(7, 6))::decimal(18, 6) as nbo_r,
    (o_bid_us::decimal(18, 0) * 0.000001::decimal(7, 6))::decimal(18, 6) as nbb_route,
    (o_ask_us::decimal(18, 0) * 0.000001::decimal(7, 6))::decimal(18, 6) as nbo_route,
from asof_order_answers
