-- fct_orders: every order row received, enriched with the NBBO at receipt and at routing, its
-- Rule 605 category, size buckets, session flags and the one exclusion reason that applies (or none).
-- A view over fct_orders_base (the stored NBBO lookups, fill sums and duplicate flags): the rest is
-- arithmetic on one row and two small lookups (securities, venues), computed when read.
-- grain: one row per row of the orders extract (duplicate order ids keep every copy, all excluded)
-- params: none
-- columns: row_no, order row fields; venue (= routed_venue); receipt_date, month (New York); nbb_r, nbo_r,
--   mid_r, quoted_spread_r (USD/share); nbb_route, nbo_route; nbbo_status; is_locked; order_category;
--   is_beyond_midpoint; distance_ticks, distance_bucket; notional_usd; size_bucket; share_bucket;
--   is_regular_hours; is_sp500; fill_count, filled_qty (shares), first_fill_at, last_fill_at;
--   exclusion_reason, exclusion_scope ('all' | 'quality' | null when analysed)
with

orders as (
    select * from fct_orders_base
),

securities as (
    select symbol, is_sp500 from stg_securities
),

venues as (
    select venue_id from stg_venues
),

base as (
    select
        orders.* exclude (received_local, nbbo_r_quoted_at, nbb_r, nbo_r, nbb_route, nbo_route, fill_count, filled_qty,
            has_bad_fill, first_fill_at, last_fill_at, is_duplicate_id),
        orders.routed_venue as venue,
        orders.received_local,  -- timezone('America/New_York', received_at), from the lookups
        orders.received_local::date as receipt_date,
        case when orders.side = 'buy' then 1 else -1 end as side_sign,
        orders.nbbo_r_quoted_at,
        orders.nbb_r,
        orders.nbo_r,
        orders.nbb_route,
        orders.nbo_route,
        orders.fill_count as order_fill_count,
        orders.filled_qty as order_filled_qty,
        orders.has_bad_fill,
        orders.first_fill_at as order_first_fill_at,
        orders.last_fill_at as order_last_fill_at,
        orders.is_duplicate_id,
    from orders
),

-- NBBO at receipt (and at routing): the latest update at or before received_at (routed_at), same
-- symbol, same New York date; a quote stamped exactly at that instant counts. Looked up for every order
-- row in one streaming pass over the quotes (bestex_nb/lookups.py → fct_orders_base).
quoted as (
    select
        base.*,
        case
            when nbbo_r_quoted_at is null then 'no_nbbo'
            when coalesce(nbb_r, 0) <= 0 or coalesce(nbo_r, 0) <= 0 then 'one_sided_nbbo'
            when nbb_r > nbo_r then 'crossed_nbbo'
            else 'ok'
        end as nbbo_status,
    from base
),

usable as (
    select
        quoted.*,
        nbbo_status = 'ok' as is_nbbo_usable,
        case when nbbo_status = 'ok' then (nbb_r + nbo_r) * 0.5::decimal(2, 1) end as mid_r,
        case when nbbo_status = 'ok' then nbo_r - nbb_r end as quoted_spread_r,
        case when nbbo_status = 'ok' then nbb_r = nbo_r end as is_locked,
    from quoted
),

-- Rule 605 categories (metrics.md section 2): the first matching branch wins, so in a locked market a
-- buy limit at the quote (limit = NBO = NBB) is marketable. Sells mirror buys.
categorised as (
    select
        usable.*,
        case
            when not is_nbbo_usable then null
            when order_type = 'market' then 'market'
            when order_type <> 'limit' or limit_price is null or limit_price <= 0 then null
            when side_sign = 1 and limit_price >= nbo_r then 'marketable_limit'
            when side_sign = -1 and limit_price <= nbb_r then 'marketable_limit'
            when limit_price > nbb_r and limit_price < nbo_r then 'inside_quote_limit'
            when side_sign = 1 and limit_price = nbb_r then 'at_quote_limit'
            when side_sign = -1 and limit_price = nbo_r then 'at_quote_limit'
            when side_sign = 1 and limit_price >= nbb_r - 0.10 then 'near_quote_limit'
            when side_sign = -1 and limit_price <= nbo_r + 0.10 then 'near_quote_limit'
            else 'away_limit'
        end as order_category,
    from usable
),

