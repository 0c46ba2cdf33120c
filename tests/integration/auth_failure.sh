#!/usr/bin/env bash
# The adapters issue: an auth failure is a permanent error with one clear
# log line, never retried forever, and secrets never appear in logs. The
# worker runs with a wrong bearer token for tencent: its jobs fail at once
# (one platform call each, no retry), the log says so once per minute naming
# the platform, and neither the wrong nor the right token is in any log.
. "$(dirname "$0")/lib.sh"
nt_setup auth
sim_reset
fleet=$(gen_fleet 50 209 tencent,baidu)
"$PRODUCER" import --numbers "$fleet"
"$PRODUCER" enqueue check --prefix +86209 --period "$NT_TEST_NAME-$$" | grep enqueue
wrong="wrong-token-$$-s3cr3t"
start_worker NT_SIM_BEARER_TOKEN="$wrong" NUMTRUST_LOG_LEVEL=debug
wait_sql "SELECT count(*) FROM jobs WHERE number LIKE '+86209%' AND state IN ('done', 'failed', 'dead')" 100 60
stop_all_workers
assert_eq "tencent checks failed" \
    "$(psqlv "SELECT count(*) FROM jobs WHERE number LIKE '+86209%' AND platform = 'tencent' AND state = 'failed'")" 50
assert_eq "baidu checks (right credentials) done" \
    "$(psqlv "SELECT count(*) FROM jobs WHERE number LIKE '+86209%' AND platform = 'baidu' AND state = 'done'")" 50
assert_eq "tencent jobs retried" \
    "$(psqlv "SELECT count(*) FROM jobs WHERE number LIKE '+86209%' AND platform = 'tencent' AND attempts > 1")" 0
psqlv "SELECT DISTINCT last_error FROM jobs WHERE number LIKE '+86209%' AND platform = 'tencent'"
calls=$(sim GET /admin/counters | python3 -c "import json,sys; c=json.load(sys.stdin); print(c['by_endpoint']['b.check'], c['auth_failures'])")
assert_eq "tencent calls and 401s at the simulator (one per job)" "$calls" "50 50"
log="$NT_TMP/worker-0.log"
lines=$(grep -c 'rejects our credentials' "$log" || true)
assert_eq "error lines about the credentials" "$lines" 1
grep 'rejects our credentials' "$log" | grep -q '"level":"error"' || fail "the credentials line is not an error"
grep 'rejects our credentials' "$log" | grep -q 'platform tencent' || fail "the line does not name the platform"
for secret in "$wrong" "$NT_SIM_BEARER_TOKEN" "$NT_SIM_HMAC_SECRET"; do
    if grep -qF -- "$secret" "$NT_TMP"/*.log; then fail "a secret is in the logs"; fi
done
log "no secret in $(wc -l <"$log") log lines (debug level)"
log "PASS"
