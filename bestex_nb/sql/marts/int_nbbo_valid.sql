-- int_nbbo_valid: the NBBO states that are *valid* (both sides > 0, bid <= ask), with their midpoint,
-- for the markout horizons (M_{t+Δ} in metrics.md section 1: the latest valid NBBO at or before t).
-- grain: one row per sym_id × quoted_at whose NBBO in force (the last update at that instant, see
--        int_nbbo) is valid. An update superseded at the same instant was never the NBBO in force,
--        so it is not used even when it is valid and the last one is not.
-- params: none
-- columns: sym_id, quoted_at (UTC), mid_price (USD/share, exact decimal)
with

nbbo as (
    select sym_id, quoted_at, bid_price, ask_price from int_nbbo
),

final as (
    select
        sym_id,
        quoted_at,
        (bid_price + ask_price) * 0.5::decimal(2, 1) as mid_price,
    from nbbo
    where bid_price > 0 and ask_price > 0 and bid_price <= ask_price
)

select * from final
