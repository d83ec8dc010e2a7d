-- int_exclusion_candidates: the order rows an exclusion rule may apply to (a superset): the build applies
-- the rulebook (macros/rulebook.sql) through fct_orders' query to these rows only (marts/exclusions.sql),
-- instead of reading every order row joined to its answers, which is all the cost of the exclusions at
-- 10M orders. Each rule of the rulebook is covered:
--   * by the order columns alone, here, with the rulebook's own exclusion_rule: duplicate_order_id,
--     unknown_symbol, unknown_venue, not_routed, bad_quantity, bad_limit_price, bad_timestamps,
--     special_handling, not_held, directed;
--   * by the lookups' answers (answer_candidates in bestex_nb/build/exclusion_candidates.py, registered by
--     bestex_nb/build/nbbo/answers.py as int_answer_candidates): no_nbbo, one_sided_nbbo, crossed_nbbo, bad_fill,
--     overfilled, fill_before_receipt, outside_regular_hours.
-- A row here that no rule excludes is read and left out of the exclusions; a rule added to the rulebook
-- must be covered here too: tests/unit/test_rulebook.py checks on random rows across every rule's edge
-- that no row the rulebook excludes is missing here.
-- grain: one row per candidate order row
-- params: none
-- columns: row_no
with

-- the rulebook itself on the order columns; the inputs only the lookups give are left out (null, and an
-- ordinary NBBO: $1.00 x $1.01), as the rules that read them are the kernel's part below. Should a rule
-- on them ever hold for these stand-ins, every row becomes a candidate: slower, never wrong (and
-- tests/unit/test_rulebook.py fails)
by_order as (
    select row_no
    from stg_orders
    where exclusion_rule(
        is_duplicate_id := row_no in (select row_no from int_order_id_repeats),  -- bestex_nb/build/idmatch.py
        is_known_symbol := coalesce(symbol in (select symbol from stg_securities), false),
        routed_venue := routed_venue,
        is_known_venue := coalesce(routed_venue in (select venue_id from stg_venues), false),
        quantity := quantity,
        order_type := order_type,
        limit_price := limit_price,
        has_bad_fill := null,
        received_at := received_at,
        routed_at := routed_at,
        canceled_at := canceled_at,
        fill_count := null,
        filled_qty := null,
        first_fill_at := null,
        time_in_force := time_in_force,
        is_not_held := is_not_held,
        is_directed := is_directed,
        received_local := null,
        nbbo_r_quoted_at := received_at,
        nbb_r := 1.00,
        nbo_r := 1.01
    ) is not null
),

by_answers as (
    select row_no from int_answer_candidates
)

select row_no from by_order
union
select row_no from by_answers
