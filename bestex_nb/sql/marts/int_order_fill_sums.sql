-- int_order_fill_sums: each order row's fills summed once, at build time, so that no metric groups the
-- fills by order when it is read (metrics.md sections 5, 6 and 8: every table's means are ratios of
-- these sums). A temporary table of the build; marts/fct_orders stores its columns on the order's row.
-- grain: one row per order row with at least one attributed fill (fct_fills)
-- params: none
-- sign: as fct_fills (PI > 0 improved; a fill with PI < 0 is outside the quote, worse than the far touch)
-- columns: order_row; attributed_fills, qs_fills (fills with QS_r > 0), rs_1m_fills (fills whose
--   M_{t+1m} exists) (counts); executed_shares, improved_shares, at_quote_shares, outside_shares
--   (PI > 0, = 0, < 0), rs_1m_shares, rs_5m_shares (fills whose M_{t+Δ} exists) (shares); pi_usd
--   (Σ q·PI over PI > 0), disimprovement_usd (Σ q·(−PI) over PI < 0), net_pi_usd (Σ q·PI), es_usd,
--   qs_usd, rs_1m_usd, rs_5m_usd (Σ q·x) (USD, exact decimal); executed_usd (Σ q·P over every attributed
--   fill) and mid_usd (Σ q·M_r over the fills with a PI, the denominator of the bps figures: section 5)
--   (USD, exact decimal); exec_share_ms (Σ q·ms). A sum over no
--   fill (a FILTER that keeps none) is null, as in the metric queries. Only what the metric tables
--   group is summed here (each sum is a 16-byte state per order while the build groups 10M orders): the
--   drill-downs (order_pi, the Rule 5310 .05 list) read the few orders' fills they show.
with

fills as (
    -- widen the quantity before multiplying: DECIMAL(18,6) × DECIMAL(18,6) would overflow (stack-check §6)
    select
        order_row,
        quantity::decimal(38, 6) as qty,
        price,
        mid_r,
        pi_ps,
        es_ps,
        qs_ps,
        exec_ms,
        rs_1m_ps,
        rs_5m_ps,
    from fill_facts(int_order_facts, fct_fills_base)
),

final as (
    select
        order_row,
        count(*) as attributed_fills,
        count(*) filter (where qs_ps > 0) as qs_fills,
        count(rs_1m_ps) as rs_1m_fills,
        sum(qty) as executed_shares,
        sum(qty) filter (where pi_ps > 0) as improved_shares,
        sum(qty) filter (where pi_ps = 0) as at_quote_shares,
        sum(qty) filter (where pi_ps < 0) as outside_shares,
        sum(qty * pi_ps) filter (where pi_ps > 0) as pi_usd,
        sum(qty * -pi_ps) filter (where pi_ps < 0) as disimprovement_usd,
        sum(qty * pi_ps) as net_pi_usd,
        sum(qty * es_ps) as es_usd,
        sum(qty * qs_ps) as qs_usd,
        sum(qty * price) as executed_usd,
        -- M_r only where PI is measured, so that a bps figure's numerator and denominator cover one set
        sum(qty * mid_r) filter (where pi_ps is not null) as mid_usd,
        sum(qty * exec_ms) as exec_share_ms,
        sum(qty) filter (where rs_1m_ps is not null) as rs_1m_shares,
        sum(qty * rs_1m_ps) as rs_1m_usd,
        sum(qty) filter (where rs_5m_ps is not null) as rs_5m_shares,
        sum(qty * rs_5m_ps) as rs_5m_usd,
    from fills
    group by order_row
)

select * from final
