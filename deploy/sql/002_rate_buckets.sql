-- 002_rate_buckets.sql — cluster-wide rate limits.
--
-- Platforms limit calls per credential, i.e. for all workers together. Each
-- platform with a configured rate has one token bucket row; workers lease a
-- few tenths of a second of tokens at a time with one atomic statement
-- (refill by elapsed time, then take), so N workers together never exceed the
-- platform's qps, whatever N is.
CREATE TABLE rate_buckets (
    platform    text PRIMARY KEY,
    qps         double precision NOT NULL CHECK (qps > 0),
    burst       double precision NOT NULL CHECK (burst >= 1),
    tokens      double precision NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'numtrust_worker') THEN
        GRANT SELECT, INSERT, UPDATE ON rate_buckets TO numtrust_worker;
    END IF;
END
$$;
