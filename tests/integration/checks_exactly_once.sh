#!/usr/bin/env bash
# Acceptance (a) and (b) of the foundation: 1,000 numbers x 3 platforms with
# 2 workers give exactly 3,000 check results and a committed consumer-group
# lag of 0; enqueuing the same jobs again (skipped by the ledger, also with
# --force: finished jobs are never produced again) or delivering the same
# messages a second time (recognised by the workers) leaves exactly 3,000 rows.
. "$(dirname "$0")/lib.sh"
nt_setup checks
sim_reset

fleet=$(gen_fleet 1000 201)
"$PRODUCER" import --numbers "$fleet"
mine="number LIKE '+86201%'"

start_worker
start_worker
out=$("$PRODUCER" enqueue check --prefix +86201 --period "$NT_TEST_NAME-$$" 2>&1 | grep -v GETPID)
echo "$out"
grep -q "3000 selected, 3000 produced, 3000 delivered" <<<"$out" || fail "enqueue: $out"

wait_sql "SELECT count(*) FROM check_results WHERE $mine" 3000 120
wait_sql "SELECT count(*) FROM jobs WHERE type = 'check' AND $mine AND state <> 'done'" 0 60
assert_eq "distinct job ids in check_results" \
    "$(psqlv "SELECT count(DISTINCT job_id) FROM check_results WHERE $mine")" 3000
assert_eq "registrations with an observed state" \
    "$(psqlv "SELECT count(*) FROM number_platforms WHERE $mine AND last_checked_at IS NOT NULL")" 3000

# (b) the same ids again: the ledger skips them ...
out=$("$PRODUCER" enqueue check --prefix +86201 --period "$NT_TEST_NAME-$$" 2>&1 | grep -v GETPID)
echo "$out"
grep -q "0 produced, 0 delivered, 0 already known (skipped), 3000 finished" <<<"$out" ||
    fail "re-enqueue: $out"
# ... --force does not pretend to run finished jobs again ...
out=$("$PRODUCER" enqueue check --prefix +86201 --force --period "$NT_TEST_NAME-$$" 2>&1 | grep -v GETPID)
echo "$out"
grep -q "0 produced, 0 delivered, 0 already known (skipped), 3000 finished" <<<"$out" ||
    fail "forced enqueue: $out"
# ... and the same messages delivered again are recognised by the workers as duplicates
topic=$NUMTRUST_TOPICS_PREFIX.check
# (read to the end first, then produce: a pipe would read back what it writes)
kcat -b "$NUMTRUST_KAFKA_BOOTSTRAP_SERVERS" -C -t "$topic" -o beginning -e -q -K '\x1f' -D '\x1e' \
    >"$NT_TMP/check-topic"
kcat -b "$NUMTRUST_KAFKA_BOOTSTRAP_SERVERS" -P -t "$topic" -K '\x1f' -D '\x1e' -l "$NT_TMP/check-topic"
assert_eq "messages produced a second time" "$(tr -cd '\036' <"$NT_TMP/check-topic" | wc -c)" 3000
# wait until the workers consumed the forced copies (committed lag 0)
for _ in $(seq 1 60); do
    [ "$(group_lag)" = 0 ] && break
    sleep 1
done
stop_all_workers
assert_eq "check_results after enqueuing twice" \
    "$(psqlv "SELECT count(*) FROM check_results WHERE $mine")" 3000
assert_eq "committed consumer-group lag" "$(group_lag)" 0
dups=0
for f in "$NT_TMP"/worker-*.log; do
    d=$(grep -o '"msg":"progress: [^"]*' "$f" | tail -n 1 | sed -n 's/.*duplicate=\([0-9]*\).*/\1/p')
    dups=$((dups + ${d:-0}))
done
log "duplicates recognised by the workers' final progress lines: $dups"
[ "${dups:-0}" -ge 3000 ] || fail "workers recognised only ${dups:-0} of 3000 forced duplicates"
log "PASS"
