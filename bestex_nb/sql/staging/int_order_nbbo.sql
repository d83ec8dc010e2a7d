-- int_order_nbbo: each order row's NBBO in force at receipt and at routing (metrics.md section 1) and
-- its fills summed up, from the streaming lookups' answers (bestex_nb/build/nbbo/answers.py registers them as
-- nbbo_order_answers, one row per order row in row order: row_no, received_local_us (New York wall
-- clock of received_at in microseconds, bestex_nb.build.clock.new_york_wall_us), r_quoted_at_us, r_bid_us,
-- r_ask_us, o_bid_us, o_ask_us, and fill_count, filled_qty_micro, has_bad_fill, first_fill_us,
-- last_fill_us from one pass over nbbo_fills; integers, null for "none").
-- grain: one row per order row
-- params: none
-- columns: row_no; received_local (TIMESTAMP: received_at on New York's wall clock, as
--   timezone('America/New_York', received_at) gives it, computed once in numpy: DuckDB repeats that
--   conversion, about 0.6 s per 10M rows, for each expression derived from it); nbbo_r_quoted_at
--   (TIMESTAMPTZ, the matched update; null: no symbol or no quote yet that New York day); nbb_r,
--   nbo_r, nbb_route, nbo_route (DECIMAL(18,6), exact: the micro-dollar integers × 0.000001; null also
--   for a null price in the quote); fill_count, filled_qty (DECIMAL(38,6), shares: sum of the non-null
--   quantities), has_bad_fill, first_fill_at, last_fill_at (null: no fill; every copy of a duplicated
--   id gets the id's fills)
select
    row_no,
    make_timestamp(received_local_us) as received_local,
    make_timestamptz(r_quoted_at_us) as nbbo_r_quoted_at,
    (r_bid_us::decimal(18, 0) * 0.000001::decimal(7, 6))::decimal(18, 6) as nbb_r,
    (r_ask_us::decimal(18, 0) * 0.000001::decimal(7, 6))::decimal(18, 6) as nbo_r,
    (o_bid_us::decimal(18, 0) * 0.000001::decimal(7, 6))::decimal(18, 6) as nbb_route,
    (o_ask_us::decimal(18, 0) * 0.000001::decimal(7, 6))::decimal(18, 6) as nbo_route,
    fill_count,
    (filled_qty_micro::decimal(38, 0) * 0.000001::decimal(7, 6))::decimal(38, 6) as filled_qty,
    has_bad_fill,
    make_timestamptz(first_fill_us) as first_fill_at,
    make_timestamptz(last_fill_us) as last_fill_at,
from nbbo_order_answers
