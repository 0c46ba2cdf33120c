-- 006b_alerts.sql — alerts with an outbox of signed webhook deliveries, and
-- quarantine (issue 10; docs/policies.md).
--
-- An alert is a row of `alerts`, written in the same transaction as the
-- change it reports: by triggers for what the workers write (a new fraud or
-- harassment mark, an appeal decided or escalated, a label rejected, a
-- certification lost) and by the reconciler's pass for what it computes (a
-- tenant over its mark-rate target, a service level breached or near breach,
-- a certification expiring, a number quarantined or released). `dedupe`
-- makes raising the same alert twice a no-op. Each alert fans out, in the
-- same transaction, to one alert_deliveries row per matching webhook
-- endpoint: the outbox. The reconciler daemon drains it (producer/alerts.c):
-- it signs and POSTs each due delivery, marks it delivered only after a 2xx,
-- and otherwise schedules the next attempt with backoff. Nothing is sent
-- before it is committed here and nothing is forgotten before a 2xx, so a
-- delivery survives a receiver outage and a producer restart; a crash after
-- the POST and before the commit sends it again with the same delivery id
-- (at least once; receivers deduplicate on X-Numtrust-Delivery).

CREATE TABLE alert_endpoints (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    url         text NOT NULL CHECK (url ~ '^https?://'),
    secret      text NOT NULL CHECK (char_length(secret) >= 16),  -- HMAC-SHA256 key
    tenant_id   text REFERENCES tenants (id) ON DELETE CASCADE,   -- NULL: every tenant
    events      text[],                                           -- NULL: every event
    enabled     boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE alerts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event       text NOT NULL CHECK (event IN (
                    'mark_new', 'mark_rate_over_target', 'sla_breach', 'sla_near_breach',
                    'appeal_decided', 'appeal_escalated', 'label_rejected',
                    'cert_expiring', 'cert_lost', 'number_quarantined', 'number_released',
                    'test')),
    tenant_id   text,
    number      text,
    platform    text,
    dedupe      text NOT NULL UNIQUE,
    summary     text NOT NULL,
    data        jsonb NOT NULL DEFAULT '{}',
    at          timestamptz NOT NULL DEFAULT nt_now(),  -- numtrust time of the event
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alerts_tenant ON alerts (tenant_id, id);

CREATE TABLE alert_deliveries (
    alert_id         bigint NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    endpoint_id      bigint NOT NULL REFERENCES alert_endpoints (id) ON DELETE CASCADE,
    delivery_id      uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    state            text NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),  -- real time: a retry delay
    last_status      integer,
    last_error       text,
    delivered_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (alert_id, endpoint_id)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt_at) WHERE state = 'pending';

-- Fan-out: one delivery per enabled endpoint that wants the alert.
CREATE FUNCTION nt_alert_fanout() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO alert_deliveries (alert_id, endpoint_id)
    SELECT NEW.id, e.id FROM alert_endpoints e
    WHERE e.enabled AND (e.tenant_id IS NULL OR e.tenant_id = NEW.tenant_id)
      AND (e.events IS NULL OR NEW.event = ANY(e.events))
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER alerts_fanout AFTER INSERT ON alerts
    FOR EACH ROW EXECUTE FUNCTION nt_alert_fanout();

-- Raises an alert (once per dedupe key): true when it is new. For triggers
-- and the reconciler's statements alike.
CREATE FUNCTION nt_alert(p_event text, p_tenant text, p_number text, p_platform text,
                         p_dedupe text, p_summary text, p_data jsonb)
    RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
WITH ins AS (
    INSERT INTO alerts (event, tenant_id, number, platform, dedupe, summary, data)
    VALUES (p_event, p_tenant, p_number, p_platform, p_dedupe, p_summary, p_data)
    ON CONFLICT (dedupe) DO NOTHING RETURNING 1)
SELECT EXISTS (SELECT 1 FROM ins)
$$;

-- ---- alerts from what the workers write (row triggers with a WHEN clause:
-- the common update, a mark seen again or a check with nothing new, does
-- not even call the function) ----

CREATE FUNCTION nt_alert_marks() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_tenant text := (SELECT tenant_id FROM numbers WHERE number = NEW.number);
BEGIN
    IF NEW.state = 'escalated' THEN
        PERFORM nt_alert('appeal_escalated', v_tenant, NEW.number, NEW.platform,
            'escalated:' || NEW.number || ':' || NEW.platform || ':' || NEW.type || ':'
                || (extract(epoch FROM NEW.opened_at) * 1000)::bigint,
            format('%s mark on %s escalated after its appeals failed', NEW.type, NEW.platform),
            jsonb_build_object('type', NEW.type, 'count', NEW.count, 'opened_at', NEW.opened_at));
    ELSE
        PERFORM nt_alert('mark_new', v_tenant, NEW.number, NEW.platform,
            'mark:' || NEW.number || ':' || NEW.platform || ':' || NEW.type || ':'
                || (extract(epoch FROM NEW.opened_at) * 1000)::bigint,
            format('new %s mark on %s (count %s)', NEW.type, NEW.platform, NEW.count),
            jsonb_build_object('type', NEW.type, 'count', NEW.count, 'opened_at', NEW.opened_at,
                               'detected_by', NEW.detected_by));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER marks_alert_new AFTER INSERT ON marks
    FOR EACH ROW WHEN (NEW.type IN ('fraud', 'harassment'))
    EXECUTE FUNCTION nt_alert_marks();
