/*
 * writer_sql.h — the worker's write statements, one per batch kind.
 *
 * Included by workers/writer.c (its table of batch kinds) and by
 * tests/bench/pg_insert.c, so the benchmark runs the very statements the
 * worker runs. Each statement takes one text array per column ($1..$n,
 * unnested together into rows) and is idempotent on the job id: a batch
 * sent again after a lost connection writes nothing twice.
 */
#ifndef NT_WRITER_SQL_H
#define NT_WRITER_SQL_H

/* claim: the ledger's attempt counter, bumped before each platform call.
 * $1 ids, $2 types, $3 numbers, $4 platforms, $5 tenants (arrays).
 * Returns per job: id, attempts, state (a final state: finished before),
 * numtrust time's offset, and for a label update the registration's
 * certification as last observed (a check that ran after the tag pass chose
 * the push may have seen it expire: no label is pushed to an uncertified
 * registration). The rows the producer recorded are updated in
 * place; a job it did not record (a retry tier's, a hand-produced message)
 * is inserted. (An INSERT ... ON CONFLICT DO UPDATE for all of them would
 * lock each existing row first: one more WAL record per claim.) */
#define WSQL_CLAIM_NPARAMS 5
static const char wsql_claim[] =
    "WITH r AS ("
    "  SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[])"
    "  AS r(id, type, number, platform, tenant)"
    "), up AS ("
    "  UPDATE jobs j SET"
    "    attempts = CASE WHEN j.state IN ('done','failed','dead') THEN j.attempts"
    "               ELSE j.attempts + 1 END,"
    "    state = CASE WHEN j.state IN ('done','failed','dead') THEN j.state ELSE 'running' END,"
    "    updated_at = now()"
    "  FROM r WHERE j.id = r.id"
    "  RETURNING j.id, j.attempts, j.state, j.type, j.number, j.platform"
    "), ins AS ("
    "  INSERT INTO jobs AS j (id, type, number, platform, tenant_id, state, attempts, updated_at)"
    "  SELECT r.id, r.type, r.number, r.platform, r.tenant, 'running', 1, now() FROM r"
    "  WHERE NOT EXISTS (SELECT 1 FROM up WHERE up.id = r.id)"
    "  ON CONFLICT (id) DO UPDATE SET"
    "    attempts = CASE WHEN j.state IN ('done','failed','dead') THEN j.attempts"
    "               ELSE j.attempts + 1 END,"
    "    state = CASE WHEN j.state IN ('done','failed','dead') THEN j.state ELSE 'running' END,"
    "    updated_at = now()"
    "  RETURNING j.id, j.attempts, j.state, j.type, j.number, j.platform"
    "), x AS (SELECT * FROM up UNION ALL SELECT * FROM ins) "
    "SELECT x.id::text, x.attempts, x.state, (SELECT nt_clock_offset_ms()),"
    "       CASE WHEN x.type = 'tag_update' THEN (SELECT np.cert_status::text"
    "         FROM number_platforms np WHERE np.number = x.number AND np.platform = x.platform)"
    "       END"
    "  FROM x";

/* check: the ledger done (`changed` or `same`), a history row when the check
 * observed a change, the observed state, marks (opened, re-opened, cleared)
 * when they differ from the marks table, the day's rollup and the cost.
 * Everything but the ledger is written only for the jobs whose ledger row
 * this statement moved to done, so a redelivered job writes nothing twice. A
 * change (009_history.sql): the registration's first check, or another
 * certification status or expiry, label or set of marks (types and counts)
 * than the last observation, or a trust score history_settings.trust_delta
 * points or more from the last history row's. $1 job ids, $2 numbers, $3
 * platforms, $4 checked_at, $5 cert_status, $6 trust_score, $7-$9 labels
 * (android, ios, search), $10 marks (jsonb), $11 tenants, $12
 * cert_expires_at (arrays); $13 the worker id (scalar: stored with a history
 * row; the rollup's shard). Returns the marks it opened: number, platform,
 * type, opened (ms), tenant, what callees reported about it
 * (feedback_evidence, migration 007; called only for a number with feedback:
 * most have none, and the call cost 40 µs a mark); and one row with a NULL number (the
 * priced checks it costed). */
#define WSQL_CHECK_NARRAYS 12
#define WSQL_CHECK_NPARAMS 13
/* longer than the 4,095 characters ISO C asks every compiler to take in a
 * literal; GCC and Clang, which build this, take any length */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverlength-strings"
