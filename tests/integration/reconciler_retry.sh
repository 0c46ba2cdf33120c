#!/usr/bin/env bash
# The reconciler runs failed work again with backoff (docs/maintenance.md, "Failures"): checks
# that failed on wrong credentials are not run again before loop.retry_backoff_s, then run again
# (still failing, as the credentials are still wrong), not again before twice the backoff, and
# after loop.retry_max attempts the reconciler gives up and says so in its log. A refusal by the
# platform (error class rejected) is never run again. Once the credentials are fixed, `retry`
# runs what it gave up on, and it succeeds.
. "$(dirname "$0")/lib.sh"
nt_setup rretry
sim_reset
PFX=224
pfx=+86$PFX
mine="number LIKE '+86$PFX%'"
export NUMTRUST_LOOP_RETRY_BACKOFF_S=2 NUMTRUST_LOOP_RETRY_MAX=2
fleet=$(gen_fleet 4 $PFX tencent)
"$PRODUCER" import --numbers "$fleet" >/dev/null
gens() { psqlv "SELECT coalesce(string_agg(retry_gen || ':' || state || ':' || n, ' ' ORDER BY retry_gen, state), '')
                FROM (SELECT retry_gen, state, count(*) n FROM jobs WHERE $mine GROUP BY 1, 2) x"; }
pass() { "$PRODUCER" run --once --prefix "$pfx" >>"$NT_TMP/run.log" 2>&1 || true; }
settle() { wait_sql "SELECT count(*) FROM jobs WHERE $mine AND state IN ('queued', 'running', 'retrying')" 0 30; }

start_worker NT_SIM_BEARER_TOKEN=wrong-token
pass # the checks come due (and the same cycle's checks are not enqueued again)
settle
assert_eq "the checks failed (auth)" "$(gens)" "0:failed:4"
# a refusal, recorded as such: never run again
psqlv "UPDATE jobs SET error_class = 'rejected' WHERE id = (SELECT id FROM jobs WHERE $mine ORDER BY id LIMIT 1)" >/dev/null

pass # at once: within the backoff
settle
assert_eq "nothing run again within the backoff (2 s)" "$(gens)" "0:failed:4"
sleep 2.5
pass
settle
assert_eq "run again after the backoff, failing again (credentials still wrong)" "$(gens)" "0:failed:4 1:failed:3"
sleep 2.5 # less than twice the backoff since the re-runs failed
pass
settle
assert_eq "not again before twice the backoff" "$(gens)" "0:failed:4 1:failed:3"
sleep 2
pass
settle
assert_eq "after twice the backoff: the second re-run" "$(gens)" "0:failed:4 1:failed:3 2:failed:3"
sleep 9
pass
settle
assert_eq "after loop.retry_max (2) re-runs: given up" "$(gens)" "0:failed:4 1:failed:3 2:failed:3"
grep -q "retry gave_up_auth 3" "$NT_TMP/run.log" || fail "the log does not say it gave up: $(grep 'skipped on purpose' "$NT_TMP/run.log" | tail -n 1)"
grep -q "retry not_retried_rejected 1" "$NT_TMP/run.log" || fail "the log does not count the refusal"
log "ok: the log says: $(grep -o 'skipped on purpose: .*' "$NT_TMP/run.log" | tail -n 1)"

# the credentials fixed, the operator runs what the reconciler gave up on (as its metric says)
stop_all_workers
start_worker
"$PRODUCER" retry --prefix "$pfx" --class auth | tail -n 1
settle
assert_eq "after the fix: run again and done" \
    "$(psqlv "SELECT count(*) FROM jobs WHERE $mine AND state = 'done' AND retry_of IS NOT NULL")" 3
stop_all_workers
log "PASS"
