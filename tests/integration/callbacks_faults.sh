#!/usr/bin/env bash
# Callback faults (issue 12): label updates (cards) and appeals (complaints)
# on two callback platforms (dialect D: XML, decisions by signed callbacks)
# are decided while the simulator duplicates, reorders, delays, forges and
# loses callbacks. The control plane (`numtrust-producer serve`, route
# POST /v1/callbacks/{platform}, producer/callbacks.c) records what is
# genuine; the appeal-status poll reconciles the appeals whose decision was
# lost. The invariant: every decision recorded exactly once and equal to the
# platform's, no forged one recorded, a late "in review" never over a
# verdict; a label update whose verdict was lost stays in review (dialect D
# has no label poll yet), and exactly as many are as the platform lost.
. "$(dirname "$0")/lib.sh"
nt_setup cbfaults
cb_off='{"callbacks":{"url":"","rate_lost":0,"rate_duplicate":0,"rate_reorder":0,"rate_late":0,"rate_forged":0}}'
SERVE_PID=
cleanup() {
    "$PRODUCER" clock set --offset 0 --force >/dev/null 2>&1 || true
    sim POST /admin/config "$cb_off" >/dev/null 2>&1 || true
    [ -z "$SERVE_PID" ] || kill "$SERVE_PID" 2>/dev/null || true
    sim_reset
    nt_cleanup
}
trap cleanup EXIT
sim_reset
sim POST /admin/config '{"clock":{"speed":0}}' >/dev/null

# the control plane on a port the OS picks; callbacks are not to be rate-limited here
NUMTRUST_API_LISTEN=127.0.0.1:0 NUMTRUST_API_CALLBACK_RATE_PER_S=100000 NUMTRUST_API_CALLBACK_RATE_BURST=100000 \
    "$PRODUCER" serve >"$NT_TMP/serve.log" 2>&1 &
SERVE_PID=$!
for _ in $(seq 50); do
    port=$(sed -n 's/.*serving the API.* on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$NT_TMP/serve.log")
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "${port:-}" ] || fail "serve did not start: $(cat "$NT_TMP/serve.log")"
log "control plane on 127.0.0.1:$port"
sim POST /admin/config "{\"callbacks\":{\"url\":\"http://127.0.0.1:$port/v1/callbacks/{platform}\",
    \"rate_lost\":0.15,\"rate_duplicate\":0.3,\"rate_reorder\":0.3,\"rate_late\":0.1,
    \"late_ms\":1000,\"rate_forged\":0.2}}" >/dev/null

mine="number LIKE '+86209%'"
fleet=$(gen_fleet 200 209 cmcc,ctcc)
"$PRODUCER" import --numbers "$fleet"
start_worker
"$PRODUCER" enqueue check --prefix +86209 --period "$NT_TEST_NAME-$$" | grep enqueue
wait_sql "SELECT count(*) FROM check_results WHERE $mine" 400 60
"$PRODUCER" enqueue tag --prefix +86209 | grep enqueue || true
"$PRODUCER" enqueue appeal --prefix +86209 | grep enqueue || true
wait_sql "SELECT count(*) FROM jobs WHERE $mine AND type IN ('tag_update', 'appeal')
          AND state NOT IN ('done', 'failed', 'dead')" 0 60
appeals=$(psqlv "SELECT count(*) FROM appeals WHERE $mine")
tags=$(psqlv "SELECT count(*) FROM tag_updates WHERE $mine AND ticket IS NOT NULL")
log "appeals filed: $appeals, label updates accepted for review: $tags"
[ "$appeals" -ge 10 ] && [ "$tags" -ge 10 ] || fail "too few appeals or tags for a meaningful test"

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
log "decided by callbacks: appeals $(psqlv "SELECT count(*) FROM appeals WHERE $mine AND state IN ('approved','rejected')") of $appeals, label updates $(psqlv "SELECT count(*) FROM tag_updates WHERE $mine AND state <> 'pending_review'") of $tags"

# reconciliation: poll the appeals and the label pushes no callback decided
"$PRODUCER" enqueue appeal-status --prefix +86209 --period "$NT_TEST_NAME-$$" | grep enqueue || true
"$PRODUCER" enqueue tag-status --prefix +86209 | grep enqueue || true
wait_sql "SELECT count(*) FROM appeals WHERE $mine AND state NOT IN ('approved','rejected')" 0 60
wait_sql "SELECT count(*) FROM tag_updates WHERE $mine AND ticket IS NOT NULL AND state = 'pending_review'" 0 60
stop_all_workers

