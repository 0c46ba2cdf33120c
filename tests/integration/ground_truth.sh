#!/usr/bin/env bash
# Acceptance of the adapters and platforms issues: a fleet registered on every
# platform of deploy/local/platforms.json (every dialect the simulator speaks)
# ends with the same normalised state in PostgreSQL as the simulator's ground
# truth: 0 mismatches, and every platform compared for every number. The
# simulator's clock is frozen and the appeal fast path is off, so nothing
# changes the truth after the checks.
. "$(dirname "$0")/lib.sh"
nt_setup truth
sim_reset
sim POST /admin/config '{"clock":{"speed":0}}' >/dev/null
trap 'sim_reset; nt_cleanup' EXIT
export NUMTRUST_WORKER_APPEAL_FAST_PATH=false

n=300
platforms=$(all_platforms)
nplat=$(tr ',' '\n' <<<"$platforms" | wc -l)
log "platforms ($nplat): $platforms"
fleet=$(gen_fleet $n 205 "$platforms")
"$PRODUCER" import --numbers "$fleet"
start_worker
"$PRODUCER" enqueue check --prefix +86205 --period "$NT_TEST_NAME-$$" | grep enqueue
wait_sql "SELECT count(*) FROM check_results WHERE number LIKE '+86205%'" $((n * nplat)) 120
stop_all_workers
batch_calls=$(sim GET /admin/counters | python3 -c "import json,sys; c=json.load(sys.stdin); print(c['by_endpoint']['c.batch'], c['batch_numbers'])")
log "dialect C batched calls and numbers: $batch_calls"
python3 "$(dirname "$0")/truth.py" --prefix +86205 | tee "$NT_TMP/truth.out" | tail -n 20
line=$(tail -n 1 "$NT_TMP/truth.out")
case "$line" in "mismatches=0 compared=$((n * nplat)) "*) ;; *) fail "ground truth: $line";; esac
for p in ${platforms//,/ }; do
    grep -q " $p=$n\( \|$\)" <<<"$line" || fail "platform $p not compared for all $n numbers: $line"
done
with_marks=$(psqlv "SELECT count(*) FROM number_platforms WHERE number LIKE '+86205%' AND open_marks > 0")
log "registrations with marks among them: $with_marks"
[ "$with_marks" -gt 0 ] || fail "no marks at all: the comparison would be weak"
log "PASS"
