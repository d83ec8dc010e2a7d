-- price_improvement: the price-improvement table of metrics.md section 5.
-- grain: one row per group of the caller's grouping columns (/*group_by*/, from an allow-list)
-- params: $period_start (DATE, New York, inclusive), $period_end (DATE, exclusive),
--   $venue (VARCHAR routed venue, null = all venues)
-- covers: non-directed market and marketable-limit orders that are not excluded, received in the period
--   (pi_orders, macros/coverage.sql, summed per cell at build time: marts/agg_pi_cells).
-- reads: agg_pi_cells, the sums per cell of every grouping column × receipt date, a period's and a
--   venue's rows (stored sorted by receipt date and venue: bestex_nb/build/layout.py); the table's sums
--   are sums of those exact-decimal cell sums, equal digit for digit to the orders' grouped directly.
-- columns: orders, order_shares, executed_shares, improved_shares, at_quote_shares, outside_shares
--   (shares); pct_shares_improved, pct_shares_at_or_better, pct_orders_improved (fractions);
--   avg_improvement_ps, avg_disimprovement_ps (> 0), net_pi_ps, eff_spread_ps, quoted_spread_ps,
--   realized_spread_1m_ps, realized_spread_5m_ps (USD/share); pi_usd, disimprovement_usd, net_pi_usd
--   (USD); eq_ratio (ratio); avg_exec_ms (ms); executed_usd = Σ q·P (USD); net_pi_bps, eff_spread_bps,
--   quoted_spread_bps = Σ q·PI, Σ q·ES, Σ q·QS over Σ q·M_r, × 10⁴ (basis points of the midpoint at
--   receipt, value-weighted). All means are ratios of sums over fills (Σ q·x / Σ q or / Σ q·M_r).
with

cells as (
    -- the review's orders (macros/coverage.sql), each order's fills summed once at build time
    -- (marts/int_order_fill_sums, on its fct_orders row) and its cell's orders summed once after that
    -- (marts/agg_pi_cells); the bounds as pi_orders($period_start, $period_end, $venue) applies them
    select *
    from agg_pi_cells
    where ($period_start is null or receipt_date >= $period_start)
        and ($period_end is null or receipt_date < $period_end)
        and ($venue is null or venue = $venue)
),

-- the sums of this table are sums of the cells' sums; a sum of counts is cast back to the count's type
sums as (
    select
        /*group_by*/
        sum(orders)::bigint as orders,
        sum(order_shares) as order_shares,
        coalesce(sum(executed_shares), 0) as executed_shares,
        coalesce(sum(improved_shares), 0) as improved_shares,
        coalesce(sum(at_quote_shares), 0) as at_quote_shares,
        coalesce(sum(outside_shares), 0) as outside_shares,
        coalesce(sum(pi_usd), 0) as pi_usd,
        coalesce(sum(disimprovement_usd), 0) as disimprovement_usd,
        coalesce(sum(net_pi_usd), 0) as net_pi_usd,
        coalesce(sum(es_usd), 0) as es_usd,
        coalesce(sum(qs_usd), 0) as qs_usd,
        coalesce(sum(executed_usd), 0) as executed_usd,
        coalesce(sum(mid_usd), 0) as mid_usd,
        coalesce(sum(exec_share_ms), 0) as exec_share_ms,
        coalesce(sum(rs_1m_shares), 0) as rs_1m_shares,
        coalesce(sum(rs_1m_usd), 0) as rs_1m_usd,
        coalesce(sum(rs_5m_shares), 0) as rs_5m_shares,
        coalesce(sum(rs_5m_usd), 0) as rs_5m_usd,
        sum(orders_filled)::bigint as orders_filled,
        sum(orders_improved)::bigint as orders_improved,
    from cells
    group by all
    having sum(orders) > 0
),

final as (
    select
        /*group_by*/
        orders,
        order_shares::double as order_shares,
        executed_shares::double as executed_shares,
        improved_shares::double as improved_shares,
        at_quote_shares::double as at_quote_shares,
        outside_shares::double as outside_shares,
        improved_shares / nullif(executed_shares, 0) as pct_shares_improved,
        (improved_shares + at_quote_shares) / nullif(executed_shares, 0) as pct_shares_at_or_better,
        pi_usd / nullif(improved_shares, 0) as avg_improvement_ps,
        disimprovement_usd / nullif(outside_shares, 0) as avg_disimprovement_ps,
        net_pi_usd / nullif(executed_shares, 0) as net_pi_ps,
        pi_usd::double as pi_usd,
        disimprovement_usd::double as disimprovement_usd,
        net_pi_usd::double as net_pi_usd,
        es_usd / nullif(executed_shares, 0) as eff_spread_ps,
        qs_usd / nullif(executed_shares, 0) as quoted_spread_ps,
        es_usd / nullif(qs_usd, 0) as eq_ratio,
        rs_1m_usd / nullif(rs_1m_shares, 0) as realized_spread_1m_ps,
        rs_5m_usd / nullif(rs_5m_shares, 0) as realized_spread_5m_ps,
        exec_share_ms / nullif(executed_shares, 0) as avg_exec_ms,
        orders_improved / nullif(orders_filled, 0) as pct_orders_improved,
        executed_usd::double as executed_usd,
        net_pi_usd / nullif(mid_usd, 0) * 10000 as net_pi_bps,
        es_usd / nullif(mid_usd, 0) * 10000 as eff_spread_bps,
        qs_usd / nullif(mid_usd, 0) * 10000 as quoted_spread_bps,
    from sums
)

select * from final
order by all
