-- 005a_clock.sql — numtrust time: one clock for every domain rule.
--
-- Maintenance rules are about time (a campaign label live 7 days before the
-- event, a qualification within 24 hours, a yearly review), and tests and the
-- demo move time forward by a simulated year in minutes. nt_now() is the one
-- source of truth: now() plus the single row of clock_offset (0 in
-- production; `numtrust-producer clock set|advance` moves it, for tests and
-- demos). Every "what time is it for the domain" in SQL uses nt_now();
-- bookkeeping of the ledger (jobs.created_at / updated_at) stays real time.
-- Processes learn the offset from here (nt_clock_offset_ms()) and stamp
-- domain times with it (common/clock.h, nt_clock_domain_ms()).
--
-- In a query over many rows write (SELECT nt_now()): a function with a
-- sub-select is not inlined, and the sub-select makes it one InitPlan.

CREATE TABLE clock_offset (
    id          boolean PRIMARY KEY DEFAULT true CHECK (id),
    "offset"    interval NOT NULL DEFAULT interval '0',
    updated_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO clock_offset DEFAULT VALUES;

CREATE FUNCTION nt_now() RETURNS timestamptz
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT now() + COALESCE((SELECT "offset" FROM clock_offset WHERE id), interval '0') $$;

CREATE FUNCTION nt_clock_offset_ms() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT COALESCE((SELECT (extract(epoch FROM "offset") * 1000)::bigint
                           FROM clock_offset WHERE id), 0) $$;

-- The wanted label, as 001 defined it, on numtrust time.
CREATE OR REPLACE VIEW wanted_labels AS
SELECT np.number, np.platform,
       COALESCE((SELECT ls.label FROM label_schedules ls
                 WHERE ls.number = np.number
                   AND (ls.platform IS NULL OR ls.platform = np.platform)
                   AND t.now >= ls.event_start - ls.lead
                   AND (ls.event_end IS NULL OR t.now < ls.event_end)
                 ORDER BY ls.priority DESC, ls.event_start DESC, ls.id DESC
                 LIMIT 1),
                n.base_label) AS label
FROM number_platforms np
JOIN numbers n ON n.number = np.number
CROSS JOIN (SELECT nt_now() AS now) t;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'numtrust_worker') THEN
        GRANT SELECT ON clock_offset TO numtrust_worker;
        GRANT EXECUTE ON FUNCTION nt_now(), nt_clock_offset_ms() TO numtrust_worker;
    END IF;
END
$$;
