-- int_nbbo: the NBBO in force after each instant, whatever it says (valid or not).
-- grain: one row per symbol × quoted_at; when updates share a timestamp the last one wins
--        (highest seq, then the later row in the file).
-- params: none
-- columns: symbol, trade_date (New York calendar date), quoted_at (UTC), bid_price, ask_price (USD/share)
with

quotes as (
    select symbol, quoted_at, bid_price, ask_price, seq, row_no from stg_nbbo
),

final as (
    select
        symbol,
        timezone('America/New_York', quoted_at)::date as trade_date,
        quoted_at,
        bid_price,
        ask_price,
    from quotes
    qualify row_number() over (
        partition by symbol, quoted_at order by seq desc nulls last, row_no desc
    ) = 1
)

select * from final
