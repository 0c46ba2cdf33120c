#!/usr/bin/env bash
# The in-flight window (issue 14, item 1): the worker sizes how many jobs it
# holds from measured throughput and platform latency (Little's law), between
# worker.min_inflight (200 here) and worker.max_inflight (5,000 here).
# Against a platform answering in 400 ms the window grows past the 1,000 jobs
# it starts with (a fixed window of 1,000 would cap the worker at 2,500
# checks/s); against one answering at once it comes down again. Every check is recorded once either
# way. The figures come from the worker's own /metrics (numtrust_window_jobs,
# numtrust_jobs_in_flight), sampled while it works.
. "$(dirname "$0")/lib.sh"
nt_setup window
sim_reset
trap 'sim_reset; nt_cleanup' EXIT

pfx=+86231
mine="number LIKE '$pfx%'"
fleet=$(gen_fleet 3000 231 baidu)
"$PRODUCER" import --numbers "$fleet"
port=$(nt_free_port)
start_worker NUMTRUST_WORKER_METRICS_LISTEN="127.0.0.1:$port" NUMTRUST_WORKER_APPEAL_FAST_PATH=false \
    NUMTRUST_WORKER_MAX_INFLIGHT=5000 NUMTRUST_WORKER_MIN_INFLIGHT=200
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/metrics" >/dev/null 2>&1 && break
    sleep 0.1
done

# samples "window in_flight" from /metrics every 100 ms until count(check_results) reaches $1
sample_until() {
    local want=$1 out=$2 deadline=$((SECONDS + 120)) m
    : >"$out"
    while [ "$(psqlv "SELECT count(*) FROM check_results WHERE $mine")" -lt "$want" ]; do
        [ "$SECONDS" -lt "$deadline" ] || fail "only $(psqlv "SELECT count(*) FROM check_results WHERE $mine") of $want checks recorded in 120 s"
        m=$(curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null || true)
        awk '$1 == "numtrust_window_jobs" {w = $2} $1 == "numtrust_jobs_in_flight" {f = $2}
             END {if (w != "") print w, f}' <<<"$m" >>"$out"
        sleep 0.1
    done
}

# 1. slow platform: 3,000 checks at 400 ms a call
sim POST /admin/config '{"latency":{"base_ms":400,"jitter_ms":0,"tail_rate":0,"tail_ms":0}}' >/dev/null
"$PRODUCER" enqueue check --prefix $pfx --period "$NT_TEST_NAME-slow-$$" | grep enqueue
sample_until 3000 "$NT_TMP/slow.samples"
read -r wmax fmax < <(sort -n -k1 "$NT_TMP/slow.samples" | tail -1)
fmax=$(sort -n -k2 "$NT_TMP/slow.samples" | tail -1 | cut -d' ' -f2)
log "400 ms platform: $(wc -l <"$NT_TMP/slow.samples") samples, largest window $wmax, most jobs in flight $fmax"
[ "${wmax:-0}" -gt 1000 ] || fail "the window did not grow past 1000 against a 400 ms platform (largest $wmax)"
[ "${fmax:-0}" -gt 1000 ] || fail "no more than 1000 jobs were ever in flight (most $fmax)"
[ "$wmax" -le 5000 ] || fail "the window $wmax went past worker.max_inflight 5000"

# 2. fast platform: the window follows the latency down
sim POST /admin/config '{"latency":{"base_ms":0,"jitter_ms":0,"tail_rate":0,"tail_ms":0}}' >/dev/null
purge_jobs=$(psqlv "SELECT count(*) FROM jobs WHERE $mine AND state <> 'done'")
assert_eq "jobs not done after the slow phase" "$purge_jobs" 0
"$PRODUCER" enqueue check --prefix $pfx --period "$NT_TEST_NAME-fast-$$" | grep enqueue
# a check that observes the same state writes no history row: count the ledger instead
deadline=$((SECONDS + 120))
while [ "$(psqlv "SELECT count(*) FROM jobs WHERE $mine AND type = 'check' AND state = 'done'")" -lt 6000 ]; do
    [ "$SECONDS" -lt "$deadline" ] || fail "the fast phase did not finish in 120 s"
    sleep 0.2
done
sleep 1
wnow=$(curl -fsS "http://127.0.0.1:$port/metrics" | awk '$1 == "numtrust_window_jobs" {print $2}')
log "0 ms platform: window now $wnow"
[ "${wnow:-999999}" -lt "$wmax" ] || fail "the window stayed at $wnow against a 0 ms platform (was $wmax at 400 ms)"

stop_all_workers
assert_eq "check jobs done, each once" \
    "$(psqlv "SELECT count(*) || ' ' || count(DISTINCT id) || ' ' || count(*) FILTER (WHERE attempts = 1)
              FROM jobs WHERE $mine AND type = 'check' AND state = 'done'")" "6000 6000 6000"
assert_eq "registrations with an observed state" \
    "$(psqlv "SELECT count(*) FROM number_platforms WHERE $mine AND last_checked_at IS NOT NULL")" 3000
