-- 007_api.sql — the control plane (`numtrust-producer serve`): API tokens,
-- number lifecycle, callee feedback, and the report views.
--
-- Tokens are stored as SHA-256 hashes only; the plain token is shown once,
-- by `numtrust-producer token create`. A tenant token sees its tenant's
-- numbers only; an admin token sees everything; a feedback token may only
-- post callee reports for its tenant's website.
--
-- The report_* views are what `numtrust-producer report` and the HTML report
-- read; psql users and dashboards can read them too. Every one carries
-- tenant_id so that a caller can filter by tenant.

CREATE TABLE api_tokens (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    kind          text NOT NULL CHECK (kind IN ('admin', 'tenant', 'feedback')),
    tenant_id     text REFERENCES tenants (id),
    token_sha256  text NOT NULL UNIQUE CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz,
    last_used_at  timestamptz,
    CHECK ((kind = 'admin') = (tenant_id IS NULL))
);

-- Lifecycle of a number: active numbers are maintained; disabled ones keep
-- their registrations and history but get no jobs; offboarded ones are out
-- of management (kept for the history, hidden from listings by default).
ALTER TABLE numbers
    ADD COLUMN status text NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'disabled', 'offboarded')),
    ADD COLUMN status_changed_at timestamptz;

-- Callee feedback posted by a company's website ("number feedback" entry):
-- what the callee saw on their phone, and what they want to tell us.
CREATE TABLE feedback (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    text NOT NULL REFERENCES tenants (id),
    number       e164 NOT NULL,
    seen_label   text CHECK (seen_label IS NULL OR char_length(seen_label) <= 64),
    seen_mark    mark_type,
    platform     platform_id,
    message      text CHECK (message IS NULL OR char_length(message) <= 1000),
    source       text NOT NULL DEFAULT '',
    received_at  timestamptz NOT NULL DEFAULT nt_now()  -- numtrust time, like checked_at
);
CREATE INDEX feedback_number ON feedback (number, received_at DESC);

-- Feedback that is newer than the last check of its number on a platform:
-- the reconciler's `check-feedback` pass (and the API, at once) enqueue a
-- check for each, with period 'fb-<id>', so one report raises one check.
CREATE VIEW feedback_checks_due AS
SELECT np.number, np.platform, n.tenant_id, 'fb-' || max(f.id) AS period
FROM feedback f
JOIN numbers n ON n.number = f.number AND n.tenant_id = f.tenant_id AND n.status = 'active'
JOIN number_platforms np ON np.number = f.number
    AND (f.platform IS NULL OR np.platform = f.platform)
WHERE np.last_checked_at IS NULL OR np.last_checked_at < f.received_at
GROUP BY np.number, np.platform, n.tenant_id;

-- Callee reports count toward a number's risk: reports in the last 30 days.
CREATE VIEW number_feedback_risk AS
SELECT f.number, count(*) AS reports_30d,
       count(*) FILTER (WHERE f.seen_mark IN ('harassment', 'fraud', 'agency')) AS mark_reports_30d,
       max(f.received_at) AS last_report_at
FROM feedback f
WHERE f.received_at > (SELECT nt_now()) - interval '30 days'
GROUP BY f.number;

-- The evidence an appeal of (number, platform, mark type) can cite from
-- callee reports: how many callees said the mark was wrong, and up to three
-- of their messages. Empty when there are none. Read by the appeal builder.
CREATE FUNCTION feedback_evidence(p_number text, p_platform text, p_mark text)
RETURNS text LANGUAGE sql STABLE AS $$
    WITH r AS (
        SELECT f.message, f.received_at FROM feedback f
        WHERE f.number = p_number
          AND (f.platform IS NULL OR f.platform = p_platform)
          AND (f.seen_mark IS NULL OR f.seen_mark = p_mark)
          AND f.received_at > nt_now() - interval '90 days')
    SELECT CASE WHEN (SELECT count(*) FROM r) = 0 THEN ''
           ELSE ' Callee reports: ' || (SELECT count(*) FROM r) || ' in the last 90 days'
                || COALESCE(': ' || (SELECT string_agg(left(m.message, 200), ' | ')
                                     FROM (SELECT message FROM r WHERE message IS NOT NULL
                                           ORDER BY received_at DESC LIMIT 3) m), '')
                || '.' END
$$;

-- ---------------------------------------------------------------- reports

