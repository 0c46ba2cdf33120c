-- 014_plan_fee.sql — one definition of a scenario's plan fee.
--
-- nt_plan_fees (006, over the numbers) and nt_plan_fees_snapshot (011, over
-- the fleet-state snapshot's counts) repeated the fee rule; a change to one
-- (a new plan_per) would have left the other behind. The rule is now
-- nt_plan_fee, and both read it. Same results as before.

-- A scenario's plan fee for a tenant in a month: a monthly plan costs its
-- amount, a yearly one a twelfth, a per-switch one its amount per seasonal
-- campaign label (distinct label and start) going live in the month on the
-- tenant's numbers of that scenario.
CREATE FUNCTION nt_plan_fee(p_month date, p_tenant text, p_scenario text)
    RETURNS numeric
    LANGUAGE sql STABLE AS $$
SELECT round(CASE s.plan_per
                 WHEN 'month' THEN s.plan_amount
                 WHEN 'year' THEN s.plan_amount / 12
                 ELSE s.plan_amount * (
                     SELECT count(DISTINCT (ls.label, ls.event_start)) FROM label_schedules ls
                     JOIN numbers n2 ON n2.number = ls.number
                     WHERE n2.tenant_id = p_tenant AND n2.scenario_id = s.id
                       AND ls.kind = 'campaign'
                       AND nt_month(ls.event_start - COALESCE(ls.lead, interval '7 days'))
                           = p_month)
             END, 2)
FROM scenarios s WHERE s.id = p_scenario
$$;

CREATE OR REPLACE FUNCTION nt_plan_fees(p_month date)
    RETURNS TABLE (tenant_id text, scenario_id text, numbers bigint, plan_per text,
                   amount numeric, currency text)
    LANGUAGE sql STABLE AS $$
SELECT n.tenant_id, s.id, count(*), s.plan_per, nt_plan_fee(p_month, n.tenant_id, s.id),
       s.plan_currency
FROM numbers n JOIN scenarios s ON s.id = n.scenario_id
GROUP BY n.tenant_id, s.id, s.plan_per, s.plan_currency
$$;

CREATE OR REPLACE FUNCTION nt_plan_fees_snapshot(p_month date)
    RETURNS TABLE (tenant_id text, scenario_id text, numbers bigint, plan_per text,
                   amount numeric, currency text)
    LANGUAGE sql STABLE AS $$
SELECT n.tenant_id, s.id, sum(n.numbers)::bigint, s.plan_per,
       nt_plan_fee(p_month, n.tenant_id, s.id), s.plan_currency
FROM fleet_state_numbers n JOIN scenarios s ON s.id = n.scenario_id
GROUP BY n.tenant_id, s.id, s.plan_per, s.plan_currency
$$;
