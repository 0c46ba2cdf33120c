-- 006_policies.sql — policies per tenant, number groups, prices and the cost
-- ledger (issue 10; docs/policies.md).
--
-- A policy is layered: the row ('*', '*') holds the defaults (the article's
-- targets), ('*', scenario) overrides them per scenario, (tenant, '*') per
-- tenant, (tenant, scenario) both; a NULL field inherits from the layer
-- below. `numtrust-producer policy` manages the rows, from the command line or
-- from a policy file kept in version control; effective_policies resolves
-- them for every tenant and scenario (common/policy.c resolves the same way
-- for `policy show`).
--
-- Costs: every result row of a priced operation (check_results, tag_updates,
-- appeals, renewals) writes one cost_ledger row in the same statement, by an
-- AFTER INSERT statement trigger over the inserted rows. A trigger, not rows
-- in the workers' statements: every path that records a result (the writer,
-- the manual queue's `actions done`, future ones) is costed without knowing
-- about prices, a row the result statement did not insert (ON CONFLICT DO
-- NOTHING) is not in the transition table, so a cost is written exactly once
-- with its result and rolled back with it, and one INSERT ... SELECT per
-- statement keeps the batch path cheap. Prices come from platforms.json,
-- copied into platform_prices by every reconciler pass (`costs prices`).

-- ---------------------------------------------------------------- policies

CREATE FUNCTION nt_is_mark_types(types text[]) RETURNS boolean
    LANGUAGE sql IMMUTABLE AS $$
SELECT types IS NULL OR types <@ ARRAY['harassment', 'fraud', 'agency', 'finance', 'advertising',
                                       'delivery', 'taxi', 'other']::text[]
$$;

CREATE TABLE policies (
    tenant_id                   text NOT NULL DEFAULT '*',  -- '*': every tenant
    scenario_id                 text NOT NULL DEFAULT '*',  -- '*': every scenario
    max_mark_rate               numeric(6, 5) CHECK (max_mark_rate BETWEEN 0 AND 1),
    rate_marks                  text[] CHECK (nt_is_mark_types(rate_marks)),
    appeal_marks                text[] CHECK (nt_is_mark_types(appeal_marks)),
    appeal_file_within          interval CHECK (appeal_file_within > interval '0'),
    appeal_decide_within        interval CHECK (appeal_decide_within > interval '0'),
    qualification_within        interval CHECK (qualification_within > interval '0'),
    campaign_lead               interval CHECK (campaign_lead >= interval '0'),
    check_every                 interval CHECK (check_every > interval '0'),
    mark_check_every            interval CHECK (mark_check_every >= interval '0'), -- 0: off
    risk_check_every            interval CHECK (risk_check_every > interval '0'),
    risk_mark_window            interval CHECK (risk_mark_window >= interval '0'),
    risk_trust_decay            numeric(6, 2) CHECK (risk_trust_decay >= 0),
    trust_threshold             smallint CHECK (trust_threshold BETWEEN 0 AND 100),
    near_breach                 numeric(3, 2) CHECK (near_breach > 0 AND near_breach <= 1),
    monthly_budget              numeric CHECK (monthly_budget >= 0),  -- 'Infinity': no cap
    budget_currency             text CHECK (budget_currency ~ '^[A-Z]{3}$'),
    quarantine_fraud_platforms  smallint CHECK (quarantine_fraud_platforms >= 0), -- 0: off
    quarantine_cooldown         interval CHECK (quarantine_cooldown >= interval '0'),
    cert_warn_ahead             interval CHECK (cert_warn_ahead >= interval '0'),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    updated_by                  text NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, scenario_id),
    CHECK (tenant_id = '*' OR tenant_id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    -- tenant-wide fields: no per-scenario value
    CHECK (scenario_id = '*' OR (monthly_budget IS NULL AND budget_currency IS NULL
                                 AND rate_marks IS NULL)),
    -- the defaults row is complete (check_every NULL: the scenario's own cycle)
    CHECK (tenant_id <> '*' OR scenario_id <> '*' OR (
        max_mark_rate IS NOT NULL AND rate_marks IS NOT NULL AND appeal_marks IS NOT NULL
        AND appeal_file_within IS NOT NULL AND appeal_decide_within IS NOT NULL
        AND qualification_within IS NOT NULL AND campaign_lead IS NOT NULL
        AND mark_check_every IS NOT NULL AND risk_check_every IS NOT NULL
        AND risk_mark_window IS NOT NULL AND risk_trust_decay IS NOT NULL
        AND trust_threshold IS NOT NULL AND near_breach IS NOT NULL
        AND monthly_budget IS NOT NULL AND budget_currency IS NOT NULL
        AND quarantine_fraud_platforms IS NOT NULL AND quarantine_cooldown IS NOT NULL
        AND cert_warn_ahead IS NOT NULL))
);

-- The article's targets (docs/domain.md; common/policy.c has the same
-- defaults for `policy show` and the policy file).
INSERT INTO policies (tenant_id, scenario_id, max_mark_rate, rate_marks, appeal_marks,
                      appeal_file_within, appeal_decide_within, qualification_within,
                      campaign_lead, mark_check_every, risk_check_every, risk_mark_window,
                      risk_trust_decay, trust_threshold, near_breach, monthly_budget,
                      budget_currency, quarantine_fraud_platforms, quarantine_cooldown,
                      cert_warn_ahead, updated_by)
