-- coverage: which orders each review covers, written once, as table macros over the stored facts: every
-- metric file of a review reads its orders through them (metrics.md sections 5 and 6). Created by the
-- build with the other macros (bestex_nb/build/store.py) and kept in the store.
-- grain: none (macro definitions); each macro gives rows of the relation it reads
-- params: none
-- macros: pi_orders(p_start, p_end, p_venue) (fct_orders rows), pi_order_rows(p_start, p_end, p_venue)
--   (one row per pi_orders order with its figures), limit_family_orders(p_start, p_end, p_venue)
--   (fct_limit_orders rows). p_start (DATE, New York, inclusive) and p_end (exclusive) bound the receipt
--   date, null = unbounded; p_venue the routed venue, null = all.

-- pi_orders: the price-improvement review's orders (section 5): non-directed market and marketable-limit
-- orders that are not excluded (a directed order is excluded: macros/rulebook.sql), with their stored fill
-- sums (marts/int_order_fill_sums).
create or replace macro pi_orders(p_start, p_end, p_venue) as table
    select *
    from fct_orders
    where exclusion_reason is null
        and order_category in ('market', 'marketable_limit')
        and (p_start is null or receipt_date >= p_start)
        and (p_end is null or receipt_date < p_end)
        and (p_venue is null or venue = p_venue);

-- pi_order_rows: each pi_orders order with its NBBO at receipt and its share-weighted figures, from its
-- fill sums (metrics/order_pi.sql adds what only its drill-down shows: average price, first fill,
-- executing venues). executed_shares_exact keeps the exact decimal for ratios; mid_usd (Σ q·M_r) is the
-- denominator of the bps figures (metrics/pi_filtered.sql).
create or replace macro pi_order_rows(p_start, p_end, p_venue) as table
    select
        row_no,
        order_id,
        venue,
        symbol,
        is_sp500,
        side,
        order_category,
        size_bucket,
        share_bucket,
        month,
        received_at,
        quantity::double as quantity,
        limit_price::double as limit_price,
        nbb_r::double as nbb_r,
        nbo_r::double as nbo_r,
        nbbo_r_quoted_at,
        is_locked,
        coalesce(attributed_fills, 0) as fill_count,
        executed_shares as executed_shares_exact,
        coalesce(executed_shares, 0)::double as executed_shares,
        net_pi_usd / nullif(executed_shares, 0) as net_pi_ps,
        coalesce(net_pi_usd, 0)::double as net_pi_usd,
        coalesce(pi_usd, 0)::double as pi_usd,
        coalesce(disimprovement_usd, 0)::double as disimprovement_usd,
        coalesce(es_usd, 0)::double as es_usd,
        coalesce(qs_usd, 0)::double as qs_usd,
        coalesce(exec_share_ms, 0)::double as exec_share_ms,
        coalesce(mid_usd, 0)::double as mid_usd,
    from pi_orders(p_start, p_end, p_venue);

-- limit_family_orders: the limit-order review's orders (section 6): non-directed limit orders that are
-- not excluded, whose category at receipt is inside, at, near or away from the quote (IOC included).
create or replace macro limit_family_orders(p_start, p_end, p_venue) as table
    select *
    from fct_limit_orders
    where exclusion_reason is null
        and not is_directed
        and (p_start is null or receipt_date >= p_start)
        and (p_end is null or receipt_date < p_end)
        and (p_venue is null or venue = p_venue);

-- limit_family_filtered: the limit-order review's orders narrowed by the explorer's filters (each null =
-- all): what metrics/fill_filtered and metrics/fill_survival_counts both aggregate.
create or replace macro limit_family_filtered(p_start, p_end, p_venue, p_category, p_size, p_distance, p_symbol,
                                              p_sp500) as table
    select *
    from limit_family_orders(p_start, p_end, p_venue)
    where (p_category is null or order_category = p_category)
        and (p_size is null or size_bucket = p_size)
        and (p_distance is null or distance_bucket = p_distance)
        and (p_symbol is null or symbol = p_symbol)
        and (p_sp500 is null or is_sp500 = p_sp500);
