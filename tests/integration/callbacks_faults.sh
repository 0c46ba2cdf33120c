#!/usr/bin/env bash
# Callback faults (issue 12): appeals on two callback platforms (dialect D:
# XML, decisions by signed callbacks) are decided while the simulator
# duplicates, reorders, delays, forges and loses callbacks. The callback
# route (producer/callbacks.c, served by numtrust-callback-receiver until
# `numtrust-producer serve` lands) records what is genuine; the appeal-status
# poll reconciles what was lost. The invariant: every decision recorded
# exactly once, and equal to the platform's; no forged one recorded.
. "$(dirname "$0")/lib.sh"
nt_setup cbfaults
RECEIVER=$NT_BIN/numtrust-callback-receiver
cb_off='{"callbacks":{"url":"","rate_lost":0,"rate_duplicate":0,"rate_reorder":0,"rate_late":0,"rate_forged":0}}'
cleanup() {
    "$PRODUCER" clock set --offset 0 --force >/dev/null 2>&1 || true
    sim POST /admin/config "$cb_off" >/dev/null 2>&1 || true
    [ -z "${RECV_PID:-}" ] || kill "$RECV_PID" 2>/dev/null || true
    sim_reset
    nt_cleanup
}
trap cleanup EXIT
sim_reset
sim POST /admin/config '{"clock":{"speed":0}}' >/dev/null

"$RECEIVER" 127.0.0.1:0 >"$NT_TMP/receiver.log" 2>&1 &
RECV_PID=$!
for _ in $(seq 50); do grep -q listening "$NT_TMP/receiver.log" && break; sleep 0.1; done
port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$NT_TMP/receiver.log")
[ -n "$port" ] || fail "receiver did not start: $(cat "$NT_TMP/receiver.log")"
log "callback receiver on 127.0.0.1:$port"
sim POST /admin/config "{\"callbacks\":{\"url\":\"http://127.0.0.1:$port/v1/callbacks/{platform}\",
    \"rate_lost\":0.15,\"rate_duplicate\":0.3,\"rate_reorder\":0.3,\"rate_late\":0.1,
    \"late_ms\":1000,\"rate_forged\":0.2}}" >/dev/null

fleet=$(gen_fleet 300 209 cmcc,ctcc)
"$PRODUCER" import --numbers "$fleet"
start_worker
"$PRODUCER" enqueue check --prefix +86209 --period "$NT_TEST_NAME-$$" | grep enqueue
wait_sql "SELECT count(*) FROM check_results WHERE number LIKE '+86209%'" 600 60
"$PRODUCER" enqueue appeal --prefix +86209 | grep enqueue || true
wait_sql "SELECT count(*) FROM jobs WHERE number LIKE '+86209%' AND type = 'appeal'
          AND state NOT IN ('done', 'failed', 'dead')" 0 60
appeals=$(psqlv "SELECT count(*) FROM appeals WHERE number LIKE '+86209%'")
log "appeals filed: $appeals"
[ "$appeals" -ge 10 ] || fail "too few appeals ($appeals) for a meaningful test"

# the platforms decide everything: 3 simulated days pass, for numtrust too (the simulator's
# clock starts at real time, as numtrust time does: decisions are stamped with it)
sim POST /admin/clock '{"advance_s":259200}' >/dev/null
"$PRODUCER" clock advance 3d >/dev/null
for _ in $(seq 300); do
    queued=$(sim GET /admin/callbacks | python3 -c 'import json,sys; print(json.load(sys.stdin)["queued"])')
    [ "$queued" = 0 ] && break
    sleep 0.2
done
[ "$queued" = 0 ] || fail "callbacks still queued after 60 s: $queued"
sim GET /admin/callbacks >"$NT_TMP/cb.json"
log "simulator: $(cat "$NT_TMP/cb.json")"
by_callback=$(psqlv "SELECT count(*) FROM appeals WHERE number LIKE '+86209%' AND state IN ('approved','rejected')")
log "decided by callbacks: $by_callback of $appeals"

# reconciliation: poll what no callback decided
"$PRODUCER" enqueue appeal-status --prefix +86209 --period "$NT_TEST_NAME-$$" | grep enqueue || true
wait_sql "SELECT count(*) FROM appeals WHERE number LIKE '+86209%' AND state NOT IN ('approved','rejected')" 0 60
stop_all_workers

python3 - "$NT_TMP/cb.json" <<'PY' | tee "$NT_TMP/inv.out"
import json, os, subprocess, sys, urllib.parse, urllib.request
cb = json.load(open(sys.argv[1]))
sql = """SELECT a.platform, a.ticket, a.state,
           (SELECT count(*) FROM platform_callbacks pc WHERE pc.platform = a.platform
              AND pc.ticket = a.ticket AND pc.kind = 'appeal' AND pc.effect = 'applied'
              AND pc.state IN ('approved', 'rejected')),
           (SELECT count(*) FROM platform_callbacks pc WHERE pc.platform = a.platform
              AND pc.ticket = a.ticket AND pc.kind = 'appeal')
         FROM appeals a WHERE a.number LIKE '+86209%' ORDER BY 1, 2"""
rows = subprocess.run(["psql", os.environ["NUMTRUST_PG_CONNINFO"], "-X", "-A", "-t", "-F", " ",
                       "-c", sql], check=True, capture_output=True, text=True).stdout.split("\n")
mism = doubled = by_cb = by_poll = 0
for line in filter(None, rows):
    plat, ticket, state, applied, seen = line.split()
    url = "%s/admin/ticket?platform=%s&ticket=%s" % (os.environ["NT_SIM_URL"], plat, urllib.parse.quote(ticket))
    truth = json.load(urllib.request.urlopen(url, timeout=10))
    if truth["state"] != state:
        mism += 1
        print("mismatch %s %s: numtrust=%s platform=%s" % (plat, ticket, state, truth["state"]))
    if int(applied) > 1:
        doubled += 1
        print("doubled %s %s: %s decisions applied" % (plat, ticket, applied))
    if int(applied) == 1:
        by_cb += 1
    else:
        by_poll += 1
n = len(list(filter(None, rows)))
print("callback faults: duplicated=%d reordered=%d late=%d forged=%d lost=%d rejected=%d delivered=%d"
      % (cb["duplicated"], cb["reordered"], cb["late"], cb["forged"], cb["lost"], cb["rejected"], cb["delivered"]))
print("decisions: tickets=%d mismatches=%d doubled=%d by_callback=%d by_poll=%d"
      % (n, mism, doubled, by_cb, by_poll))
ok = (mism == 0 and doubled == 0 and n > 0 and cb["duplicated"] > 0 and cb["reordered"] > 0
      and cb["forged"] > 0 and cb["lost"] > 0 and cb["rejected"] >= cb["forged"] and by_poll > 0
      and by_cb > 0)
sys.exit(0 if ok else 1)
PY
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "callback invariant broken (see above)"
dups=$(psqlv "SELECT count(*) FROM platform_callbacks WHERE ticket IN
              (SELECT ticket FROM appeals WHERE number LIKE '+86209%')")
log "platform_callbacks rows (one per platform, ticket, kind, seq): $dups"
kill "$RECV_PID"; wait "$RECV_PID" || true
log "receiver: $(tail -n 1 "$NT_TMP/receiver.log")"
RECV_PID=
log "PASS"
