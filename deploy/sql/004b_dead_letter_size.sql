-- 004b_dead_letter_size.sql — a dead letter always fits.
--
-- A message bigger than job.max_bytes is poison; its dead letter (on the
-- dead-letter topic and here) keeps at most that many of its bytes, so that
-- it fits under the producer's and the topic's size limits and no batch of
-- dead letters grows without bound. What it was is still known exactly:
-- its full size and the SHA-256 of all its bytes (hex). raw_size = length(raw)
-- for a dead letter kept whole (every dead letter that was a valid job).
ALTER TABLE dead_letters
    ADD COLUMN raw_size    bigint,
    ADD COLUMN raw_sha256  text;
