-- 004a_retry.sql — failed and dead jobs can be run again (`numtrust-producer retry`).
--
-- A job that failed for a reason that can be fixed (credentials, a platform
-- outage, a configuration) is run again as a new attempt: a new job with a
-- deterministic id (UUIDv5 of "retry", its origin and the generation), linked
-- to the job it re-runs (retry_of), carrying the same payload. The payload is
-- kept in the ledger when a job fails or dies (envelope: the job as the
-- worker decoded it), because it cannot always be derived again: an appeal's
-- evidence, an appeal-status poll's ticket, the label that was wanted then.
-- error_class says why it ended (auth, rejected, mapping, request, config,
-- invalid, unwritable, attempts), so that re-runs can be selected by cause.
-- origin is the first attempt's id: re-runs keep it as the platforms'
-- Idempotency-Key, so a side effect the first attempt got applied is never
-- applied twice.
--
-- Only rows that fail get envelope and error_class: the hot path (done) does
-- not touch them, and their partial index keeps the ledger's updates HOT.
ALTER TABLE jobs
    ADD COLUMN envelope     jsonb,
    ADD COLUMN error_class  text,
    ADD COLUMN retry_of     uuid,
    ADD COLUMN origin       uuid,
    ADD COLUMN retry_gen    integer NOT NULL DEFAULT 0 CHECK (retry_gen >= 0);

CREATE INDEX jobs_failed ON jobs (error_class) WHERE error_class IS NOT NULL;
CREATE INDEX jobs_retry_of ON jobs (retry_of) WHERE retry_of IS NOT NULL;
