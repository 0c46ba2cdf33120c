-- 009_history.sql — history that grows with change, partitioned by month,
-- and the rollups the reports read (issue 14; docs/architecture.md, "History").
--
-- Almost every check observes what the one before it observed. Such a check
-- now writes no history row: its ledger row says `same`, the observed state
-- (number_platforms) moves its last_checked_at and running trust sums, and
-- the day's rollup counts it. A check is a *change* — one check_results row,
-- ledger `changed` — when it is the registration's first, or its
-- certification status or expiry, a label on any surface or its marks (types and
-- counts) differ from the previous observation, or its trust score moved by
-- history_settings.trust_delta points (10) or more from the score of the last
-- history row. A trust score drifting by a point or two is not a change: the
-- trend and the decay reports read every check's score from the running sums
-- instead (number_platforms.q_* and q_hist), so they are as exact as before.
--
-- * check_results: one row per change, partitioned by month of checked_at
--   (numtrust time, UTC). Rows are written only by a check whose ledger row
--   the same statement moved to `done`, so a redelivered job writes nothing
--   twice without a unique job_id index (which a table partitioned by time
--   cannot have). A default partition takes rows of a month that has no
--   partition yet; nt_history_maintain() (every reconciler pass) creates
--   the months around numtrust now, moves such rows into theirs and drops
--   months older than history_settings.keep_months.
-- * check_daily: checks per UTC day, tenant, scenario and platform (marked,
--   scored, score sum, changes), written with the checks; sharded by worker
--   so that two workers never wait for each other's row lock. The reports'
--   daily mark rate and trust views read it: their cost follows days, not
--   checks.
-- * each registration's trust-score sums per quarter (count, Σt, Σy, Σt²,
--   Σty, t in days from the quarter's start): the open quarter in
--   number_platforms.q_*, the closed ones (the first check of a quarter
--   closes the one before) in number_platforms.q_hist, seven numbers a
--   quarter, the last keep_months / 3. The trust trend (least squares) and
--   trust_quarterly (average per quarter) are computed from them. An array
--   in the row the check rewrites anyway, not a table: a row of its own
--   would cost a quarter some 150 bytes of tuple and index (measured), as
--   much as the rest of a registration's history together; and, last in the
--   row and unchanged between quarters, it adds nothing to a check's WAL
--   (a HOT update logs the changed bytes only).
-- * Check costs (006) are written by nt_cost_checks() for every finished
--   check, changed or not, instead of the trigger on check_results.

