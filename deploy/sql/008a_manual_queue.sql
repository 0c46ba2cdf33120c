-- 008a_manual_queue.sql — the manual queue's rules (issue 12; docs/platforms.md,
-- Manual platforms).
--
-- 008 made the table; this makes it a queue with exactly-once outcomes:
--
-- * one item per subject while it is not done (a registration's label, a
--   mark on a registration): enqueuing the same work twice, or again the next
--   day, creates no second item (action_items_one_open);
-- * nt_action_submit(id, reference, note) records that a person filed the
--   item on the platform's web form, and nt_action_done(id, outcome,
--   reference, note) the platform's decision. Both lock the item, record the
--   submission result (a tag_updates or appeals row with the item's id as
--   job id, as a worker would have written it) at most once, apply the
--   decision at most once, and answer what they did: 'recorded', 'already'
--   (the same step again: nothing changed), 'conflict' (done before with
--   another outcome: nothing changed), 'unknown' (no such item). The CLI
--   (`numtrust-producer actions`) and the control plane's API call these, so
--   the service-level clocks and the report, which read tag_updates and
--   appeals, cover manual platforms like the others;
-- * action_queue is the queue as people and the API read it.
-- Item times are numtrust time (nt_now()), like every domain time.

ALTER TABLE action_items ALTER COLUMN created_at SET DEFAULT nt_now();
-- json, not jsonb: a form's fields keep the platform's order for the person
-- typing them in
ALTER TABLE action_items ALTER COLUMN form TYPE json USING form::json;

CREATE UNIQUE INDEX action_items_one_open
    ON action_items (kind, number, platform, (COALESCE(mark_type::text, '')))
    WHERE state <> 'done';
CREATE INDEX action_items_number ON action_items (number, platform);

-- The submission result of item it, filed at p_at with the platform's ticket
-- p_ticket (may be NULL), written once (ON CONFLICT on the job id), and the
-- mark it appeals marked appealed. A ticket another appeal of the platform
-- holds is a unique violation: the caller's reference was wrong.
CREATE FUNCTION nt_action_file(it action_items, p_at timestamptz, p_ticket text)
    RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF it.kind = 'tag_update' THEN
        INSERT INTO tag_updates (job_id, number, platform, label, ticket, state, pushed_at)
        VALUES (it.id, it.number, it.platform, it.label, p_ticket, 'pending_review', p_at)
        ON CONFLICT (job_id) DO NOTHING;
        IF FOUND THEN
            UPDATE number_platforms np SET last_tag_label = it.label, last_tag_at = p_at
            WHERE np.number = it.number AND np.platform = it.platform
              AND (np.last_tag_at IS NULL OR np.last_tag_at <= p_at);
        END IF;
    ELSE
        INSERT INTO appeals (job_id, number, platform, mark_type, ticket, state, evidence,
                             filed_at, updated_at)
        VALUES (it.id, it.number, it.platform, it.mark_type,
                COALESCE(p_ticket, 'manual:' || it.id::text), 'submitted', it.evidence, p_at, p_at)
        ON CONFLICT (job_id) DO NOTHING;
        IF FOUND THEN
            UPDATE marks m SET state = 'appealed', appeal_job = it.id
            WHERE m.number = it.number AND m.platform = it.platform AND m.type = it.mark_type
              AND m.state IN ('open', 'disputed');
        END IF;
    END IF;
END
$$;

-- The outcomes a person may record, by item kind.
CREATE FUNCTION nt_action_outcome_ok(kind text, outcome text)
    RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
SELECT CASE kind WHEN 'tag_update' THEN outcome IN ('applied', 'rejected')
                 WHEN 'appeal' THEN outcome IN ('approved', 'rejected')
                 ELSE false END
$$;

CREATE FUNCTION nt_action_submit(p_id uuid, p_reference text, p_note text)
    RETURNS TABLE (effect text, kind text, state text, outcome text, recorded_at timestamptz)
    LANGUAGE plpgsql AS $$