VALUES ('*', '*', 0.03, '{harassment}', '{harassment,fraud,agency}', interval '12 hours',
        interval '72 hours', interval '24 hours', interval '7 days', interval '7 days',
        interval '1 day', interval '14 days', 10, 60, 0.8, 'Infinity', 'CNY', 2,
        interval '14 days', interval '30 days', 'migration 006');

-- Every tenant x scenario with each field resolved: (tenant, scenario), then
-- (tenant, '*'), then ('*', scenario), then ('*', '*'); check_every falls
-- back to the scenario's cycle.
CREATE VIEW effective_policies AS
SELECT t.id AS tenant_id, s.id AS scenario_id,
       COALESCE(ts.max_mark_rate, tn.max_mark_rate, sc.max_mark_rate, g.max_mark_rate) AS max_mark_rate,
       COALESCE(tn.rate_marks, g.rate_marks) AS rate_marks,
       COALESCE(ts.appeal_marks, tn.appeal_marks, sc.appeal_marks, g.appeal_marks) AS appeal_marks,
       COALESCE(ts.appeal_file_within, tn.appeal_file_within, sc.appeal_file_within,
                g.appeal_file_within) AS appeal_file_within,
       COALESCE(ts.appeal_decide_within, tn.appeal_decide_within, sc.appeal_decide_within,
                g.appeal_decide_within) AS appeal_decide_within,
       COALESCE(ts.qualification_within, tn.qualification_within, sc.qualification_within,
                g.qualification_within) AS qualification_within,
       COALESCE(ts.campaign_lead, tn.campaign_lead, sc.campaign_lead, g.campaign_lead) AS campaign_lead,
       COALESCE(ts.check_every, tn.check_every, sc.check_every, g.check_every,
                s.check_interval) AS check_every,
       COALESCE(ts.mark_check_every, tn.mark_check_every, sc.mark_check_every,
                g.mark_check_every) AS mark_check_every,
       COALESCE(ts.risk_check_every, tn.risk_check_every, sc.risk_check_every,
                g.risk_check_every) AS risk_check_every,
       COALESCE(ts.risk_mark_window, tn.risk_mark_window, sc.risk_mark_window,
                g.risk_mark_window) AS risk_mark_window,
       COALESCE(ts.risk_trust_decay, tn.risk_trust_decay, sc.risk_trust_decay,
                g.risk_trust_decay) AS risk_trust_decay,
       COALESCE(ts.trust_threshold, tn.trust_threshold, sc.trust_threshold,
                g.trust_threshold) AS trust_threshold,
       COALESCE(ts.near_breach, tn.near_breach, sc.near_breach, g.near_breach) AS near_breach,
       COALESCE(tn.monthly_budget, g.monthly_budget) AS monthly_budget,
       COALESCE(tn.budget_currency, g.budget_currency) AS budget_currency,
       COALESCE(ts.quarantine_fraud_platforms, tn.quarantine_fraud_platforms,
                sc.quarantine_fraud_platforms, g.quarantine_fraud_platforms)
           AS quarantine_fraud_platforms,
       COALESCE(ts.quarantine_cooldown, tn.quarantine_cooldown, sc.quarantine_cooldown,
                g.quarantine_cooldown) AS quarantine_cooldown,
       COALESCE(ts.cert_warn_ahead, tn.cert_warn_ahead, sc.cert_warn_ahead,
                g.cert_warn_ahead) AS cert_warn_ahead
