-- pfof_reconciliation: the payment for order flow a venue owes by its rate card against what the controller's
-- ledger says it paid (metrics.md section 7; issue 20).
-- grain: one row per venue x receipt month (x security_group x order_group where that venue-month's ledger
--   itemises; a column the ledger leaves null for the venue-month is null here and sums over its groups)
--   for every venue-month in the period with flow at a venue that pays for order flow or has a rate, or
--   with a ledger row
-- params: $period_start (DATE, New York, inclusive), $period_end (DATE, exclusive), $threshold (fraction:
--   |variance_pct| above it is an exception)
-- covers: every executed share (every fill with the order's id, executed away included) of every order
--   with is_directed false routed to a venue and received in the period, whatever its exclusion from
--   quality statistics, except scope-'all' exclusions; ledger rows whose month overlaps the period
-- order group: 'market' for market orders; for limit orders 'marketable_limit' or 'non_marketable_limit'
--   by the category at receipt, 'other' when the NBBO at receipt was unusable; 'other' for other types
-- rate: the pfof_rates row in force on the receipt date (New York) for the venue, security group and
--   order group (effective_from inclusive, effective_to exclusive; the build refuses overlaps)
-- columns: venue, month, security_group, order_group, pays_pfof; executed_shares, rated_shares,
--   no_rate_shares (shares); expected_usd (Σ rated shares x rate_cph / 10,000, exact decimal),
--   received_usd (Σ ledger amount_usd; null: no ledger row), variance_usd (received (0 when none) −
--   expected, USD, exact decimal), variance_pct (variance / expected, fraction; null when expected is 0),
--   pfof_ps (received, else expected, per executed share, USD), is_exception, reason (', '-separated:
--   payment_without_flow | flow_without_payment | no_rate | variance_over_threshold; null when none)
with

flow_orders as (
    select
        venue,
        month,
        receipt_date,
        case when coalesce(is_sp500, false) then 'sp500' else 'other' end as security_group,
        case
            when order_type = 'market' then 'market'
            when order_type = 'limit' and nbbo_status <> 'ok' then 'other'
            when order_type = 'limit' and order_category = 'marketable_limit' then 'marketable_limit'
            when order_type = 'limit' then 'non_marketable_limit'
            else 'other'
        end as order_group,
        filled_qty,
    from fct_orders
    where receipt_date >= $period_start and receipt_date < $period_end
        and venue is not null
        and not is_directed
        and exclusion_scope is distinct from 'all'
        and filled_qty > 0
),

-- one row per venue x day x group before the rate lookup (a day has one rate per key)
flow_days as (
    select venue, month, receipt_date, security_group, order_group, sum(filled_qty) as shares
    from flow_orders
    group by all
),

rated as (
    select
        flow_days.*,
        rates.rate_cph,
    from flow_days
    left join stg_pfof_rates as rates
        on rates.venue_id = flow_days.venue
        and rates.security_group = flow_days.security_group
        and rates.order_group = flow_days.order_group
        and flow_days.receipt_date >= rates.effective_from
        and (rates.effective_to is null or flow_days.receipt_date < rates.effective_to)
),

payments as (
    select venue_id as venue, month, security_group, order_group, amount_usd
    from stg_pfof_payments
    where month >= strftime($period_start::date, '%Y-%m')
        and month <= strftime($period_end::date - 1, '%Y-%m')
),

-- which group columns the ledger itemises, per venue-month
itemised as (
    select
        venue,
        month,
        bool_or(security_group is not null) as by_security_group,
        bool_or(order_group is not null) as by_order_group,
    from payments
    group by all
),

venues as (
    select venue_id as venue, coalesce(pays_pfof, false) as pays_pfof from stg_venues
),

rate_venues as (
    select distinct venue_id as venue from stg_pfof_rates
),

flow as (
    select
        rated.venue,
        rated.month,
        case when itemised.by_security_group then rated.security_group end as security_group,
        case when itemised.by_order_group then rated.order_group end as order_group,
        sum(rated.shares) as executed_shares,
        coalesce(sum(rated.shares) filter (where rated.rate_cph is not null), 0) as rated_shares,
        coalesce(sum(rated.shares) filter (where rated.rate_cph is null), 0) as no_rate_shares,
        coalesce(sum(rated.shares * rated.rate_cph) filter (where rated.rate_cph is not null), 0)
            * 0.0001::decimal(5, 4) as expected_usd,
    from rated
    left join itemised on itemised.venue = rated.venue and itemised.month = rated.month
    left join venues on venues.venue = rated.venue
    where coalesce(venues.pays_pfof, false) or rated.venue in (select venue from rate_venues)
        or itemised.venue is not null
    group by all
),

paid as (
    select venue, month, security_group, order_group, sum(amount_usd) as received_usd
    from payments
    group by all
),

joined as (
    select
        coalesce(flow.venue, paid.venue) as venue,
        coalesce(flow.month, paid.month) as month,
        coalesce(flow.security_group, paid.security_group) as security_group,
        coalesce(flow.order_group, paid.order_group) as order_group,
        coalesce(flow.executed_shares, 0) as executed_shares,
        coalesce(flow.rated_shares, 0) as rated_shares,
        coalesce(flow.no_rate_shares, 0) as no_rate_shares,
        coalesce(flow.expected_usd, 0) as expected_usd,
        paid.received_usd,
    from flow
    full join paid
        on flow.venue = paid.venue
        and flow.month = paid.month
        -- null (not itemised) matches null
        and coalesce(flow.security_group, '') = coalesce(paid.security_group, '')
        and coalesce(flow.order_group, '') = coalesce(paid.order_group, '')
),

measured as (
    select
        joined.*,
        coalesce(venues.pays_pfof, false) as pays_pfof,
        coalesce(received_usd, 0) - expected_usd as variance_usd,
        case when expected_usd <> 0 then (coalesce(received_usd, 0) - expected_usd)::double / expected_usd::double
        end as variance_pct,
    from joined
    left join venues on venues.venue = joined.venue
),

flagged as (
    select
        *,
        received_usd is not null and executed_shares = 0 as payment_without_flow,
        pays_pfof and received_usd is null and expected_usd > 0 as flow_without_payment,
        pays_pfof and no_rate_shares > 0 as no_rate,
        received_usd is not null and executed_shares > 0 and abs(variance_pct) > $threshold
            as variance_over_threshold,
    from measured
)

select
    venue, month, security_group, order_group, pays_pfof,
    executed_shares, rated_shares, no_rate_shares,
    expected_usd, received_usd, variance_usd, variance_pct,
    case when executed_shares > 0 then coalesce(received_usd, expected_usd)::double / executed_shares::double
    end as pfof_ps,
    payment_without_flow or flow_without_payment or no_rate or coalesce(variance_over_threshold, false)
        as is_exception,
    nullif(concat_ws(', ',
        case when payment_without_flow then 'payment_without_flow' end,
        case when flow_without_payment then 'flow_without_payment' end,
        case when no_rate then 'no_rate' end,
        case when variance_over_threshold then 'variance_over_threshold' end), '') as reason,
from flagged
order by venue, month, security_group nulls first, order_group nulls first