-- Share of checks per tenant and day that found a harassment, fraud or agency
-- mark (the article's enterprise keeps its harassment-mark rate under 3%).
CREATE VIEW report_mark_rate_daily AS
SELECT n.tenant_id, cr.platform, n.scenario_id, date_trunc('day', cr.checked_at) AS day,
       count(*) AS checks,
       count(*) FILTER (WHERE cr.marks @> '[{"type":"harassment"}]'
                           OR cr.marks @> '[{"type":"fraud"}]'
                           OR cr.marks @> '[{"type":"agency"}]') AS marked,
       round(100.0 * count(*) FILTER (WHERE cr.marks @> '[{"type":"harassment"}]'
                                         OR cr.marks @> '[{"type":"fraud"}]'
                                         OR cr.marks @> '[{"type":"agency"}]')
             / count(*), 2) AS mark_rate_pct
FROM check_results cr JOIN numbers n ON n.number = cr.number
GROUP BY n.tenant_id, cr.platform, n.scenario_id, date_trunc('day', cr.checked_at);

-- Average trust score per scenario, platform and day (its decay over time).
CREATE VIEW report_trust_daily AS
SELECT n.tenant_id, n.scenario_id, cr.platform, date_trunc('day', cr.checked_at) AS day,
       count(cr.trust_score) AS scored, round(avg(cr.trust_score), 1) AS avg_trust
FROM check_results cr JOIN numbers n ON n.number = cr.number
GROUP BY n.tenant_id, n.scenario_id, cr.platform, date_trunc('day', cr.checked_at);

-- Wanted label versus the one showing (Android surface), per registration.
CREATE VIEW report_label_coverage AS
SELECT n.tenant_id, n.scenario_id, np.platform, count(*) AS wanted,
       count(*) FILTER (WHERE np.label_android = w.label) AS showing,
       count(*) FILTER (WHERE np.last_checked_at IS NULL) AS unchecked
FROM number_platforms np
JOIN numbers n ON n.number = np.number AND n.status = 'active'
JOIN wanted_labels w ON w.number = np.number AND w.platform = np.platform
GROUP BY n.tenant_id, n.scenario_id, np.platform;

-- Appeal outcomes and hours from filing to decision (hours_to_decision is
-- the sum over decided appeals, so that groups add up exactly).
CREATE VIEW report_appeal_outcomes AS
SELECT n.tenant_id, n.scenario_id, a.platform, a.state, a.mark_type::text AS mark_type,
       date_trunc('day', a.filed_at) AS day, count(*) AS appeals, count(a.decided_at) AS decided,
       COALESCE(sum(extract(epoch FROM a.decided_at - a.filed_at)) / 3600.0, 0) AS hours_to_decision
FROM appeals a JOIN numbers n ON n.number = a.number
GROUP BY n.tenant_id, n.scenario_id, a.platform, a.state, a.mark_type, date_trunc('day', a.filed_at);

-- Marks by type and state.
CREATE VIEW report_marks AS
SELECT n.tenant_id, n.scenario_id, m.platform, m.type::text AS type, m.state,
       date_trunc('day', m.opened_at) AS day, count(*) AS marks
FROM marks m JOIN numbers n ON n.number = m.number
GROUP BY n.tenant_id, n.scenario_id, m.platform, m.type, m.state, date_trunc('day', m.opened_at);

-- Certification status of every registration (NULL: not checked yet).
CREATE VIEW report_certification AS
SELECT n.tenant_id, n.scenario_id, np.platform, COALESCE(np.cert_status::text, 'unchecked') AS status,
       count(*) AS registrations
FROM number_platforms np JOIN numbers n ON n.number = np.number AND n.status = 'active'
GROUP BY n.tenant_id, n.scenario_id, np.platform, COALESCE(np.cert_status::text, 'unchecked');

-- Paid platform operations per month (tag updates and appeals; the article
-- prices a tag update at 200-500 CNY). Costs in money come with the cost
-- model (issue 10); until then the report shows the operations.
CREATE VIEW report_operations_monthly AS
SELECT n.tenant_id, n.scenario_id, o.platform, date_trunc('month', o.at) AS month,
       count(*) FILTER (WHERE o.op = 'tag_update') AS tag_updates,
       count(*) FILTER (WHERE o.op = 'appeal') AS appeals
FROM (SELECT number, platform, pushed_at AS at, 'tag_update' AS op FROM tag_updates
      UNION ALL
      SELECT number, platform, filed_at, 'appeal' FROM appeals) o
JOIN numbers n ON n.number = o.number
GROUP BY n.tenant_id, n.scenario_id, o.platform, date_trunc('month', o.at);

-- Callee reports per tenant and day.
CREATE VIEW report_feedback_daily AS
SELECT f.tenant_id, date_trunc('day', f.received_at) AS day, count(*) AS reports,
       count(*) FILTER (WHERE f.seen_mark IS NOT NULL) AS mark_reports
FROM feedback f GROUP BY f.tenant_id, date_trunc('day', f.received_at);

-- Workers keep exactly their grants: they read the number's status through
-- numbers (already granted) and nothing of this file but the evidence.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'numtrust_worker') THEN
        GRANT SELECT ON feedback TO numtrust_worker;
        GRANT EXECUTE ON FUNCTION feedback_evidence(text, text, text) TO numtrust_worker;
    END IF;
END
$$;
