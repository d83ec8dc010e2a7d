-- int_nbbo: the NBBO in force after each instant, whatever it says (valid or not).
-- grain: one row per sym_id × quoted_at; when updates share a timestamp the last one wins
--        (highest seq, then the later row in the file; see int_nbbo_ties).
-- params: none
-- columns: sym_id, quoted_at (UTC), bid_price, ask_price (USD/share)
-- The "same New York trading day" rule is applied after the as-of joins, on the matched quote only
-- (the latest quote at or before t is from t's day exactly when that day has a quote at or before t),
-- so no time-zone conversion runs over the whole quote file.
with

superseded as (
    select row_no from int_nbbo_ties
),

final as (
    select sym_id, quoted_at, bid_price, ask_price,
    from stg_nbbo
    anti join superseded using (row_no)
)

select * from final
