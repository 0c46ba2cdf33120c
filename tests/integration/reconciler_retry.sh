#!/usr/bin/env bash
# The reconciler runs failed work again with backoff (docs/maintenance.md, "Failures"): checks
# that failed on wrong credentials are run again no sooner than loop.retry_backoff_s after they
# failed, their re-runs (failing again: the credentials are still wrong) no sooner than twice
# that, and after loop.retry_max re-runs the reconciler gives up and says so in its log. A
# refusal by the platform (error class rejected) is never run again. Once the credentials are
# fixed, `numtrust-producer retry` runs what it gave up on, and it succeeds. The timing is
# checked against the ledger's own times, so a slow machine cannot make it pass or fail.
. "$(dirname "$0")/lib.sh"
nt_setup rretry
sim_reset
PFX=224
pfx=+86$PFX
mine="number LIKE '+86$PFX%'"
BACKOFF=2
export NUMTRUST_LOOP_RETRY_BACKOFF_S=$BACKOFF NUMTRUST_LOOP_RETRY_MAX=2
fleet=$(gen_fleet 4 $PFX tencent)
"$PRODUCER" import --numbers "$fleet" >/dev/null
gens() { psqlv "SELECT coalesce(string_agg(retry_gen || ':' || state || ':' || n, ' ' ORDER BY retry_gen, state), '')
                FROM (SELECT retry_gen, state, count(*) n FROM jobs WHERE $mine GROUP BY 1, 2) x"; }
pass() { "$PRODUCER" run --once --prefix "$pfx" >>"$NT_TMP/run.log" 2>&1 || true; }
settle() { wait_sql "SELECT count(*) FROM jobs WHERE $mine AND state IN ('queued', 'running', 'retrying')" 0 60; }

start_worker NT_SIM_BEARER_TOKEN=wrong-token
pass # the checks come due (and the same cycle's checks are not enqueued again)
settle
assert_eq "the checks failed (auth)" "$(gens)" "0:failed:4"
# a refusal, recorded as such: never run again
psqlv "UPDATE jobs SET error_class = 'rejected' WHERE id = (SELECT id FROM jobs WHERE $mine ORDER BY id LIMIT 1)" >/dev/null

# passes, a second apart, until the reconciler gave up (at most a minute)
for _ in $(seq 60); do
    pass
    settle
    [ "$(gens)" = "0:failed:4 1:failed:3 2:failed:3" ] && break
    sleep 1
done
sleep $((BACKOFF * 4 + 1)) # past the next backoff: a third re-run would now be due
pass
settle
assert_eq "two re-runs of each retried failure, then no more (loop.retry_max 2)" \
    "$(gens)" "0:failed:4 1:failed:3 2:failed:3"
assert_eq "re-runs made before their backoff (backoff_s * 2^generation after the failure)" \
    "$(psqlv "SELECT count(*) FROM jobs k JOIN jobs j ON j.id = k.retry_of
              WHERE k.$mine AND k.created_at < j.finished_at + $BACKOFF * power(2, j.retry_gen) * interval '1 second'")" 0
assert_eq "the refusal run again" \
    "$(psqlv "SELECT count(*) FROM jobs k JOIN jobs j ON j.id = k.retry_of WHERE k.$mine AND j.error_class = 'rejected'")" 0
grep -q "retry gave_up_auth 3" "$NT_TMP/run.log" || fail "the log does not say it gave up: $(grep 'skipped on purpose' "$NT_TMP/run.log" | tail -n 1)"
grep -q "retry not_retried_rejected 1" "$NT_TMP/run.log" || fail "the log does not count the refusal"
log "ok: the log says: $(grep -o 'skipped on purpose: .*' "$NT_TMP/run.log" | tail -n 1 | cut -c1-200)"

# the credentials fixed, the operator runs what the reconciler gave up on (as its metric says)
stop_all_workers
start_worker
"$PRODUCER" retry --prefix "$pfx" --class auth | tail -n 1
settle
assert_eq "after the fix: run again and done" \
    "$(psqlv "SELECT count(*) FROM jobs WHERE $mine AND state = 'done' AND retry_of IS NOT NULL")" 3
stop_all_workers
log "PASS"
