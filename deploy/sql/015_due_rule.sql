-- 015_due_rule.sql — a registration's cycle as an expression, not a
-- sub-select per candidate and policy (issue 14: 1 million due checks
-- enqueued in 30 s or less).
--
-- checks_due (013) chose each candidate's cycle with a LATERAL sub-select
-- (the shortest of its policy's risk, mark and full-check intervals, by a
-- VALUES list sorted and cut to one row). The planner, which estimates the
-- candidates at a few thousand whatever their number (013's cutoff is a
-- scalar it does not know), put that sub-select inside a nested loop over
-- every tenant's and scenario's policy: evaluated (tenants x scenarios) times
-- per candidate, 4.8 million times for 100,246 due registrations of a fleet
-- with 12 tenants and 4 scenarios (EXPLAIN ANALYZE on the scale benchmark's
-- 1.2 million registrations), and growing with the number of tenants. The
-- selection took 1.03-1.06 s there, 0.82-0.95 s with the rule below (warm,
-- two runs each). The same rule as plain expressions
-- over the candidate's row and its policy (a hash join, once a candidate):
-- * risk: the policy's risk_check_every, when the tenant is over its target
--   (reason risk_over_target) or the number is in number_risk (risk_<reason>);
-- * mark_check: mark_check_every unless it is 0;
-- * cycle: check_every;
-- the shortest of those that exist wins, ties to the first in that order (the
-- sub-select's ORDER BY every, rank); a registration with none is not due.
-- Same rows and columns as 013 (LEAST and = compare intervals as ORDER BY
-- did: 1 mon = 30 days).

CREATE OR REPLACE VIEW checks_due AS
WITH t AS MATERIALIZED (SELECT nt_now() AS now),
pol AS MATERIALIZED (
    SELECT ep.tenant_id, ep.scenario_id, ep.check_every, ep.mark_check_every,
           ep.risk_check_every, b.budget, b.currency, b.spent, ts.over_target
    FROM effective_policies ep
    JOIN tenant_budgets b ON b.tenant_id = ep.tenant_id
    LEFT JOIN tenant_status ts ON ts.tenant_id = ep.tenant_id
),
cutoff AS MATERIALIZED (
    SELECT max(t.now - e.every) AS at
    FROM t
    CROSS JOIN pol
    CROSS JOIN LATERAL (VALUES (pol.check_every), (NULLIF(pol.mark_check_every, interval '0')),
                               (CASE WHEN pol.over_target THEN pol.risk_check_every END)) e(every)
),
regs AS (
    SELECT np.number, np.platform, np.last_checked_at
    FROM number_platforms np
    WHERE np.last_checked_at IS NULL
       OR (np.last_checked_at >= '-infinity'
           AND np.last_checked_at < (SELECT c.at FROM cutoff c))
    UNION ALL
    SELECT np.number, np.platform, np.last_checked_at
    FROM number_risk r
    JOIN number_platforms np ON np.number = r.number
    WHERE np.last_checked_at >= COALESCE((SELECT c.at FROM cutoff c), '-infinity')
),
-- each candidate with the intervals that apply to it
iv AS (
    SELECT np.number, np.platform, n.tenant_id, n.scenario_id, np.last_checked_at,
           CASE WHEN ep.over_target THEN 'risk_over_target'
                WHEN nr.reason IS NOT NULL THEN 'risk_' || nr.reason END AS risk_reason,
           CASE WHEN ep.over_target OR nr.reason IS NOT NULL THEN ep.risk_check_every
           END AS risk_every,
           NULLIF(ep.mark_check_every, interval '0') AS mark_every,
           ep.check_every AS cycle_every,
           CASE WHEN pp.currency = ep.currency THEN COALESCE(pp.amount, 0) ELSE 0 END AS cost,
           ep.budget, ep.spent, t.now
    FROM regs np
    JOIN numbers n ON n.number = np.number
    JOIN platforms p ON p.id = np.platform AND p.enabled
    JOIN pol ep ON ep.tenant_id = n.tenant_id AND ep.scenario_id = n.scenario_id
    LEFT JOIN number_risk nr ON nr.number = np.number
    LEFT JOIN platform_prices pp ON pp.platform = np.platform AND pp.op = 'check'
    CROSS JOIN t
),
cand AS (
    SELECT number, platform, tenant_id, scenario_id, last_checked_at,
           CASE WHEN risk_every = every THEN risk_reason
                WHEN mark_every = every THEN 'mark_check'
                ELSE 'cycle' END AS reason,
           every,
           CASE WHEN risk_every = every THEN 0 WHEN mark_every = every THEN 1 ELSE 2 END AS rank,
           cost, budget, spent, now
    FROM (SELECT iv.*, LEAST(risk_every, mark_every, cycle_every) AS every FROM iv) x
    WHERE every IS NOT NULL
      AND (last_checked_at IS NULL OR last_checked_at < now - every)
)
SELECT number, platform, tenant_id, scenario_id, reason, every,
       CASE WHEN cost = 0 OR budget = 'Infinity'
                 OR spent + sum(cost) OVER w <= budget THEN 'go'
            ELSE 'deferred_budget' END AS decision,
       -- the check that follows the last observation: one id whatever made it due, so a
       -- cycle that shortens while a check waits in Kafka (a tenant going over its target)
       -- does not enqueue a second, paid check of the same registration
       'after.' || coalesce((extract(epoch FROM last_checked_at) * 1000)::bigint::text, 'never')
           AS period,
       cost
FROM cand
WINDOW w AS (PARTITION BY tenant_id ORDER BY (rank = 0) DESC, last_checked_at NULLS FIRST,
             number, platform);
