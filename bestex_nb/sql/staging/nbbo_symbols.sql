-- nbbo_symbols: the symbols the lookups can be asked about, with the hash the quote stream carries,
-- and a check that no other symbol of the quote file shares one of those hashes.
-- grain: one row per symbol of dim_symbol, in sym_id order (the kernel's symbol code is sym_id − 1)
-- params: none
-- columns: symbol, symbol_hash (UBIGINT), foreign_collisions (count of quote-file symbols outside
--   dim_symbol whose hash equals this symbol's; must be 0)
with

symbols as (
    select symbol, sym_id, hash(symbol) as symbol_hash from dim_symbol
),

quote_symbols as (
    select distinct symbol from stg_nbbo_scan
),

collisions as (
    select symbols.symbol, count(*) as foreign_collisions
    from quote_symbols
    join symbols on hash(quote_symbols.symbol) = symbols.symbol_hash
    where quote_symbols.symbol <> symbols.symbol
    group by symbols.symbol
),

final as (
    select symbols.symbol, symbols.symbol_hash, coalesce(collisions.foreign_collisions, 0) as foreign_collisions,
    from symbols
    left join collisions on symbols.symbol = collisions.symbol
    order by symbols.sym_id
)

select * from final
