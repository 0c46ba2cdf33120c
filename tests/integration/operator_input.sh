#!/usr/bin/env bash
# Operator input (issue 8 item 13): an import whose first line never ends stops by itself
# and on SIGTERM, a NUL byte in a CSV field rejects the row (it used to cut the label short),
# a directory given as the file is named as such, and pg.connect_timeout_s is obeyed: an
# unreachable PostgreSQL is given up after it, a role that does not exist at once.
. "$(dirname "$0")/lib.sh"
nt_setup operator
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
within() { awk -v s="$1" -v l="$2" 'BEGIN { exit !(s < l) }'; }

# 1. /dev/zero: one line that never ends (and NUL bytes)
t0=$(date +%s.%N)
rc=0
timeout -k 5 30 "$PRODUCER" import --numbers /dev/zero >"$NT_TMP/zero.out" 2>&1 || rc=$?
s=$(elapsed "$t0")
cat "$NT_TMP/zero.out"
assert_eq "import of a line that never ends: exit status" "$rc" 1
within "$s" 10 || fail "import of /dev/zero took ${s}s"
grep -q "a record longer than" "$NT_TMP/zero.out" || fail "no reason given: $(cat "$NT_TMP/zero.out")"
log "ok: /dev/zero given up after ${s}s"

# 2. SIGTERM while a never-ending line trickles in
mkfifo "$NT_TMP/fifo"
python3 -c "
import sys, time
with open(sys.argv[1], 'wb', buffering=0) as f:
    try:
        while True:
            f.write(b'x' * 64); time.sleep(0.01)
    except BrokenPipeError:
        pass" "$NT_TMP/fifo" &
writer=$!
"$PRODUCER" import --numbers "$NT_TMP/fifo" >"$NT_TMP/fifo.out" 2>&1 &
imp=$!
sleep 1
t0=$(date +%s.%N)
kill -TERM "$imp"
rc=0
wait "$imp" || rc=$?
s=$(elapsed "$t0")
kill "$writer" 2>/dev/null || true
wait "$writer" 2>/dev/null || true
cat "$NT_TMP/fifo.out"
within "$s" 3 || fail "import took ${s}s to stop after SIGTERM"
grep -q "interrupted" "$NT_TMP/fifo.out" || fail "SIGTERM: $(cat "$NT_TMP/fifo.out")"
log "ok: stopped ${s}s after SIGTERM (exit $rc)"

# 3. a NUL byte in a field
printf 'tenant,number,scenario,base_label,platforms\nt1,+8621900000001,individual,ab\0cd,baidu\nt1,+8621900000002,individual,ok,baidu\n' >"$NT_TMP/nul.csv"
rc=0
"$PRODUCER" import --numbers "$NT_TMP/nul.csv" >"$NT_TMP/nul.out" 2>&1 || rc=$?
cat "$NT_TMP/nul.out"
assert_eq "import with a NUL byte: exit status (rows rejected)" "$rc" 3
grep -q "line 2: a field contains a NUL byte" "$NT_TMP/nul.out" || fail "NUL: $(cat "$NT_TMP/nul.out")"
assert_eq "the row with the NUL byte" \
    "$(psqlv "SELECT count(*) FROM numbers WHERE number = '+8621900000001'")" 0
psqlv "DELETE FROM number_platforms WHERE number LIKE '+86219%'; DELETE FROM numbers WHERE number LIKE '+86219%'" >/dev/null

# 4. a directory
rc=0
"$PRODUCER" import --numbers "$NT_TMP" >"$NT_TMP/dir.out" 2>&1 || rc=$?
cat "$NT_TMP/dir.out"
assert_eq "import of a directory: exit status" "$rc" 1
grep -q "is a directory" "$NT_TMP/dir.out" || fail "directory: $(cat "$NT_TMP/dir.out")"

# 5. pg.connect_timeout_s: nothing listening, then a role that does not exist
port=$(nt_free_port)
for who in "host=127.0.0.1 port=$port dbname=numtrust user=numtrust" \
    "$NUMTRUST_PG_CONNINFO user=nosuchrole$$"; do
    t0=$(date +%s.%N)
    rc=0
    NUMTRUST_PG_CONNINFO="$who" NUMTRUST_PG_CONNECT_TIMEOUT_S=3 timeout 60 "$WORKER" \
        >"$NT_TMP/w.out" 2>&1 || rc=$?
    s=$(elapsed "$t0")
    tail -n 1 "$NT_TMP/w.out" | cut -c1-200
    [ "$rc" != 0 ] || fail "the worker started without PostgreSQL"
    case "$who" in
    *nosuchrole*) within "$s" 2 || fail "a role that does not exist was retried for ${s}s" ;;
    *) within "$s" 8 || fail "pg.connect_timeout_s=3 but the worker waited ${s}s" ;;
    esac
    log "ok: worker gave up after ${s}s ($(echo "$who" | grep -o 'user=[a-z0-9]*\|port=[0-9]*' | tail -n 1))"
done
log "PASS"
