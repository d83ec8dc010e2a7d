-- int_nbbo_valid: the latest *valid* NBBO (both sides > 0, bid <= ask) after each instant, with its
-- midpoint, for the markout horizons (M_{t+Δ} in metrics.md section 1).
-- grain: one row per sym_id × quoted_at among valid updates (last valid update at that instant wins)
-- params: none
-- columns: sym_id, quoted_at (UTC), mid_price (USD/share, exact decimal)
with

quotes as (
    select sym_id, quoted_at, bid_price, ask_price, seq, row_no
    from stg_nbbo
    where bid_price > 0 and ask_price > 0 and bid_price <= ask_price
),

final as (
    select
        sym_id,
        quoted_at,
        (bid_price + ask_price) * 0.5::decimal(2, 1) as mid_price,
    from quotes
    qualify row_number() over (
        partition by sym_id, quoted_at order by seq desc nulls last, row_no desc
    ) = 1
)

select * from final
