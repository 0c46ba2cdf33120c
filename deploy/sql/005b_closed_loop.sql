-- 005b_closed_loop.sql — the closed maintenance loop (docs/maintenance.md).
--
-- Every change verified: tag pushes end applied, rejected (with the
-- platform's reason) or unconfirmed, and are verified by a later check;
-- approved appeals are confirmed by a check. Labels on time: schedule kinds
-- with their own lead and recurrence, daily windows in the tenant's time
-- zone. Appeals do not dead-end: rounds, re-filing, escalation, marks that
-- come back keep their history. Certification lifecycle: expiry dates,
-- renewals, maintenance items, yearly reviews. New job types tag_status and
-- renewal.

ALTER TABLE jobs DROP CONSTRAINT jobs_type_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_type_check
    CHECK (type IN ('check', 'tag_update', 'appeal', 'appeal_status', 'tag_status', 'renewal',
                    'unknown'));

-- ---- tenants: a time zone for daily windows, a yearly review ----

CREATE FUNCTION nt_is_time_zone(tz text) RETURNS boolean
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM now() AT TIME ZONE tz;
    RETURN true;
EXCEPTION WHEN others THEN
    RETURN false;
END
$$;

ALTER TABLE tenants
    ADD COLUMN time_zone text NOT NULL DEFAULT 'Asia/Shanghai' CHECK (nt_is_time_zone(time_zone)),
    ADD COLUMN next_review_at timestamptz;
UPDATE tenants SET next_review_at = nt_now() + interval '1 year';
ALTER TABLE tenants ALTER COLUMN next_review_at SET DEFAULT nt_now() + interval '1 year',
                    ALTER COLUMN next_review_at SET NOT NULL;

-- ---- schedules: kinds with their lead and recurrence ----

CREATE TABLE schedule_kinds (
    kind          text PRIMARY KEY,
    default_lead  interval NOT NULL CHECK (default_lead >= interval '0'),
    review_every  interval CHECK (review_every > interval '0'),  -- NULL: no periodic review
    daily         boolean NOT NULL DEFAULT false,                -- a daily window
    description   text NOT NULL DEFAULT ''
);
INSERT INTO schedule_kinds (kind, default_lead, review_every, daily, description) VALUES
    ('campaign', interval '7 days', NULL, false,
     'holiday or campaign label: live 7 days before the event, reverted after it'),
    ('qualification', interval '0', NULL, false,
     'a new qualification: live from its start, never before, within 24 h of being recorded'),
    ('region', interval '0', interval '3 months', false,
     'region label: reviewed every quarter'),
    ('timeslot', interval '0', NULL, true,
     'time-slot label: live in a daily window in the tenant''s time zone');

ALTER TABLE label_schedules
    ALTER COLUMN lead DROP NOT NULL,
    ALTER COLUMN lead DROP DEFAULT,          -- NULL: the kind's default_lead
    ALTER COLUMN created_at SET DEFAULT nt_now(),
    ADD COLUMN daily_from time,
    ADD COLUMN daily_to time,
    ADD COLUMN reviewed_at timestamptz,     -- region: last periodic review
    ADD CONSTRAINT label_schedules_kind_fkey FOREIGN KEY (kind) REFERENCES schedule_kinds (kind),
    ADD CONSTRAINT label_schedules_daily CHECK (
        (daily_from IS NULL AND daily_to IS NULL)
        OR (daily_from IS NOT NULL AND daily_to IS NOT NULL AND daily_from <> daily_to)),
    ADD CONSTRAINT label_schedules_timeslot CHECK (kind <> 'timeslot' OR daily_from IS NOT NULL);

-- Is a schedule live at `at`? From event_start - lead until event_end; with
-- a daily window, only between daily_from and daily_to (crossing midnight
-- when daily_to < daily_from) in time zone tz.
CREATE FUNCTION nt_label_live(at timestamptz, ev_start timestamptz, ev_end timestamptz,
                              lead interval, daily_from time, daily_to time, tz text)
    RETURNS boolean LANGUAGE sql STABLE AS $$
SELECT at >= ev_start - COALESCE(lead, interval '0')
   AND (ev_end IS NULL OR at < ev_end)
   AND (daily_from IS NULL OR daily_to IS NULL OR
        CASE WHEN daily_from < daily_to
             THEN (at AT TIME ZONE tz)::time >= daily_from AND (at AT TIME ZONE tz)::time < daily_to
             ELSE (at AT TIME ZONE tz)::time >= daily_from OR (at AT TIME ZONE tz)::time < daily_to
        END)
$$;

-- The wanted label: the live schedule of highest priority (then the latest
-- start), else the base label; which schedule, for reports and tests.
CREATE OR REPLACE VIEW wanted_labels AS
SELECT np.number, np.platform, COALESCE(s.label, n.base_label) AS label,
       s.id AS schedule_id, s.kind
FROM number_platforms np
JOIN numbers n ON n.number = np.number
JOIN tenants tn ON tn.id = n.tenant_id
CROSS JOIN (SELECT nt_now() AS now) t
LEFT JOIN LATERAL (
    SELECT ls.id, ls.label, ls.kind FROM label_schedules ls
    JOIN schedule_kinds k ON k.kind = ls.kind
    WHERE ls.number = np.number AND (ls.platform IS NULL OR ls.platform = np.platform)
      AND nt_label_live(t.now, ls.event_start, ls.event_end, COALESCE(ls.lead, k.default_lead),
                        ls.daily_from, ls.daily_to, tn.time_zone)
    ORDER BY ls.priority DESC, ls.event_start DESC, ls.id DESC
    LIMIT 1) s ON true;

-- Does a registration show label? Every surface the platform reports shows
-- it, and it reports at least one.
CREATE FUNCTION nt_shows(android text, ios text, search text, label text)
    RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
SELECT (android IS NOT NULL OR ios IS NOT NULL OR search IS NOT NULL)
   AND (android IS NULL OR android = label) AND (ios IS NULL OR ios = label)
   AND (search IS NULL OR search = label)
$$;

-- ---- certification ----

ALTER TABLE number_platforms ADD COLUMN cert_expires_at timestamptz;
ALTER TABLE check_results ADD COLUMN cert_expires_at timestamptz;

CREATE TABLE renewals (
    job_id          uuid PRIMARY KEY,
    number          e164 NOT NULL,
    platform        platform_id NOT NULL,
    ticket          text,
    state           text NOT NULL CHECK (state IN ('submitted', 'renewed', 'rejected')),
    expires_before  timestamptz,          -- the expiry this renewal renews
    requested_at    timestamptz NOT NULL,
    decided_at      timestamptz,
    reason          text,
    FOREIGN KEY (number, platform) REFERENCES number_platforms (number, platform)
        ON DELETE CASCADE
);
CREATE INDEX renewals_open ON renewals (number, platform) WHERE state = 'submitted';

-- Work for people (not 008's manual submission queue, action_items):
-- renewals on platforms without a renewal API, yearly reviews of a tenant's
-- registration data, quarterly reviews of region labels. dedupe makes
-- raising one twice a no-op.
CREATE TABLE maintenance_items (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('renewal', 'yearly_review', 'region_review')),
    dedupe       text NOT NULL UNIQUE,
    tenant_id    text REFERENCES tenants (id) ON DELETE CASCADE,
    number       text,
    platform     text,
    detail       text NOT NULL,
    due_at       timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT nt_now(),
    resolved_at  timestamptz
);
CREATE INDEX maintenance_items_open ON maintenance_items (kind) WHERE resolved_at IS NULL;

-- ---- tag pushes: verified, rejected with a reason, or unconfirmed ----

ALTER TABLE tag_updates DROP CONSTRAINT tag_updates_state_check;
ALTER TABLE tag_updates
    ADD CONSTRAINT tag_updates_state_check
        CHECK (state IN ('pending_review', 'applied', 'rejected', 'unconfirmed')),
    ADD COLUMN reason text,               -- the platform's words for a rejection
    ADD COLUMN decided_at timestamptz,    -- applied, rejected or unconfirmed since
    ADD COLUMN verified_at timestamptz,   -- a check showed the label
    ADD COLUMN last_polled_at timestamptz,
    ADD COLUMN polls integer NOT NULL DEFAULT 0;
CREATE INDEX tag_updates_pending ON tag_updates (pushed_at) WHERE state = 'pending_review';

-- ---- appeals: rounds; marks: history and escalation ----

ALTER TABLE appeals
    ADD COLUMN round integer NOT NULL DEFAULT 1 CHECK (round >= 1),
    ADD COLUMN confirmed_at timestamptz;  -- a check after the approval no longer saw the mark

ALTER TABLE marks DROP CONSTRAINT marks_state_check;
ALTER TABLE marks
    ADD CONSTRAINT marks_state_check
        CHECK (state IN ('open', 'appealed', 'cleared', 'disputed', 'escalated')),
    ADD COLUMN remarks integer NOT NULL DEFAULT 0,  -- times it came back after being cleared
    ADD COLUMN first_opened_at timestamptz,
    ADD COLUMN history jsonb NOT NULL DEFAULT '[]', -- one entry per earlier opening
    ADD COLUMN escalated_at timestamptz;

-- The round of an appeal: 1 + the appeals filed for the same opening of its
-- mark (the workers' writer does not need to know).
CREATE FUNCTION nt_appeals_round() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT 1 + count(*) INTO NEW.round
    FROM appeals a JOIN marks m
      ON m.number = a.number AND m.platform = a.platform AND m.type = a.mark_type
    WHERE a.number = NEW.number AND a.platform = NEW.platform AND a.mark_type = NEW.mark_type
      AND a.filed_at >= m.opened_at;
    RETURN NEW;
END
$$;
CREATE TRIGGER appeals_round BEFORE INSERT ON appeals
    FOR EACH ROW EXECUTE FUNCTION nt_appeals_round();

-- A cleared mark seen again reopens (the writer sets state, opened_at,
-- detected_by); this keeps what the reopening would overwrite.
CREATE FUNCTION nt_marks_reopen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.remarks := OLD.remarks + 1;
    NEW.first_opened_at := COALESCE(OLD.first_opened_at, OLD.opened_at);
    NEW.history := OLD.history || jsonb_build_array(jsonb_build_object(
        'opened_at', OLD.opened_at, 'cleared_at', OLD.cleared_at,
        'appeal_job', OLD.appeal_job,
        'appeals', (SELECT count(*) FROM appeals a
                    WHERE a.number = OLD.number AND a.platform = OLD.platform
                      AND a.mark_type = OLD.type AND a.filed_at >= OLD.opened_at)));
    NEW.escalated_at := NULL;
    RETURN NEW;
END
$$;
CREATE TRIGGER marks_reopen BEFORE UPDATE ON marks
    FOR EACH ROW WHEN (OLD.state = 'cleared' AND NEW.state = 'open')
    EXECUTE FUNCTION nt_marks_reopen();

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'numtrust_worker') THEN
        GRANT SELECT ON schedule_kinds, maintenance_items TO numtrust_worker;
        GRANT SELECT, INSERT, UPDATE ON renewals TO numtrust_worker;
    END IF;
END
$$;
