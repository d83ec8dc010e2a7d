-- order_facts: the order facts as table macros over the relations they read, so that the same query
-- serves every order row (marts/fct_orders_base, marts/fct_orders) and the candidate rows of the
-- exclusions alone (marts/exclusions: staging/int_exclusion_candidates). Created by the build
-- before any model, after macros/rulebook (bestex_nb/build/store.py), and kept in the store.
-- grain: none (macro definitions); each macro's grain and columns are its model's (marts/fct_orders_base,
--   marts/fct_orders)
-- params: none
-- macros: order_base(order_rows, order_nbbo) (relations: stg_orders and int_order_nbbo, or the candidate
--   rows of each), order_facts(base_rows) (a relation of order_base's rows)

-- order_base: each order row with what needs a join or the quotes (marts/fct_orders_base.sql says what).
create or replace macro order_base(order_rows, order_nbbo) as table
    with

    orders as (
        select * from query_table(order_rows)
    ),

    -- NBBO at receipt (and at routing): the latest update at or before received_at (routed_at), same
    -- symbol, same New York date; a quote stamped exactly at that instant counts. Looked up for every order
    -- row in one streaming pass over the quotes, with the row's fills summed up in one pass over the fills
    -- (nbbo_fills, each with its order row from the byte match of the ids: bestex_nb/build/nbbo/answers.py →
    -- int_order_nbbo).
    nbbo as (
        select * from query_table(order_nbbo)
    ),

    final as (
        select
            orders.*,
            nbbo.received_local,
            nbbo.nbbo_r_quoted_at,
            nbbo.nbb_r,
            nbbo.nbo_r,
            nbbo.nbb_route,
            nbbo.nbo_route,
            nbbo.fill_count,
            nbbo.filled_qty,
            nbbo.has_bad_fill,
            nbbo.first_fill_at,
            nbbo.last_fill_at,
            orders.order_id in (select order_id from int_duplicate_order_ids) as is_duplicate_id,
        from orders
        left join nbbo on orders.row_no = nbbo.row_no
    )

    select * from final;

-- order_facts: each order row of order_base enriched and given its exclusion reason (marts/fct_orders.sql
-- says what).
create or replace macro order_facts(base_rows) as table
    with

    orders as (
        select * from query_table(base_rows)
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
    -- row in one streaming pass over the quotes (bestex_nb/build/nbbo/answers.py → fct_orders_base).
    quoted as (
        select
            base.*,
            nbbo_status(nbbo_r_quoted_at, nbb_r, nbo_r) as nbbo_status,  -- 'ok' or its reason (macros/rulebook)
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
            is_regular_hours(received_local) as is_regular_hours,  -- macros/rulebook
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

    -- exclusions (metrics.md "Exclusions"): the first rule of the rulebook (macros/rulebook.sql) the row
    -- meets, by the rulebook's order of precedence
    excluded as (
        select
            bucketed.* exclude (order_fill_count, order_filled_qty, has_bad_fill, order_first_fill_at,
                order_last_fill_at, is_duplicate_id),
            securities.is_sp500,
            bucketed.order_fill_count as fill_count,
            bucketed.order_filled_qty as filled_qty,
            bucketed.order_first_fill_at as first_fill_at,
            bucketed.order_last_fill_at as last_fill_at,
            exclusion_rule(
                is_duplicate_id := bucketed.is_duplicate_id,
                is_known_symbol := securities.symbol is not null,
                routed_venue := bucketed.routed_venue,
                is_known_venue := venues.venue_id is not null,
                quantity := bucketed.quantity,
                order_type := bucketed.order_type,
                limit_price := bucketed.limit_price,
                has_bad_fill := bucketed.has_bad_fill,
                received_at := bucketed.received_at,
                routed_at := bucketed.routed_at,
                canceled_at := bucketed.canceled_at,
                fill_count := bucketed.order_fill_count,
                filled_qty := bucketed.order_filled_qty,
                first_fill_at := bucketed.order_first_fill_at,
                time_in_force := bucketed.time_in_force,
                is_not_held := bucketed.is_not_held,
                is_directed := bucketed.is_directed,
                received_local := bucketed.received_local,
                nbbo_r_quoted_at := bucketed.nbbo_r_quoted_at,
                nbb_r := bucketed.nbb_r,
                nbo_r := bucketed.nbo_r
            ) as exclusion_position,
        from bucketed
        left join securities on bucketed.symbol = securities.symbol
        left join venues on bucketed.routed_venue = venues.venue_id
    ),

    final as (
        select
            * exclude (received_local, is_nbbo_usable, exclusion_position),
            exclusion_reason(exclusion_position) as exclusion_reason,
            exclusion_scope(exclusion_position) as exclusion_scope,
        from excluded
    )

    select * from final;
