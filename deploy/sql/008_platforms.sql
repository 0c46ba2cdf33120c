-- 008_platforms.sql — platform callbacks and the manual queue (issue 12).
--
-- platform_callbacks: every verified callback a platform sent, keyed by its
-- (platform, ticket, kind, seq), so the same decision twice is recorded once
-- (docs/platforms.md, Callbacks). effect says what it did: applied, stale (an
-- older or equal sequence, or a ticket already decided), unknown_ticket (the
-- submission's result is not written yet; polling reconciles it, and a repeat
-- of the callback is applied then).
--
-- action_items: the manual queue. A tag update or appeal for a platform
-- without a submission API becomes an item a person files on the platform's
-- web form; its outcome comes back through `numtrust-producer actions done`
-- and lands in tag_updates / appeals like any other result.

CREATE TABLE platform_callbacks (
    platform     platform_id NOT NULL REFERENCES platforms (id),
    ticket       text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('appeal', 'tag')),
    seq          bigint NOT NULL,
    state        text NOT NULL,
    event_at     timestamptz NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    effect       text NOT NULL CHECK (effect IN ('applied', 'stale', 'unknown_ticket')),
    PRIMARY KEY (platform, ticket, kind, seq)
);

-- the highest callback sequence applied to a row: a lower one is stale
ALTER TABLE appeals ADD COLUMN callback_seq bigint;
ALTER TABLE tag_updates ADD COLUMN callback_seq bigint;

CREATE TABLE action_items (
    id            uuid PRIMARY KEY,  -- the job id the submission would have had
    kind          text NOT NULL CHECK (kind IN ('tag_update', 'appeal')),
    number        e164 NOT NULL,
    platform      platform_id NOT NULL REFERENCES platforms (id),
    tenant_id     text,
    label         text,              -- tag_update
    mark_type     mark_type,         -- appeal
    evidence      text NOT NULL DEFAULT '',
    form_url      text NOT NULL,
    form          jsonb NOT NULL,    -- field -> value, what the person types in
    state         text NOT NULL DEFAULT 'open'
                  CHECK (state IN ('open', 'submitted', 'done')),
    outcome       text,              -- the platform's decision, normalised
    reference     text,              -- the platform's ticket or case number, if any
    note          text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    submitted_at  timestamptz,
    done_at       timestamptz,
    CHECK ((kind = 'tag_update') = (label IS NOT NULL)),
    CHECK ((kind = 'appeal') = (mark_type IS NOT NULL))
);
CREATE INDEX action_items_open ON action_items (platform, created_at) WHERE state <> 'done';
