-- rulebook: the exclusion rules (metrics.md "Exclusions"), written once: every reason, its order of
-- precedence, its scope and the test it makes of an order row. DuckDB macros, created by the build before
-- any model (bestex_nb/build/store.py) and kept in the store: marts/fct_orders gives each order row its
-- reason and scope with them, marts/exclusions lists fct_orders' excluded rows, metrics/reconciliation
-- reports the reasons in this order (exclusion_reasons()).
-- grain: none (macro definitions); exclusion_reasons() gives one row per reason
-- params: none
-- macros: exclusion_rulebook() (the list), exclusion_reasons() (the list as a table: position, reason,
--   scope), exclusion_position(reason), exclusion_reason(position), exclusion_scope(position),
--   is_regular_hours(received_local), nbbo_rule(...), nbbo_status(...), exclusion_rule(...)
--
-- The prefilter of the build (staging/int_exclusion_candidates.sql and the lookups' answer_candidates in
-- bestex_nb/build/exclusion_candidates.py) may name more rows than these rules exclude, never fewer:
-- tests/unit/test_rulebook.py checks it against this file on random rows across every rule's edge.

-- The reasons, first to last in their order of precedence, each with its scope: 'all' (unusable data:
-- out of every figure) or 'quality' (out of the execution-quality statistics only). The one list of them.
create or replace macro exclusion_rulebook() as [
    {'reason': 'duplicate_order_id', 'scope': 'all'},
    {'reason': 'unknown_symbol', 'scope': 'all'},
    {'reason': 'unknown_venue', 'scope': 'all'},
    {'reason': 'bad_quantity', 'scope': 'all'},
    {'reason': 'bad_limit_price', 'scope': 'all'},
    {'reason': 'bad_fill', 'scope': 'all'},
    {'reason': 'bad_timestamps', 'scope': 'all'},
    {'reason': 'overfilled', 'scope': 'all'},
    {'reason': 'fill_before_receipt', 'scope': 'all'},
    {'reason': 'special_handling', 'scope': 'quality'},
    {'reason': 'not_held', 'scope': 'quality'},
    {'reason': 'directed', 'scope': 'quality'},
    {'reason': 'not_routed', 'scope': 'quality'},
    {'reason': 'outside_regular_hours', 'scope': 'quality'},
    {'reason': 'no_nbbo', 'scope': 'quality'},
    {'reason': 'one_sided_nbbo', 'scope': 'quality'},
    {'reason': 'crossed_nbbo', 'scope': 'quality'},
];

-- The list as a table, for reports: position (1 = first in precedence), reason, scope.
create or replace macro exclusion_reasons() as table
    select
        positions.position::integer as position,
        exclusion_rulebook()[positions.position].reason as reason,
        exclusion_rulebook()[positions.position].scope as scope,
    from range(1, len(exclusion_rulebook()) + 1) as positions (position);

-- A reason's position in the list; a name not in it is an error as soon as a row meets its rule (rather
-- than a rule that never applies). Constant for a constant name: DuckDB computes it once, when it plans.
create or replace macro exclusion_position(reason) as coalesce(
    list_position(list_transform(exclusion_rulebook(), lambda r: r.reason), reason),
    error('not a reason of the rulebook: ' || reason));

-- The reason and scope at a position (null for null: no rule applies).
create or replace macro exclusion_reason(position) as exclusion_rulebook()[position].reason;
create or replace macro exclusion_scope(position) as exclusion_rulebook()[position].scope;

-- The regular session, on New York's wall clock: [09:30, 16:00).
create or replace macro is_regular_hours(received_local) as
    received_local::time >= time '09:30:00' and received_local::time < time '16:00:00';

-- The NBBO at receipt, as a rule: the position of the first of its reasons that applies (no quote that
-- day; a side null or <= 0; bid above ask), null when it is usable. A locked NBBO (bid = ask) is usable.
create or replace macro nbbo_rule(quoted_at, nbb, nbo) as least(
    case when quoted_at is null then exclusion_position('no_nbbo') end,
    case when coalesce(nbb, 0) <= 0 or coalesce(nbo, 0) <= 0 then exclusion_position('one_sided_nbbo') end,
    case when nbb > nbo then exclusion_position('crossed_nbbo') end);

-- The NBBO's status: its reason, or 'ok'.
create or replace macro nbbo_status(quoted_at, nbb, nbo) as
    coalesce(exclusion_reason(nbbo_rule(quoted_at, nbb, nbo)), 'ok');

-- The rule an order row meets: the position of the first reason, in the list's order, whose test it
-- meets; null when none (the row is analysed). Each test is written next to its reason, in any order:
-- the precedence is the list's. Quantities in shares, instants as stored (UTC), received_local New York.
create or replace macro exclusion_rule(
    is_duplicate_id, is_known_symbol, routed_venue, is_known_venue, quantity, order_type, limit_price,
    has_bad_fill, received_at, routed_at, canceled_at, fill_count, filled_qty, first_fill_at, time_in_force,
    is_not_held, is_directed, received_local, nbbo_r_quoted_at, nbb_r, nbo_r
) as least(
    case when is_duplicate_id then exclusion_position('duplicate_order_id') end,
    case when not is_known_symbol then exclusion_position('unknown_symbol') end,
    case when routed_venue is not null and not is_known_venue then exclusion_position('unknown_venue') end,
    case when quantity is null or quantity <= 0 then exclusion_position('bad_quantity') end,
    case when order_type = 'limit' and coalesce(limit_price, 0) <= 0 then exclusion_position('bad_limit_price') end,
    case when has_bad_fill then exclusion_position('bad_fill') end,
    case when routed_at < received_at or canceled_at < received_at then exclusion_position('bad_timestamps') end,
    -- rounding allowance: 0.000001 share per fill
    case when filled_qty > quantity + 0.000001 * fill_count then exclusion_position('overfilled') end,
    case when first_fill_at < received_at then exclusion_position('fill_before_receipt') end,
    case when order_type not in ('market', 'limit') or time_in_force = 'fok'
        then exclusion_position('special_handling') end,
    case when is_not_held then exclusion_position('not_held') end,
    case when is_directed then exclusion_position('directed') end,
    case when routed_venue is null then exclusion_position('not_routed') end,
    case when not is_regular_hours(received_local) then exclusion_position('outside_regular_hours') end,
    nbbo_rule(nbbo_r_quoted_at, nbb_r, nbo_r));