CREATE TRIGGER marks_alert_change AFTER UPDATE OF state ON marks
    FOR EACH ROW WHEN ((NEW.type IN ('fraud', 'harassment') AND OLD.state = 'cleared'
                        AND NEW.state = 'open')
                       OR (NEW.state::text = 'escalated' AND OLD.state::text <> 'escalated'))
    EXECUTE FUNCTION nt_alert_marks();

CREATE FUNCTION nt_alert_appeals() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM nt_alert('appeal_decided', (SELECT tenant_id FROM numbers WHERE number = NEW.number),
        NEW.number, NEW.platform, 'decided:' || NEW.job_id,
        format('appeal of the %s mark on %s %s', NEW.mark_type, NEW.platform, NEW.state),
        jsonb_build_object('mark_type', NEW.mark_type, 'ticket', NEW.ticket, 'state', NEW.state,
                           'filed_at', NEW.filed_at, 'decided_at', NEW.decided_at,
                           'appeal_job', NEW.job_id));
    RETURN NULL;
END
$$;
CREATE TRIGGER appeals_alert_decided AFTER INSERT OR UPDATE OF state ON appeals
    FOR EACH ROW WHEN (NEW.state IN ('approved', 'rejected'))
    EXECUTE FUNCTION nt_alert_appeals();

CREATE FUNCTION nt_alert_tags() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM nt_alert('label_rejected', (SELECT tenant_id FROM numbers WHERE number = NEW.number),
        NEW.number, NEW.platform, 'rejected:' || NEW.job_id,
        format('label "%s" rejected on %s', NEW.label, NEW.platform),
        jsonb_build_object('label', NEW.label, 'ticket', NEW.ticket, 'pushed_at', NEW.pushed_at,
                           'tag_job', NEW.job_id)
            -- the platform's reason, where the table records it (005b)
            || jsonb_strip_nulls(jsonb_build_object('reason', to_jsonb(NEW) -> 'reason')));
    RETURN NULL;
END
$$;
CREATE TRIGGER tag_updates_alert_rejected AFTER INSERT OR UPDATE OF state ON tag_updates
    FOR EACH ROW WHEN (NEW.state = 'rejected')
    EXECUTE FUNCTION nt_alert_tags();

CREATE FUNCTION nt_alert_cert() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM nt_alert('cert_lost', (SELECT tenant_id FROM numbers WHERE number = NEW.number),
        NEW.number, NEW.platform,
        'cert_lost:' || NEW.number || ':' || NEW.platform || ':'
            || (extract(epoch FROM NEW.last_checked_at) * 1000)::bigint,
        format('certification on %s is %s', NEW.platform, NEW.cert_status),
        jsonb_build_object('was', OLD.cert_status, 'now', NEW.cert_status,
                           'checked_at', NEW.last_checked_at, 'check_job', NEW.last_check_job));
    RETURN NULL;
END
$$;
CREATE TRIGGER number_platforms_alert_cert AFTER UPDATE OF cert_status ON number_platforms
    FOR EACH ROW WHEN (OLD.cert_status = 'certified'
                       AND NEW.cert_status IN ('expired', 'revoked', 'none'))
    EXECUTE FUNCTION nt_alert_cert();

-- ---------------------------------------------------------------- quarantine

-- A burned number is put to rest: dialers stop using it (quarantined_numbers)
-- while maintenance goes on; it returns when its marks are cleared and the
-- policy's cool-down has passed. One row per episode.
CREATE TABLE quarantine (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number          e164 NOT NULL REFERENCES numbers (number) ON DELETE CASCADE,
    tenant_id       text NOT NULL,
    reason          text NOT NULL,  -- fraud_on_platforms, mark_back_after_appeal, manual
    evidence        jsonb NOT NULL DEFAULT '{}',
    since           timestamptz NOT NULL,  -- numtrust time
    clean_since     timestamptz,           -- its marks all cleared since
    release_after   timestamptz,           -- clean_since + cool-down
    released_at     timestamptz,
    release_reason  text,                  -- cleared, manual
    note            text
);
CREATE UNIQUE INDEX quarantine_active ON quarantine (number) WHERE released_at IS NULL;
CREATE INDEX quarantine_tenant ON quarantine (tenant_id, since);

-- For dialers: the numbers not to call now, and why.
CREATE VIEW quarantined_numbers AS
SELECT q.number, q.tenant_id, n.scenario_id, n.number_group, q.reason, q.since,
       q.clean_since, q.release_after, q.evidence
FROM quarantine q JOIN numbers n ON n.number = q.number
WHERE q.released_at IS NULL;

-- The workers' role gets nothing new: the triggers above run as their owner
-- (SECURITY DEFINER), and EXECUTE on functions is PUBLIC's by default.
