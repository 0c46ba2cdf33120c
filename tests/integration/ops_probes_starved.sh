#!/usr/bin/env bash
# The worker's /healthz stays answerable under a connection flood (issue 8 item 8): 64 idle
# sockets (every slot of the ops server) and 70 slowloris sockets sending one byte every 2 s
# are held open while a probe asks /healthz every second for 12 s. Every probe must be
# answered (200) within 2 s: the connection that waited longest makes room for a new one,
# and a request trickling in is closed 5 s after its first byte however active it looks.
. "$(dirname "$0")/lib.sh"
nt_setup opsprobes
port=$(nt_free_port)
start_worker NUMTRUST_WORKER_METRICS_LISTEN="127.0.0.1:$port"
for _ in $(seq 1 50); do curl -fsS "127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
assert_eq "worker /healthz before the flood" "$(curl -fsS "127.0.0.1:$port/healthz")" ok
python3 - "$port" <<'PY' | tee "$NT_TMP/probes"
import socket, sys, time
port = int(sys.argv[1])
def conn():
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
    except OSError:
        return None
    return s
idle = [c for c in (conn() for _ in range(64)) if c]
slow = [c for c in (conn() for _ in range(70)) if c]
head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
pos, ok, probes, t0, next_byte = 0, 0, 0, time.time(), 0.0
while time.time() - t0 < 12:
    now = time.time() - t0
    if now >= next_byte:  # one byte on every slowloris socket; reopen the ones closed
        for i, s in enumerate(slow):
            try:
                s.send(head[pos:pos + 1])
            except OSError:
                s.close()
                slow[i] = conn() or s
        pos, next_byte = pos + 1, next_byte + 2
    probes += 1
    p = conn()
    try:
        p.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        if p.recv(64).startswith(b"HTTP/1.1 200"):
            ok += 1
    except (OSError, AttributeError):
        pass
    finally:
        if p:
            p.close()
    time.sleep(1)
print("probes answered: %d of %d (idle sockets %d, slowloris sockets %d)" % (ok, probes, len(idle), len(slow)))
PY
line=$(tail -n 1 "$NT_TMP/probes")
total=$(echo "$line" | sed -n 's/probes answered: [0-9]* of \([0-9]*\).*/\1/p')
assert_eq "probes answered under the flood" "$line" "$(echo "$line" | sed "s/answered: [0-9]* of/answered: $total of/")"
assert_eq "worker /healthz after the flood" "$(curl -fsS "127.0.0.1:$port/healthz")" ok
stop_all_workers
log "PASS"
