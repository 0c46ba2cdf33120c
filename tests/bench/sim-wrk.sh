#!/usr/bin/env bash
# sim-wrk.sh — throughput ceiling of numtrust-platform-sim: starts it on a
# free loopback port, runs wrk with keep-alive against a check endpoint
# (sim-check.lua), stops it, and prints one line:
#   bench ceiling sim req_per_s=<n>
# Usage: tests/bench/sim-wrk.sh [b|c] [seconds] [connections]
# Env: SIM_BIN (default build/bin/numtrust-platform-sim), WRK (default wrk).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dialect=${1:-b}
secs=${2:-10}
conns=${3:-64}
sim=${SIM_BIN:-$root/build/bin/numtrust-platform-sim}
wrk=${WRK:-wrk}

[ -x "$sim" ] || { echo "sim-wrk: $sim not built" >&2; exit 2; }
command -v "$wrk" >/dev/null || { echo "sim-wrk: wrk not found" >&2; exit 2; }

log=$(mktemp)
pid=""
cleanup() {
    if [ -n "$pid" ]; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -f "$log"
}
trap cleanup EXIT

# port 0: the kernel picks a free port; the sim logs the one it got
"$sim" --listen 127.0.0.1:0 --log-level info 2>"$log" &
pid=$!
port=""
for _ in $(seq 1 50); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -n1)
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "sim-wrk: the simulator did not start:" >&2; cat "$log" >&2; exit 1; }

out=$(SIM_DIALECT=$dialect "$wrk" -t1 -c"$conns" -d"${secs}s" -s "$here/sim-check.lua" \
    "http://127.0.0.1:$port/")
echo "$out" >&2
rps=$(echo "$out" | awk '/^Requests\/sec:/ {printf "%d", $2}')
if echo "$out" | grep -q "Non-2xx"; then
    echo "sim-wrk: some answers were not 200" >&2
    exit 1
fi
[ -n "$rps" ] || { echo "sim-wrk: no Requests/sec line from wrk" >&2; exit 1; }
echo "bench ceiling sim req_per_s=$rps"
