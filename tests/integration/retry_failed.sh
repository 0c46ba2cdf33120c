#!/usr/bin/env bash
# Failed and dead jobs can be run again once their cause is fixed (issue 8 item 5, issue 9
# item 3). Appeals filed with a wrong token fail (auth); `enqueue --force` does not pretend to
# run them again; after the token is fixed `numtrust-producer retry --class auth` re-runs each
# as a new attempt (new id, retry_of, the first attempt's Idempotency-Key) and every appeal is
# filed, once. Checks that died of a platform outage are re-run with `retry --state dead`, and
# their dead letters are marked replayed. A second retry selects nothing.
. "$(dirname "$0")/lib.sh"
nt_setup retry
sim_reset
trap 'rc=$?; set +e; sim_reset; (exit $rc); nt_cleanup' EXIT
export NUMTRUST_TOPICS_RETRY_TIERS=1s,2s NUMTRUST_JOB_MAX_ATTEMPTS=1
export NUMTRUST_WORKER_APPEAL_FAST_PATH=false # appeals only when this test enqueues them
"$PRODUCER" topics >/dev/null
appeals_fleet=$(gen_fleet 30 212 tencent)
dead_fleet=$(gen_fleet 5 213 baidu)
"$PRODUCER" import --numbers "$appeals_fleet" >/dev/null
"$PRODUCER" import --numbers "$dead_fleet" >/dev/null
tail -n +2 "$appeals_fleet" | cut -d, -f2 | while read -r n; do
    sim POST /admin/marks "{\"platform\":\"tencent\",\"number\":\"$n\",\"type\":\"harassment\",\"count\":3}" >/dev/null
done
P=$NT_TEST_NAME-$$

# 1. checks with the right credentials open the marks; a platform outage kills baidu's checks
start_worker
"$PRODUCER" enqueue check --prefix +86212 --period "$P" | grep enqueue
wait_sql "SELECT count(*) FROM jobs WHERE number LIKE '+86212%' AND type = 'check' AND state = 'done'" 30 60
sim POST /admin/config '{"faults":{"rate_5xx":1.0}}' >/dev/null
"$PRODUCER" enqueue check --prefix +86213 --period "$P" | grep enqueue
wait_sql "SELECT count(*) FROM jobs WHERE number LIKE '+86213%' AND state = 'dead'" 5 60
sim POST /admin/config '{"faults":{"rate_5xx":0}}' >/dev/null
stop_all_workers
marks=$(psqlv "SELECT count(*) FROM marks WHERE number LIKE '+86212%' AND state = 'open'
               AND type IN ('harassment', 'fraud', 'agency')")
[ "$marks" -ge 30 ] || fail "only $marks open marks to appeal"
log "$marks open marks to appeal"

# 2. a wrong token: every appeal fails (auth)
start_worker NT_SIM_BEARER_TOKEN="wrong-token-$$"
"$PRODUCER" enqueue appeal --prefix +86212 | grep enqueue
wait_sql "SELECT count(*) FROM jobs WHERE number LIKE '+86212%' AND type = 'appeal' AND state = 'failed'
          AND error_class = 'auth'" "$marks" 60
# --force never reports work that will be dropped
out=$("$PRODUCER" enqueue appeal --prefix +86212 --force 2>&1 | grep -v GETPID)
echo "$out"
grep -q "0 produced, 0 delivered, 0 already known (skipped), $marks finished (skipped)" <<<"$out" ||
    fail "enqueue --force: $out"
grep -q "numtrust-producer retry" <<<"$out" || fail "enqueue --force does not point to retry: $out"
stop_all_workers
assert_eq "appeals filed with the wrong token" \
    "$(psqlv "SELECT count(*) FROM appeals WHERE number LIKE '+86212%'")" 0

# 3. the token is fixed: retry
start_worker
out=$("$PRODUCER" retry --prefix +86212 --class auth --dry-run | grep -v GETPID)
echo "$out" | tail -n 3
grep -q "^retry: $marks selected, 0 produced" <<<"$out" || fail "retry --dry-run: $out"
out=$("$PRODUCER" retry --prefix +86212 --class auth | grep -v GETPID)
echo "$out" | tail -n 3
grep -q "^retry: $marks selected, $marks produced, $marks delivered, 0 already re-run" <<<"$out" ||
    fail "retry: $out"
grep -q "^  re-run .* appeal +86212" <<<"$out" || fail "retry lists no re-run job: $out"
out=$("$PRODUCER" retry --prefix +86213 --state dead | grep -v GETPID)
echo "$out" | tail -n 1
grep -q "^retry: 5 selected, 5 produced, 5 delivered" <<<"$out" || fail "retry --state dead: $out"
wait_sql "SELECT count(*) FROM jobs WHERE (number LIKE '+86212%' OR number LIKE '+86213%')
          AND retry_of IS NOT NULL AND state = 'done'" $((marks + 5)) 60
stop_all_workers

assert_eq "appeals filed after the retry" \
    "$(psqlv "SELECT count(*) FROM appeals WHERE number LIKE '+86212%'")" "$marks"
assert_eq "marks still open" \
    "$(psqlv "SELECT count(*) FROM marks WHERE number LIKE '+86212%' AND state = 'open'
              AND type IN ('harassment', 'fraud', 'agency')")" 0
assert_eq "re-runs linked to their job, first generation, origin kept" \
    "$(psqlv "SELECT count(*) FROM jobs r JOIN jobs o ON o.id = r.retry_of
              WHERE r.number LIKE '+86212%' AND r.retry_gen = 1 AND r.origin = o.id
                AND o.state = 'failed' AND r.id <> o.id")" "$marks"
assert_eq "dead checks done after the retry, dead letters marked replayed" \
    "$(psqlv "SELECT count(*) FROM dead_letters d JOIN jobs o ON o.id = d.job_id
              JOIN jobs r ON r.retry_of = o.id
              WHERE o.number LIKE '+86213%' AND d.replayed_at IS NOT NULL AND r.state = 'done'")" 5
# the simulator: each appeal's key (the first attempt's id) called twice (401, then the retry),
# one side effect each
twice=$(psqlv "SELECT id FROM jobs WHERE number LIKE '+86212%' AND type = 'appeal'
               AND retry_of IS NULL" | python3 -c "
import json, sys, urllib.request
n = 0
for key in sys.stdin.read().split():
    with urllib.request.urlopen('$NT_SIM_URL/admin/idempotency?key=' + key) as r:
        n += json.load(r)['calls'] == 2
print(n)")
assert_eq "appeal keys called twice (401, then the re-run with the same key)" "$twice" "$marks"
assert_eq "duplicate side effects at the simulator" \
    "$(sim GET /admin/counters | python3 -c "import json,sys; print(json.load(sys.stdin)['duplicate_side_effects'])")" 0

# 4. nothing to retry twice
out=$("$PRODUCER" retry --prefix +86212 | grep -v GETPID)
grep -q "^retry: 0 selected" <<<"$out" || fail "second retry: $out"
out=$("$PRODUCER" dead replay --all --prefix +86213 | grep -v GETPID)
grep -q "replayed 0" <<<"$out" || fail "dead replay after retry: $out"
# bad input names the option and the value
rc=0
"$PRODUCER" retry --class nope 2>"$NT_TMP/err" || rc=$?
assert_eq "retry --class nope: exit status" "$rc" 2
grep -q -- '--class "nope"' "$NT_TMP/err" || fail "retry --class nope: $(cat "$NT_TMP/err")"
log "PASS"
