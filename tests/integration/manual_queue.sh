#!/usr/bin/env bash
# The manual queue (issue 12, item 3): a platform without a submission API
# (vivo, "dialect": "manual") gets its label updates and appeals as action
# items prepared by enqueue, with the platform's form filled in; a person
# records the filing and the decision from the CLI, each exactly once, and the
# decision lands in tag_updates / appeals as a worker's would. Enqueuing
# twice (or in another period) creates no second item; an open item follows
# the wanted label; a step recorded twice, or at once from two shells, is
# recorded once; another outcome for a done item is refused.
. "$(dirname "$0")/lib.sh"
nt_setup manual
sim_reset
trap 'sim_reset; nt_cleanup' EXIT

pfx=+86211
mine="number LIKE '$pfx%'"
fleet=$(gen_fleet 30 211 vivo,oppo)
"$PRODUCER" import --numbers "$fleet"
start_worker
"$PRODUCER" enqueue check --prefix $pfx --period "$NT_TEST_NAME-$$" | grep enqueue
wait_sql "SELECT count(*) FROM check_results WHERE $mine" 60 60
# a fraud mark on one vivo number (the top mark: dialect C shows only that): its
# appeal is an item, not a job
victim=$(sed -n 2p "$fleet" | cut -d, -f2)
sim POST /admin/marks "{\"platform\":\"vivo\",\"number\":\"$victim\",\"type\":\"fraud\",\"count\":100000}" >/dev/null
"$PRODUCER" enqueue check --number "$victim" --platform vivo --period "$NT_TEST_NAME-b-$$" | grep enqueue
wait_sql "SELECT count(*) FROM marks WHERE number = '$victim' AND platform = 'vivo' AND type = 'fraud'" 1 30

