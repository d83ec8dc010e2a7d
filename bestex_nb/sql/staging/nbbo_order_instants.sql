-- nbbo_order_instants: the instants at which each order row needs the NBBO in force: receipt and
-- routing (metrics.md section 1).
-- grain: one row per row of stg_orders
-- params: $none (BIGINT: the kernel's "no value", for an order that was not routed)
-- columns: row_no (the order row), has_symbol (false: no lookup), symbol_hash (UBIGINT, hash(symbol),
--   0 without a symbol), received_us, routed_us (BIGINT, UTC microseconds; routed_us = $none when not
--   routed)
select
    row_no,
    symbol is not null as has_symbol,
    coalesce(hash(symbol), 0::ubigint) as symbol_hash,
    coalesce(epoch_us(received_at), $none) as received_us,
    coalesce(epoch_us(routed_at), $none) as routed_us,
from stg_orders
