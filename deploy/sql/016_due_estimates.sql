-- 016_due_estimates.sql — checks_due (015) with the enabled-platform join inside
-- each branch of its candidates' UNION ALL, where the planner has statistics
-- (issue 14: 1 million due checks enqueued in 30 s or less).
--
-- 015 joined platforms to the output of that UNION ALL. A column of an
-- Append has no statistics, so the planner took 200 distinct platforms
-- against the table's 11 and estimated the join at 1/18 of its rows: 50,444
-- candidates for 1,899,199 (EXPLAIN ANALYZE, 1.3 million numbers and 3.9
-- million registrations). Planned for that, the selection probed the numbers
-- index once a candidate. Joined in each branch, the estimate is the
-- branch's own (917,157 there) and numbers is hash-joined.
-- With enqueue's selection no longer joining platforms again (the view has
-- only enabled platforms), the check-due selection over 1 million numbers, 3
-- million registrations, 999,199 due took 15.8 and 13.5 s before, 11.2 and
-- 11.1 s after (EXPLAIN ANALYZE, TIMING OFF, two runs each). Same rows and
-- columns as 015: the join is an inner join on enabled platforms either way.

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
    JOIN platforms p ON p.id = np.platform AND p.enabled
    WHERE np.last_checked_at IS NULL
       OR (np.last_checked_at >= '-infinity'
           AND np.last_checked_at < (SELECT c.at FROM cutoff c))
    UNION ALL
    SELECT np.number, np.platform, np.last_checked_at
    FROM number_risk r
    JOIN number_platforms np ON np.number = r.number
    JOIN platforms p ON p.id = np.platform AND p.enabled
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
