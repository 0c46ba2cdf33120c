#!/usr/bin/env bash
# The worker's database role can do exactly what its statements do (issue 8 item 14).
# A worker connected as numtrust_worker runs checks (marks found: fast-path appeals, then
# their status polls), tag updates, retries (the simulator fails 20% of calls), an invalid
# job (a ledger row) and a poison message (a dead letter), all recorded without an error;
# then, as numtrust_worker, every write outside the grants of migration 004c is refused with
# 42501 (permission denied): results are append-only, registrations and desired state are
# not the worker's, dead letters are only ever inserted.
. "$(dirname "$0")/lib.sh"
export NUMTRUST_TOPICS_RETRY_TIERS=1s,2s,4s
# 20% of calls answer 500 below: with the default 5 attempts a job ends dead once in ~3,000
# (0.2^5), so one of the 60 did in about 2% of runs; 12 attempts make that 4e-9 a job.
# The test is about the worker's grants, not about giving up.
export NUMTRUST_JOB_MAX_ATTEMPTS=12
nt_setup grants
sim_reset
: "${NT_PG_WORKER_CONNINFO:?the numtrust_worker conninfo of deploy/local/stack.sh env}"
fleet=$(gen_fleet 20 220 baidu,tencent)
"$PRODUCER" import --numbers "$fleet" >/dev/null
psqlv "UPDATE number_platforms SET last_checked_at = now() - interval '1 day',
         label_android = 'old', label_ios = 'old', label_search = 'old'
       WHERE number LIKE '+86220%' AND platform = 'tencent'" >/dev/null
key=$(sed -n 2p "$fleet" | cut -d, -f2)
printf 'not json at all' >"$NT_TMP/poison"
produce_raw "$NUMTRUST_TOPICS_PREFIX.check" "$key" "$NT_TMP/poison"
printf '{"v":1,"id":"%s","type":"check","number":"nope","platform":"baidu","tenant":"t","attempt":0,"payload":{}}' \
    "$(python3 -c 'import uuid; print(uuid.uuid4())')" >"$NT_TMP/invalid"
produce_raw "$NUMTRUST_TOPICS_PREFIX.check" "$key" "$NT_TMP/invalid"
sim POST /admin/config '{"faults":{"rate_5xx":0.2}}' >/dev/null
"$PRODUCER" enqueue tag --prefix +86220 --period "$NT_TEST_NAME-$$" | grep enqueue
"$PRODUCER" enqueue check --prefix +86220 --period "$NT_TEST_NAME-$$" | grep enqueue
start_worker NUMTRUST_PG_CONNINFO="$NT_PG_WORKER_CONNINFO"
wait_sql "SELECT count(*) FROM jobs WHERE number LIKE '+86220%' AND type IN ('check', 'tag_update')
          AND state = 'done'" 60 60
wait_sql "SELECT count(*) FROM dead_letters WHERE source_topic = '$NUMTRUST_TOPICS_PREFIX.check'" 1 30
"$PRODUCER" enqueue appeal-status --prefix +86220 --period "$NT_TEST_NAME-$$" | grep enqueue
wait_sql "SELECT count(*) FROM jobs WHERE number LIKE '+86220%' AND type = 'appeal_status'
          AND state NOT IN ('done', 'failed', 'dead')" 0 60
sim POST /admin/config '{"faults":{"rate_5xx":0}}' >/dev/null
# the fast path's appeals are the worker's own jobs: one that met a 500 may still be on its
# retry topic (a clean-clone run stopped the worker with one 'retrying'); every job of the
# fleet ends before the worker stops
wait_sql "SELECT count(*) FROM jobs WHERE number LIKE '+86220%'
          AND state NOT IN ('done', 'failed', 'dead')" 0 60
stop_all_workers
assert_eq "ledger rows by state" \
    "$(psqlv "SELECT string_agg(DISTINCT state, ',' ORDER BY state) FROM jobs
              WHERE number LIKE '+86220%' OR (number = 'nope' AND last_error LIKE '%claimed%')")" \
    "done,failed"
log "retries through the ledger: $(psqlv "SELECT count(*) FROM jobs WHERE number LIKE '+86220%' AND attempts > 1")"
assert_eq "worker errors (permission denied or any other)" \
    "$(grep -c '"level":"error"' "$NT_TMP/worker-0.log" || true)" 0
appeals=$(psqlv "SELECT count(*) FROM appeals WHERE number LIKE '+86220%'")
log "checks and tag updates done, $appeals appeals filed by the fast path, the poison dead-lettered"

refused() { # SQL: must fail with 42501 as numtrust_worker
    local out rc=0
    out=$(psql "$NT_PG_WORKER_CONNINFO" -X -A -t -q -v ON_ERROR_STOP=1 -v VERBOSITY=verbose \
        -c "$1" 2>&1) || rc=$?
    if [ "$rc" = 0 ] || ! echo "$out" | grep -q 42501; then
        fail "as numtrust_worker, [$1] was not refused with 42501: rc $rc, $out"
    fi
    log "ok: refused: $1"
}
refused "UPDATE check_results SET trust_score = 0 WHERE number LIKE '+86220%'"
refused "DELETE FROM check_results WHERE number LIKE '+86220%'"
refused "UPDATE tag_updates SET label = 'x' WHERE number LIKE '+86220%'"
refused "INSERT INTO number_platforms (number, platform) VALUES ('$key', 'qihoo360')"
refused "DELETE FROM number_platforms WHERE number = '$key'"
refused "UPDATE dead_letters SET reason = 'x'"
refused "SELECT count(*) FROM dead_letters"
refused "DELETE FROM jobs WHERE number LIKE '+86220%'"
refused "UPDATE numbers SET base_label = 'x' WHERE number = '$key'"
refused "INSERT INTO tenants (id) VALUES ('intruder')"
refused "SELECT count(*) FROM label_schedules"
refused "TRUNCATE marks"
log "PASS"
