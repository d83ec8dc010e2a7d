-- fct_fills: every fill of a known, single-copy order, with its per-fill quantities (metrics.md
-- section 4), a view: fct_fills_base (stored: the fill, its order row and the midpoints after it) joined
-- to its order in fct_orders on the order row, and PI, ES, QS, time to execution, the realized spreads,
-- price impacts and markouts at 1 s, 15 s, 1 min and 5 min computed from those columns when read (storing
-- 25 more exact columns per fill cost more to write at scale than they cost to compute).
-- grain: one row per execution
-- params: none
-- sign: side_sign s = +1 buy, −1 sell or sell short. pi_ps > 0 improved; es_ps > 0 a cost;
--   rs_*_ps the liquidity provider's revenue; mo_*_ps > 0 the price moved the customer's way.
-- columns: execution_id, order_id, symbol, venue (routed), executed_venue, executed_at, quantity
--   (shares), price, capacity, side_sign, received_at, is_measured, nbb_r, nbo_r, mid_r, quoted_spread_r,
--   mid_{1s,15s,1m,5m} (null unless measured), pi_ps, es_ps, qs_ps (USD/share, exact decimal), exec_ms
--   (ms, exact); rs_{1s,15s,1m,5m}_ps, pim_{…}_ps, mo_{…}_ps (USD/share, exact decimal), mo_{…}_bps
--   (basis points of M_r)
with

orders as (
    select
        row_no, order_id, symbol, venue, side_sign, received_at, nbbo_status, nbb_r, nbo_r, mid_r,
        quoted_spread_r,
    from fct_orders
),

fills as (
    select
        fills.execution_id,
        orders.order_id,
        orders.symbol,
        orders.venue,
        fills.executed_venue,
        fills.executed_at,
        fills.quantity,
        fills.price,
        fills.capacity,
        orders.side_sign,
        orders.received_at,
        orders.nbbo_status = 'ok' as is_measured,
        orders.nbb_r,
        orders.nbo_r,
        orders.mid_r,
        orders.quoted_spread_r,
        fills.mid_1s,
        fills.mid_15s,
        fills.mid_1m,
        fills.mid_5m,
    from fct_fills_base as fills
    join orders on fills.order_row = orders.row_no
),

-- M_{t+Δ} kept only for fills of measured orders (a usable NBBO at receipt)
measured as (
    select
        fills.* exclude (mid_1s, mid_15s, mid_1m, mid_5m),
        case when is_measured then mid_1s end as mid_1s,
        case when is_measured then mid_15s end as mid_15s,
        case when is_measured then mid_1m end as mid_1m,
        case when is_measured then mid_5m end as mid_5m,
        -- PI: buy NBO_r − P, sell P − NBB_r (> 0 improved, < 0 outside the quote)
        case when is_measured then case when side_sign = 1 then nbo_r - price else price - nbb_r end end as pi_ps,
        case when is_measured then 2 * side_sign * (price - mid_r) end as es_ps,
        case when is_measured then quoted_spread_r end as qs_ps,
        (epoch_us(executed_at) - epoch_us(received_at))::decimal(38, 0) * 0.001::decimal(4, 3) as exec_ms,
    from fills
),

final as (
    select
        *,
        2 * side_sign * (price - mid_1s) as rs_1s_ps,
        2 * side_sign * (price - mid_15s) as rs_15s_ps,
        2 * side_sign * (price - mid_1m) as rs_1m_ps,
        2 * side_sign * (price - mid_5m) as rs_5m_ps,
        2 * side_sign * (mid_1s - mid_r) as pim_1s_ps,
        2 * side_sign * (mid_15s - mid_r) as pim_15s_ps,
        2 * side_sign * (mid_1m - mid_r) as pim_1m_ps,
        2 * side_sign * (mid_5m - mid_r) as pim_5m_ps,
        side_sign * (mid_1s - price) as mo_1s_ps,
        side_sign * (mid_15s - price) as mo_15s_ps,
        side_sign * (mid_1m - price) as mo_1m_ps,
        side_sign * (mid_5m - price) as mo_5m_ps,
        side_sign * (mid_1s - price) / mid_r * 10000 as mo_1s_bps,
        side_sign * (mid_15s - price) / mid_r * 10000 as mo_15s_bps,
        side_sign * (mid_1m - price) / mid_r * 10000 as mo_1m_bps,
        side_sign * (mid_5m - price) / mid_r * 10000 as mo_5m_bps,
    from measured
)

select * from final
