-- 013_due_index.sql — the check-due selection reads the due registrations,
-- not the fleet (issue 14: 1 million due checks enqueued in 30 s or less, with
-- memory flat in the fleet size).
--
-- checks_due (006a, 012) computed every registration's cycle and compared it
-- with its last check: a sequential scan of number_platforms and a join per
-- row, 14.6 s of the 20.1 s due step on the scale benchmark's 3 million
-- registrations (100,000 due), minutes at 30 million. Same rows and columns
-- now, read through an index on last_checked_at:
-- * a registration's cycle is one of its policy's check_every,
--   mark_check_every (when not 0) and, for a tenant over its mark-rate target
--   or a number in number_risk, risk_check_every. So a registration that is
--   not in number_risk is due only if it was never checked or checked before
--   the latest of now - cycle over those values of every effective policy
--   (risk_check_every only for tenants over target): the cutoff. Taken as
--   the latest timestamp, not now - the shortest interval, because interval
--   order (1 mon = 30 days) is not timestamp order (a month back from 1 March
--   is 28 days back). One tenant over its target (risk_check_every, 1 day by
--   default) moves the cutoff to a day ago for every tenant.
-- * candidates: the registrations never checked or checked before the cutoff
--   (two ranges of the index), and those of the numbers in number_risk (a
--   small set, through the primary key); then the per-registration rule and
--   the budget window of 012, unchanged, on the candidates only.
-- * the cutoff is a scalar sub-select, computed once, so the planner does not
--   know it; it would estimate a third of the fleet before it and choose a
--   sequential scan. `>= '-infinity'` (true of every non-NULL timestamp)
--   makes the range two-sided, which PostgreSQL estimates as narrow (0.5 %),
--   so the plan is the index's whatever the fleet size. No policies: no
--   cutoff (NULL), only the never-checked are candidates, and the policy join
--   drops them as before.
-- * the policies, budgets and status of every tenant and scenario (a few rows)
--   are computed once and hashed (pol): joined as the views, the planner put
--   the candidates inside a nested loop over the tenants, 20 x 3 million rows
--   when the whole fleet was due.
-- * now is computed once (012): the MATERIALIZED CTE t.
-- On a test fleet of 3 million registrations the view took 0.54 s with
-- 99,000 due (16.2 s before) and 15.9 s with all of them due (29.0 s); the
-- scale benchmark's due step (3 million, 99,928 due) 6.4 s (20.1 s).
--
-- Write cost: every check writes last_checked_at, so with an index on it the
-- check's UPDATE of number_platforms is no longer HOT: a new entry in each of
-- the table's three indexes. tests/bench/run.sh --stack --repeat, three runs
-- each before and after: WAL per check 1164 / 1163 / 1178 -> 1324 / 1327 /
-- 1325 bytes; per check that changes nothing 614 / 612 / 611 -> 798 / 808 /
-- 796 bytes, within the 1 KiB target. number_platforms_platform (001) stays:
-- the foreign key from platforms and the selections' --platform filter use
-- it. CREATE INDEX (not CONCURRENTLY: a migration is one transaction) holds
-- writes to number_platforms while it builds; apply 013 with the workers
-- stopped.

CREATE INDEX number_platforms_last_checked ON number_platforms (last_checked_at NULLS FIRST);

CREATE OR REPLACE VIEW checks_due AS
WITH t AS MATERIALIZED (SELECT nt_now() AS now),
-- each tenant and scenario's policy, budget and status: a few rows, hashed, whatever the
-- number of candidates
pol AS MATERIALIZED (
    SELECT ep.tenant_id, ep.scenario_id, ep.check_every, ep.mark_check_every,
           ep.risk_check_every, b.budget, b.currency, b.spent, ts.over_target
    FROM effective_policies ep
    JOIN tenant_budgets b ON b.tenant_id = ep.tenant_id
    LEFT JOIN tenant_status ts ON ts.tenant_id = ep.tenant_id
),
-- no registration not in number_risk is due after this (NULL: no policy)
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
    -- those of numbers in number_risk that the ranges above do not hold
    SELECT np.number, np.platform, np.last_checked_at
    FROM number_risk r
    JOIN number_platforms np ON np.number = r.number
    WHERE np.last_checked_at >= COALESCE((SELECT c.at FROM cutoff c), '-infinity')
),
cand AS (
    SELECT np.number, np.platform, n.tenant_id, n.scenario_id, np.last_checked_at,
           c.reason, c.every, c.rank,
           CASE WHEN pp.currency = ep.currency THEN COALESCE(pp.amount, 0) ELSE 0 END AS cost,
           ep.budget, ep.spent, t.now
    FROM regs np
    JOIN numbers n ON n.number = np.number
    JOIN platforms p ON p.id = np.platform AND p.enabled
    JOIN pol ep ON ep.tenant_id = n.tenant_id AND ep.scenario_id = n.scenario_id
    LEFT JOIN number_risk nr ON nr.number = np.number
    LEFT JOIN platform_prices pp ON pp.platform = np.platform AND pp.op = 'check'
    CROSS JOIN t
    CROSS JOIN LATERAL (
        SELECT v.reason, v.every, v.rank FROM (VALUES
            (CASE WHEN ep.over_target THEN 'risk_over_target'
                  WHEN nr.reason IS NOT NULL THEN 'risk_' || nr.reason END,
             ep.risk_check_every, 0),
            ('mark_check', NULLIF(ep.mark_check_every, interval '0'), 1),
            ('cycle', ep.check_every, 2)) v(reason, every, rank)
        WHERE v.reason IS NOT NULL AND v.every IS NOT NULL
        ORDER BY v.every, v.rank LIMIT 1) c
    WHERE np.last_checked_at IS NULL OR np.last_checked_at < t.now - c.every
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
