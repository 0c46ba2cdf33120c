-- 011_fleet_state.sql — the fleet's state summed up, for reports at scale
-- (issue 14, item 4: "the year report <= 2 s" on 10 million numbers).
--
-- Seven report sections describe the fleet as it is now (fleet, scenarios,
-- platforms, labels, certification, renewals, and costs' scenario plans):
-- each read every registration or number, and on 3 million registrations
-- they took 20 s together (labels alone 14 s: the wanted label of every
-- registration). History sections already read rollups (check_daily, 009).
-- These now read fleet_state: the
-- registrations counted per tenant, scenario, platform, number status and
-- certification status, with what the sections need (checked, scored,
-- score sum, with marks, wanted label showing), and fleet_state_numbers: the
-- numbers per tenant, scenario and status (nt_plan_fees_snapshot: the plan
-- fees of nt_plan_fees, 006, over those counts). The reconciler refreshes it once
-- report.snapshot_interval_s has passed, and only for a fleet of
-- report.snapshot_min_registrations or more (below that the sections are
-- fast enough live, and always current); `numtrust-producer report
-- --refresh` refreshes it now, `--live` ignores it. The report says when a
-- snapshot was taken. A fleet that shrinks below the threshold drops it.

CREATE TABLE fleet_state (
    tenant_id      text NOT NULL,
    scenario_id    text NOT NULL,
    platform       text NOT NULL,
    number_status  text NOT NULL,
    cert_status    text NOT NULL,   -- 'unchecked': not checked yet
    registrations  bigint NOT NULL,
    checked        bigint NOT NULL,
    scored         bigint NOT NULL,
    score_sum      bigint NOT NULL,
    with_marks     bigint NOT NULL,
    showing        bigint NOT NULL, -- the wanted label showing (Android surface)
    expires_known  bigint NOT NULL, -- with a certification expiry
    expired        bigint NOT NULL, -- ... before numtrust now (at the snapshot)
    expiring_30d   bigint NOT NULL, -- ... within 30 days of it
    PRIMARY KEY (tenant_id, scenario_id, platform, number_status, cert_status)
);

CREATE TABLE fleet_state_numbers (
    tenant_id    text NOT NULL,
    scenario_id  text NOT NULL,
    status       text NOT NULL,
    numbers      bigint NOT NULL,
    PRIMARY KEY (tenant_id, scenario_id, status)
);

CREATE TABLE fleet_state_taken (
    id             boolean PRIMARY KEY DEFAULT true CHECK (id),
    taken_at       timestamptz NOT NULL,   -- real time (its age is real time too)
    registrations  bigint NOT NULL,
    secs           double precision NOT NULL
);

-- Takes the snapshot (one transaction: readers see the old one until it
-- commits). Returns the registrations counted.
CREATE FUNCTION nt_fleet_state_refresh() RETURNS bigint
    LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
    -- numtrust now, once: nt_now() in the query is a function call per row and
    -- use (3 million registrations: 18 million buffer reads, 25 s of 28)
    v_now timestamptz := nt_now();
    regs bigint;
BEGIN
    DELETE FROM fleet_state;
    DELETE FROM fleet_state_numbers;
    -- the wanted label as wanted_labels (005b) has it; label_schedules is looked
    -- into only for the numbers that have a schedule (a hash of them)
    INSERT INTO fleet_state
    SELECT n.tenant_id, n.scenario_id, np.platform, n.status,
           COALESCE(np.cert_status::text, 'unchecked'), count(*), count(np.last_checked_at),
           count(np.trust_score), COALESCE(sum(np.trust_score), 0),
           count(*) FILTER (WHERE np.open_marks > 0),
           count(*) FILTER (WHERE np.label_android =
               CASE WHEN s.number IS NULL THEN n.base_label
                    ELSE COALESCE((SELECT ls.label FROM label_schedules ls
                                   JOIN schedule_kinds k ON k.kind = ls.kind
                                   WHERE ls.number = np.number
                                     AND (ls.platform IS NULL OR ls.platform = np.platform)
                                     AND nt_label_live(v_now, ls.event_start, ls.event_end,
                                                       COALESCE(ls.lead, k.default_lead),
                                                       ls.daily_from, ls.daily_to, tn.time_zone)
                                   ORDER BY ls.priority DESC, ls.event_start DESC, ls.id DESC
                                   LIMIT 1), n.base_label) END),
           count(np.cert_expires_at), count(*) FILTER (WHERE np.cert_expires_at < v_now),
           count(*) FILTER (WHERE np.cert_expires_at >= v_now
                              AND np.cert_expires_at < v_now + interval '30 days')
    FROM number_platforms np
    JOIN numbers n ON n.number = np.number
    JOIN tenants tn ON tn.id = n.tenant_id
    LEFT JOIN (SELECT DISTINCT number FROM label_schedules) s ON s.number = np.number
    GROUP BY 1, 2, 3, 4, 5;
    INSERT INTO fleet_state_numbers
    SELECT tenant_id, scenario_id, status, count(*) FROM numbers GROUP BY 1, 2, 3;
    SELECT COALESCE(sum(registrations), 0) INTO regs FROM fleet_state;
    INSERT INTO fleet_state_taken (taken_at, registrations, secs)
    VALUES (now(), regs, extract(epoch FROM clock_timestamp() - t0))
    ON CONFLICT (id) DO UPDATE SET taken_at = EXCLUDED.taken_at,
        registrations = EXCLUDED.registrations, secs = EXCLUDED.secs;
    RETURN regs;
END
$$;

-- The reconciler's upkeep: 'refreshed', 'fresh' (younger than p_interval_s),
-- 'small' (fewer than p_min registrations, by the planner's estimate) or
-- 'dropped' (small, and the snapshot it had is gone: live sections again).
CREATE FUNCTION nt_fleet_state_maintain(p_min bigint, p_interval_s integer) RETURNS text
    LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    est bigint := (SELECT reltuples::bigint FROM pg_class
                   WHERE oid = 'number_platforms'::regclass);
    last timestamptz := (SELECT taken_at FROM fleet_state_taken);
BEGIN
    IF est < 0 THEN -- never analyzed: counted
        est := (SELECT count(*) FROM number_platforms);
    END IF;
    IF est < p_min THEN
        IF last IS NULL THEN
            RETURN 'small';
        END IF;
        DELETE FROM fleet_state;
        DELETE FROM fleet_state_numbers;
        DELETE FROM fleet_state_taken;
        RETURN 'dropped';
    END IF;
    IF last IS NOT NULL AND last > now() - make_interval(secs => p_interval_s) THEN
        RETURN 'fresh';
    END IF;
    PERFORM nt_fleet_state_refresh();
    RETURN 'refreshed';
END
$$;

-- nt_plan_fees (006) over the snapshot's numbers.
CREATE FUNCTION nt_plan_fees_snapshot(p_month date)
    RETURNS TABLE (tenant_id text, scenario_id text, numbers bigint, plan_per text,
                   amount numeric, currency text)
    LANGUAGE sql STABLE AS $$
SELECT n.tenant_id, s.id, sum(n.numbers)::bigint, s.plan_per,
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
FROM fleet_state_numbers n JOIN scenarios s ON s.id = n.scenario_id
GROUP BY n.tenant_id, s.id, s.plan_per, s.plan_amount, s.plan_currency
$$;