static const char wsql_check[] =
    "WITH r AS ("
    "  SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::text[],"
    "                       $6::int[], $7::text[], $8::text[], $9::text[], $10::jsonb[], "
    "$11::text[], $12::timestamptz[])"
    "  AS r(job_id, number, platform, checked_at, cert_status, trust_score, la, li, ls, marks, "
    "       tenant, cert_expires_at)"
    "), hs AS ("
    "  SELECT trust_delta, ceil(keep_months / 3.0)::int AS keep_q FROM history_settings LIMIT 1"
    "), c AS ("
    "  SELECT r.*, date_trunc('quarter', r.checked_at AT TIME ZONE 'UTC')::date AS q,"
    "    r.checked_at >= COALESCE(np.last_checked_at, '-infinity') AS newest,"
    "    (np.last_checked_at IS NULL OR np.marks IS NULL"
    "     OR np.cert_status IS DISTINCT FROM r.cert_status"
    "     OR np.cert_expires_at IS DISTINCT FROM r.cert_expires_at"
    "     OR np.label_android IS DISTINCT FROM r.la OR np.label_ios IS DISTINCT FROM r.li"
    "     OR np.label_search IS DISTINCT FROM r.ls"
    "     OR NOT (np.marks @> r.marks AND r.marks @> np.marks)"
    "     OR (np.hist_score IS NULL) <> (r.trust_score IS NULL)"
    "     OR abs(np.hist_score - r.trust_score) >= hs.trust_delta) AS changed,"
    "    CASE WHEN r.marks = '[]' AND np.open_marks = 0 THEN false"
    "         ELSE (SELECT NOT (k.m @> r.marks AND r.marks @> k.m) FROM ("
    "                 SELECT COALESCE(jsonb_agg(jsonb_build_object('type', m.type::text,"
    "                                                              'count', m.count)), '[]') AS m"
    "                 FROM marks m WHERE m.number = r.number AND m.platform = r.platform"
    "                   AND m.state <> 'cleared') k) END AS marks_dirty"
    "  FROM r CROSS JOIN hs LEFT JOIN number_platforms np ON np.number = r.number"
    "       AND np.platform = r.platform"
    "), led AS ("
    "  UPDATE jobs j SET state = 'done', result = CASE WHEN c.changed THEN 'changed'"
    "                                                  ELSE 'same' END,"
    "    last_error = NULL, updated_at = now(), finished_at = now()"
    "  FROM c WHERE j.id = c.job_id AND j.state <> 'done'"
    "  RETURNING j.id"
    "), f AS ("
    "  SELECT c.* FROM c JOIN led ON led.id = c.job_id"
    "), ins AS ("
    "  INSERT INTO check_results (job_id, number, platform, checked_at, cert_status, trust_score,"
    "                             label_android, label_ios, label_search, marks, worker,"
    "                             cert_expires_at)"
    "  SELECT job_id, number, platform, checked_at, cert_status, trust_score, la, li, ls, marks,"
    "         $13, cert_expires_at"
    "  FROM f WHERE f.changed"
    "), st AS ("
    "  UPDATE number_platforms np SET cert_status = f.cert_status,"
    "    cert_expires_at = f.cert_expires_at,"
    "    trust_score = f.trust_score, label_android = f.la, label_ios = f.li,"
    "    label_search = f.ls, marks = f.marks, open_marks = jsonb_array_length(f.marks),"
    "    last_checked_at = f.checked_at, last_check_job = f.job_id,"
    "    hist_score = CASE WHEN f.changed THEN f.trust_score ELSE np.hist_score END,"
    "    q_start = CASE WHEN f.trust_score IS NULL THEN np.q_start ELSE f.q END,"
    "    q_n = CASE WHEN f.trust_score IS NULL THEN np.q_n"
    "               ELSE CASE WHEN np.q_start = f.q THEN np.q_n ELSE 0 END + 1 END,"
    "    q_first = CASE WHEN f.trust_score IS NULL THEN np.q_first"
    "                   WHEN np.q_start = f.q THEN np.q_first ELSE f.checked_at END,"
    "    q_t = CASE WHEN f.trust_score IS NULL THEN np.q_t"
    "               ELSE CASE WHEN np.q_start = f.q THEN np.q_t ELSE 0 END + x.t END,"
    "    q_y = CASE WHEN f.trust_score IS NULL THEN np.q_y"
    "               ELSE CASE WHEN np.q_start = f.q THEN np.q_y ELSE 0 END + f.trust_score END,"
    "    q_tt = CASE WHEN f.trust_score IS NULL THEN np.q_tt"
    "                ELSE CASE WHEN np.q_start = f.q THEN np.q_tt ELSE 0 END + x.t * x.t END,"
    "    q_ty = CASE WHEN f.trust_score IS NULL THEN np.q_ty"
    "                ELSE CASE WHEN np.q_start = f.q THEN np.q_ty ELSE 0 END"
    "                     + x.t * f.trust_score END,"
    /* the first score of a new quarter closes the one before into q_hist */
    "    q_hist = CASE WHEN f.trust_score IS NULL OR np.q_n = 0 OR np.q_start >= f.q"
    "                  THEN np.q_hist"
    "             ELSE (np.q_hist || ARRAY[(np.q_start - DATE '1970-01-01')::float8,"
    "                     np.q_n::float8, extract(epoch FROM np.q_first)::float8, np.q_t,"
    "                     np.q_y::float8, np.q_tt, np.q_ty])"
    "                  [greatest(1, COALESCE(array_length(np.q_hist, 1), 0) + 8 - 7 * hs.keep_q):]"
    "             END"
    "  FROM f CROSS JOIN hs CROSS JOIN LATERAL (SELECT extract(epoch FROM f.checked_at"
    "           - (f.q::timestamp AT TIME ZONE 'UTC'))::float8 / 86400 AS t) x"
    "  WHERE np.number = f.number AND np.platform = f.platform AND f.newest"
    "    AND (np.last_checked_at IS NULL OR np.last_checked_at <= f.checked_at)"
    "  RETURNING np.number, np.platform"
    "), seen AS ("
    "  SELECT f.job_id, f.number, f.platform, f.checked_at, m.type, m.count"
    "  FROM f JOIN st ON st.number = f.number AND st.platform = f.platform"
    "  CROSS JOIN LATERAL jsonb_to_recordset(f.marks) AS m(type text, count int)"
    "  WHERE f.marks_dirty"
    "), up AS ("
    "  INSERT INTO marks AS mk (number, platform, type, count, state, opened_at, last_seen_at,"
    "                           detected_by)"
    "  SELECT number, platform, type, count, 'open', checked_at, checked_at, job_id FROM seen"
    "  ON CONFLICT (number, platform, type) DO UPDATE SET count = EXCLUDED.count,"
    "    last_seen_at = EXCLUDED.last_seen_at,"
    "    state = CASE WHEN mk.state = 'cleared' THEN 'open' ELSE mk.state END,"
    "    opened_at = CASE WHEN mk.state = 'cleared' THEN EXCLUDED.opened_at ELSE mk.opened_at END,"
    "    detected_by = CASE WHEN mk.state = 'cleared' THEN EXCLUDED.detected_by"
    "                  ELSE mk.detected_by END,"
    "    cleared_at = CASE WHEN mk.state = 'cleared' THEN NULL ELSE mk.cleared_at END,"
    "    appeal_job = CASE WHEN mk.state = 'cleared' THEN NULL ELSE mk.appeal_job END"
    "  WHERE mk.last_seen_at <= EXCLUDED.last_seen_at"
    "  RETURNING mk.number, mk.platform, mk.type, mk.state, mk.opened_at, mk.detected_by"
    "), clr AS ("
    "  UPDATE marks mk SET state = 'cleared', cleared_at = f.checked_at"
    "  FROM f JOIN st ON st.number = f.number AND st.platform = f.platform"
    "  WHERE f.marks_dirty AND mk.number = f.number AND mk.platform = f.platform"
    "    AND mk.state <> 'cleared' AND mk.last_seen_at <= f.checked_at"
    "    AND NOT (f.marks @> jsonb_build_array(jsonb_build_object('type', mk.type::text)))"
    "), roll AS ("
    /* in key order: two writers of one shard lock its rows in the same order */
    "  INSERT INTO check_daily AS d (day, tenant_id, scenario_id, platform, shard, checks,"
    "                                marked, scored, score_sum, changes)"
    "  SELECT (f.checked_at AT TIME ZONE 'UTC')::date, COALESCE(n.tenant_id, ''),"
    "         COALESCE(n.scenario_id, ''), f.platform, abs(hashtext($13::text)) % 8, count(*),"
    "         count(*) FILTER (WHERE f.marks @> '[{\"type\":\"harassment\"}]'"
    "                             OR f.marks @> '[{\"type\":\"fraud\"}]'"
    "                             OR f.marks @> '[{\"type\":\"agency\"}]'),"
    "         count(f.trust_score), COALESCE(sum(f.trust_score), 0),"
    "         count(*) FILTER (WHERE f.changed)"
    /* a lookup per row (OFFSET 0 keeps it one): a join let the planner hash
     * the whole numbers table for every batch while the fleet was small
     * enough to look cheap (33,000 numbers: ~6 ms a batch) */
    "  FROM f LEFT JOIN LATERAL (SELECT n.tenant_id, n.scenario_id FROM numbers n"
    "                            WHERE n.number = f.number OFFSET 0) n ON true"
    "  GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5"
    "  ON CONFLICT (day, tenant_id, scenario_id, platform, shard) DO UPDATE SET"
    "    checks = d.checks + EXCLUDED.checks, marked = d.marked + EXCLUDED.marked,"
    "    scored = d.scored + EXCLUDED.scored, score_sum = d.score_sum + EXCLUDED.score_sum,"
    "    changes = d.changes + EXCLUDED.changes"
    "), cost AS ("
    "  SELECT nt_cost_checks(array_agg(f.job_id), array_agg(f.number), array_agg(f.platform),"
    "                        array_agg(f.checked_at)) AS n FROM f"
    ")"
    "SELECT up.number::text, up.platform::text, up.type::text,"
    "       (extract(epoch FROM up.opened_at) * 1000)::bigint, r.tenant,"
    "       CASE WHEN EXISTS (SELECT 1 FROM feedback fb WHERE fb.number = up.number)"
    "            THEN feedback_evidence(up.number::text, up.platform::text, up.type::text)"
    "            ELSE '' END"
    "  FROM up JOIN r ON r.job_id = up.detected_by WHERE up.state = 'open' "
    "UNION ALL SELECT NULL, NULL, NULL, cost.n, NULL, NULL FROM cost";
