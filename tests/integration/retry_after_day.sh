#!/usr/bin/env bash
# One Retry-After: 86400 does not stall the worker (issue 8 item 2). baidu is served by a
# second simulator that allows one call then answers 429 with Retry-After: 86400; tencent by
# the stack's simulator, healthy but failing 5% of calls with 503 (so its retries share the
# retry tiers with baidu's). With a window of 60 jobs: every tencent job is done within 60 s
# (a held platform's jobs leave the window and free their numbers; retry tiers are not blocked
# for a day), and once the second simulator stops limiting, every baidu job is done too —
# the hold was capped (worker.retry_after_max_s 15 s here), not a day.
. "$(dirname "$0")/lib.sh"
nt_setup retryafter
sim_reset
SIM2_LOG=$NT_TMP/sim2.log
"$NT_BIN/numtrust-platform-sim" --listen 127.0.0.1:0 --seed 7 >"$SIM2_LOG" 2>&1 &
SIM2_PID=$!
trap 'rc=$?; set +e; kill $SIM2_PID 2>/dev/null || true; sim_reset || true; (exit $rc); nt_cleanup' EXIT
for _ in $(seq 1 50); do
    SIM2=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$SIM2_LOG" | awk '{print $NF}' || true)
    [ -n "$SIM2" ] && break
    sleep 0.1
done
[ -n "$SIM2" ] || fail "the second simulator did not start: $(cat "$SIM2_LOG")"
SIM2_URL=http://$SIM2
curl -fsS -X POST -H 'Content-Type: application/json' \
    -d '{"rate_limit":{"qps":0.01,"burst":1,"retry_after_s":86400}}' "$SIM2_URL/admin/config" >/dev/null
# 5%, not more: a job still fails only after 5 attempts (0.05^5 a job); at 20% one of the 150
# would end dead in about one run in twenty (150 x 0.2^5), a failure the hold did not cause
sim POST /admin/config '{"faults":{"rate_5xx":0.05}}' >/dev/null
export NUMTRUST_PLATFORMS_FILE=$NT_TMP/platforms.json
python3 - "$NT_REPO/deploy/local/platforms.json" "$NUMTRUST_PLATFORMS_FILE" "$SIM2_URL" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
for p in doc["platforms"]:
    if p["id"] == "baidu":
        p["base_url"] = sys.argv[3] + "/p/baidu"
json.dump(doc, open(sys.argv[2], "w"), ensure_ascii=False)
PY
export NUMTRUST_TOPICS_RETRY_TIERS=1s,3s,15s
"$PRODUCER" topics >/dev/null
fleet=$(gen_fleet 150 217 baidu,tencent)
"$PRODUCER" import --numbers "$fleet" >/dev/null
start_worker NUMTRUST_WORKER_MAX_INFLIGHT=60 NUMTRUST_WORKER_BATCH_MAX=50 NUMTRUST_WORKER_RETRY_AFTER_MAX_S=15
"$PRODUCER" enqueue check --prefix +86217 --period "$NT_TEST_NAME-$$" | grep enqueue
t0=$SECONDS
wait_sql "SELECT count(*) FROM jobs WHERE number LIKE '+86217%' AND type = 'check' AND platform = 'tencent' AND state = 'done'" 150 60
log "all 150 tencent checks done in $((SECONDS - t0)) s while baidu was held"
done_b=$(psqlv "SELECT count(*) FROM jobs WHERE number LIKE '+86217%' AND type = 'check' AND platform = 'baidu' AND state = 'done'")
log "baidu checks done meanwhile: $done_b of 150"
[ "$done_b" -lt 150 ] || fail "baidu was never held: the test proves nothing"
curl -fsS -X POST -H 'Content-Type: application/json' -d '{"rate_limit":{"qps":0,"burst":0}}' \
    "$SIM2_URL/admin/config" >/dev/null
t1=$SECONDS
wait_sql "SELECT count(*) FROM jobs WHERE number LIKE '+86217%' AND type = 'check' AND platform = 'baidu' AND state = 'done'" 150 90
log "all 150 baidu checks done $((SECONDS - t1)) s after the limit was lifted"
grep -q 'asks to wait 86400 s (Retry-After); waiting 15 s' "$NT_TMP/worker-0.log" ||
    fail "the worker did not say it capped the Retry-After"
assert_eq "jobs failed or dead" \
    "$(psqlv "SELECT count(*) FROM jobs WHERE number LIKE '+86217%' AND state IN ('failed', 'dead')")" 0
stop_all_workers
log "PASS"
