-- marketable_limit_exceptions: the Rule 5310 .05 check of metrics.md section 6 — every fill of a
-- marketable limit order priced worse than the far touch at receipt (PI < 0), listed order by order,
-- each told apart by the NBBO at execution: a market that moved or a fill through the quote.
-- grain: one row per marketable limit order received in the period with at least one such fill
-- params: $period_start (DATE, New York, inclusive), $period_end (DATE, exclusive),
--   $venue (routed venue, null = all), $include_excluded (BOOLEAN: also orders excluded from quality
--   statistics, scope 'quality', whose NBBO at receipt is usable; scope 'all' never)
-- sign: PI per fill is buy NBO_r − P, sell P − NBB_r; a fill with PI < 0 is outside the quote. The far
--   touch F_r is NBO_r for buys and NBB_r for sells; F_x the same of the NBBO at execution (NBB_x, NBO_x:
--   the latest valid NBBO at or before executed_at on the fill's New York date, staging/int_fill_exec_nbbo).
--   A fill is through the quote when s·(P − F_x) > 0 (worse than the far touch at execution too).
-- cause (per order, over its outside fills): through_quote when any is through the quote at execution;
--   else no_quote_at_execution when any has no valid NBBO at execution; else market_moved (every outside
--   fill within or at the NBBO in force when it executed: the market moved between receipt and execution)
-- columns: order_id, venue, symbol, is_sp500, side, month, received_at (UTC), quantity (shares),
--   limit_price, nbb_r, nbo_r, far_touch (USD/share); fills (exception fills), order_fills (all fills),
--   outside_shares (shares); avg_outside_price, worst_price, max_shortfall_ps (USD/share, > 0);
--   shortfall_usd (Σ q·max(−PI, 0), USD, exact); first_outside_at (UTC); executed_venues;
--   exclusion_reason (null for covered orders); worst_executed_at (UTC), nbb_x, nbo_x, far_touch_x
--   (USD/share: the NBBO at execution of the worst outside fill, the one with the lowest PI, then the
--   earliest, then the lowest execution id; null: none); through_fills, through_shares (shares),
--   through_usd (Σ q·max(s·(P − F_x), 0) over the outside fills, USD: what was paid through the quote at
--   execution), no_quote_fills; cause; detail (one line of text)
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

-- the NBBO at execution of those fills (stored for marketable limit orders' fills, sorted by order row)
exec_nbbo as (
    select outside_order_fills.execution_id, int_fill_exec_nbbo.nbb_x, int_fill_exec_nbbo.nbo_x,
    from int_fill_exec_nbbo
    join outside_order_fills on int_fill_exec_nbbo.execution_row = outside_order_fills.execution_row
    where int_fill_exec_nbbo.order_row in (select row_no from outside_orders)
),

fills as (
    select
        facts.order_row, facts.execution_id, facts.executed_venue, facts.executed_at,
        facts.quantity::decimal(38, 6) as qty, facts.price, facts.pi_ps, exec_nbbo.nbb_x, exec_nbbo.nbo_x,
        case when facts.side_sign = 1 then exec_nbbo.nbo_x else exec_nbbo.nbb_x end as far_touch_x,
        facts.side_sign * (facts.price - far_touch_x) as through_ps,
        row_number() over (partition by facts.order_row order by facts.pi_ps, facts.executed_at, facts.execution_id)
            as worst_rank,
    from fill_facts(outside_orders, outside_order_fills) as facts
    left join exec_nbbo on facts.execution_id = exec_nbbo.execution_id
    where facts.pi_ps < 0
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
        any_value(executed_at) filter (where worst_rank = 1) as worst_executed_at,
        any_value(nbb_x) filter (where worst_rank = 1) as nbb_x,
        any_value(nbo_x) filter (where worst_rank = 1) as nbo_x,
        any_value(far_touch_x) filter (where worst_rank = 1) as far_touch_x,
        count(*) filter (where through_ps > 0) as through_fills,
        coalesce(sum(qty) filter (where through_ps > 0), 0) as through_shares,
        coalesce(sum(qty * through_ps) filter (where through_ps > 0), 0) as through_usd,
        count(*) filter (where far_touch_x is null) as no_quote_fills,
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
        per_order.worst_executed_at,
        per_order.nbb_x::double as nbb_x,
        per_order.nbo_x::double as nbo_x,
        per_order.far_touch_x::double as far_touch_x,
        per_order.through_fills,
        per_order.through_shares::double as through_shares,
        per_order.through_usd::double as through_usd,
        per_order.no_quote_fills,
        case
            when per_order.through_fills > 0 then 'through_quote'
            when per_order.no_quote_fills > 0 then 'no_quote_at_execution'
            else 'market_moved'
        end as cause,
    from checked_orders
    join per_order on checked_orders.row_no = per_order.order_row
),

-- the exceptions list's one line per order, written here for every row at once (printf for the numbers:
-- about twice as fast as format here; the text parts are concatenated)
worded as (
    select
        *,
        symbol || ' ' || side
            || printf(' limit %.4f: %d fill(s), %g sh worse than the far touch %.4f at receipt (worst %.4f; ',
                      limit_price, fills, outside_shares, far_touch, worst_price)
            || case when is_sp500 then 'sp500' else 'other' end || '); '
            || case cause
                   when 'through_quote' then printf('THROUGH the quote at execution: %d fill(s), %g sh, '
                       || '$%,.2f beyond the far touch then (NBBO %.4f x %.4f at the worst fill)',
                       through_fills, through_shares, through_usd, nbb_x, nbo_x)
                   when 'no_quote_at_execution' then 'no valid NBBO at execution'
                   else printf('market moved: within the NBBO at execution (%.4f x %.4f at the worst fill)',
                       nbb_x, nbo_x)
               end as detail,
    from final
)

select * from worded
order by received_at, order_id