# (registrations a check found uncertified get no label push, manual or not: loop.push_uncertified)
stale=$(psqlv "SELECT count(*) FROM number_platforms np JOIN numbers n USING (number)
               WHERE np.$mine AND np.platform = 'vivo' AND np.label_android <> n.base_label
                 AND (np.cert_status IS NULL OR np.cert_status = 'certified')")
log "vivo registrations showing another label than the wanted one: $stale"
[ "$stale" -gt 0 ] || fail "no stale vivo labels: nothing to prepare"

"$PRODUCER" enqueue tag --prefix $pfx | tee "$NT_TMP/tag1.out"
grep -q "rows for manual platforms: $stale action items created" "$NT_TMP/tag1.out" ||
    fail "enqueue tag did not create $stale items"
"$PRODUCER" enqueue appeal --prefix $pfx | tee -a "$NT_TMP/tag1.out"
"$PRODUCER" enqueue tag --prefix $pfx | tee "$NT_TMP/tag2.out"
"$PRODUCER" enqueue tag --prefix $pfx --period "$NT_TEST_NAME-other-$$" | tee -a "$NT_TMP/tag2.out"
"$PRODUCER" enqueue appeal --prefix $pfx | tee -a "$NT_TMP/tag2.out"
grep -q "0 action items created" "$NT_TMP/tag2.out" || fail "a repeated enqueue created items"
assert_eq "tag items (enqueued three times, two periods)" \
    "$(psqlv "SELECT count(*) FROM action_items WHERE $mine AND kind = 'tag_update'")" "$stale"
assert_eq "appeal items for the fraud mark" \
    "$(psqlv "SELECT count(*) FROM action_items WHERE number = '$victim' AND kind = 'appeal'
              AND mark_type = 'fraud'")" 1
assert_eq "jobs for vivo's label updates and appeals (none: vivo has no API)" \
    "$(psqlv "SELECT count(*) FROM jobs WHERE $mine AND platform = 'vivo' AND type <> 'check'")" 0

# the item carries the platform's form, filled in
tag_id=$(psqlv "SELECT id FROM action_items WHERE $mine AND kind = 'tag_update' ORDER BY id LIMIT 1")
read -r tag_num tag_label < <(psqlv "SELECT number || ' ' || label FROM action_items WHERE id = '$tag_id'")
"$PRODUCER" actions show "${tag_id:0:8}" | tee "$NT_TMP/show.out"
grep -q "号码 (number): $tag_num" "$NT_TMP/show.out" || fail "form field number missing"
grep -q "显示名称 (display name): $tag_label" "$NT_TMP/show.out" || fail "form field label missing"
grep -q "^file at *https://yellowpage.vivo.example/" "$NT_TMP/show.out" || fail "form URL missing"

# an open item follows the wanted label (a campaign starting now)
psqlv "INSERT INTO label_schedules (number, kind, label, event_start, event_end)
       VALUES ('$tag_num', 'campaign', '双十二活动', nt_now(), nt_now() + interval '30 days')"
"$PRODUCER" enqueue tag --number "$tag_num" | tee "$NT_TMP/tag3.out"
grep -q "1 relabelled" "$NT_TMP/tag3.out" || fail "the open item did not follow the wanted label"
assert_eq "the open item's label" "$(psqlv "SELECT label FROM action_items WHERE id = '$tag_id'")" 双十二活动
assert_eq "its form's label" \
    "$(psqlv "SELECT form->>'显示名称 (display name)' FROM action_items WHERE id = '$tag_id'")" 双十二活动

# filed, then decided; each step once
"$PRODUCER" actions submit "$tag_id" --reference VIVO-T-1
"$PRODUCER" actions submit "$tag_id" --reference VIVO-T-2 | grep -q "already submitted" ||
    fail "a second submit was not reported as already recorded"
"$PRODUCER" actions "done" "$tag_id" --outcome applied
"$PRODUCER" actions "done" "$tag_id" --outcome applied | grep -q "nothing changed" ||
    fail "a second done was not a no-op"
rc=0
"$PRODUCER" actions "done" "$tag_id" --outcome rejected 2>"$NT_TMP/conflict.err" || rc=$?
[ "$rc" -eq 1 ] && grep -q 'was done with outcome applied' "$NT_TMP/conflict.err" ||
    fail "another outcome was not refused (exit $rc): $(cat "$NT_TMP/conflict.err")"
assert_eq "the label update on record" \
    "$(psqlv "SELECT count(*) || ' ' || min(state) || ' ' || min(ticket) || ' ' || min(label)
              FROM tag_updates WHERE job_id = '$tag_id'")" "1 applied VIVO-T-1 双十二活动"
assert_eq "the registration's last pushed label" \
    "$(psqlv "SELECT last_tag_label FROM number_platforms WHERE number = '$tag_num' AND platform = 'vivo'")" 双十二活动

# the appeal, decided at once (filed and decided by one `done`) from two shells at the same time
ap_id=$(psqlv "SELECT id FROM action_items WHERE number = '$victim' AND kind = 'appeal'")
"$PRODUCER" actions "done" "$ap_id" --outcome approved --reference VIVO-A-9 >"$NT_TMP/d1.out" 2>&1 &
d1=$!
"$PRODUCER" actions "done" "$ap_id" --outcome approved --reference VIVO-A-9 >"$NT_TMP/d2.out" 2>&1 &
d2=$!
wait "$d1" "$d2"
cat "$NT_TMP/d1.out" "$NT_TMP/d2.out"
assert_eq "concurrent done: recorded once, the other said nothing changed" \
    "$(grep -c ': done, approved at' "$NT_TMP/d1.out" "$NT_TMP/d2.out" | awk -F: '{s += $2} END {print s}') $(cat "$NT_TMP"/d?.out | grep -c 'nothing changed')" "1 1"
assert_eq "the appeal on record" \
    "$(psqlv "SELECT count(*) || ' ' || min(state) || ' ' || min(ticket) || ' ' || count(decided_at)
              FROM appeals WHERE job_id = '$ap_id'")" "1 approved VIVO-A-9 1"
assert_eq "its mark" "$(psqlv "SELECT state FROM marks WHERE appeal_job = '$ap_id'")" cleared
# the service-level clocks see the manual appeal like any other: filed, and decided
# (only the fraud mark's: a mark the number had before, hidden once dialect C
# shows the fraud mark on top, has its own clock, closed as cancelled)
"$PRODUCER" sla pass >/dev/null
assert_eq "service-level clocks of the manual appeal that are done (filing, decision)" \
    "$(psqlv "SELECT string_agg(kind, ',' ORDER BY kind) FROM sla_clocks
              WHERE number = '$victim' AND platform = 'vivo' AND done_at IS NOT NULL
                AND ((kind = 'appeal_filing' AND detail = 'fraud') OR subject = '$ap_id')")" \
    "appeal_decision,appeal_filing"

# what is left to do, and bad input named
"$PRODUCER" actions list --platform vivo --number "$tag_num" --state all
open=$("$PRODUCER" actions list --platform vivo --kind tag --json --limit 100000 |
    python3 -c 'import json,sys; print(sum(1 for i in json.load(sys.stdin) if i["number"].startswith("'$pfx'")))')
assert_eq "items still pending" "$open" $((stale - 1))
rc=0
"$PRODUCER" actions "done" "${ap_id:0:8}" --outcome applied 2>"$NT_TMP/bad.err" || rc=$?
grep -q 'field outcome: "applied"' "$NT_TMP/bad.err" || fail "bad outcome not named: $(cat "$NT_TMP/bad.err")"
rc=0
"$PRODUCER" actions list --state closed 2>"$NT_TMP/bad.err" || rc=$?
[ "$rc" -eq 2 ] && grep -q 'field state: "closed"' "$NT_TMP/bad.err" || fail "bad state not named"
stop_all_workers
log "PASS"
