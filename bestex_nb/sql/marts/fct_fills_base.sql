-- fct_fills_base: every fill of a known, single-copy order, with its per-fill quantities (metrics.md
-- section 4) measured against the order's NBBO at receipt, and the valid midpoints after the fill: the
-- part of fct_fills that needs joins, stored. The realized spreads, price impacts and markouts are
-- arithmetic on these columns, computed by the view fct_fills.
-- grain: one row per execution
-- params: none
-- sign: side_sign s = +1 buy, −1 sell or sell short. pi_ps > 0 improved; es_ps > 0 a cost;
--   rs_*_ps the liquidity provider's revenue; mo_*_ps > 0 the price moved the customer's way.
-- columns: execution_id, order_id, venue (routed), executed_venue, executed_at, quantity (shares),
--   price, pi_ps, es_ps, qs_ps (USD/share, exact decimal), exec_ms (ms, exact), mid_{1s,15s,1m,5m}
with

orders as (
    select
        fct_orders.order_id, fct_orders.symbol, fct_orders.venue, fct_orders.side_sign,
        fct_orders.received_at, fct_orders.nbbo_status, fct_orders.nbb_r, fct_orders.nbo_r, fct_orders.mid_r,
        fct_orders.quoted_spread_r,
    from fct_orders
    where fct_orders.order_id in (select order_id from fct_orders group by order_id having count(*) = 1)
),

fills as (
    select
        executions.row_no,
        executions.execution_id,
        executions.order_id,
        orders.symbol,
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
    from stg_executions as executions
    join orders on executions.order_id = orders.order_id
),

-- M_{t+Δ}: the latest valid midpoint at or before min(executed_at + Δ, 16:00 New York) on the fill's
-- New York date, looked up in the same streaming pass as the NBBO at receipt (bestex_nb/lookups.py →
-- int_fill_mids); kept only for fills of measured orders (a usable NBBO at receipt).
measured as (
    select
        fills.*,
        case when is_measured then marks.mid_1s end as mid_1s,
        case when is_measured then marks.mid_15s end as mid_15s,
        case when is_measured then marks.mid_1m end as mid_1m,
        case when is_measured then marks.mid_5m end as mid_5m,
        -- PI: buy NBO_r − P, sell P − NBB_r (> 0 improved, < 0 outside the quote)
        case when is_measured then case when side_sign = 1 then nbo_r - price else price - nbb_r end end as pi_ps,
        case when is_measured then 2 * side_sign * (price - mid_r) end as es_ps,
        case when is_measured then quoted_spread_r end as qs_ps,
        (epoch_us(executed_at) - epoch_us(received_at))::decimal(38, 0) * 0.001::decimal(4, 3) as exec_ms,
    from fills
    left join int_fill_mids as marks on fills.row_no = marks.row_no
),

final as (
    select * exclude (row_no) from measured
)

select * from final