#pragma GCC diagnostic pop

/* tag_update: tag_updates row, last pushed label, ledger done.
 * $1 job ids, $2 numbers, $3 platforms, $4 labels, $5 tickets, $6 states,
 * $7 pushed_at, $8 tenants, $9 reasons (a rejection's). */
#define WSQL_TAG_NPARAMS 9
static const char wsql_tag[] =
    "WITH r AS ("
    "  SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],"
    "                       $6::text[], $7::timestamptz[], $8::text[], $9::text[])"
    "  AS r(job_id, number, platform, label, ticket, state, pushed_at, tenant, reason)"
    "), ins AS ("
    "  INSERT INTO tag_updates (job_id, number, platform, label, ticket, state, pushed_at,"
    "                           reason, decided_at)"
    "  SELECT job_id, number, platform, label, ticket, state, pushed_at, reason,"
    "         CASE WHEN state <> 'pending_review' THEN pushed_at END FROM r"
    "  ON CONFLICT DO NOTHING RETURNING job_id, number, platform, label, pushed_at"
    "), st AS ("
    "  UPDATE number_platforms np SET last_tag_label = ins.label, last_tag_at = ins.pushed_at"
    "  FROM ins WHERE np.number = ins.number AND np.platform = ins.platform"
    "    AND (np.last_tag_at IS NULL OR np.last_tag_at <= ins.pushed_at)"
    "), led AS ("
    "  UPDATE jobs j SET state = 'done', result = r.state, last_error = NULL,"
    "    updated_at = now(), finished_at = now()"
    "  FROM r WHERE j.id = r.job_id AND j.state <> 'done'"
    ")"
    "SELECT count(*) FROM ins";

