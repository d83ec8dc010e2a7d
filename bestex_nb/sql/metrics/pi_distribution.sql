-- pi_distribution: how each venue's filled orders spread over their net price improvement per share
-- (the distribution chart of the price-improvement review): $bins equal bins from the 0.5th to the 99.5th
-- percentile of all filled orders (linear interpolation, exactly as numpy's percentile); values
-- beyond are counted in the end bins (clipped), a value on an inner edge in the bin above. When the two
-- percentiles are equal: one bin 0.0001 wide around them. Bin edges as numpy's linspace (i·step + lo, the
-- last edge hi itself).
-- grain: one row per venue and non-empty bin
-- params: $period_start (DATE, New York, inclusive), $period_end (DATE, exclusive),
--   $venue (routed venue, null = all), $bins (INTEGER, number of bins, at least 1)
-- covers: the orders of metrics/order_pi with executed shares and a net PI per share.
-- columns: venue, bin (0, 1, ...), bin_lo, bin_hi (USD/share), orders (count), pct (% of the venue's
--   orders counted)
-- per order: the CTEs covered_orders and order_pi are metrics/order_pi.sql's (its final), copied so that
-- a change of the order's figures is made the same way in each file; here without avg_price, first_fill_ms
-- and executed_venues (read from the fills: nothing here shows them).
with

covered_orders as (
    select *
    from fct_orders
    where exclusion_reason is null
        and order_category in ('market', 'marketable_limit')
        and receipt_date >= $period_start
        and receipt_date < $period_end
        and ($venue is null or venue = $venue)
),

-- each order's fills were summed once, at build time (marts/int_order_fill_sums, on its fct_orders row):
-- the per-order figures of metrics/order_pi.sql, from those sums
order_pi as (
    select
        covered_orders.row_no,
        covered_orders.order_id,
        covered_orders.venue,
        covered_orders.symbol,
        covered_orders.is_sp500,
        covered_orders.side,
        covered_orders.order_category,
        covered_orders.size_bucket,
        covered_orders.share_bucket,
        covered_orders.month,
        covered_orders.received_at,
        covered_orders.quantity::double as quantity,
        covered_orders.limit_price::double as limit_price,
        covered_orders.nbb_r::double as nbb_r,
        covered_orders.nbo_r::double as nbo_r,
        covered_orders.nbbo_r_quoted_at,
        covered_orders.is_locked,
        coalesce(covered_orders.attributed_fills, 0) as fill_count,
        covered_orders.executed_shares as executed_shares_exact,
        coalesce(covered_orders.executed_shares, 0)::double as executed_shares,
        covered_orders.net_pi_usd / nullif(covered_orders.executed_shares, 0) as net_pi_ps,
        coalesce(covered_orders.net_pi_usd, 0)::double as net_pi_usd,
        coalesce(covered_orders.pi_usd, 0)::double as pi_usd,
        coalesce(covered_orders.disimprovement_usd, 0)::double as disimprovement_usd,
        coalesce(covered_orders.es_usd, 0)::double as es_usd,
        coalesce(covered_orders.qs_usd, 0)::double as qs_usd,
        coalesce(covered_orders.exec_share_ms, 0)::double as exec_share_ms,
    from covered_orders
),

filled as (
    select venue, net_pi_ps
    from order_pi
    where executed_shares > 0 and net_pi_ps is not null
),

ranked as (
    -- k: the value's position among the filled orders sorted (0-based)
    select net_pi_ps, row_number() over (order by net_pi_ps) - 1 as k
    from filled
),

positions as (
    -- each percentile's position in the sorted values, as numpy's linear method puts it: (n − 1)·q
    select n, vi_lo, vi_hi, floor(vi_lo) as k_lo, floor(vi_hi) as k_hi
    from (
        select count(*) as n, (count(*) - 1)::double * 0.005 as vi_lo, (count(*) - 1)::double * 0.995 as vi_hi
        from filled
    )
),

neighbours as (
    -- the two sorted values around each position
    select
        positions.*,
        max(net_pi_ps) filter (where k = least(k_lo, n - 1)) as lo_a,
        max(net_pi_ps) filter (where k = least(k_lo + 1, n - 1)) as lo_b,
        max(net_pi_ps) filter (where k = least(k_hi, n - 1)) as hi_a,
        max(net_pi_ps) filter (where k = least(k_hi + 1, n - 1)) as hi_b,
    from ranked
    cross join positions
    group by all
),

percentiles as (
    -- interpolated as numpy does it (a + (b − a)·g, or b − (b − a)·(1 − g) when g ≥ 1/2), so the bins
    -- are numpy's to the last bit; quantile_cont always takes the first form
    select
        case when g_lo >= 0.5 then lo_b - (lo_b - lo_a) * (1 - g_lo) else lo_a + (lo_b - lo_a) * g_lo end as p_lo,
        case when g_hi >= 0.5 then hi_b - (hi_b - hi_a) * (1 - g_hi) else hi_a + (hi_b - hi_a) * g_hi end as p_hi,
    from (
        select *, vi_lo - k_lo as g_lo, vi_hi - k_hi as g_hi
        from neighbours
    )
),

bounds as (
    select
        case when p_hi <= p_lo then p_lo - 0.00005::double else p_lo end as lo,
        case when p_hi <= p_lo then p_hi + 0.00005::double else p_hi end as hi,
        case when p_hi <= p_lo then 1 else $bins::integer end as bins,
    from percentiles
    where p_lo is not null
),

edges as (
    -- bin i runs from edge i to edge i + 1
    select
        i as bin,
        case when i = bins then hi else i::double * ((hi - lo) / bins) + lo end as edge,
        bins,
    from bounds
    cross join range(0, $bins::integer + 1) as r(i)
    where i <= bins
),

clipped as (
    select filled.venue, least(greatest(filled.net_pi_ps, bounds.lo), bounds.hi) as x
    from filled
    cross join bounds
),

binned as (
    -- the last bin whose lower edge is at or below the value (edge 0 is lo: every clipped value has one)
    select clipped.venue, edges.bin
    from clipped
    asof join (select * from edges where bin < bins) as edges on clipped.x >= edges.edge
),

counts as (
    select venue, bin, count(*) as orders
    from binned
    group by all
),

final as (
    select
        counts.venue,
        counts.bin,
        lower_edge.edge as bin_lo,
        upper_edge.edge as bin_hi,
        counts.orders,
        100 * counts.orders / sum(counts.orders) over (partition by counts.venue) as pct,
    from counts
    join edges as lower_edge on lower_edge.bin = counts.bin
    join edges as upper_edge on upper_edge.bin = counts.bin + 1
)

select * from final
order by venue, bin
