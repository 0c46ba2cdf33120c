-- 004c_worker_grants.sql — the worker's role can do exactly what its statements do.
--
-- 001 and 002 granted numtrust_worker SELECT, INSERT and UPDATE on every
-- table it touches and SELECT on the desired state: more than the worker's
-- SQL (workers/writer_sql.h and the token buckets) uses. A worker bug or a
-- stolen worker credential could then rewrite the append-only results, add
-- registrations or read every tenant's desired state. Exactly:
--   jobs            SELECT, INSERT, UPDATE  claims (upsert, RETURNING), ledger rows
--   marks           SELECT, INSERT, UPDATE  opened, re-opened, appealed, cleared
--   appeals         SELECT, INSERT, UPDATE  filed; status polls update them
--   rate_buckets    SELECT, INSERT, UPDATE  token leases
--   number_platforms SELECT, UPDATE         observed state (never a new registration)
--   check_results, tag_updates  SELECT, INSERT  append-only (RETURNING reads them)
--   dead_letters    INSERT                  append-only (dead replay is the owner's)
-- and nothing on tenants, scenarios, platforms, numbers, label_schedules,
-- wanted_labels. Later migrations grant what their own statements need.
-- tests/integration/worker_grants.sh runs the worker as numtrust_worker and
-- checks that a write outside these is refused.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'numtrust_worker') THEN
        REVOKE ALL ON tenants, scenarios, platforms, numbers, label_schedules, wanted_labels,
                      number_platforms, marks, jobs, check_results, tag_updates, appeals,
                      dead_letters, rate_buckets FROM numtrust_worker;
        GRANT SELECT, INSERT, UPDATE ON jobs, marks, appeals, rate_buckets TO numtrust_worker;
        GRANT SELECT, UPDATE ON number_platforms TO numtrust_worker;
        GRANT SELECT, INSERT ON check_results, tag_updates TO numtrust_worker;
        GRANT INSERT ON dead_letters TO numtrust_worker;
    END IF;
END
$$;