/* appeal: appeals row, mark appealed, ledger done. A ticket the platform
 * already gave another appeal job (a reused ticket id) is not success: such
 * a row is not written, its job not marked done, and it is returned (job id,
 * the job holding the ticket, the ticket) for the worker to record as
 * failed. $1 job ids, $2 numbers, $3 platforms, $4 mark types, $5 tickets,
 * $6 states, $7 evidence, $8 filed_at, $9 tenants. */
#define WSQL_APPEAL_NPARAMS 9
static const char wsql_appeal[] =
    "WITH r AS ("
    "  SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],"
    "                       $6::text[], $7::text[], $8::timestamptz[], $9::text[])"
    "  AS r(job_id, number, platform, mark_type, ticket, state, evidence, filed_at, tenant)"
    "), clash AS ("
    "  SELECT r.job_id, a.job_id AS holder, r.ticket FROM r JOIN appeals a"
    "    ON a.platform = r.platform AND a.ticket = r.ticket AND a.job_id <> r.job_id"
    "), ins AS ("
    "  INSERT INTO appeals (job_id, number, platform, mark_type, ticket, state, evidence,"
    "                       filed_at, updated_at)"
    "  SELECT job_id, number, platform, mark_type, ticket, state, evidence, filed_at, filed_at"
    "  FROM r WHERE NOT EXISTS (SELECT 1 FROM clash c WHERE c.job_id = r.job_id)"
    "  ON CONFLICT (job_id) DO NOTHING RETURNING job_id, number, platform, mark_type"
    "), mk AS ("
    "  UPDATE marks m SET state = 'appealed', appeal_job = ins.job_id FROM ins"
    "  WHERE m.number = ins.number AND m.platform = ins.platform AND m.type = ins.mark_type"
    "    AND m.state IN ('open', 'disputed')"
    "), led AS ("
    "  UPDATE jobs j SET state = 'done', result = r.state, last_error = NULL,"
    "    updated_at = now(), finished_at = now()"
    "  FROM r WHERE j.id = r.job_id AND j.state <> 'done'"
    "    AND NOT EXISTS (SELECT 1 FROM clash c WHERE c.job_id = r.job_id)"
    ")"
    "SELECT job_id::text, holder::text, ticket FROM clash";

