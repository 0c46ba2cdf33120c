#!/usr/bin/env bash
# Acceptance (e) of the foundation: tag-update and appeal jobs change both
# the simulator's state and PostgreSQL's. Checks find stale labels and
# marks; tag updates push the wanted label (the simulator shows it after
# its review delay, and the next check records it); appeals filed by the
# workers' fast path are followed to their outcome by appeal-status jobs,
# which clear approved marks in PostgreSQL, as the simulator cleared them.
. "$(dirname "$0")/lib.sh"
nt_setup tagappeal
sim_reset
trap 'sim_reset; nt_cleanup' EXIT

fleet=$(gen_fleet 100 204)
"$PRODUCER" import --numbers "$fleet"
mine="number LIKE '+86204%'"
pfx=+86204
start_worker

"$PRODUCER" enqueue check --prefix $pfx --period "c1-$$" | grep enqueue
wait_sql "SELECT count(*) FROM check_results WHERE $mine" 300 60
# one number gets a fraud mark right now, so an appeal surely follows
victim=$(sed -n 2p "$fleet" | cut -d, -f2)
sim POST /admin/marks "{\"platform\":\"tencent\",\"number\":\"$victim\",\"type\":\"fraud\",\"count\":9}" >/dev/null
"$PRODUCER" enqueue check --number "$victim" --platform tencent --period "c1b-$$" | grep enqueue
wait_sql "SELECT state FROM marks WHERE number = '$victim' AND platform = 'tencent' AND type = 'fraud'" appealed 30

# labels go to certified registrations only (loop.push_uncertified is off)
stale=$(psqlv "SELECT count(*) FROM number_platforms np JOIN numbers n USING (number)
               WHERE np.$mine AND np.label_android <> n.base_label AND np.cert_status = 'certified'")
uncert=$(psqlv "SELECT count(*) FROM number_platforms np JOIN numbers n USING (number)
                WHERE np.$mine AND np.label_android <> n.base_label
                  AND np.cert_status IS DISTINCT FROM 'certified'")
log "certified registrations showing a label other than the wanted one: $stale (uncertified: $uncert)"
[ "$stale" -gt 0 ] || fail "the simulator showed no stale labels"

# --- tag updates
# what the check saw before the push: a certification may lapse while the test runs, and a
# push is judged by the status it was decided on
uncert_before=$(psqlv "SELECT COALESCE(string_agg(number || '/' || platform, ','), '')
                       FROM number_platforms WHERE $mine AND cert_status IS DISTINCT FROM 'certified'")
out=$("$PRODUCER" enqueue tag --prefix $pfx | grep enqueue)
echo "$out"
[ "$uncert" -eq 0 ] || case "$out" in *"uncertified_"*) ;; *) fail "uncertified registrations not reported as skipped";; esac
wait_sql "SELECT count(*) FROM tag_updates WHERE $mine" "$stale" 60
assert_eq "tag updates accepted by the platforms" \
    "$(psqlv "SELECT count(*) FROM tag_updates WHERE $mine AND state = 'pending_review'")" "$stale"
sample=$(psqlv "SELECT number || ' ' || platform || ' ' || label FROM tag_updates WHERE $mine
                ORDER BY number, platform LIMIT 1")
read -r snum splat slabel <<<"$sample"
enc=$(python3 -c "import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1]))" "$snum")
before=$(sim GET "/admin/truth?platform=$splat&number=$enc" | python3 -c "import json,sys; print(json.load(sys.stdin)['labels']['android'])")
[ "$before" != "$slabel" ] || fail "label shown before the review delay passed"
sim POST /admin/clock '{"advance_s":7200}' >/dev/null       # past the 1 h review delay
after=$(sim GET "/admin/truth?platform=$splat&number=$enc" | python3 -c "import json,sys; print(json.load(sys.stdin)['labels']['android'])")
assert_eq "simulator shows the pushed label after review" "$after" "$slabel"
"$PRODUCER" enqueue check --prefix $pfx --period "c2-$$" | grep enqueue
wait_sql "SELECT count(*) FROM jobs WHERE type = 'check' AND state = 'done' AND $mine" 601 60
assert_eq "certified registrations still showing a stale label in PostgreSQL" \
    "$(psqlv "SELECT count(*) FROM number_platforms np JOIN numbers n USING (number)
              WHERE np.$mine AND np.label_android <> n.base_label AND np.cert_status = 'certified'")" 0
assert_eq "pushes to registrations the check found uncertified" \
    "$(psqlv "SELECT count(*) FROM tag_updates t
              WHERE t.$mine AND t.number || '/' || t.platform = ANY(string_to_array('$uncert_before', ','))")" 0

# --- appeals: filed by the fast path, followed to their outcome
appeals=$(psqlv "SELECT count(*) FROM appeals WHERE $mine")
log "appeals filed: $appeals"
[ "$appeals" -gt 0 ] || fail "no appeal was filed"
assert_eq "appeals carry a platform ticket" \
    "$(psqlv "SELECT count(*) FROM appeals WHERE $mine AND ticket <> ''")" "$appeals"
sim POST /admin/clock '{"advance_s":86400}' >/dev/null      # past the review time
"$PRODUCER" enqueue appeal-status --prefix $pfx --period "s1-$$" | grep enqueue
wait_sql "SELECT count(*) FROM appeals WHERE $mine AND state IN ('approved', 'rejected')" "$appeals" 60
approved=$(psqlv "SELECT count(*) FROM appeals WHERE $mine AND state = 'approved'")
log "appeals approved: $approved of $appeals"
[ "$approved" -gt 0 ] || fail "no appeal was approved"
assert_eq "approved appeals whose mark PostgreSQL still holds open" \
    "$(psqlv "SELECT count(*) FROM appeals a JOIN marks m ON m.number = a.number AND m.platform = a.platform
              AND m.type = a.mark_type WHERE a.$mine AND a.state = 'approved' AND m.state <> 'cleared'")" 0
# the simulator agrees: an approved appeal's mark is gone from its truth
psqlv "SELECT a.number || ' ' || a.platform || ' ' || a.mark_type FROM appeals a
       WHERE a.$mine AND a.state = 'approved' ORDER BY 1 LIMIT 5" |
while read -r n p t; do
    e=$(python3 -c "import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1]))" "$n")
    types=$(sim GET "/admin/truth?platform=$p&number=$e" |
        python3 -c "import json,sys; print(' '.join(m['type'] for m in json.load(sys.stdin)['all_marks']))")
    case " $types " in *" $t "*) fail "simulator still shows $t on $p for an approved appeal";; esac
done
log "simulator truth: approved marks are gone"
stop_all_workers
log "PASS"
