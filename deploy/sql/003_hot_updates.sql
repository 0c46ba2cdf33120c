-- 003_hot_updates.sql — cheaper writes on the hot path, measured.
--
-- A check costs a claim (jobs: attempts + 1) and a result (check_results
-- insert; number_platforms, marks and jobs updated). On a 200-row batch:
-- * the foreign key check_results -> platforms took ~10% of the statement:
--   a key lookup and a FOR KEY SHARE lock on one of three rows that every
--   concurrent writer shares. check_results is an append-only log; the
--   worker only records platforms it has an adapter for, and platform_id
--   keeps the format. The key goes.
-- * jobs_state (a partial index on state) made both updates of every job's
--   ledger row non-HOT, with index maintenance each time. Unfinished jobs
--   are an operator's query; a sequential scan serves it. The index goes.
-- * free space per page lets the ledger and the observed state be updated
--   in place (HOT); it applies to pages written from now on.
ALTER TABLE check_results DROP CONSTRAINT check_results_platform_fkey;
DROP INDEX jobs_state;
ALTER TABLE jobs SET (fillfactor = 80);
ALTER TABLE number_platforms SET (fillfactor = 80);
