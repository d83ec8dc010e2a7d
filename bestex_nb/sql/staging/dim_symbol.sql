-- dim_symbol: an integer id for every symbol an order or a security names; the NBBO is keyed by it.
-- grain: one row per distinct symbol in stg_orders or stg_securities
-- params: none
-- columns: symbol (VARCHAR), sym_id (INTEGER, dense, in symbol order)
with

symbols as (
    select symbol from stg_securities
    union
    select symbol from stg_orders where symbol is not null
),

final as (
    select symbol, (row_number() over (order by symbol))::integer as sym_id from symbols
)

select * from final