python3 - "$NT_TMP/cb.json" <<'PY' | tee "$NT_TMP/inv.out"
import json, os, subprocess, sys, urllib.parse, urllib.request
cb = json.load(open(sys.argv[1]))
def rows(sql):
    out = subprocess.run(["psql", os.environ["NUMTRUST_PG_CONNINFO"], "-X", "-A", "-t", "-F", " ",
                          "-c", sql], check=True, capture_output=True, text=True).stdout
    return [l.split() for l in out.split("\n") if l]
def truth(plat, ticket):
    url = "%s/admin/ticket?platform=%s&ticket=%s" % (os.environ["NT_SIM_URL"], plat, urllib.parse.quote(ticket))
    return json.load(urllib.request.urlopen(url, timeout=10))["state"]
# per ticket: numtrust's state, decisions applied by callback, callbacks seen
SQL = """SELECT t.platform, t.ticket, t.state,
           (SELECT count(*) FROM platform_callbacks pc WHERE pc.platform = t.platform
              AND pc.ticket = t.ticket AND pc.kind = '%(kind)s' AND pc.effect = 'applied'
              AND pc.state IN (%(verdicts)s)),
           (SELECT count(*) FROM platform_callbacks pc WHERE pc.platform = t.platform
              AND pc.ticket = t.ticket AND pc.kind = '%(kind)s')
         FROM %(table)s t WHERE t.number LIKE '+86209%%' AND t.ticket IS NOT NULL ORDER BY 1, 2"""
ok = True
for kind, table, verdicts in (("appeal", "appeals", "'approved', 'rejected'"),
                              ("tag", "tag_updates", "'applied', 'rejected'")):
    mism = doubled = by_cb = by_poll = pending = 0
    rs = rows(SQL % {"kind": kind, "table": table, "verdicts": verdicts})
    for plat, ticket, state, applied, seen in rs:
        want = truth(plat, ticket)
        if int(applied) > 1:
            doubled += 1
            print("doubled %s %s %s: %s decisions applied" % (kind, plat, ticket, applied))
        if state == "pending_review" and want != "pending_review" and int(applied) == 0:
            pending += 1  # its verdict never came
        elif state != want:
            mism += 1
            print("mismatch %s %s %s: numtrust=%s platform=%s" % (kind, plat, ticket, state, want))
        elif int(applied) == 1:
            by_cb += 1
        else:
            by_poll += 1
    lost = cb["lost_decisions"]["card" if kind == "tag" else "complaint"]
    print("%s decisions: tickets=%d mismatches=%d doubled=%d by_callback=%d by_poll=%d "
          "undecided=%d (verdicts the platform lost: %d)"
          % (kind, len(rs), mism, doubled, by_cb, by_poll, pending, lost))
    ok = ok and len(rs) > 0 and mism == 0 and doubled == 0 and by_cb > 0
    # every verdict the platform lost was fetched by a poll (tag_status,
    # appeal_status): nothing stays in review
    ok = ok and pending == 0 and by_poll > 0 and lost > 0
print("callback faults: duplicated=%d reordered=%d late=%d forged=%d lost=%d rejected=%d delivered=%d failed=%d"
      % (cb["duplicated"], cb["reordered"], cb["late"], cb["forged"], cb["lost"], cb["rejected"],
         cb["delivered"], cb["failed"]))
ok = (ok and cb["duplicated"] > 0 and cb["reordered"] > 0 and cb["forged"] > 0 and cb["lost"] > 0
      and cb["rejected"] >= cb["forged"] and cb["failed"] == 0)
sys.exit(0 if ok else 1)
PY
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "callback invariant broken (see above)"
log "platform_callbacks rows (one per platform, ticket, kind, seq): $(psqlv "SELECT count(*) FROM platform_callbacks
     WHERE ticket IN (SELECT ticket FROM appeals WHERE $mine UNION SELECT ticket FROM tag_updates WHERE $mine)")"
log "stale callbacks (older or equal sequence, or a ticket already decided): $(psqlv "SELECT count(*) FROM platform_callbacks
     WHERE effect = 'stale' AND ticket IN (SELECT ticket FROM appeals WHERE $mine UNION SELECT ticket FROM tag_updates WHERE $mine)")"
kill -TERM "$SERVE_PID"
rc=0
wait "$SERVE_PID" || rc=$?
SERVE_PID=
assert_eq "serve's exit status on SIGTERM" "$rc" 0
log "serve answered: $(grep -o 'callbacks/[a-z]* -> [0-9]*' "$NT_TMP/serve.log" | awk '{print $3}' | sort | uniq -c | tr '\n' ' ')"
log "PASS"