/* appeal_status: ledger done, the appeal's state, its mark cleared or
 * disputed. $1 job ids, $2 numbers, $3 platforms, $4 tickets, $5 states,
 * $6 checked_at, $7 tenants. */
#define WSQL_APPEAL_STATUS_NPARAMS 7
static const char wsql_appeal_status[] =
    "WITH r AS ("
    "  SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],"
    "                       $6::timestamptz[], $7::text[])"
    "  AS r(job_id, number, platform, ticket, state, checked_at, tenant)"
    "), led AS ("
    "  UPDATE jobs j SET state = 'done', result = r.state, last_error = NULL,"
    "    updated_at = now(), finished_at = now()"
    "  FROM r WHERE j.id = r.job_id AND j.state <> 'done'"
    "  RETURNING j.id"
    "), ap AS ("
    "  UPDATE appeals a SET state = r.state, updated_at = r.checked_at,"
    "    decided_at = CASE WHEN r.state IN ('approved', 'rejected') THEN r.checked_at"
    "                 ELSE a.decided_at END"
    "  FROM r WHERE a.platform = r.platform AND a.ticket = r.ticket"
    "    AND a.state NOT IN ('approved', 'rejected') AND a.updated_at <= r.checked_at"
    "  RETURNING a.number, a.platform, a.mark_type, a.state, a.job_id, a.decided_at"
    "), mk AS ("
    "  UPDATE marks m SET state = CASE WHEN ap.state = 'approved' THEN 'cleared'"
    "                                  ELSE 'disputed' END,"
    "    cleared_at = CASE WHEN ap.state = 'approved' THEN ap.decided_at ELSE m.cleared_at END"
    "  FROM ap WHERE ap.state IN ('approved', 'rejected') AND m.number = ap.number"
    "    AND m.platform = ap.platform AND m.type = ap.mark_type AND m.appeal_job = ap.job_id"
    ")"
    "SELECT count(*) FROM led";

/* ledger: a job's state without a result row (failed, retrying; done for a
 * job that had nothing to do, its result in the class slot:
 * skipped_uncertified), attempts given back (refund), and for a job that
 * failed why (error class) and what it was (its envelope, NULL when it could
 * not be decoded), so that it can be run again. $1 ids, $2 types, $3 numbers, $4 platforms, $5
 * tenants, $6 states, $7 errors, $8 refunds, $9 error classes, $10 envelopes. */