DECLARE
    it action_items;
    t timestamptz := nt_now();
BEGIN
    SELECT * INTO it FROM action_items a WHERE a.id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'unknown'::text, NULL::text, NULL::text, NULL::text, NULL::timestamptz;
        RETURN;
    END IF;
    IF it.state <> 'open' THEN
        RETURN QUERY SELECT 'already'::text, it.kind, it.state, it.outcome,
                            COALESCE(it.done_at, it.submitted_at);
        RETURN;
    END IF;
    PERFORM nt_action_file(it, t, p_reference);
    UPDATE action_items a SET state = 'submitted', submitted_at = t,
        reference = COALESCE(p_reference, a.reference), note = COALESCE(p_note, a.note)
    WHERE a.id = p_id;
    RETURN QUERY SELECT 'recorded'::text, it.kind, 'submitted'::text, NULL::text, t;
END
$$;

CREATE FUNCTION nt_action_done(p_id uuid, p_outcome text, p_reference text, p_note text)
    RETURNS TABLE (effect text, kind text, state text, outcome text, recorded_at timestamptz)
    LANGUAGE plpgsql AS $$
DECLARE
    it action_items;
    t timestamptz := nt_now();
BEGIN
    SELECT * INTO it FROM action_items a WHERE a.id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'unknown'::text, NULL::text, NULL::text, NULL::text, NULL::timestamptz;
        RETURN;
    END IF;
    IF NOT nt_action_outcome_ok(it.kind, p_outcome) THEN
        RAISE EXCEPTION '"%" is not an outcome of % items (%)', p_outcome, it.kind,
              CASE it.kind WHEN 'tag_update' THEN 'applied, rejected' ELSE 'approved, rejected' END
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF it.state = 'done' THEN
        RETURN QUERY SELECT CASE WHEN it.outcome = p_outcome THEN 'already' ELSE 'conflict' END,
                            it.kind, it.state, it.outcome, it.done_at;
        RETURN;
    END IF;
    -- filed and decided at once when nobody said it was filed
    PERFORM nt_action_file(it, COALESCE(it.submitted_at, t), COALESCE(p_reference, it.reference));
    IF it.kind = 'tag_update' THEN
        UPDATE tag_updates tu SET state = p_outcome
        WHERE tu.job_id = it.id AND tu.state = 'pending_review';
    ELSE
        WITH ap AS (
            UPDATE appeals a SET state = p_outcome, updated_at = t, decided_at = t
            WHERE a.job_id = it.id AND a.state NOT IN ('approved', 'rejected')
            RETURNING a.number, a.platform, a.mark_type, a.state, a.job_id)
        UPDATE marks m SET state = CASE WHEN ap.state = 'approved' THEN 'cleared'
                                        ELSE 'disputed' END,
            cleared_at = CASE WHEN ap.state = 'approved' THEN t ELSE m.cleared_at END
        FROM ap WHERE m.number = ap.number AND m.platform = ap.platform
          AND m.type = ap.mark_type AND m.appeal_job = ap.job_id;
    END IF;
    UPDATE action_items a SET state = 'done', outcome = p_outcome, done_at = t,
        submitted_at = COALESCE(a.submitted_at, t),
        reference = COALESCE(p_reference, a.reference), note = COALESCE(p_note, a.note)
    WHERE a.id = p_id;
    RETURN QUERY SELECT 'recorded'::text, it.kind, 'done'::text, p_outcome, t;
END
$$;

-- The queue as people and the API read it: what to file where, since when.
CREATE VIEW action_queue AS
SELECT a.id, a.kind, a.state, a.number, a.platform, p.name AS platform_name, a.tenant_id,
       a.label, a.mark_type, a.evidence, a.form_url, a.form, a.outcome, a.reference, a.note,
       a.created_at, a.submitted_at, a.done_at,
       COALESCE(a.done_at, (SELECT nt_now())) - a.created_at AS age
FROM action_items a JOIN platforms p ON p.id = a.platform;
