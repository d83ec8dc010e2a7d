-- marketable_limit_exceptions: the Rule 5310 .05 check of metrics.md section 6 — every fill of a
-- marketable limit order priced worse than the far touch at receipt (PI < 0), listed order by order.
-- grain: one row per marketable limit order received in the period with at least one such fill
-- params: $period_start (DATE, New York, inclusive), $period_end (DATE, exclusive),
--   $venue (routed venue, null = all), $include_excluded (BOOLEAN: also orders excluded from quality
--   statistics, scope 'quality', whose NBBO at receipt is usable; scope 'all' never)
-- sign: PI per fill is buy NBO_r − P, sell P − NBB_r; a fill with PI < 0 is outside the quote. The far
--   touch F_r is NBO_r for buys and NBB_r for sells.
-- columns: order_id, venue, symbol, is_sp500, side, month, received_at (UTC), quantity (shares),
--   limit_price, nbb_r, nbo_r, far_touch (USD/share); fills (exception fills), order_fills (all fills),
--   outside_shares (shares); avg_outside_price, worst_price, max_shortfall_ps (USD/share, > 0);
--   shortfall_usd (Σ q·max(−PI, 0), USD, exact); first_outside_at (UTC); executed_venues;
--   exclusion_reason (null for covered orders)
with

checked_orders as (
    select *
    from fct_orders
    where order_category = 'marketable_limit'
        and (exclusion_reason is null or ($include_excluded and exclusion_scope = 'quality'))
        and receipt_date >= $period_start
        and receipt_date < $period_end
        and ($venue is null or venue = $venue)
),

-- each order's fills were summed once, at build time (marts/int_order_fill_sums, on its fct_orders row):
-- an order has a fill outside the quote when its outside_shares is not null. Only those orders' fills are
-- measured here, by the fill facts' own query (macros/fill_facts.sql) over them: not every fill of the
-- store joined to its order first.
outside_orders as (
    select * from checked_orders where outside_shares is not null
),

outside_order_fills as (
    select * from fct_fills_base where order_row in (select row_no from outside_orders)
),

fills as (
    select order_row, executed_venue, executed_at, quantity::decimal(38, 6) as qty, price, pi_ps,
    from fill_facts(outside_orders, outside_order_fills)
    where pi_ps < 0
),

per_order as (
    select
        order_row,
        count(*) as fills,
        sum(qty) as outside_shares,
        sum(qty * price) as outside_notional,
        sum(qty * -pi_ps) as shortfall_usd,
        max(-pi_ps) as max_shortfall_ps,
        arg_max(price, -pi_ps) as worst_price,
        min(executed_at) as first_outside_at,
        string_agg(distinct executed_venue, ', ' order by executed_venue) as executed_venues,
    from fills
    group by order_row
),

final as (
    select
        checked_orders.order_id,
        checked_orders.venue,
        checked_orders.symbol,
        checked_orders.is_sp500,
        checked_orders.side,
        checked_orders.month,
        checked_orders.received_at,
        checked_orders.quantity::double as quantity,
        checked_orders.limit_price::double as limit_price,
        checked_orders.nbb_r::double as nbb_r,
        checked_orders.nbo_r::double as nbo_r,
        (case when checked_orders.side_sign = 1 then checked_orders.nbo_r else checked_orders.nbb_r end)::double
            as far_touch,
        per_order.fills,
        checked_orders.attributed_fills as order_fills,
        per_order.outside_shares::double as outside_shares,
        (per_order.outside_notional / per_order.outside_shares)::double as avg_outside_price,
        per_order.worst_price::double as worst_price,
        per_order.max_shortfall_ps::double as max_shortfall_ps,
        per_order.shortfall_usd::double as shortfall_usd,
        per_order.first_outside_at,
        per_order.executed_venues,
        checked_orders.exclusion_reason,
    from checked_orders
    join per_order on checked_orders.row_no = per_order.order_row
)

select * from final
order by received_at, order_id
