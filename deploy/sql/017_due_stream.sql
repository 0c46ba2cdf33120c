-- 017_due_stream.sql — checks_due (016) as a stream: its first rows come
-- before its last candidate is read, and no plan repeats the candidates once
-- per policy row (issue 14: 1 million due checks enqueued in 30 s or less).
--
-- Three changes, same rules:
-- * Only active numbers. enqueue dropped the others after the view, so a
--   disabled or offboarded number's registrations were still candidates and
--   took their place in the tenant's budget window: an active number could be
--   deferred for a budget the inactive ones had "spent". Now they are not due.
--   (enqueue's own join to numbers, one index probe per due check, goes.)
-- * The budget window only where a budget can defer. A tenant whose monthly
--   budget is unlimited (the default) has every check 'go' whatever the
--   running sum; its candidates skip the window, whose sort over every
--   candidate kept the first row back until the last was read. Tenants with a
--   budget keep 016's window (same partition, order and sum; a check that
--   costs nothing is 'go'). With no budget anywhere the second branch is a
--   one-time filter that runs nothing.
-- * No `>= '-infinity'` on the cutoff range. 013 added it so that the
--   planner, which cannot know the cutoff, would estimate the range at 0.5 %
--   and read the index. The candidates are then estimated at a few thousand
--   whatever their number, and once the small tables behind the policies
--   (scenarios, policies, tenant_status: a few rows, fewer changes than
--   autovacuum's analyze threshold) have statistics, pol is estimated at its
--   real 48 rows and the planner joins it in a nested loop: the candidates
--   read 48 times (EXPLAIN ANALYZE on the scale benchmark's 1 million numbers,
--   999,199 due, tables analyzed, of a draft of this view that kept the range
--   and so 016's candidates and joins: 47,961,552 rows joined, 183 s). 016 was
--   only fast because those tables had never been analyzed (pol estimated at
--   216,000 rows). A one-sided range is estimated at a third of the table,
--   which is what a large pass is, and the joins are hashed.
-- Same 1 million numbers, 999,199 due, warm: 016 with enqueue's sort and
-- join 10.9-12.6 s (EXPLAIN ANALYZE; nothing comes out before the sort ends);
-- 017 as enqueue reads it (a cursor, FETCH 5000 then the rest) 1.9 s to the
-- first 5,000 rows and 3.9 s for all (1.8 and 4.0 s with work_mem 64 MB), and
-- EXPLAIN ANALYZE 4.3 s with the small tables' statistics removed. With a
-- budget on every tenant (all rows through the window, 399,199 deferred) 10.6
-- s -> 8.1 s, the same rows (EXCEPT ALL both ways: 0 and 0).
--

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
       OR np.last_checked_at < (SELECT c.at FROM cutoff c)
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
    WHERE n.status = 'active'
),
cand AS NOT MATERIALIZED (
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
SELECT number, platform, tenant_id, scenario_id, reason, every, 'go' AS decision,
       'after.' || coalesce((extract(epoch FROM last_checked_at) * 1000)::bigint::text, 'never')
           AS period,
       cost
FROM cand
WHERE budget = 'Infinity'
UNION ALL
SELECT number, platform, tenant_id, scenario_id, reason, every,
       CASE WHEN cost = 0 OR spent + sum(cost) OVER w <= budget THEN 'go'
            ELSE 'deferred_budget' END AS decision,
       'after.' || coalesce((extract(epoch FROM last_checked_at) * 1000)::bigint::text, 'never')
           AS period,
       cost
FROM cand
WHERE budget IS DISTINCT FROM 'Infinity'
  AND EXISTS (SELECT 1 FROM pol WHERE pol.budget IS DISTINCT FROM 'Infinity')
WINDOW w AS (PARTITION BY tenant_id ORDER BY (rank = 0) DESC, last_checked_at NULLS FIRST,
             number, platform);
