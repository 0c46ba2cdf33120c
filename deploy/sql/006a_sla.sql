-- 006a_sla.sql — service-level clocks, mark rates, trust trends and the
-- risk-adaptive check schedule (issue 10; docs/policies.md).
--
-- Every reconciler pass (producer/sla.c) brings these tables up to date:
-- mark_rates keeps the mark rate per tenant, platform, scenario and number
-- group in hourly buckets of numtrust time (a pass overwrites its hour, so the
-- history has one row per hour); tenant_status is the latest tenant figure
-- and when it went over its target; sla_clocks has one row per thing with a
-- deadline (an appealable mark to appeal, an appeal to be decided, a
-- qualification or campaign label to show) with its evidence when breached;
-- trust_trends the fitted trust-score trend of every registration checked
-- since the last fit; number_risk the numbers to check more often.
-- checks_due is the check-due selection: every registration whose shortest
-- applicable cycle has come round, deferred when its tenant's monthly budget
-- is spent.

-- Does a check show label? Every surface it reports shows it, and it reports
-- at least one (the same rule as the closed loop's verification).
CREATE FUNCTION nt_sla_shows(android text, ios text, search text, label text)
    RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
SELECT (android IS NOT NULL OR ios IS NOT NULL OR search IS NOT NULL)
   AND (android IS NULL OR android = label) AND (ios IS NULL OR ios = label)
   AND (search IS NULL OR search = label)
$$;

CREATE TABLE mark_rates (
    tenant_id      text NOT NULL,
    dim            text NOT NULL CHECK (dim IN ('tenant', 'platform', 'scenario', 'group')),
    key            text NOT NULL,          -- '' for the tenant
    bucket         timestamptz NOT NULL,   -- the hour of numtrust time
    registrations  integer NOT NULL,       -- checked (number, platform) pairs
    marked         integer NOT NULL,       -- of them showing a rate mark (not cleared)
    rate           numeric(7, 6) NOT NULL,
    target         numeric(6, 5) NOT NULL,
    computed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, dim, key, bucket)
);

CREATE TABLE tenant_status (
    tenant_id      text PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    registrations  integer NOT NULL,
    marked         integer NOT NULL,
    mark_rate      numeric(7, 6) NOT NULL,
    target         numeric(6, 5) NOT NULL,
    over_target    boolean NOT NULL,
    over_since     timestamptz,            -- numtrust time the current episode began
    updated_at     timestamptz NOT NULL
);

CREATE TABLE sla_clocks (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('appeal_filing', 'appeal_decision',
                                                'qualification_label', 'campaign_label')),
    subject       text NOT NULL,           -- what the clock runs for, unique per kind
    tenant_id     text NOT NULL,
    scenario_id   text NOT NULL,
    number_group  text NOT NULL DEFAULT '',
    number        e164 NOT NULL,
    platform      platform_id NOT NULL,
    detail        text NOT NULL DEFAULT '', -- the mark type, the appeal's ticket, the label
    started_at    timestamptz NOT NULL,    -- numtrust time, as every time below
    near_at       timestamptz NOT NULL,    -- near-breach from here (policy near_breach)
    due_at        timestamptz NOT NULL,
    done_at       timestamptz,             -- filed, decided, shown
    status        text NOT NULL DEFAULT 'open'
                  CHECK (status IN ('open', 'at_risk', 'met', 'breached', 'cancelled')),
    breached_at   timestamptz,
    evidence      jsonb NOT NULL DEFAULT '{}',
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, subject)
);
-- the clocks a pass still has to look at
CREATE INDEX sla_clocks_live ON sla_clocks (kind)
    WHERE status IN ('open', 'at_risk') OR (status = 'breached' AND done_at IS NULL);
CREATE INDEX sla_clocks_tenant ON sla_clocks (tenant_id, started_at);

CREATE VIEW sla_breaches AS
SELECT id, kind, tenant_id, scenario_id, number_group, number, platform, detail, started_at,
       due_at, done_at, breached_at, COALESCE(done_at, nt_now()) - due_at AS late_by, evidence
