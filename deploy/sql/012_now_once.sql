-- 012_now_once.sql — numtrust now computed once per query, not once per row
-- (issue 14, item 4).
--
-- nt_now() (005a) is a SQL function with a sub-select (the clock offset), so
-- PostgreSQL cannot inline it: each call runs it. The views read it through
-- `WITH t AS (SELECT nt_now() AS now)` or `CROSS JOIN (SELECT nt_now() AS now)
-- t`, which the planner flattens, so t.now became a call per row and use: on
-- 3 million registrations the check-due selection made 6 million buffer
-- reads of clock_offset and took 22.6 s, 14.6 s with now computed once
-- (measured on the scale benchmark's fleet). Same definitions as 006a and
-- 005b, with the CTE materialized and the sub-select kept (OFFSET 0); the
-- producer's own statements do the same (producer/enqueue.c, reconcile.c,
-- sla.c).

CREATE OR REPLACE VIEW wanted_labels AS
SELECT np.number, np.platform, COALESCE(s.label, n.base_label) AS label,
       s.id AS schedule_id, s.kind
FROM number_platforms np
JOIN numbers n ON n.number = np.number
JOIN tenants tn ON tn.id = n.tenant_id
CROSS JOIN (SELECT nt_now() AS now OFFSET 0) t
LEFT JOIN LATERAL (
    SELECT ls.id, ls.label, ls.kind FROM label_schedules ls
    JOIN schedule_kinds k ON k.kind = ls.kind
    WHERE ls.number = np.number AND (ls.platform IS NULL OR ls.platform = np.platform)
      AND nt_label_live(t.now, ls.event_start, ls.event_end, COALESCE(ls.lead, k.default_lead),
                        ls.daily_from, ls.daily_to, tn.time_zone)
    ORDER BY ls.priority DESC, ls.event_start DESC, ls.id DESC
    LIMIT 1) s ON true;

CREATE OR REPLACE VIEW checks_due AS
WITH t AS MATERIALIZED (SELECT nt_now() AS now),
cand AS (
    SELECT np.number, np.platform, n.tenant_id, n.scenario_id, np.last_checked_at,
           c.reason, c.every, c.rank,
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
       -- the check that follows the last observation: one id whatever made it due, so a
       -- cycle that shortens while a check waits in Kafka (a tenant going over its target)
       -- does not enqueue a second, paid check of the same registration
       'after.' || coalesce((extract(epoch FROM last_checked_at) * 1000)::bigint::text, 'never')
           AS period,
       cost
FROM cand
WINDOW w AS (PARTITION BY tenant_id ORDER BY (rank = 0) DESC, last_checked_at NULLS FIRST,
             number, platform);
