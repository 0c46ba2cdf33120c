-- 006c_checks_due_period.sql — one check per registration and last check,
-- whatever its cycle becomes meanwhile.
--
-- 006a named a due check's job after its cycle and the cycle's bucket
-- ('c86400.20475'). A registration's cycle can change while its check is
-- still queued: the first checks of a fleet put its tenant over its
-- mark-rate target, the next pass sees the 1-day risk cycle instead of the
-- weekly one, and enqueued a second check of the same registration under a
-- new id (the compose test counted 582 such doubles). The period is now the
-- registration's last check (its time, 0 for never) and the bucket of its
-- full-check cycle (policy check_every), which changes only with the policy:
-- a pass repeated before the check is done names it the same, a check done
-- opens the next one, and a check that failed for good is tried again when
-- the full-check cycle comes round, as before.
CREATE OR REPLACE VIEW checks_due AS
WITH t AS (SELECT nt_now() AS now),
cand AS (
    SELECT np.number, np.platform, n.tenant_id, n.scenario_id, np.last_checked_at,
           c.reason, c.every, c.rank, ep.check_every AS full_every,
           CASE WHEN pp.currency = b.currency THEN COALESCE(pp.amount, 0) ELSE 0 END AS cost,
           b.budget, b.spent, t.now
    FROM number_platforms np
    JOIN numbers n ON n.number = np.number
    JOIN platforms p ON p.id = np.platform AND p.enabled
    JOIN effective_policies ep ON ep.tenant_id = n.tenant_id AND ep.scenario_id = n.scenario_id
    JOIN tenant_budgets b ON b.tenant_id = n.tenant_id
    LEFT JOIN tenant_status ts ON ts.tenant_id = n.tenant_id
    LEFT JOIN number_risk nr ON nr.number = np.number
    LEFT JOIN platform_prices pp ON pp.platform = np.platform AND pp.op = 'check'
    CROSS JOIN t
    CROSS JOIN LATERAL (
        SELECT v.reason, v.every, v.rank FROM (VALUES
            (CASE WHEN ts.over_target THEN 'risk_over_target'
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
       'c' || COALESCE((extract(epoch FROM last_checked_at) * 1000)::bigint, 0) || '.'
           || floor(extract(epoch FROM now) / extract(epoch FROM full_every))::bigint AS period,
       cost
FROM cand
WINDOW w AS (PARTITION BY tenant_id ORDER BY (rank = 0) DESC, last_checked_at NULLS FIRST,
             number, platform);
