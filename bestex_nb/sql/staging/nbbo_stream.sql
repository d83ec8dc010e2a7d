-- nbbo_stream: the NBBO updates as the streaming as-of lookups read them (bestex_nb/build/nbbo/answers.py), in the
-- order of the file(s): no sort, so the pass over 100M quotes costs a scan.
-- grain: one row per update of the nbbo extract, in file order
-- params: $none (BIGINT: the kernel's "no value", written for a null price or seq)
-- columns: symbol_hash (UBIGINT, hash(symbol)), quoted_at_us (BIGINT, UTC microseconds),
--   bid_us, ask_us (BIGINT, micro-dollars: the DECIMAL(18,6) price × 10^6, exact), seq (BIGINT)
select
    hash(symbol) as symbol_hash,
    epoch_us(quoted_at) as quoted_at_us,
    coalesce((bid_price * 1000000)::bigint, $none) as bid_us,
    coalesce((ask_price * 1000000)::bigint, $none) as ask_us,
    coalesce(seq, $none) as seq,
from stg_nbbo_scan