CREATE TABLE history_settings (
    id            boolean PRIMARY KEY DEFAULT true CHECK (id),
    trust_delta   smallint NOT NULL DEFAULT 10 CHECK (trust_delta BETWEEN 1 AND 100),
    keep_months   integer NOT NULL DEFAULT 25 CHECK (keep_months BETWEEN 2 AND 1200),
    ahead_months  integer NOT NULL DEFAULT 2 CHECK (ahead_months BETWEEN 1 AND 24),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
INSERT INTO history_settings DEFAULT VALUES;

-- ---------------------------------------------------------------- observed state

-- marks: the marks of the last observation (what a change is compared with);
-- hist_score: the trust score of the last history row; q_*: the running
-- trust sums of the quarter q_start (numtrust time), t in days from q_start;
-- q_hist: the closed quarters, oldest first, each [start (days since
-- 1970-01-01), checks, first check (epoch s), Σt, Σy, Σt², Σty].
ALTER TABLE number_platforms
    ADD COLUMN marks       jsonb,
    ADD COLUMN hist_score  smallint,
    ADD COLUMN q_start     date,
    ADD COLUMN q_n         integer NOT NULL DEFAULT 0,
    ADD COLUMN q_first     timestamptz,
    ADD COLUMN q_t         double precision NOT NULL DEFAULT 0,
    ADD COLUMN q_y         bigint NOT NULL DEFAULT 0,
    ADD COLUMN q_tt        double precision NOT NULL DEFAULT 0,
    ADD COLUMN q_ty        double precision NOT NULL DEFAULT 0,
    ADD COLUMN q_hist      double precision[];

-- ---------------------------------------------------------------- history

ALTER TABLE check_results RENAME TO check_results_old;
DROP TRIGGER IF EXISTS check_results_cost ON check_results_old;
DROP VIEW report_mark_rate_daily;
DROP VIEW report_trust_daily;
DROP VIEW trust_quarterly;

CREATE TABLE check_results (
    job_id         uuid NOT NULL,
    number         e164 NOT NULL,
    platform       platform_id NOT NULL,
    checked_at     timestamptz NOT NULL,
    cert_status    cert_status,
    trust_score    smallint CHECK (trust_score BETWEEN 0 AND 100),
    label_android  text,
    label_ios      text,
    label_search   text,
    marks          jsonb NOT NULL DEFAULT '[]'
) PARTITION BY RANGE (checked_at);
CREATE TABLE check_results_default PARTITION OF check_results DEFAULT;
CREATE INDEX check_results_reg ON check_results (number, platform, checked_at DESC);

-- columns later migrations of other pieces of work added to the old table
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS typ
             FROM pg_attribute a
             WHERE a.attrelid = 'check_results_old'::regclass AND a.attnum > 0
               AND NOT a.attisdropped
               AND NOT EXISTS (SELECT 1 FROM pg_attribute b
                               WHERE b.attrelid = 'check_results'::regclass
                                 AND b.attname = a.attname AND NOT b.attisdropped)
             ORDER BY a.attnum LOOP
        EXECUTE format('ALTER TABLE check_results ADD COLUMN %I %s', c.attname, c.typ);
    END LOOP;
END
$$;

-- ---------------------------------------------------------------- rollups

CREATE TABLE check_daily (
    day          date NOT NULL,          -- UTC day of checked_at (numtrust time)
    tenant_id    text NOT NULL,
    scenario_id  text NOT NULL,
    platform     platform_id NOT NULL,
    shard        smallint NOT NULL,      -- of the writing worker: no shared row locks
    checks       integer NOT NULL,
    marked       integer NOT NULL,       -- showing a harassment, fraud or agency mark
    scored       integer NOT NULL,       -- with a trust score
    score_sum    bigint NOT NULL,
    changes      integer NOT NULL,       -- that wrote a history row
    PRIMARY KEY (day, tenant_id, scenario_id, platform, shard)
);

-- ---------------------------------------------------------------- costs

-- The cost of finished checks (one cost_ledger row per priced check job,
-- changed or not). Called by the workers' check statement with the jobs it
-- finished; SECURITY DEFINER so that the workers' role keeps its grants.
CREATE FUNCTION nt_cost_checks(p_jobs uuid[], p_numbers text[], p_platforms text[],
                               p_at timestamptz[]) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    n integer;
BEGIN
    -- most platforms' checks are free: the priced ones first, then their numbers
    IF NOT EXISTS (SELECT 1 FROM platform_prices pp
                   WHERE pp.op = 'check' AND pp.amount > 0 AND pp.platform = ANY (p_platforms)) THEN
        RETURN 0;
    END IF;
    INSERT INTO cost_ledger (job_id, op, number, platform, tenant_id, scenario_id, number_group,
                             amount, currency, at, month)
    SELECT r.job_id, 'check', r.number, r.platform, n.tenant_id, n.scenario_id, n.number_group,
           pr.amount, pr.currency, r.at, nt_month(r.at)
    FROM unnest(p_jobs, p_numbers, p_platforms, p_at) AS r(job_id, number, platform, at)
    JOIN (SELECT pp.platform, pp.amount, pp.currency FROM platform_prices pp
          WHERE pp.op = 'check' AND pp.amount > 0) pr ON pr.platform = r.platform
    JOIN numbers n ON n.number = r.number
    ON CONFLICT (job_id) DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

-- ---------------------------------------------------------------- the ledger

-- A job's ledger row is written three times: queued (the producer), claimed
-- and done (the worker, two transactions). At fillfactor 80 (migration 003)
-- a page of freshly inserted rows has room for the new versions of a few of
-- them only: most claims and results moved their row to another page, with a
-- new primary-key entry each (measured: 7 in 10 results non-HOT, ~800 bytes
-- of WAL per job for claim and result). At 50 both updates stay on the page
-- (the claim's old version is pruned before the result arrives): ~640 bytes,
-- no index growth, for a ledger of up to twice the pages.
ALTER TABLE jobs SET (fillfactor = 50);

-- ---------------------------------------------------------------- maintenance

-- The partition of the month starting at m (UTC).
CREATE FUNCTION nt_history_partition(m date) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$ SELECT 'check_results_' || to_char(m, 'YYYYMM') $$;

-- Creates the month partitions from a month before numtrust now to
-- ahead_months after it, and one for every month of a row in the default
-- partition (moving those rows in); drops the months that ended more than
-- keep_months before numtrust now, and their trust quarters. Returns what it
-- did. Run by every reconciler pass (and `numtrust-producer history`).
CREATE FUNCTION nt_history_maintain(OUT created integer, OUT moved bigint, OUT dropped integer)
    LANGUAGE plpgsql AS $$
DECLARE
    s history_settings;
    cur date := date_trunc('month', nt_now() AT TIME ZONE 'UTC')::date;
    m date;
    part text;
    n bigint;
BEGIN
    created := 0;
    moved := 0;
    dropped := 0;
    SELECT * INTO s FROM history_settings;
    FOR m IN
        SELECT g::date FROM generate_series(cur - interval '1 month',
                                            cur + s.ahead_months * interval '1 month',
                                            interval '1 month') g
        UNION
        SELECT DISTINCT date_trunc('month', d.checked_at AT TIME ZONE 'UTC')::date
        FROM check_results_default d
        ORDER BY 1
    LOOP
        part := nt_history_partition(m);
        CONTINUE WHEN to_regclass(part) IS NOT NULL;
        CONTINUE WHEN m + interval '1 month' <= cur - s.keep_months * interval '1 month'
                      AND NOT EXISTS (SELECT 1 FROM check_results_default d
                                      WHERE d.checked_at >= (m::timestamp AT TIME ZONE 'UTC')
                                        AND d.checked_at < ((m + interval '1 month')::timestamp
                                                            AT TIME ZONE 'UTC'));
        -- rows of that month waiting in the default partition move into it
        CREATE TEMP TABLE IF NOT EXISTS nt_history_move (LIKE check_results) ON COMMIT DROP;
        WITH d AS (
            DELETE FROM check_results_default
            WHERE checked_at >= (m::timestamp AT TIME ZONE 'UTC')
              AND checked_at < ((m + interval '1 month')::timestamp AT TIME ZONE 'UTC')
            RETURNING *)
        INSERT INTO nt_history_move SELECT * FROM d;
        GET DIAGNOSTICS n = ROW_COUNT;
        EXECUTE format('CREATE TABLE %I PARTITION OF check_results FOR VALUES FROM (%L) TO (%L)',
                       part, m::timestamp AT TIME ZONE 'UTC',
                       (m + interval '1 month')::timestamp AT TIME ZONE 'UTC');
        IF n > 0 THEN
            INSERT INTO check_results SELECT * FROM nt_history_move;
            TRUNCATE nt_history_move;
        END IF;
        created := created + 1;
        moved := moved + n;
    END LOOP;
    -- retention
    FOR part, m IN
        SELECT c.relname, to_date(substr(c.relname, 15), 'YYYYMM')
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'check_results'::regclass AND c.relname ~ '^check_results_[0-9]{6}$'
    LOOP
        IF m + interval '1 month' <= cur - s.keep_months * interval '1 month' THEN
            EXECUTE format('DROP TABLE %I', part);
            dropped := dropped + 1;
        END IF;
    END LOOP;
END
$$;

-- ---------------------------------------------------------------- the old rows

-- Existing history moves into the partitions (a fresh database has none);
-- the observed state learns its last observation's marks and score.
UPDATE number_platforms np SET marks = o.marks, hist_score = o.trust_score
FROM check_results_old o WHERE o.job_id = np.last_check_job;
INSERT INTO check_daily (day, tenant_id, scenario_id, platform, shard, checks, marked, scored,
                         score_sum, changes)
SELECT (o.checked_at AT TIME ZONE 'UTC')::date, n.tenant_id, n.scenario_id, o.platform, 0,
       count(*),
       count(*) FILTER (WHERE o.marks @> '[{"type":"harassment"}]'
                           OR o.marks @> '[{"type":"fraud"}]' OR o.marks @> '[{"type":"agency"}]'),
       count(o.trust_score), COALESCE(sum(o.trust_score), 0), count(*)
FROM check_results_old o JOIN numbers n ON n.number = o.number
GROUP BY 1, 2, 3, 4;
CREATE TEMP TABLE nt_old_quarters ON COMMIT DROP AS
SELECT o.number, o.platform, q.q AS quarter, count(*) AS checks, min(o.checked_at) AS first_at,
       sum(q.t) AS sum_t, sum(o.trust_score) AS sum_y, sum(q.t * q.t) AS sum_tt,
       sum(q.t * o.trust_score) AS sum_ty,
       rank() OVER (PARTITION BY o.number, o.platform ORDER BY q.q DESC) AS age
FROM check_results_old o
CROSS JOIN LATERAL (SELECT date_trunc('quarter', o.checked_at AT TIME ZONE 'UTC')::date AS q) q0
CROSS JOIN LATERAL (SELECT q0.q, extract(epoch FROM o.checked_at
                                         - (q0.q::timestamp AT TIME ZONE 'UTC')) / 86400.0 AS t) q
WHERE o.trust_score IS NOT NULL
GROUP BY o.number, o.platform, q.q;
-- a registration's latest quarter is its open one, the others closed
UPDATE number_platforms np SET q_start = tq.quarter, q_n = tq.checks, q_first = tq.first_at,
    q_t = tq.sum_t, q_y = tq.sum_y, q_tt = tq.sum_tt, q_ty = tq.sum_ty
FROM nt_old_quarters tq
WHERE tq.number = np.number AND tq.platform = np.platform AND tq.age = 1;
UPDATE number_platforms np SET q_hist = h.arr
FROM (SELECT tq.number, tq.platform,
             array_agg(v.x ORDER BY tq.quarter, v.k) AS arr
      FROM nt_old_quarters tq
      CROSS JOIN LATERAL unnest(ARRAY[(tq.quarter - DATE '1970-01-01')::float8,
                                      tq.checks::float8, extract(epoch FROM tq.first_at)::float8,
                                      tq.sum_t, tq.sum_y::float8, tq.sum_tt, tq.sum_ty])
                 WITH ORDINALITY AS v(x, k)
      WHERE tq.age > 1 AND tq.age <= 1 + 9  -- the last 9 closed quarters (25 months)
      GROUP BY tq.number, tq.platform) h
WHERE h.number = np.number AND h.platform = np.platform;
DO $$
DECLARE
    r record;
BEGIN
    -- the months of the old rows get their partitions before the rows move
    FOR r IN SELECT DISTINCT date_trunc('month', checked_at AT TIME ZONE 'UTC')::date AS m
             FROM check_results_old LOOP
        IF to_regclass(nt_history_partition(r.m)) IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF check_results FOR VALUES FROM (%L) TO (%L)',
                           nt_history_partition(r.m), r.m::timestamp AT TIME ZONE 'UTC',
                           (r.m + interval '1 month')::timestamp AT TIME ZONE 'UTC');
        END IF;
    END LOOP;
END
$$;
DO $$
DECLARE
    cols text;
BEGIN
    -- every column the old table had (the core ones and those added above)
    SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
    FROM pg_attribute a
    WHERE a.attrelid = 'check_results_old'::regclass AND a.attnum > 0 AND NOT a.attisdropped;
    EXECUTE format('INSERT INTO check_results (%s) SELECT %s FROM check_results_old', cols, cols);
END
$$;
DROP TABLE check_results_old;
SELECT nt_history_maintain();

-- ---------------------------------------------------------------- reports

-- Share of checks per tenant and day that found a harassment, fraud or agency
-- mark (the article's enterprise keeps its harassment-mark rate under 3%).
CREATE VIEW report_mark_rate_daily AS
SELECT d.tenant_id, d.platform, d.scenario_id, (d.day::timestamp AT TIME ZONE 'UTC') AS day,
       sum(d.checks)::bigint AS checks, sum(d.marked)::bigint AS marked,
       round(100.0 * sum(d.marked) / NULLIF(sum(d.checks), 0), 2) AS mark_rate_pct
FROM check_daily d
GROUP BY d.tenant_id, d.platform, d.scenario_id, d.day;

-- Average trust score per scenario, platform and day (its decay over time).
CREATE VIEW report_trust_daily AS
SELECT d.tenant_id, d.scenario_id, d.platform, (d.day::timestamp AT TIME ZONE 'UTC') AS day,
       sum(d.scored)::bigint AS scored,
       round(sum(d.score_sum)::numeric / NULLIF(sum(d.scored), 0), 1) AS avg_trust
FROM check_daily d
GROUP BY d.tenant_id, d.scenario_id, d.platform, d.day;

-- Measured decay per quarter: the average trust score of each registration
-- per quarter of numtrust time (every check's score: the closed quarters
-- and the open one), against the quarter before.
CREATE VIEW trust_quarterly AS
SELECT number, platform, quarter, checks, avg_score,
       round(100 * (lag(avg_score) OVER w - avg_score) / NULLIF(lag(avg_score) OVER w, 0), 2)
           AS decay_pct
FROM (SELECT np.number, np.platform,
             (DATE '1970-01-01' + np.q_hist[7 * i + 1]::int)::timestamp AS quarter,
             np.q_hist[7 * i + 2]::bigint AS checks,
             round((np.q_hist[7 * i + 5] / np.q_hist[7 * i + 2])::numeric, 2) AS avg_score
      FROM number_platforms np
      CROSS JOIN LATERAL generate_series(0, COALESCE(array_length(np.q_hist, 1), 0) / 7 - 1) i
      UNION ALL
      SELECT number, platform, q_start::timestamp, q_n::bigint, round(q_y::numeric / q_n, 2)
      FROM number_platforms WHERE q_n > 0) q
WINDOW w AS (PARTITION BY number, platform ORDER BY quarter);

-- Workers write history rows and rollups, read the settings and the tenant
-- and scenario of a number (the rollup's keys); exactly that.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'numtrust_worker') THEN
        GRANT INSERT ON check_results TO numtrust_worker;
        GRANT SELECT (number, tenant_id, scenario_id) ON numbers TO numtrust_worker;
        GRANT SELECT, INSERT, UPDATE ON check_daily TO numtrust_worker;
        GRANT SELECT ON history_settings TO numtrust_worker;
        GRANT EXECUTE ON FUNCTION nt_cost_checks(uuid[], text[], text[], timestamptz[])
            TO numtrust_worker;
    END IF;
END
$$;
