-- int_exclusion_candidates: the order rows an exclusion rule may apply to (a superset): the build applies
-- the rulebook (macros/rulebook.sql) through fct_orders' query to these rows only (marts/exclusions.sql),
-- instead of reading every order row joined to its answers, which is all the cost of the exclusions at
-- 10M orders. Each rule of the rulebook is covered:
--   * by the order columns alone, here: duplicate_order_id, unknown_symbol, unknown_venue, not_routed,
--     bad_quantity, bad_limit_price, bad_timestamps, special_handling, not_held, directed;
--   * by the lookups' answers (answer_candidates in bestex_nb/build/nbbo_kernels.py, registered by
--     bestex_nb/build/nbbo.py as int_answer_candidates): no_nbbo, one_sided_nbbo, crossed_nbbo, bad_fill,
--     overfilled, fill_before_receipt, outside_regular_hours.
-- A row here that no rule excludes is read and left out of the exclusions; a rule added to the rulebook
-- must be covered here too: tests/unit/test_rulebook.py checks on random rows across every rule's edge
-- that no row the rulebook excludes is missing here.
-- grain: one row per candidate order row
-- params: none
-- columns: row_no
with

by_order as (
    select row_no
    from stg_orders
    where row_no in (select row_no from int_order_id_repeats)  -- the ids that repeat: bestex_nb/idmatch.py
        or symbol is null or symbol not in (select symbol from stg_securities)
        or routed_venue is null or routed_venue not in (select venue_id from stg_venues)
        or quantity is null or quantity <= 0
        or order_type = 'limit' and coalesce(limit_price, 0) <= 0
        or routed_at < received_at or canceled_at < received_at
        or order_type not in ('market', 'limit') or time_in_force = 'fok'
        or is_not_held or is_directed
),

by_answers as (
    select row_no from int_answer_candidates
)

select row_no from by_order
union
select row_no from by_answers
