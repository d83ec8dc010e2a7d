-- fct_limit_orders: every usable order of the non-marketable limit family (category at receipt inside,
-- at, near or away from the quote; IOC included) with how much of it filled, when, and how it ended.
-- grain: one row per order row of fct_orders whose order_category is inside_quote_limit, at_quote_limit,
--   near_quote_limit or away_limit and whose exclusion scope is not 'all' (quality exclusions are kept
--   with their reason; the metrics filter them out)
-- params: none
-- columns: the order's fct_orders fields (venue, symbol, is_sp500, side, order_category, size_bucket,
--   share_bucket, distance_ticks, distance_bucket, month, receipt_date, time_in_force, received_at,
--   canceled_at, quantity, limit_price, nbb_r, nbo_r, is_directed, exclusion_reason);
--   filled_qty, unfilled_qty, cancelled_qty (shares); fill_count; is_any_fill, is_full_fill;
--   first_fill_at, last_fill_at, full_fill_at, ended_at (UTC); end_state ('filled' | 'cancelled' |
--   'expired' | 'open'); time_to_first_fill_ms, time_to_full_fill_ms, survival_ms (ms, exact decimal);
--   is_fill_event (survival_ms ends in the first fill, else it is censored)
-- rules (metrics.md section 6): is_full_fill when filled ≥ quantity − 0.000001 per fill. End state, first
--   match wins: fully filled (ended by its completing fill, the last one); cancelled (canceled_at set, or
--   an ioc order without one, which ends at receipt or its last fill); expired (a day order without
--   canceled_at, at 16:00 New York on its receipt day); open (gtc without canceled_at, censored at the
--   last timestamp anywhere in the data). cancelled_qty = unfilled shares of cancelled or expired orders.
-- survival: survival_ms = time to the first fill when there is one (event), else time to ended_at
--   (censoring: cancel, expiry or end of data before any fill; an unfilled ioc order is censored at 0).
with

family as (
    select *
    from fct_orders
    where order_category in ('inside_quote_limit', 'at_quote_limit', 'near_quote_limit', 'away_limit')
        and exclusion_scope is distinct from 'all'
),

-- the last instant the data knows of: open gtc orders are censored there (stored by the build)
data_end as (
    select data_end_at from int_data_end
),

filled as (
    select
        family.*,
        coalesce(family.fill_count, 0) as fills,
        coalesce(family.filled_qty, 0)::decimal(38, 6) as filled_shares,
        -- rounding allowance: 0.000001 share per fill
        coalesce(family.filled_qty, 0) >= family.quantity - 0.000001 * coalesce(family.fill_count, 0)
            as is_full,
        timezone('America/New_York', family.receipt_date + time '16:00:00') as expires_at,
    from family
),

ended as (
    select
        filled.*,
        case
            when is_full then 'filled'
            when canceled_at is not null or time_in_force in ('ioc', 'fok') then 'cancelled'
            when time_in_force = 'day' then 'expired'
            else 'open'
        end as end_state,
        case
            when is_full then last_fill_at
            when canceled_at is not null then canceled_at
            -- an ioc (or fok) order without canceled_at ended when received, or at its last fill
            when time_in_force in ('ioc', 'fok') then greatest(received_at, coalesce(last_fill_at, received_at))
            when time_in_force = 'day' then expires_at
            else (select data_end_at from data_end)
        end as ended_at,
    from filled
),

final as (
    select
        order_id,
        venue,
        symbol,
        is_sp500,
        side,
        order_category,
        size_bucket,
        share_bucket,
        distance_ticks,
        distance_bucket,
        month,
        receipt_date,
        time_in_force,
        is_directed,
        exclusion_reason,
        received_at,
        canceled_at,
        quantity,
        limit_price,
        nbb_r,
        nbo_r,
        fills as fill_count,
        filled_shares as filled_qty,
        case when is_full then 0 else greatest(quantity - filled_shares, 0) end as unfilled_qty,
        case when end_state in ('cancelled', 'expired') then greatest(quantity - filled_shares, 0) else 0 end
            as cancelled_qty,
        fills > 0 as is_any_fill,
        is_full as is_full_fill,
        first_fill_at,
        last_fill_at,
        case when is_full then last_fill_at end as full_fill_at,
        end_state,
        ended_at,
        (epoch_us(first_fill_at) - epoch_us(received_at))::decimal(38, 0) * 0.001::decimal(4, 3)
            as time_to_first_fill_ms,
        case when is_full then
            (epoch_us(last_fill_at) - epoch_us(received_at))::decimal(38, 0) * 0.001::decimal(4, 3)
        end as time_to_full_fill_ms,
        greatest(
            epoch_us(coalesce(first_fill_at, ended_at)) - epoch_us(received_at), 0
        )::decimal(38, 0) * 0.001::decimal(4, 3) as survival_ms,
        fills > 0 as is_fill_event,
    from ended
)

select * from final