measured as (
    select
        categorised.*,
        order_category in ('inside_quote_limit', 'at_quote_limit', 'near_quote_limit', 'away_limit')
            and ((side_sign = 1 and limit_price > mid_r) or (side_sign = -1 and limit_price < mid_r))
            as is_beyond_midpoint,
        -- ticks between the limit and the same-side best quote (buy: NBB − limit; sell: limit − NBO);
        -- the tick is $0.01, or $0.0001 for a limit below $1.00
        case when order_category in ('inside_quote_limit', 'at_quote_limit', 'near_quote_limit', 'away_limit')
            then (case when side_sign = 1 then nbb_r - limit_price else limit_price - nbo_r end)
                * (case when limit_price < 1 then 10000 else 100 end)  -- exact: multiply, never divide
        end as distance_ticks,
        quantity::decimal(38, 6) * mid_r as notional_usd,
        received_local::time >= time '09:30:00' and received_local::time < time '16:00:00' as is_regular_hours,
        strftime(received_local, '%Y-%m') as month,
    from categorised
),

-- size buckets: a value on an edge belongs to the bucket above it
bucketed as (
    select
        measured.*,
        case
            when notional_usd is null then null
            when notional_usd < 250 then '<250'
            when notional_usd < 1000 then '250-1k'
            when notional_usd < 5000 then '1k-5k'
            when notional_usd < 10000 then '5k-10k'
            when notional_usd < 20000 then '10k-20k'
            when notional_usd < 50000 then '20k-50k'
            when notional_usd < 200000 then '50k-200k'
            else '>=200k'
        end as size_bucket,
        case
            when quantity is null or quantity <= 0 then null
            when quantity < 100 then '<100'
            when quantity < 500 then '100-499'
            when quantity < 2000 then '500-1999'
            when quantity < 5000 then '2000-4999'
            when quantity < 10000 then '5000-9999'
            else '>=10000'
        end as share_bucket,
        case
            when distance_ticks is null then null
            when distance_ticks < 0 then 'inside'
            when distance_ticks = 0 then '0'
            when distance_ticks <= 2 then '1-2'
            when distance_ticks <= 5 then '3-5'
            when distance_ticks <= 10 then '6-10'
            else '>10'
        end as distance_bucket,
    from measured
),

-- exclusions (metrics.md "Exclusions"): the first matching reason, rows in order, left to right
excluded as (
    select
        bucketed.* exclude (order_fill_count, order_filled_qty, has_bad_fill, order_first_fill_at,
            order_last_fill_at, is_duplicate_id),
        securities.is_sp500,
        bucketed.order_fill_count as fill_count,
        bucketed.order_filled_qty as filled_qty,
        bucketed.order_first_fill_at as first_fill_at,
        bucketed.order_last_fill_at as last_fill_at,
        case
            when bucketed.is_duplicate_id then 'duplicate_order_id'
            when securities.symbol is null then 'unknown_symbol'
            when bucketed.routed_venue is not null and venues.venue_id is null then 'unknown_venue'
            when bucketed.quantity is null or bucketed.quantity <= 0 then 'bad_quantity'
            when bucketed.order_type = 'limit' and coalesce(bucketed.limit_price, 0) <= 0 then 'bad_limit_price'
            when bucketed.has_bad_fill then 'bad_fill'
            when bucketed.routed_at < bucketed.received_at or bucketed.canceled_at < bucketed.received_at
                then 'bad_timestamps'
            -- rounding allowance: 0.000001 share per fill
            when bucketed.order_filled_qty > bucketed.quantity + 0.000001 * bucketed.order_fill_count then 'overfilled'
            when bucketed.order_first_fill_at < bucketed.received_at then 'fill_before_receipt'
            when bucketed.order_type not in ('market', 'limit') or bucketed.time_in_force = 'fok'
                then 'special_handling'
            when bucketed.is_not_held then 'not_held'
            when bucketed.is_directed then 'directed'
            when bucketed.routed_venue is null then 'not_routed'
            when not bucketed.is_regular_hours then 'outside_regular_hours'
            when bucketed.nbbo_status <> 'ok' then bucketed.nbbo_status
        end as exclusion_reason,
    from bucketed
    left join securities on bucketed.symbol = securities.symbol
    left join venues on bucketed.routed_venue = venues.venue_id
),

final as (
    select
        * exclude (received_local, is_nbbo_usable),
        -- a simple CASE, not IN (...): DuckDB plans a 9-value IN list as a join it then cannot prune,
        -- so even count(*) from this view evaluated every exclusion rule (2.6 s at 10M order rows)
        case exclusion_reason
            when 'duplicate_order_id' then 'all'
            when 'unknown_symbol' then 'all'
            when 'unknown_venue' then 'all'
            when 'bad_quantity' then 'all'
            when 'bad_limit_price' then 'all'
            when 'bad_fill' then 'all'
            when 'bad_timestamps' then 'all'
            when 'overfilled' then 'all'
            when 'fill_before_receipt' then 'all'
            else case when exclusion_reason is not null then 'quality' end
        end as exclusion_scope,
    from excluded
)

select * from final
