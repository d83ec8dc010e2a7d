-- int_fill_mids: each fill's markout midpoints M_{t+Δ} (metrics.md section 1: the latest valid NBBO at
-- or before min(executed_at + Δ, 16:00 New York) on the fill's day), from the streaming lookups'
-- answers (bestex_nb/lookups.py registers them as asof_fills: row_no, answer = [bid + ask at 1 s, 15 s,
-- 1 min, 5 min] in micro-dollars, $none for "none").
-- grain: one row per execution row of asof_fill_instants
-- params: $none (BIGINT: the kernel's "no value")
-- columns: row_no (the execution row); mid_1s, mid_15s, mid_1m, mid_5m (DECIMAL(21,7), exact:
--   (bid + ask) / 2 = the micro-dollar sum × 0.0000005; null when there is no valid state that day)
with

fills as (
    select row_no, answer[1] as mid2_1s, answer[2] as mid2_15s, answer[3] as mid2_1m, answer[4] as mid2_5m,
    from asof_fills
),

final as (
    select
        row_no,
        case when mid2_1s <> $none then (mid2_1s::decimal(19, 0) * 0.0000005::decimal(8, 7))::decimal(21, 7) end as mid_1s,
        case when mid2_15s <> $none then (mid2_15s::decimal(19, 0) * 0.0000005::decimal(8, 7))::decimal(21, 7) end as mid_15s,
        case when mid2_1m <> $none then (mid2_1m::decimal(19, 0) * 0.0000005::decimal(8, 7))::decimal(21, 7) end as mid_1m,
        case when mid2_5m <> $none then (mid2_5m::decimal(19, 0) * 0.0000005::decimal(8, 7))::decimal(21, 7) end as mid_5m,
    from fills
)

select * from final
