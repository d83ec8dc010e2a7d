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
-- per order: macros/coverage.sql (pi_order_rows), as metrics/order_pi.sql.
with

order_pi as (
    -- the review's orders with their figures: macros/coverage.sql (pi_order_rows)
    select *
    from pi_order_rows($period_start, $period_end, $venue)
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
