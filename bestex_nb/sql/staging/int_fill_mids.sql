-- int_fill_mids: each fill's markout midpoints M_{t+Δ} (metrics.md section 1: the latest valid NBBO at
-- or before min(executed_at + Δ, 16:00 New York) on the fill's day), from the streaming lookups' answers
-- (bestex_nb/build/nbbo/answers.py registers them as nbbo_fill_answers, one row per attributed fill of
-- nbbo_fills where is_attributed: row_no, order_row, mid2_1s, mid2_15s, mid2_1m, mid2_5m = bid + ask in
-- micro-dollars, null for "none").
-- grain: one row per attributed execution row
-- params: none
-- columns: row_no (the execution row), order_row (the order row it is attributed to); mid_1s, mid_15s,
--   mid_1m, mid_5m (DECIMAL(21,7), exact: (bid + ask) / 2 = the micro-dollar sum × 0.0000005; null when
--   there is no valid state that day)
select
    row_no,
    order_row,
    (mid2_1s::decimal(19, 0) * 0.0000005::decimal(8, 7))::decimal(21, 7) as mid_1s,
    (mid2_15s::decimal(19, 0) * 0.0000005::decimal(8, 7))::decimal(21, 7) as mid_15s,
    (mid2_1m::decimal(19, 0) * 0.0000005::decimal(8, 7))::decimal(21, 7) as mid_1m,
    (mid2_5m::decimal(19, 0) * 0.0000005::decimal(8, 7))::decimal(21, 7) as mid_5m,
from nbbo_fill_answers
