#!/usr/bin/env bash
# The local stack's ports (issue 15, item 4): the test stack listens below Linux's ephemeral
# range, and a port held by another socket - a listener, or a client socket bound to it -
# fails `stack.sh` at once with a message naming the setting, not after a 60 s timeout.
. "$(dirname "$0")/lib.sh"
nt_setup ports
lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range)
for v in NT_PG_PORT NT_KAFKA_PORT NT_KAFKA_CONTROLLER_PORT NT_SIM_PORT; do
    [ "${!v}" -lt "$lo" ] || fail "$v=${!v} lies in the ephemeral range (from $lo)"
done
log "ok: the test stack's ports ($NT_PG_PORT $NT_KAFKA_PORT $NT_KAFKA_CONTROLLER_PORT $NT_SIM_PORT) are below $lo"

# hold PORT with a client socket: bound to PORT, connected to PostgreSQL
hold_port() {
    python3 - "$1" "$NT_PG_PORT" "$NT_TMP/held.$1" <<'PY' &
import socket, sys, time, pathlib
port, pg, flag = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.connect(("127.0.0.1", pg))
pathlib.Path(flag).touch()
time.sleep(60)
PY
    HOLDER=$!
    for _ in $(seq 1 50); do [ -f "$NT_TMP/held.$1" ] && return 0; sleep 0.1; done
    fail "could not hold port $1"
}

for what in sim pg kafka; do
    port=$(nt_free_port)
    hold_port "$port"
    case $what in
    sim) setting=NT_SIM_PORT ;;
    pg) setting=NT_PG_PORT ;;
    kafka) setting=NT_KAFKA_PORT ;;
    esac
    t0=$(date +%s.%N)
    rc=0
    out=$(env NT_STATE_DIR="$NT_TMP/stack-$what" "$setting=$port" NT_STACK_TIMEOUT=60 \
        bash "$NT_REPO/deploy/local/stack.sh" "start-$what" 2>&1) || rc=$?
    took=$(echo "$(date +%s.%N) - $t0" | bc)
    kill "$HOLDER" 2>/dev/null || true
    wait "$HOLDER" 2>/dev/null || true
    NT_STATE_DIR="$NT_TMP/stack-$what" bash "$NT_REPO/deploy/local/stack.sh" down --purge >/dev/null 2>&1 || true
    [ "$rc" -ne 0 ] || fail "start-$what on a held port $port succeeded: $out"
    grep -qF "$setting=$port" <<<"$out" || fail "start-$what: the message does not name $setting=$port: $out"
    [ "$(echo "$took < 15" | bc)" -eq 1 ] || fail "start-$what took ${took}s to fail"
    log "ok: start-$what on held port $port failed in ${took}s: $(grep -F "$setting=$port" <<<"$out" | head -1)"
done
