-- int_order_nbbo: each order row's NBBO in force at receipt and at routing (metrics.md section 1), from
-- the streaming lookups' answers (bestex_nb/lookups.py registers them as asof_receipt and asof_route:
-- row_no, answer = [quoted_at_us, bid_us, ask_us], integers with $none for "none").
-- grain: one row per order row with a symbol
-- params: $none (BIGINT: the kernel's "no value")
-- columns: row_no; nbbo_r_quoted_at, nbbo_route_quoted_at (TIMESTAMPTZ, the matched update; null: no
--   quote yet that New York day); nbb_r, nbo_r, nbb_route, nbo_route (DECIMAL(18,6), exact: the
--   micro-dollar integers × 0.000001; null also for a null price in the quote)
with

receipt as (
    select row_no, answer[1] as quoted_at_us, answer[2] as bid_us, answer[3] as ask_us from asof_receipt
),

route as (
    select row_no, answer[1] as quoted_at_us, answer[2] as bid_us, answer[3] as ask_us from asof_route
),

final as (
    select
        receipt.row_no,
        case when receipt.quoted_at_us <> $none then make_timestamptz(receipt.quoted_at_us) end as nbbo_r_quoted_at,
        case when receipt.bid_us <> $none then (receipt.bid_us::decimal(18, 0) * 0.000001::decimal(7, 6))::decimal(18, 6) end as nbb_r,
        case when receipt.ask_us <> $none then (receipt.ask_us::decimal(18, 0) * 0.000001::decimal(7, 6))::decimal(18, 6) end as nbo_r,
        case when route.quoted_at_us <> $none then make_timestamptz(route.quoted_at_us) end as nbbo_route_quoted_at,
        case when route.bid_us <> $none then (route.bid_us::decimal(18, 0) * 0.000001::decimal(7, 6))::decimal(18, 6) end as nbb_route,
        case when route.ask_us <> $none then (route.ask_us::decimal(18, 0) * 0.000001::decimal(7, 6))::decimal(18, 6) end as nbo_route,
    from receipt
    left join route on receipt.row_no = route.row_no
)

select * from final
