-- 010_set_triggers.sql — alerts raised per statement, not per row (issue 14).
--
-- Measured with pg_stat_statements over the benchmark's first checks of a
-- fleet (tests/bench/run.sh --pg-top): a check batch that opens marks spent
-- twice as long in the row triggers of 006b as in its own plan — for every
-- new fraud or harassment mark a PL/pgSQL call, a tenant lookup, nt_alert()'s
-- INSERT and, per alert, the fan-out trigger's INSERT, each statement planned
-- again (the workers' sessions force custom plans): about 0.4 ms a mark, a
-- third of PostgreSQL's time in that phase. Here both become statement
-- triggers with a transition table: one INSERT of all the statement's new
-- mark alerts, one INSERT of all their deliveries. What is raised is the
-- same, with the same dedupe keys, summaries and data (006b); the row
-- trigger for a mark that reopens or is escalated (rare) stays as it was.

DROP TRIGGER marks_alert_new ON marks;

CREATE FUNCTION nt_alert_marks_new() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO alerts (event, tenant_id, number, platform, dedupe, summary, data)
    SELECT CASE WHEN m.state = 'escalated' THEN 'appeal_escalated' ELSE 'mark_new' END,
           n.tenant_id, m.number, m.platform,
           CASE WHEN m.state = 'escalated' THEN 'escalated:' ELSE 'mark:' END
               || m.number || ':' || m.platform || ':' || m.type || ':'
               || (extract(epoch FROM m.opened_at) * 1000)::bigint,
           CASE WHEN m.state = 'escalated'
                THEN format('%s mark on %s escalated after its appeals failed', m.type,
                            m.platform)
                ELSE format('new %s mark on %s (count %s)', m.type, m.platform, m.count) END,
           CASE WHEN m.state = 'escalated'
                THEN jsonb_build_object('type', m.type, 'count', m.count,
                                        'opened_at', m.opened_at)
                ELSE jsonb_build_object('type', m.type, 'count', m.count,
                                        'opened_at', m.opened_at, 'detected_by', m.detected_by)
                END
    FROM nt_new m LEFT JOIN numbers n ON n.number = m.number
    WHERE m.type IN ('fraud', 'harassment')
    ORDER BY m.number, m.platform, m.type
    ON CONFLICT (dedupe) DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER marks_alert_new AFTER INSERT ON marks
    REFERENCING NEW TABLE AS nt_new FOR EACH STATEMENT EXECUTE FUNCTION nt_alert_marks_new();

DROP TRIGGER alerts_fanout ON alerts;
DROP FUNCTION nt_alert_fanout();

-- Fan-out: one delivery per enabled endpoint that wants the alert.
CREATE FUNCTION nt_alert_fanout() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM alert_endpoints WHERE enabled) THEN
        INSERT INTO alert_deliveries (alert_id, endpoint_id)
        SELECT a.id, e.id FROM nt_new a JOIN alert_endpoints e
            ON e.enabled AND (e.tenant_id IS NULL OR e.tenant_id = a.tenant_id)
           AND (e.events IS NULL OR a.event = ANY(e.events))
        ORDER BY a.id, e.id
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER alerts_fanout AFTER INSERT ON alerts
    REFERENCING NEW TABLE AS nt_new FOR EACH STATEMENT EXECUTE FUNCTION nt_alert_fanout();