FROM sla_clocks WHERE status = 'breached';

-- Per tenant and kind: met, breached, open and at risk in the month of
-- numtrust time (by due date).
CREATE VIEW sla_month AS
SELECT tenant_id, kind,
       count(*) FILTER (WHERE status = 'met') AS met,
       count(*) FILTER (WHERE status = 'breached') AS breached,
       count(*) FILTER (WHERE status = 'open') AS open,
       count(*) FILTER (WHERE status = 'at_risk') AS at_risk
FROM sla_clocks
WHERE nt_month(due_at) = nt_month(nt_now()) AND status <> 'cancelled'
GROUP BY tenant_id, kind;

-- The least-squares line through a registration's trust scores of the last
-- 180 days (fitted by producer/sla.c, common/trend.c): slope in points per
-- day, the relative decay over a quarter, and when the line crosses the
-- policy's trust threshold.
CREATE TABLE trust_trends (
    number             e164 NOT NULL,
    platform           platform_id NOT NULL,
    points             integer NOT NULL,
    first_at           timestamptz NOT NULL,
    last_at            timestamptz NOT NULL,
    last_score         smallint NOT NULL,
    slope_per_day      double precision NOT NULL,
    decay_pct_quarter  double precision NOT NULL,  -- > 0: falling
    threshold          smallint NOT NULL,
    crosses_at         timestamptz,                -- NULL: not falling towards it
    computed_at        timestamptz NOT NULL,       -- numtrust time
    PRIMARY KEY (number, platform)
);

-- Measured decay per quarter: the average trust score of each registration
-- per quarter of numtrust time, against the quarter before.
CREATE VIEW trust_quarterly AS
SELECT number, platform, quarter, checks, avg_score,
       round(100 * (lag(avg_score) OVER w - avg_score) / NULLIF(lag(avg_score) OVER w, 0), 2)
           AS decay_pct
FROM (SELECT number, platform, date_trunc('quarter', checked_at AT TIME ZONE 'UTC') AS quarter,
             count(*) AS checks, round(avg(trust_score), 2) AS avg_score
      FROM check_results WHERE trust_score IS NOT NULL
      GROUP BY number, platform, date_trunc('quarter', checked_at AT TIME ZONE 'UTC')) q
WINDOW w AS (PARTITION BY number, platform ORDER BY quarter);

-- Numbers to check more often, and why (refreshed every pass): a mark opened
-- within the policy's risk_mark_window and not cleared, or a trust score
-- falling by risk_trust_decay percent a quarter or more on some platform, or
-- callees reporting a mark through the feedback intake in the last 30 days
-- (view number_feedback_risk, migration 007). (A tenant over its mark-rate
-- target is in tenant_status.)
CREATE TABLE number_risk (
    number       e164 PRIMARY KEY,
    reason       text NOT NULL CHECK (reason IN ('recent_mark', 'falling_trust', 'callee_reports')),
    since        timestamptz NOT NULL,
    computed_at  timestamptz NOT NULL
);

-- The check-due selection (`enqueue check --due`, the reconciler's
-- check-due pass). Each registration's cycle is the shortest that applies:
--   risk_*      the policy's risk_check_every: its tenant is over its
--               mark-rate target, or the number is in number_risk;
--   mark_check  the policy's weekly mark check (mark_check_every), whatever
--               the scenario's full-check cycle;
--   cycle       the policy's check_every (default: the scenario's cycle).
-- A registration is due when its last check is older than its cycle. The
-- period of its job id is the cycle and its bucket, so a pass repeated in
-- the same bucket enqueues nothing twice. These are routine checks: with a
-- monthly budget, they are taken in order (risk first, then the longest
-- unchecked) while the month's spending plus their price stays within it,
-- and the rest are 'deferred_budget'. Service-level work (appeals, status
-- polls, labels, verification checks) is selected elsewhere and never
-- deferred.
CREATE VIEW checks_due AS
WITH t AS (SELECT nt_now() AS now),
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
