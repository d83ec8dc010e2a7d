-- int_nbbo_ties: the NBBO updates that are *not* the last at their instant, which the as-of joins
-- must skip: when updates share a symbol and timestamp, the last one wins (highest seq, then the
-- later row in the file). Only the few tied rows are ranked, so the quotes are never sorted here.
-- grain: one row per superseded update
-- params: none
-- columns: row_no (the update's row in stg_nbbo)
with

tied_keys as (
    select sym_id, quoted_at from stg_nbbo group by all having count(*) > 1
),

tied as (
    select sym_id, quoted_at, seq, row_no,
    from stg_nbbo
    semi join tied_keys using (sym_id, quoted_at)
),

final as (
    select row_no
    from tied
    qualify row_number() over (partition by sym_id, quoted_at order by seq desc nulls last, row_no desc) > 1
)

select * from final
