-- int_order_facts: every order row with its order facts (marts/fct_orders.sql says which), before its
-- fill sums are added: a temporary view of the build, read by the per-order fill sums
-- (marts/int_order_fill_sums: the few columns a fill needs) and, whole, by the stored fct_orders.
-- grain: one row per row of the orders extract
-- params: none
-- the query: macros/order_facts.sql (order_facts), the same over the exclusions' candidate rows
select * from order_facts(fct_orders_base)
