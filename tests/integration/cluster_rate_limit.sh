#!/usr/bin/env bash
# The worker-core issue: per-platform rate limits hold for all workers
# together. Two workers share tencent's 100 calls/s through the token bucket
# in PostgreSQL; the simulator, limiting at 130/s, never has to say 429, and
# 1,200 checks take at least the 12 s that 100 calls/s allow.
#
# After 300 results the workers' PostgreSQL backends are frozen (SIGSTOP) for 7 s, past the
# 5 s a worker waits for a token lease before it spends its partition share locally. Tokens
# granted then and not spent during the freeze were once kept and spent at each worker's
# local rate after it (two workers at 100/s each: the simulator said 429, and AIMD cut the
# rate to a third for the rest of the run). Granted tokens now expire and never pile up.
. "$(dirname "$0")/lib.sh"
nt_setup ratelimit
sim_reset
trap 'sim_reset; nt_cleanup' EXIT
export NUMTRUST_WORKER_APPEAL_FAST_PATH=false
export NUMTRUST_PLATFORMS_FILE=$NT_TMP/platforms.json
python3 - "$NT_REPO/deploy/local/platforms.json" "$NUMTRUST_PLATFORMS_FILE" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
for p in doc["platforms"]:
    if p["id"] == "tencent":
        p["rate_limit"] = {"qps": 100, "burst": 10}
json.dump(doc, open(sys.argv[2], "w"), ensure_ascii=False)
PY
psqlv "DELETE FROM rate_buckets WHERE platform = 'tencent'"
fleet=$(gen_fleet 1200 208 tencent)
"$PRODUCER" import --numbers "$fleet"
sim POST /admin/config '{"rate_limit":{"qps":130,"burst":40,"retry_after_s":1}}' >/dev/null
"$PRODUCER" enqueue check --prefix +86208 --period "$NT_TEST_NAME-$$" | grep enqueue
t0=$(date +%s.%N)
worker_conninfo="$NUMTRUST_PG_CONNINFO application_name=nt-ratelimit-worker"
start_worker NUMTRUST_PG_CONNINFO="$worker_conninfo"
start_worker NUMTRUST_PG_CONNINFO="$worker_conninfo"
n=0
until [ "$n" -ge 300 ]; do
    [ "$(echo "$(date +%s.%N) - $t0 < 60" | bc)" -eq 1 ] || fail "no 300 results in 60 s ($n)"
    sleep 0.1
    n=$(psqlv "SELECT count(*) FROM check_results WHERE number LIKE '+86208%'")
done
pids=$(psqlv "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity
              WHERE application_name = 'nt-ratelimit-worker'")
[ -n "$pids" ] || fail "no backend serves the workers"
trap 'kill -CONT $pids 2>/dev/null; sim_reset; nt_cleanup' EXIT
# shellcheck disable=SC2086
kill -STOP $pids
log "$n results; the workers' $(echo "$pids" | wc -w) backends frozen (SIGSTOP) for 7 s"
sleep 7
# shellcheck disable=SC2086
kill -CONT $pids
trap 'sim_reset; nt_cleanup' EXIT
log "backends resumed: $(psqlv "SELECT count(*) FROM check_results WHERE number LIKE '+86208%'") results"
wait_sql "SELECT count(*) FROM check_results WHERE number LIKE '+86208%'" 1200 120
elapsed=$(echo "$(date +%s.%N) - $t0" | bc)
stop_all_workers
span=$(psqlv "SELECT round(extract(epoch FROM max(checked_at) - min(checked_at))::numeric, 2)
              FROM check_results WHERE number LIKE '+86208%'")
limited=$(sim GET /admin/counters | python3 -c "import json,sys; print(json.load(sys.stdin)['rate_limited'])")
rate=$(echo "scale=1; 1200 / $span" | bc)
log "1200 checks by 2 workers in ${span}s of results (${elapsed}s wall): $rate calls/s; 429s served: $limited"
assert_eq "429s served by the simulator" "$limited" 0
# 1200 calls at 100/s less the buckets' bursts (10.5 s, as without a freeze), plus the
# first 5 s of the freeze, when no worker has a token to spend
[ "$(echo "$span >= 15.5" | bc)" -eq 1 ] || fail "the two workers together went faster than 100/s ($rate/s)"
[ "$(echo "$span <= 30" | bc)" -eq 1 ] || fail "1200 checks took ${span}s: the rate was cut after the freeze"
log "PASS"
