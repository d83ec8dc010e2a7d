-- fct_fills: every fill of a known, single-copy order, with its per-fill quantities (metrics.md
-- section 4): fct_fills_base (stored: the joins, PI, ES, QS, time to execution, the midpoints after the
-- fill) plus the realized spreads, price impacts and markouts at 1 s, 15 s, 1 min and 5 min, computed
-- from those columns when read (a view: storing 16 more exact decimals per fill cost more to write at
-- scale than they cost to compute).
-- grain: one row per execution
-- params: none
-- sign: side_sign s = +1 buy, −1 sell or sell short. rs_*_ps the liquidity provider's revenue;
--   mo_*_ps > 0 the price moved the customer's way.
-- columns: those of fct_fills_base; rs_{1s,15s,1m,5m}_ps, pim_{…}_ps, mo_{…}_ps (USD/share, exact
--   decimal), mo_{…}_bps (basis points of M_r)
with

measured as (
    select * from fct_fills_base
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
