#!/usr/bin/env bash
# The worker-core issue: per-platform rate limits hold for all workers
# together. Two workers share tencent's 100 calls/s through the token bucket
# in PostgreSQL; the simulator, limiting at 130/s, never has to say 429, and
# 1,200 checks take at least the 12 s that 100 calls/s allow.
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
start_worker
start_worker
wait_sql "SELECT count(*) FROM check_results WHERE number LIKE '+86208%'" 1200 120
elapsed=$(echo "$(date +%s.%N) - $t0" | bc)
stop_all_workers
span=$(psqlv "SELECT round(extract(epoch FROM max(checked_at) - min(checked_at))::numeric, 2)
              FROM check_results WHERE number LIKE '+86208%'")
limited=$(sim GET /admin/counters | python3 -c "import json,sys; print(json.load(sys.stdin)['rate_limited'])")
rate=$(echo "scale=1; 1200 / $span" | bc)
log "1200 checks by 2 workers in ${span}s of results (${elapsed}s wall): $rate calls/s; 429s served: $limited"
assert_eq "429s served by the simulator" "$limited" 0
[ "$(echo "$span >= 10.5" | bc)" -eq 1 ] || fail "the two workers together went faster than 100/s ($rate/s)"
log "PASS"
