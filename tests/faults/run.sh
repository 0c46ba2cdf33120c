#!/usr/bin/env bash
# tests/faults/run.sh — the fault suite: runs the scenarios in sequence against the local stack
# of the environment (tests/run.sh exports it; by hand: eval "$(deploy/local/stack.sh env)"),
# prints one tally line per scenario and a final PASS or FAIL. Exit status 0 only if every
# scenario passed.
set -uo pipefail

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# the order of a full run; tests/faults/CMakeLists.txt registers the same list with ctest
ALL=(kill9_x3 scale_1_3_1 sigstop_past_session kafka_kill9_restart pg_restart_fast
     pg_restart_immediate sim_down_60s storm_429 poison_mix duplicate_delivery
     pg_refuses_writes pg_stalls pg_row_refused)

usage() {
    cat <<USAGE
usage: tests/faults/run.sh [-v] [scenario...]

Runs the fault scenarios (default: all, in this order: ${ALL[*]})
one after the other against the stack of the environment, and prints per scenario
  fault NAME: jobs=… done=… dead=… failed=… lost=0 doubled=0 lag0_after_s=… time_s=… PASS|FAIL
then a final PASS or FAIL. Each scenario's full log is kept in \$NT_FAULT_LOG_DIR (default: a new
/tmp/nt-faults.XXXXXX); a failing scenario's log tail is printed.

  -v, --verbose   stream every scenario's log as it runs
Environment: the stack's settings (NUMTRUST_PG_CONNINFO, NUMTRUST_KAFKA_BOOTSTRAP_SERVERS,
NT_SIM_URL, NT_STACK, NT_BUILD_DIR), and the scenarios' knobs (tests/faults/faultlib.sh):
FAULT_NUMBERS, FAULT_TAG_NUMBERS, FAULT_LATENCY_MS, FAULT_INFLIGHT, FAULT_LAG_LIMIT_S.
USAGE
}

verbose=false
scenarios=()
for a in "$@"; do
    case "$a" in
    -h | --help) usage; exit 0 ;;
    -v | --verbose) verbose=true ;;
    -*) usage >&2; exit 2 ;;
    *)
        [ -f "$DIR/$a.sh" ] || { echo "run.sh: no scenario '$a' (${ALL[*]})" >&2; exit 2; }
        scenarios+=("$a")
        ;;
    esac
done
[ "${#scenarios[@]}" -gt 0 ] || scenarios=("${ALL[@]}")
: "${NUMTRUST_PG_CONNINFO:?run under tests/run.sh, or eval \"\$(deploy/local/stack.sh env)\" first}"

LOGDIR=${NT_FAULT_LOG_DIR:-$(mktemp -d /tmp/nt-faults.XXXXXX)}
mkdir -p "$LOGDIR"
export NT_FAULT_TALLY=$LOGDIR/tally
: >"$NT_FAULT_TALLY"
t0=$SECONDS
failed=()
echo "fault suite: ${#scenarios[@]} scenarios, logs in $LOGDIR"
for s in "${scenarios[@]}"; do
    s0=$SECONDS
    before=$(wc -l <"$NT_FAULT_TALLY")
    if $verbose; then
        bash "$DIR/$s.sh" 2>&1 | tee "$LOGDIR/$s.log"
        rc=${PIPESTATUS[0]}
    else
        bash "$DIR/$s.sh" >"$LOGDIR/$s.log" 2>&1
        rc=$?
    fi
    line=$(tail -n +"$((before + 1))" "$NT_FAULT_TALLY" | grep "^fault $s:" | tail -n 1)
    [ -n "$line" ] || line="fault $s: no tally (the scenario stopped early, exit $rc; time_s=$((SECONDS - s0))) FAIL"
    if [ "$rc" != 0 ]; then
        failed+=("$s")
        case "$line" in *FAIL) ;; *) line="$line (exit $rc) FAIL" ;; esac
    fi
    echo "$line"
    if [ "$rc" != 0 ] && ! $verbose; then
        echo "--- last lines of $LOGDIR/$s.log"
        grep -v GETPID "$LOGDIR/$s.log" | tail -n 40 | sed 's/^/    /'
    fi
done
echo "fault suite: $((SECONDS - t0)) s"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "FAIL (${failed[*]})"
    exit 1
fi
echo PASS