#define WSQL_LEDGER_NPARAMS 10
static const char wsql_ledger[] =
    "WITH r AS ("
    "  SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],"
    "                       $6::text[], $7::text[], $8::int[], $9::text[], $10::jsonb[])"
    "  AS r(id, type, number, platform, tenant, state, error, refund, class, envelope)"
    "), up AS ("
    "  UPDATE jobs j SET state = r.state,"
    "    last_error = CASE WHEN r.state = 'done' THEN NULL ELSE r.error END, updated_at = now(),"
    "    attempts = greatest(j.attempts - r.refund, 0),"
    "    finished_at = CASE WHEN r.state IN ('failed', 'dead', 'done') THEN now() END,"
    "    result = CASE WHEN r.state = 'done' THEN r.class ELSE j.result END,"
    "    error_class = CASE WHEN r.class IS NULL OR r.state = 'done' THEN j.error_class"
    "                  ELSE r.class END,"
    "    envelope = CASE WHEN r.class IS NULL OR r.state = 'done' THEN j.envelope"
    "               ELSE r.envelope END"
    "  FROM r WHERE j.id = r.id AND j.state NOT IN ('done', 'failed', 'dead')"
    ")"
    "INSERT INTO jobs (id, type, number, platform, tenant_id, state, attempts, last_error,"
    "                  updated_at, finished_at, error_class, envelope, result)"
    "SELECT id, type, number, platform, tenant, state, 0,"
    "       CASE WHEN state = 'done' THEN NULL ELSE error END, now(),"
    "       CASE WHEN state IN ('failed', 'dead', 'done') THEN now() END,"
    "       CASE WHEN state = 'done' THEN NULL ELSE class END,"
    "       CASE WHEN state = 'done' THEN NULL ELSE envelope END,"
    "       CASE WHEN state = 'done' THEN class END"
    "  FROM r WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = r.id) "
    "ON CONFLICT (id) DO NOTHING";

/* dead: dead_letters row, ledger dead (with its error class and envelope, as
 * for a failed job). $1 source topics, $2 partitions, $3 offsets, $4 job ids
 * (NULL for poison), $5 reasons, $6 attempts, $7 raw bytes (at most
 * job.max_bytes of them), $8 types, $9 numbers, $10 platforms, $11 tenants,
 * $12 error classes, $13 envelopes, $14 the messages' full sizes, $15 their
 * SHA-256 (hex). */
#define WSQL_DEAD_NPARAMS 15
static const char wsql_dead[] =
    "WITH r AS ("
    "  SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::uuid[], $5::text[],"
    "                       $6::int[], $7::bytea[], $8::text[], $9::text[], $10::text[],"
    "                       $11::text[], $12::text[], $13::jsonb[], $14::bigint[], $15::text[])"
    "  AS r(topic, part, off, job_id, reason, attempts, raw, type, number, platform, tenant,"
    "       class, envelope, raw_size, raw_sha256)"
    "), ins AS ("
    "  INSERT INTO dead_letters (source_topic, source_partition, source_offset, job_id, reason,"
    "                            attempts, raw, raw_size, raw_sha256)"
    "  SELECT topic, part, off, job_id, reason, attempts, raw, raw_size, raw_sha256 FROM r"
    "  ON CONFLICT DO NOTHING RETURNING 1"
    "), led AS ("
    "  INSERT INTO jobs AS j (id, type, number, platform, tenant_id, state, attempts,"
    "                         last_error, updated_at, finished_at, error_class, envelope)"
    "  SELECT job_id, type, number, platform, tenant, 'dead', attempts, reason, now(), now(),"
    "         class, envelope"
    "  FROM r WHERE job_id IS NOT NULL"
    "  ON CONFLICT (id) DO UPDATE SET state = 'dead', last_error = EXCLUDED.last_error,"
    "    updated_at = now(), finished_at = now(), error_class = EXCLUDED.error_class,"
    "    envelope = EXCLUDED.envelope WHERE j.state NOT IN ('done', 'failed', 'dead')"
    ")"
    "SELECT count(*) FROM ins";

/* tag_status: ledger done, the push's review state (only a pending push
 * moves: to applied or rejected with the platform's reason), polls counted
 * once per job. $1 job ids, $2 numbers, $3 platforms, $4 tickets, $5 states,
 * $6 reasons, $7 checked_at, $8 tenants. */
