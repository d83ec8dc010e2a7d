-- int_nbbo_valid: the latest *valid* NBBO (both sides > 0, bid <= ask) after each instant, with its
-- midpoint, for the markout horizons (M_{t+Δ} in metrics.md section 1).
-- grain: one row per sym_id × quoted_at among valid updates (the last valid update at that instant)
-- params: none
-- columns: sym_id, quoted_at (UTC), mid_price (USD/share, exact decimal)
with

superseded as (
    select row_no from int_nbbo_ties where is_valid_series
),

final as (
    select
        sym_id,
        quoted_at,
        (bid_price + ask_price) * 0.5::decimal(2, 1) as mid_price,
    from stg_nbbo
    anti join superseded using (row_no)
    where bid_price > 0 and ask_price > 0 and bid_price <= ask_price
)

select * from final
