#!/usr/bin/env bash
# Acceptance of the adapters issue: a fault run. The simulator answers 10% of
# platform calls with a 5xx, leaves 5% unanswered (timeouts) and rate-limits
# every platform (429 bursts with Retry-After). Every job still ends exactly
# once, as a result or a dead letter, and the simulator counts no retry
# before its Retry-After. Retry tiers are short (1s,2s,3s) so the run is
# quick; platform timeouts are 2 s.
. "$(dirname "$0")/lib.sh"
nt_setup faults
sim_reset
trap 'sim_reset; nt_cleanup' EXIT
export NUMTRUST_TOPICS_RETRY_TIERS=1s,2s,3s
export NUMTRUST_JOB_MAX_ATTEMPTS=5
export NUMTRUST_PLATFORMS_FILE=$NT_TMP/platforms.json
python3 - "$NT_REPO/deploy/local/platforms.json" "$NUMTRUST_PLATFORMS_FILE" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
for p in doc["platforms"]:
    p["timeout_ms"] = 2000
json.dump(doc, open(sys.argv[2], "w"), ensure_ascii=False)
PY
"$PRODUCER" topics >/dev/null

fleet=$(gen_fleet 1000 207)
"$PRODUCER" import --numbers "$fleet"
mine="number LIKE '+86207%'"
sim POST /admin/config '{"faults":{"rate_5xx":0.10,"rate_timeout":0.05},
                         "rate_limit":{"qps":400,"burst":50,"retry_after_s":1}}' >/dev/null
start_worker
start_worker
"$PRODUCER" enqueue check --prefix +86207 --period "$NT_TEST_NAME-$$" | grep enqueue
wait_sql "SELECT count(*) FROM jobs WHERE $mine AND type = 'check' AND state IN ('done', 'dead', 'failed')" 3000 300
# side effects under the same faults: a timed-out tag update may have been
# applied; its retry carries the same Idempotency-Key and must not apply twice
"$PRODUCER" enqueue tag --prefix +86207 --period "$NT_TEST_NAME-$$" | tee "$NT_TMP/tag.out" | grep enqueue
tags=$(sed -n 's/.* \([0-9]*\) produced.*/\1/p' "$NT_TMP/tag.out")
[ "${tags:-0}" -gt 0 ] || fail "no tag update to push"
wait_sql "SELECT count(*) FROM jobs WHERE $mine AND type = 'tag_update' AND state IN ('done', 'dead', 'failed')" "$tags" 300
for _ in $(seq 1 60); do [ "$(group_lag)" = 0 ] && break; sleep 1; done
stop_all_workers
sim GET /admin/counters >"$NT_TMP/counters.json"
python3 - "$NT_TMP/counters.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
print("simulator: requests=%d 429=%d 5xx=%d timeouts=%d early_retries=%d duplicate_side_effects=%d"
      % (c["requests"], c["rate_limited"], c["faults"]["5xx"], c["faults"]["timeout"],
         c["early_retries"], c["duplicate_side_effects"]))
PY
psqlv "SELECT 'ledger: ' || string_agg(type || '/' || state || '=' || n, ' ') FROM
       (SELECT type, state, count(*) AS n FROM jobs WHERE $mine GROUP BY 1, 2 ORDER BY 1, 2) s"
retried=$(psqlv "SELECT count(*) FROM jobs WHERE $mine AND type = 'check' AND attempts > 1")
log "check jobs retried at least once: $retried"
c() { python3 -c "import json,sys; c=json.load(open('$NT_TMP/counters.json')); print($1)"; }
[ "$(c "c['faults']['5xx']")" -gt 0 ] || fail "no 5xx was injected"
[ "$(c "c['faults']['timeout']")" -gt 0 ] || fail "no timeout was injected"
[ "$(c "c['rate_limited']")" -gt 0 ] || fail "no 429 was served"
[ "$retried" -gt 0 ] || fail "nothing was retried"
assert_eq "retries before Retry-After (simulator)" "$(c "c['early_retries']")" 0
assert_eq "duplicate side effects (simulator)" "$(c "c['duplicate_side_effects']")" 0
assert_eq "check jobs neither done nor dead" \
    "$(psqlv "SELECT count(*) FROM jobs WHERE $mine AND type = 'check' AND state NOT IN ('done', 'dead')")" 0
assert_eq "done check jobs without exactly one result" \
    "$(psqlv "SELECT count(*) FROM jobs j WHERE j.$mine AND j.type = 'check' AND j.state = 'done'
              AND (SELECT count(*) FROM check_results r WHERE r.job_id = j.id) <> 1")" 0
assert_eq "dead check jobs without a dead letter" \
    "$(psqlv "SELECT count(*) FROM jobs j WHERE j.$mine AND j.type = 'check' AND j.state = 'dead'
              AND NOT EXISTS (SELECT 1 FROM dead_letters d WHERE d.job_id = j.id)")" 0
assert_eq "dead check jobs that also have a result" \
    "$(psqlv "SELECT count(*) FROM jobs j JOIN check_results r ON r.job_id = j.id
              WHERE j.$mine AND j.state = 'dead'")" 0
assert_eq "tag jobs neither done nor failed nor dead" \
    "$(psqlv "SELECT count(*) FROM jobs WHERE $mine AND type = 'tag_update' AND state NOT IN ('done', 'failed', 'dead')")" 0
assert_eq "done tag jobs without exactly one tag_updates row" \
    "$(psqlv "SELECT count(*) FROM jobs j WHERE j.$mine AND j.type = 'tag_update' AND j.state = 'done'
              AND (SELECT count(*) FROM tag_updates t WHERE t.job_id = j.id) <> 1")" 0
log "tallies: check results=$(psqlv "SELECT count(*) FROM check_results WHERE $mine") tag updates=$(psqlv "SELECT count(*) FROM tag_updates WHERE $mine") dead=$(psqlv "SELECT count(*) FROM jobs WHERE $mine AND state = 'dead'") repeated idempotency keys=$(c "c['idempotency']['repeats']")"
log "PASS"
