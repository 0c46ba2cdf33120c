-- 001_core.sql — numtrust's core schema.
--
-- Desired state (tenants, numbers, scenarios, platforms, label schedules),
-- observed state (number_platforms, marks), results (check_results,
-- tag_updates, appeals) and the jobs ledger. Applied by
-- `numtrust-producer migrate` inside one transaction under an advisory lock.
-- Constraints keep bad data out: E.164 numbers, known enums, foreign keys,
-- one result row per job id.

CREATE DOMAIN e164 AS text CHECK (VALUE ~ '^\+[1-9][0-9]{7,14}$');
CREATE DOMAIN platform_id AS text CHECK (VALUE ~ '^[a-z0-9][a-z0-9_-]{0,62}$');
CREATE DOMAIN mark_type AS text
    CHECK (VALUE IN ('harassment', 'fraud', 'agency', 'finance', 'advertising', 'delivery',
                     'taxi', 'other'));
CREATE DOMAIN cert_status AS text
    CHECK (VALUE IN ('certified', 'pending', 'expired', 'revoked', 'none'));

CREATE TABLE tenants (
    id          text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    name        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Maintenance policies (domain.md, "Scenario profiles").
CREATE TABLE scenarios (
    id              text PRIMARY KEY,
    name_zh         text NOT NULL,
    focus           text NOT NULL,
    check_interval  interval NOT NULL CHECK (check_interval > interval '0'),
    tag_interval    interval NOT NULL CHECK (tag_interval > interval '0'),
    cost_note       text NOT NULL DEFAULT ''
);

INSERT INTO scenarios (id, name_zh, focus, check_interval, tag_interval, cost_note) VALUES
    ('high_frequency', '高频外呼企业', 'malicious-mark cleanup and tag updates',
        interval '7 days', interval '7 days', '200 CNY/month'),
    ('seasonal', '季节性服务企业', 'dynamic tag switching',
        interval '30 days', interval '30 days', '300 CNY per switch'),
    ('high_qualification', '高资质行业', 'qualification validity monitoring',
        interval '90 days', interval '90 days', '800 CNY/year'),
    ('individual', '个体工商户', 'basic information verification',
        interval '182 days', interval '182 days', '0');

CREATE TABLE platforms (
    id          platform_id PRIMARY KEY,
    name        text NOT NULL DEFAULT '',
    dialect     text NOT NULL DEFAULT '',
    enabled     boolean NOT NULL DEFAULT true,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE numbers (
    number       e164 PRIMARY KEY,
    tenant_id    text NOT NULL REFERENCES tenants (id),
    scenario_id  text NOT NULL REFERENCES scenarios (id),
    base_label   text NOT NULL CHECK (char_length(base_label) BETWEEN 1 AND 64),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX numbers_tenant ON numbers (tenant_id);

-- Registration of a number on a platform and the latest observed state.
CREATE TABLE number_platforms (
    number           e164 NOT NULL REFERENCES numbers (number) ON DELETE CASCADE,
    platform         platform_id NOT NULL REFERENCES platforms (id),
    registered_at    timestamptz NOT NULL DEFAULT now(),
    cert_status      cert_status,
    trust_score      smallint CHECK (trust_score BETWEEN 0 AND 100),
    label_android    text,
    label_ios        text,
    label_search     text,
    open_marks       integer NOT NULL DEFAULT 0,
    last_checked_at  timestamptz,
    last_check_job   uuid,
    last_tag_label   text,
    last_tag_at      timestamptz,
    PRIMARY KEY (number, platform)
);
CREATE INDEX number_platforms_platform ON number_platforms (platform);

-- Time-windowed labels: campaigns (live `lead` before the event, reverted
-- after it), qualifications (within 24 h), region and time-slot tags.
CREATE TABLE label_schedules (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number      e164 NOT NULL REFERENCES numbers (number) ON DELETE CASCADE,
    platform    platform_id REFERENCES platforms (id),  -- NULL: every platform
    kind        text NOT NULL CHECK (kind IN ('campaign', 'qualification', 'region', 'timeslot')),
    label       text NOT NULL CHECK (char_length(label) BETWEEN 1 AND 64),
    event_start timestamptz NOT NULL,
    event_end   timestamptz,
    lead        interval NOT NULL DEFAULT interval '7 days' CHECK (lead >= interval '0'),
    priority    smallint NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (event_end IS NULL OR event_end > event_start)
);
CREATE INDEX label_schedules_number ON label_schedules (number);

-- The jobs ledger: one row per job id. The producer records jobs it
-- enqueues; a worker bumps `attempts` before each platform call (so a job
-- that keeps crashing its worker stops after max attempts) and sets the
-- final state in the same transaction as the job's result.
CREATE TABLE jobs (
    id           uuid PRIMARY KEY,
    type         text NOT NULL
                 CHECK (type IN ('check', 'tag_update', 'appeal', 'appeal_status', 'unknown')),
    number       text NOT NULL,  -- not e164: invalid jobs are recorded too
    platform     text NOT NULL,
    tenant_id    text,
    state        text NOT NULL DEFAULT 'queued'
                 CHECK (state IN ('queued', 'running', 'retrying', 'done', 'failed', 'dead')),
    attempts     integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error   text,
    result       text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);
CREATE INDEX jobs_state ON jobs (state) WHERE state NOT IN ('done');

-- Check results: append-only, one row per check job.
CREATE TABLE check_results (
    job_id         uuid PRIMARY KEY,
    number         e164 NOT NULL,
    platform       platform_id NOT NULL REFERENCES platforms (id),
    checked_at     timestamptz NOT NULL,
    cert_status    cert_status,
    trust_score    smallint CHECK (trust_score BETWEEN 0 AND 100),
    label_android  text,
    label_ios      text,
    label_search   text,
    marks          jsonb NOT NULL DEFAULT '[]',
    worker         text
);
CREATE INDEX check_results_number ON check_results (number, platform, checked_at DESC);

-- Marks currently or formerly on a number (one row per type per platform).
CREATE TABLE marks (
    number         e164 NOT NULL,
    platform       platform_id NOT NULL,
    type           mark_type NOT NULL,
    count          integer NOT NULL CHECK (count >= 0),
    state          text NOT NULL CHECK (state IN ('open', 'appealed', 'cleared', 'disputed')),
    opened_at      timestamptz NOT NULL,
    last_seen_at   timestamptz NOT NULL,
    cleared_at     timestamptz,
    detected_by    uuid,
    appeal_job     uuid,
    PRIMARY KEY (number, platform, type),
    FOREIGN KEY (number, platform) REFERENCES number_platforms (number, platform)
);
CREATE INDEX marks_open ON marks (state) WHERE state = 'open';

CREATE TABLE tag_updates (
    job_id     uuid PRIMARY KEY,
    number     e164 NOT NULL,
    platform   platform_id NOT NULL,
    label      text NOT NULL,
    ticket     text,
    state      text NOT NULL CHECK (state IN ('pending_review', 'applied', 'rejected')),
    pushed_at  timestamptz NOT NULL,
    FOREIGN KEY (platform) REFERENCES platforms (id)
);
CREATE INDEX tag_updates_number ON tag_updates (number, platform, pushed_at DESC);

CREATE TABLE appeals (
    job_id      uuid PRIMARY KEY,
    number      e164 NOT NULL,
    platform    platform_id NOT NULL,
    mark_type   mark_type NOT NULL,
    ticket      text NOT NULL,
    state       text NOT NULL CHECK (state IN ('submitted', 'in_review', 'approved', 'rejected')),
    evidence    text NOT NULL DEFAULT '',
    filed_at    timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    decided_at  timestamptz,
    UNIQUE (platform, ticket),
    FOREIGN KEY (platform) REFERENCES platforms (id)
);
CREATE INDEX appeals_open ON appeals (state) WHERE state IN ('submitted', 'in_review');

-- Messages that could not be processed at all (not JSON, unknown version,
-- oversized, bad UTF-8) or that ran out of attempts; the same message is on
-- the dead-letter topic with its raw bytes.
CREATE TABLE dead_letters (
    source_topic      text NOT NULL,
    source_partition  integer NOT NULL,
    source_offset     bigint NOT NULL,
    job_id            uuid,
    reason            text NOT NULL,
    attempts          integer NOT NULL DEFAULT 0,
    raw               bytea NOT NULL,
    dead_at           timestamptz NOT NULL DEFAULT now(),
    replayed_at       timestamptz,
    PRIMARY KEY (source_topic, source_partition, source_offset)
);
CREATE INDEX dead_letters_job ON dead_letters (job_id);

-- The label a number should show on a platform now: the highest-priority,
-- latest-starting schedule whose window is open, else the base label.
CREATE VIEW wanted_labels AS
SELECT np.number, np.platform,
       COALESCE((SELECT ls.label FROM label_schedules ls
                 WHERE ls.number = np.number
                   AND (ls.platform IS NULL OR ls.platform = np.platform)
                   AND now() >= ls.event_start - ls.lead
                   AND (ls.event_end IS NULL OR now() < ls.event_end)
                 ORDER BY ls.priority DESC, ls.event_start DESC, ls.id DESC
                 LIMIT 1),
                n.base_label) AS label
FROM number_platforms np
JOIN numbers n ON n.number = np.number;

-- Workers write results and observed state, never the schema or desired
-- state. The role exists when the operator (or deploy/local/stack.sh)
-- created it.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'numtrust_worker') THEN
        GRANT SELECT ON tenants, scenarios, platforms, numbers, label_schedules,
                        wanted_labels TO numtrust_worker;
        GRANT SELECT, INSERT, UPDATE ON number_platforms, marks, jobs, check_results,
                        tag_updates, appeals, dead_letters TO numtrust_worker;
    END IF;
END
$$;
