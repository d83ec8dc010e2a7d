-- int_nbbo_ties: the NBBO updates that are *not* the last at their instant, which the as-of joins
-- must skip: when updates share a symbol and timestamp, the last one wins (highest seq, then the
-- later row in the file). Only the few tied rows are ranked, so the quotes are never sorted here.
-- grain: one row per superseded update, for all updates (is_valid_series false) and again among the
--        valid ones (is_valid_series true: both sides > 0 and bid <= ask)
-- params: none
-- columns: row_no (the update's row in stg_nbbo), is_valid_series
with

tied_keys as (
    select sym_id, quoted_at from stg_nbbo group by all having count(*) > 1
),

tied as (
    select
        sym_id, quoted_at, seq, row_no,
        bid_price > 0 and ask_price > 0 and bid_price <= ask_price as is_valid,
    from stg_nbbo
    semi join tied_keys using (sym_id, quoted_at)
),

superseded_all as (
    select row_no, false as is_valid_series
    from tied
    qualify row_number() over (partition by sym_id, quoted_at order by seq desc nulls last, row_no desc) > 1
),

superseded_valid as (
    select row_no, true as is_valid_series
    from tied
    where is_valid
    qualify row_number() over (partition by sym_id, quoted_at order by seq desc nulls last, row_no desc) > 1
),

final as (
    select * from superseded_all
    union all
    select * from superseded_valid
)

select * from final
