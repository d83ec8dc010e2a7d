-- nbbo_stream_sorted: nbbo_stream in time order, for a file whose updates are not in time order within
-- each symbol (the streaming lookups need that order; see bestex_nb/build/nbbo/stream.py). Updates that share an
-- instant come in the order in which the last one wins: seq ascending with nulls first, then file row.
-- grain: one row per update of the nbbo extract, sorted by quoted_at, seq (nulls first), row_no
-- params: $none (BIGINT: the kernel's "no value", written for a null price or seq)
-- columns: as nbbo_stream
select
    hash(symbol) as symbol_hash,
    epoch_us(quoted_at) as quoted_at_us,
    coalesce((bid_price * 1000000)::bigint, $none) as bid_us,
    coalesce((ask_price * 1000000)::bigint, $none) as ask_us,
    coalesce(seq, $none) as seq,
from stg_nbbo
order by quoted_at, seq nulls first, row_no
