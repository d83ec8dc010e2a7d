-- fct_fills: every fill of a known, single-copy order, with its per-fill quantities (metrics.md
-- section 4) measured against the order's NBBO at receipt, and the valid midpoints after the fill.
-- grain: one row per execution
-- params: none
-- sign: side_sign s = +1 buy, −1 sell or sell short. pi_ps > 0 improved; es_ps > 0 a cost;
--   rs_*_ps the liquidity provider's revenue; mo_*_ps > 0 the price moved the customer's way.
-- columns: execution_id, order_id, venue (routed), executed_venue, executed_at, quantity (shares),
--   price, pi_ps, es_ps, qs_ps (USD/share, exact decimal), exec_ms (ms, exact), mid_{1s,15s,1m,5m},
--   rs_{…}_ps, pim_{…}_ps, mo_{…}_ps (USD/share), mo_{…}_bps (basis points of M_r)
with

orders as (
    select
        fct_orders.order_id, fct_orders.symbol, dim_symbol.sym_id, fct_orders.venue, fct_orders.side_sign,
        fct_orders.received_at, fct_orders.nbbo_status, fct_orders.nbb_r, fct_orders.nbo_r, fct_orders.mid_r,
        fct_orders.quoted_spread_r,
    from fct_orders
    left join dim_symbol on fct_orders.symbol = dim_symbol.symbol
    where fct_orders.order_id in (select order_id from fct_orders group by order_id having count(*) = 1)
),

fills as (
    select
        executions.execution_id,
        executions.order_id,
        orders.symbol,
        orders.sym_id,
        orders.venue,
        executions.executed_venue,
        executions.executed_at,
        executions.quantity,
        executions.price,
        executions.capacity,
        orders.side_sign,
        orders.received_at,
        orders.nbbo_status = 'ok' as is_measured,
        orders.nbb_r,
        orders.nbo_r,
        orders.mid_r,
        orders.quoted_spread_r,
        timezone('America/New_York', executions.executed_at)::date as fill_date,
    from stg_executions as executions
    join orders on executions.order_id = orders.order_id
),

horizons as (
    select * from (values
        ('1s', interval 1 second), ('15s', interval 15 second),
        ('1m', interval 1 minute), ('5m', interval 5 minute)
    ) as horizon_list (horizon, delta)
),

-- the fill's New York day in UTC: its midnight and its 16:00 close (one conversion per fill)
fill_days as (
    select
        execution_id,
        sym_id,
        executed_at,
        timezone('America/New_York', fill_date::timestamp) as day_start_at,
        timezone('America/New_York', fill_date + time '16:00:00') as close_at,
    from fills
    where is_measured
),

-- M_{t+Δ}: the latest valid midpoint at or before min(executed_at + Δ, 16:00 New York) on the
-- fill's New York date. One ASOF pass serves all four horizons.
targets as (
    select
        fill_days.execution_id,
        fill_days.sym_id,
        fill_days.day_start_at,
        horizons.horizon,
        least(fill_days.executed_at + horizons.delta, fill_days.close_at) as target_at,
    from fill_days
    cross join horizons
),

marks as (
    select
        targets.execution_id,
        targets.horizon,
        -- a latest valid quote from an earlier day means none on the fill's day
        case when quotes.quoted_at >= targets.day_start_at then quotes.mid_price end as mid_price,
    from targets
    asof left join int_nbbo_valid as quotes
        on targets.sym_id = quotes.sym_id
        and targets.target_at >= quotes.quoted_at
),

mids as (
    select
        execution_id,
        max(mid_price) filter (where horizon = '1s') as mid_1s,
        max(mid_price) filter (where horizon = '15s') as mid_15s,
        max(mid_price) filter (where horizon = '1m') as mid_1m,
        max(mid_price) filter (where horizon = '5m') as mid_5m,
    from marks
    group by execution_id
),

measured as (
    select
        fills.*,
        mids.* exclude (execution_id),
        -- PI: buy NBO_r − P, sell P − NBB_r (> 0 improved, < 0 outside the quote)
        case when is_measured then case when side_sign = 1 then nbo_r - price else price - nbb_r end end as pi_ps,
        case when is_measured then 2 * side_sign * (price - mid_r) end as es_ps,
        case when is_measured then quoted_spread_r end as qs_ps,
        (epoch_us(executed_at) - epoch_us(received_at))::decimal(38, 0) * 0.001::decimal(4, 3) as exec_ms,
    from fills
    left join mids on fills.execution_id = mids.execution_id
),

final as (
    select
        * exclude (fill_date, sym_id),
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
