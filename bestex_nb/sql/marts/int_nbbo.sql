-- int_nbbo: the NBBO in force after each instant, whatever it says (valid or not).
-- grain: one row per sym_id × quoted_at; when updates share a timestamp the last one wins
--        (highest seq, then the later row in the file).
-- params: none
-- columns: sym_id, quoted_at (UTC), bid_price, ask_price (USD/share)
-- The "same New York trading day" rule is applied after the as-of joins, on the matched quote only
-- (the latest quote at or before t is from t's day exactly when that day has a quote at or before t),
-- so no time-zone conversion runs over the whole quote file.
with

quotes as (
    select sym_id, quoted_at, bid_price, ask_price, seq, row_no from stg_nbbo
),

final as (
    select
        sym_id,
        quoted_at,
        bid_price,
        ask_price,
    from quotes
    qualify row_number() over (
        partition by sym_id, quoted_at order by seq desc nulls last, row_no desc
    ) = 1
)

select * from final
