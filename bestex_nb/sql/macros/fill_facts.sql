-- fill_facts: the fill facts as a table macro over the relations it reads, so that the same query
-- serves fct_fills (over the stored fct_orders and fct_fills_base) and the build's per-order fill sums
-- (marts/int_order_fill_sums, over the order facts before fct_orders is stored). Created by the build
-- after macros/order_facts (bestex_nb/build/store.py), and kept in the store.
-- grain: none (macro definitions); the macro's grain and columns are marts/fct_fills.sql's
-- params: none
-- macros: fill_facts(order_rows, fill_rows) (relations: the order facts, with row_no, order_id, symbol,
--   venue, side_sign, received_at, nbbo_status, nbb_r, nbo_r, mid_r, quoted_spread_r; and
--   fct_fills_base's rows)

-- fill_facts: each attributed fill with its order's NBBO at receipt and its per-fill quantities
-- (marts/fct_fills.sql says what).
create or replace macro fill_facts(order_rows, fill_rows) as table
    with

    orders as (
        select
            row_no, order_id, symbol, venue, side_sign, received_at, nbbo_status, nbb_r, nbo_r, mid_r,
            quoted_spread_r,
        from query_table(order_rows)
    ),

    fills as (
        select
            fills.execution_id,
            fills.order_row,
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
        from query_table(fill_rows) as fills
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

    select * from final;
