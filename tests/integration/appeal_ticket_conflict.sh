#!/usr/bin/env bash
# A platform that answers an appeal with a ticket another appeal job already holds (issue 8
# item 4): the appeal is not recorded as filed. Ten appeals are filed normally; then five
# appeals for other marks reach the platform with the first five's Idempotency-Keys, so the
# platform answers them with the tickets it gave those (a reused ticket, as the client sees
# it). Each of the five ends failed (error class conflict) with a reason naming the ticket and
# the job holding it, their marks stay open, and the ten first appeals are untouched.
. "$(dirname "$0")/lib.sh"
nt_setup ticketconflict
sim_reset
export NUMTRUST_WORKER_APPEAL_FAST_PATH=false
fleet=$(gen_fleet 15 216 tencent)
"$PRODUCER" import --numbers "$fleet" >/dev/null
tail -n +2 "$fleet" | cut -d, -f2 | while read -r n; do
    sim POST /admin/marks "{\"platform\":\"tencent\",\"number\":\"$n\",\"type\":\"harassment\",\"count\":2}" >/dev/null
done
P=$NT_TEST_NAME-$$
start_worker
"$PRODUCER" enqueue check --prefix +86216 --period "$P" | grep enqueue
wait_sql "SELECT count(*) FROM jobs WHERE number LIKE '+86216%' AND type = 'check' AND state = 'done'" 15 60
"$PRODUCER" enqueue appeal --prefix +86216 --limit 10 | grep enqueue
wait_sql "SELECT count(*) FROM appeals WHERE number LIKE '+86216%'" 10 60
# five appeals for the other numbers' marks, carrying the first five appeals' ids as origin
psqlv "SELECT a.job_id, n.number, n.tenant_id FROM
         (SELECT job_id, row_number() OVER (ORDER BY number) AS k FROM appeals
          WHERE number LIKE '+86216%' AND mark_type = 'harassment') a
       JOIN (SELECT number, tenant_id, row_number() OVER (ORDER BY number) AS k FROM numbers
             WHERE number LIKE '+86216%' AND number NOT IN
               (SELECT number FROM appeals WHERE number LIKE '+86216%')) n ON n.k = a.k
       WHERE a.k <= 5" | python3 -c '
import json, sys, uuid
for line in sys.stdin:
    origin, number, tenant = line.strip().split("|")
    env = {"v": 1, "id": str(uuid.uuid4()), "type": "appeal", "number": number,
           "platform": "tencent", "tenant": tenant, "attempt": 0,
           "created_at": "2026-11-28T00:00:00.000Z", "origin": origin,
           "payload": {"mark_type": "harassment", "evidence": "ticket conflict test"}}
    sys.stdout.write(number + "\x1f" + json.dumps(env) + "\x1e")
    sys.stderr.write(number + "\n")
' >"$NT_TMP/crafted" 2>"$NT_TMP/crafted-numbers"
crafted=$(sed "s/.*/'&'/" "$NT_TMP/crafted-numbers" | paste -sd, -)
kcat -b "$NUMTRUST_KAFKA_BOOTSTRAP_SERVERS" -P -t "$NUMTRUST_TOPICS_PREFIX.appeal" -K '\x1f' -D '\x1e' \
    -l "$NT_TMP/crafted"
log "5 appeals produced with the Idempotency-Keys of 5 filed ones"
wait_sql "SELECT count(*) FROM jobs WHERE number LIKE '+86216%' AND type = 'appeal'
          AND state IN ('done', 'failed', 'dead')" 15 60
stop_all_workers
assert_eq "appeals failed with error class conflict" \
    "$(psqlv "SELECT count(*) FROM jobs WHERE number LIKE '+86216%' AND type = 'appeal'
              AND state = 'failed' AND error_class = 'conflict'
              AND last_error LIKE 'ticket conflict: platform tencent answered ticket %which appeal job %'")" 5
assert_eq "appeals recorded (the first ten only)" \
    "$(psqlv "SELECT count(*) FROM appeals WHERE number LIKE '+86216%'")" 10
assert_eq "appeal jobs done" \
    "$(psqlv "SELECT count(*) FROM jobs WHERE number LIKE '+86216%' AND type = 'appeal' AND state = 'done'")" 10
assert_eq "marks of the conflicting appeals still open" \
    "$(psqlv "SELECT count(*) FROM marks WHERE number IN ($crafted) AND state = 'open'
              AND type = 'harassment'")" 5
grep -q 'ticket_conflicts=5' "$NT_TMP/worker-0.log" || fail "the worker's progress line does not count the conflicts"
log "PASS"
