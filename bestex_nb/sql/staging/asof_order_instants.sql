-- asof_order_instants: the instants at which each order row needs the NBBO in force: receipt and
-- routing (metrics.md section 1).
-- grain: one row per row of stg_orders with a symbol
-- params: $none (BIGINT: the kernel's "no value", for an order that was not routed)
-- columns: row_no (the order row), symbol_hash (UBIGINT, hash(symbol)), received_us, routed_us
--   (BIGINT, UTC microseconds; routed_us = $none when not routed)
select
    row_no,
    hash(symbol) as symbol_hash,
    epoch_us(received_at) as received_us,
    coalesce(epoch_us(routed_at), $none) as routed_us,
from stg_orders
where symbol is not null