#define WSQL_TAG_STATUS_NPARAMS 8
static const char wsql_tag_status[] =
    "WITH r AS ("
    "  SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],"
    "                       $6::text[], $7::timestamptz[], $8::text[])"
    "  AS r(job_id, number, platform, ticket, state, reason, checked_at, tenant)"
    "), led AS ("
    "  UPDATE jobs j SET state = 'done', result = r.state, last_error = NULL,"
    "    updated_at = now(), finished_at = now()"
    "  FROM r WHERE j.id = r.job_id AND j.state <> 'done'"
    "  RETURNING j.id"
    "), tu AS ("
    "  UPDATE tag_updates t SET polls = t.polls + 1,"
    "    last_polled_at = greatest(t.last_polled_at, r.checked_at),"
    "    state = CASE WHEN t.state = 'pending_review' AND r.state IN ('applied', 'rejected')"
    "                 THEN r.state ELSE t.state END,"
    "    reason = CASE WHEN t.state = 'pending_review' AND r.state = 'rejected' THEN r.reason"
    "                  ELSE t.reason END,"
    "    decided_at = CASE WHEN t.state = 'pending_review' AND r.state IN ('applied', 'rejected')"
    "                      THEN r.checked_at ELSE t.decided_at END"
    "  FROM r JOIN led ON led.id = r.job_id"
    "  WHERE t.number = r.number AND t.platform = r.platform AND t.ticket = r.ticket"
    ")"
    "SELECT count(*) FROM led";

/* renewal: renewals row (renewing the expiry the registration has now),
 * the new expiry when the platform renewed at once, ledger done. $1 job ids,
 * $2 numbers, $3 platforms, $4 tickets, $5 states, $6 reasons,
 * $7 requested_at, $8 new expiry (NULL: not said), $9 tenants. */
#define WSQL_RENEWAL_NPARAMS 9
static const char wsql_renewal[] =
    "WITH r AS ("
    "  SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],"
    "                       $6::text[], $7::timestamptz[], $8::timestamptz[], $9::text[])"
    "  AS r(job_id, number, platform, ticket, state, reason, requested_at, expires, tenant)"
    "), ins AS ("
    "  INSERT INTO renewals (job_id, number, platform, ticket, state, expires_before,"
    "                        requested_at, decided_at, reason)"
    "  SELECT r.job_id, r.number, r.platform, r.ticket, r.state, np.cert_expires_at,"
    "         r.requested_at, CASE WHEN r.state <> 'submitted' THEN r.requested_at END, r.reason"
    "  FROM r JOIN number_platforms np ON np.number = r.number AND np.platform = r.platform"
    "  ON CONFLICT DO NOTHING RETURNING job_id, number, platform, state"
    "), st AS ("
    "  UPDATE number_platforms np SET cert_expires_at = r.expires, cert_status = 'certified'"
    "  FROM r JOIN ins ON ins.job_id = r.job_id"
    "  WHERE np.number = r.number AND np.platform = r.platform AND ins.state = 'renewed'"
    "    AND r.expires IS NOT NULL"
    "), led AS ("
    "  UPDATE jobs j SET state = 'done', result = r.state, last_error = NULL,"
    "    updated_at = now(), finished_at = now()"
    "  FROM r WHERE j.id = r.job_id AND j.state <> 'done'"
    ")"
    "SELECT count(*) FROM ins";

/* lease: tokens from the platforms' shared buckets. $1 platforms, $2 qps,
 * $3 bursts, $4 tokens wanted. Returns platform, tokens granted. */
#define WSQL_LEASE_NPARAMS 4
static const char wsql_lease[] =
    "WITH req AS ("
    "  SELECT * FROM unnest($1::text[], $2::float8[], $3::float8[], $4::float8[])"
    "  AS r(platform, qps, burst, want)"
    "), cur AS ("
    "  SELECT b.platform, req.want, req.qps, req.burst,"
    "         least(req.burst, b.tokens + req.qps * extract(epoch FROM clock_timestamp() -"
    "                                                            b.updated_at)) AS avail"
    "  FROM rate_buckets b JOIN req ON req.platform = b.platform FOR UPDATE OF b"
    ")"
    "UPDATE rate_buckets b SET tokens = cur.avail - least(floor(cur.avail), cur.want),"
    "  qps = cur.qps, burst = cur.burst, updated_at = clock_timestamp()"
    "FROM cur WHERE b.platform = cur.platform "
    "RETURNING b.platform, greatest(least(floor(cur.avail), cur.want), 0)";

#endif
