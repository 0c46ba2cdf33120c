#!/usr/bin/env bash
# The worker-core issue: a job that runs out of attempts goes to the dead-
# letter topic with source headers, is recorded in dead_letters and the
# ledger, and `numtrust-producer dead list|replay` re-drives it once the
# cause is fixed. The simulator fails every call for a while; attempts are
# capped at 2 with 1-second retry tiers.
. "$(dirname "$0")/lib.sh"
nt_setup deadreplay
sim_reset
trap 'sim_reset; nt_cleanup' EXIT
export NUMTRUST_TOPICS_RETRY_TIERS=1s,2s NUMTRUST_JOB_MAX_ATTEMPTS=2
"$PRODUCER" topics >/dev/null
fleet=$(gen_fleet 5 210 baidu)
"$PRODUCER" import --numbers "$fleet"
sim POST /admin/config '{"faults":{"rate_5xx":1.0}}' >/dev/null
start_worker
"$PRODUCER" enqueue check --prefix +86210 --period "$NT_TEST_NAME-$$" | grep enqueue
wait_sql "SELECT count(*) FROM jobs WHERE number LIKE '+86210%' AND state = 'dead'" 5 60
assert_eq "dead letters recorded" \
    "$(psqlv "SELECT count(*) FROM dead_letters d JOIN jobs j ON j.id = d.job_id WHERE j.number LIKE '+86210%'")" 5
"$PRODUCER" dead list --limit 5 | tee "$NT_TMP/list.out" | tail -n 3
grep -q "max attempts (2) reached" "$NT_TMP/list.out" || fail "dead list does not show the reason"
kcat -b "$NUMTRUST_KAFKA_BOOTSTRAP_SERVERS" -C -t "$NUMTRUST_TOPICS_PREFIX.dead" -o beginning -e -q \
    -f '%h\n' >"$NT_TMP/headers"
assert_eq "dead-letter messages with source and attempts headers" \
    "$(grep -c "source_topic=.*attempts=2" "$NT_TMP/headers")" 5
sim POST /admin/config '{"faults":{"rate_5xx":0}}' >/dev/null      # the cause is fixed
"$PRODUCER" dead replay --all --prefix +86210 | tee "$NT_TMP/replay.out"
grep -q "replayed 5 dead letters" "$NT_TMP/replay.out" || fail "replay: $(cat "$NT_TMP/replay.out")"
wait_sql "SELECT count(*) FROM check_results WHERE number LIKE '+86210%'" 5 60
assert_eq "replayed check jobs done" "$(psqlv "SELECT count(*) FROM jobs WHERE number LIKE '+86210%' AND type = 'check' AND state = 'done'")" 5
assert_eq "second replay finds nothing" "$("$PRODUCER" dead replay --all --prefix +86210 | grep -o 'replayed [0-9]*')" "replayed 0"
stop_all_workers
log "PASS"