FROM tenants t
CROSS JOIN scenarios s
JOIN policies g ON g.tenant_id = '*' AND g.scenario_id = '*'
LEFT JOIN policies sc ON sc.tenant_id = '*' AND sc.scenario_id = s.id
LEFT JOIN policies tn ON tn.tenant_id = t.id AND tn.scenario_id = '*'
LEFT JOIN policies ts ON ts.tenant_id = t.id AND ts.scenario_id = s.id;

-- The tenant-wide fields (the tenant's own mark-rate target, budget).
CREATE VIEW tenant_policies AS
SELECT t.id AS tenant_id,
       COALESCE(tn.max_mark_rate, g.max_mark_rate) AS max_mark_rate,
       COALESCE(tn.rate_marks, g.rate_marks) AS rate_marks,
       COALESCE(tn.monthly_budget, g.monthly_budget) AS monthly_budget,
       COALESCE(tn.budget_currency, g.budget_currency) AS budget_currency,
       COALESCE(tn.near_breach, g.near_breach) AS near_breach
FROM tenants t
JOIN policies g ON g.tenant_id = '*' AND g.scenario_id = '*'
LEFT JOIN policies tn ON tn.tenant_id = t.id AND tn.scenario_id = '*';

-- Does the policy of (tenant, scenario) appeal marks of this type
-- automatically? For the appeal selections (and the workers' fast path).
CREATE FUNCTION nt_policy_appeals(p_tenant text, p_scenario text, p_type text)
    RETURNS boolean LANGUAGE sql STABLE AS $$
SELECT COALESCE((SELECT p_type = ANY(ep.appeal_marks) FROM effective_policies ep
                 WHERE ep.tenant_id = p_tenant AND ep.scenario_id = p_scenario), false)
$$;

-- A campaign schedule recorded without its own lead takes its tenant's
-- policy (campaign_lead); label_schedules.lead may be NULL once the schedule
-- kinds carry default leads (migration 005b).
CREATE FUNCTION nt_policy_campaign_lead() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind = 'campaign' AND NEW.lead IS NULL THEN
        SELECT ep.campaign_lead INTO NEW.lead
        FROM numbers n JOIN effective_policies ep
          ON ep.tenant_id = n.tenant_id AND ep.scenario_id = n.scenario_id
        WHERE n.number = NEW.number;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER label_schedules_campaign_lead BEFORE INSERT ON label_schedules
    FOR EACH ROW EXECUTE FUNCTION nt_policy_campaign_lead();

-- ---------------------------------------------------------------- groups

-- A tenant's team or department (import's `group` column): mark statistics
-- per group show what compliance training changed.
ALTER TABLE numbers ADD COLUMN number_group text NOT NULL DEFAULT ''
    CHECK (char_length(number_group) <= 64);

-- ---------------------------------------------------------------- prices

-- The scenario plans of the article's table: per month, per year, or per
-- seasonal label switch.
ALTER TABLE scenarios
    ADD COLUMN plan_amount numeric(12, 2) NOT NULL DEFAULT 0 CHECK (plan_amount >= 0),
    ADD COLUMN plan_per text NOT NULL DEFAULT 'month' CHECK (plan_per IN ('month', 'year', 'switch')),
    ADD COLUMN plan_currency text NOT NULL DEFAULT 'CNY' CHECK (plan_currency ~ '^[A-Z]{3}$');
UPDATE scenarios SET plan_amount = 200, plan_per = 'month' WHERE id = 'high_frequency';
UPDATE scenarios SET plan_amount = 300, plan_per = 'switch' WHERE id = 'seasonal';
UPDATE scenarios SET plan_amount = 800, plan_per = 'year' WHERE id = 'high_qualification';
UPDATE scenarios SET plan_amount = 0, plan_per = 'month' WHERE id = 'individual';

-- What one operation costs on a platform, from platforms.json ("prices").
CREATE TABLE platform_prices (
    platform    platform_id NOT NULL,
    op          text NOT NULL CHECK (op IN ('check', 'label_update', 'appeal', 'renewal')),
    amount      numeric(14, 4) NOT NULL CHECK (amount >= 0),
    currency    text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (platform, op)
);

-- One row per priced operation (amount > 0: free operations, most checks,
-- would double the volume of the busiest table for nothing; the result
-- tables count them). tenant, scenario and group are those of the number at
-- the time of the operation.
CREATE TABLE cost_ledger (
    job_id        uuid PRIMARY KEY,
    op            text NOT NULL CHECK (op IN ('check', 'label_update', 'appeal', 'renewal')),
    number        e164 NOT NULL,
    platform      platform_id NOT NULL,
    tenant_id     text NOT NULL,
    scenario_id   text NOT NULL,
    number_group  text NOT NULL DEFAULT '',
    amount        numeric(14, 4) NOT NULL,
    currency      text NOT NULL,
    at            timestamptz NOT NULL,  -- numtrust time of the operation
    month         date NOT NULL,         -- its UTC month
    recorded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cost_ledger_month ON cost_ledger (month, tenant_id);

-- The ledger's writers: one per result table. SECURITY DEFINER so that the
-- workers' role keeps exactly its grants (it never reads prices or writes
-- the ledger itself).
CREATE FUNCTION nt_cost_checks() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO cost_ledger (job_id, op, number, platform, tenant_id, scenario_id, number_group,
                             amount, currency, at, month)
    SELECT r.job_id, 'check', r.number, r.platform, n.tenant_id, n.scenario_id, n.number_group,
           pp.amount, pp.currency, r.checked_at,
           date_trunc('month', r.checked_at AT TIME ZONE 'UTC')::date
    FROM nt_new r JOIN numbers n ON n.number = r.number
    JOIN platform_prices pp ON pp.platform = r.platform AND pp.op = 'check'
    WHERE pp.amount > 0
    ON CONFLICT (job_id) DO NOTHING;
    RETURN NULL;
END
$$;

CREATE FUNCTION nt_cost_tags() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO cost_ledger (job_id, op, number, platform, tenant_id, scenario_id, number_group,
                             amount, currency, at, month)
    SELECT r.job_id, 'label_update', r.number, r.platform, n.tenant_id, n.scenario_id,
           n.number_group, pp.amount, pp.currency, r.pushed_at,
           date_trunc('month', r.pushed_at AT TIME ZONE 'UTC')::date
    FROM nt_new r JOIN numbers n ON n.number = r.number
    JOIN platform_prices pp ON pp.platform = r.platform AND pp.op = 'label_update'
    WHERE pp.amount > 0
    ON CONFLICT (job_id) DO NOTHING;
    RETURN NULL;
END
$$;

CREATE FUNCTION nt_cost_appeals() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO cost_ledger (job_id, op, number, platform, tenant_id, scenario_id, number_group,
                             amount, currency, at, month)
    SELECT r.job_id, 'appeal', r.number, r.platform, n.tenant_id, n.scenario_id, n.number_group,
           pp.amount, pp.currency, r.filed_at,
           date_trunc('month', r.filed_at AT TIME ZONE 'UTC')::date
    FROM nt_new r JOIN numbers n ON n.number = r.number
    JOIN platform_prices pp ON pp.platform = r.platform AND pp.op = 'appeal'
    WHERE pp.amount > 0
    ON CONFLICT (job_id) DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER check_results_cost AFTER INSERT ON check_results
    REFERENCING NEW TABLE AS nt_new FOR EACH STATEMENT EXECUTE FUNCTION nt_cost_checks();
CREATE TRIGGER tag_updates_cost AFTER INSERT ON tag_updates
    REFERENCING NEW TABLE AS nt_new FOR EACH STATEMENT EXECUTE FUNCTION nt_cost_tags();
CREATE TRIGGER appeals_cost AFTER INSERT ON appeals
    REFERENCING NEW TABLE AS nt_new FOR EACH STATEMENT EXECUTE FUNCTION nt_cost_appeals();

-- Renewals (migration 005b, when present) cost their platform's renewal price.
DO $$
BEGIN
    IF to_regclass('renewals') IS NOT NULL THEN
        EXECUTE $f$
        CREATE FUNCTION nt_cost_renewals() RETURNS trigger
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $b$
        BEGIN
            INSERT INTO cost_ledger (job_id, op, number, platform, tenant_id, scenario_id,
                                     number_group, amount, currency, at, month)
            SELECT r.job_id, 'renewal', r.number, r.platform, n.tenant_id, n.scenario_id,
                   n.number_group, pp.amount, pp.currency, r.requested_at,
                   date_trunc('month', r.requested_at AT TIME ZONE 'UTC')::date
            FROM nt_new r JOIN numbers n ON n.number = r.number
            JOIN platform_prices pp ON pp.platform = r.platform AND pp.op = 'renewal'
            WHERE pp.amount > 0
            ON CONFLICT (job_id) DO NOTHING;
            RETURN NULL;
        END
        $b$ $f$;
        EXECUTE 'CREATE TRIGGER renewals_cost AFTER INSERT ON renewals
                 REFERENCING NEW TABLE AS nt_new FOR EACH STATEMENT
                 EXECUTE FUNCTION nt_cost_renewals()';
    END IF;
END
$$;

-- The month of numtrust time (UTC), the unit of budgets and cost reports.
CREATE FUNCTION nt_month(at timestamptz) RETURNS date
    LANGUAGE sql IMMUTABLE AS $$ SELECT date_trunc('month', at AT TIME ZONE 'UTC')::date $$;

-- Scenario plan fees of a month per tenant and scenario in use: a monthly
-- plan costs its amount, a yearly one a twelfth, a per-switch one its amount
-- per seasonal campaign label (distinct label and start) going live in the
-- month on the tenant's numbers of that scenario.
CREATE FUNCTION nt_plan_fees(p_month date)
    RETURNS TABLE (tenant_id text, scenario_id text, numbers bigint, plan_per text,
                   amount numeric, currency text)
    LANGUAGE sql STABLE AS $$
SELECT n.tenant_id, s.id, count(*), s.plan_per,
       round(CASE s.plan_per
                 WHEN 'month' THEN s.plan_amount
                 WHEN 'year' THEN s.plan_amount / 12
                 ELSE s.plan_amount * (
                     SELECT count(DISTINCT (ls.label, ls.event_start)) FROM label_schedules ls
                     JOIN numbers n2 ON n2.number = ls.number
                     WHERE n2.tenant_id = n.tenant_id AND n2.scenario_id = s.id
                       AND ls.kind = 'campaign'
                       AND nt_month(ls.event_start - COALESCE(ls.lead, interval '7 days'))
                           = p_month)
             END, 2),
       s.plan_currency
FROM numbers n JOIN scenarios s ON s.id = n.scenario_id
GROUP BY n.tenant_id, s.id, s.plan_per, s.plan_amount, s.plan_currency
$$;

-- Operations spent this month (numtrust time) against the tenant's budget.
-- A budget of 'Infinity' is no cap; spending in another currency than the
-- budget's is not counted against it (it is reported beside it).
CREATE VIEW tenant_budgets AS
SELECT t.id AS tenant_id, m.month, tp.monthly_budget AS budget, tp.budget_currency AS currency,
       COALESCE((SELECT sum(c.amount) FROM cost_ledger c
                 WHERE c.month = m.month AND c.tenant_id = t.id
                   AND c.currency = tp.budget_currency), 0) AS spent
FROM tenants t
JOIN tenant_policies tp ON tp.tenant_id = t.id
CROSS JOIN (SELECT nt_month(nt_now()) AS month) m;

-- Month, tenant, scenario, platform and operation: count and amount.
CREATE VIEW cost_monthly AS
SELECT month, tenant_id, scenario_id, number_group, platform, op, currency,
       count(*) AS operations, sum(amount) AS amount
FROM cost_ledger
GROUP BY month, tenant_id, scenario_id, number_group, platform, op, currency;

CREATE INDEX marks_opened ON marks (opened_at);
CREATE INDEX appeals_number ON appeals (number, platform, mark_type, filed_at);
CREATE INDEX appeals_filed ON appeals (filed_at);
