#!/usr/bin/env bash
# No label is pushed to an uncertified registration, even when the
# certification is lost after the tag pass chose the push (issue 9; found by
# year_in_the_life: a check that ran between the tag pass and the push saw it
# expire). The worker reads the registration's certification when it claims
# a label update and, when it is not certified, records the job done with
# result skipped_uncertified, pushes nothing and spends no attempt; a
# certified registration's label update is pushed as usual.
. "$(dirname "$0")/lib.sh"
nt_setup untagged
sim_reset
trap 'sim_reset; nt_cleanup' EXIT

pfx=+86251
mine="number LIKE '$pfx%'"
fleet=$(gen_fleet 40 251 baidu)
"$PRODUCER" import --numbers "$fleet"
start_worker
"$PRODUCER" enqueue check --prefix $pfx --period "$NT_TEST_NAME-$$" | grep enqueue
wait_sql "SELECT count(*) FROM jobs WHERE $mine AND type = 'check' AND state = 'done'" 40 60
stop_all_workers

# two certified registrations showing another label than the wanted one
read -r lost kept < <(psqlv "SELECT string_agg(np.number, ' ' ORDER BY np.number) FROM (
    SELECT np.number FROM number_platforms np JOIN numbers n USING (number)
     WHERE np.$mine AND np.cert_status = 'certified' AND np.label_android IS DISTINCT FROM n.base_label
     ORDER BY np.number LIMIT 2) np")
[ -n "$kept" ] || fail "fewer than two certified registrations with a stale label"
"$PRODUCER" enqueue tag --number "$lost" --platform baidu --period "$NT_TEST_NAME-$$" | grep enqueue
"$PRODUCER" enqueue tag --number "$kept" --platform baidu --period "$NT_TEST_NAME-$$" | grep enqueue
# the certification lost after the tag pass chose the push, as a check would record it
psqlv "UPDATE number_platforms SET cert_status = 'expired' WHERE number = '$lost' AND platform = 'baidu'" >/dev/null
start_worker
wait_sql "SELECT count(*) FROM jobs WHERE $mine AND type = 'tag_update' AND state = 'done'" 2 60
stop_all_workers

assert_eq "the uncertified registration's label update: state, result, attempts, error" \
    "$(psqlv "SELECT state || ' ' || result || ' ' || attempts || ' ' || coalesce(last_error, '-')
              FROM jobs WHERE number = '$lost' AND type = 'tag_update'")" "done skipped_uncertified 0 -"
assert_eq "label pushes recorded for it" \
    "$(psqlv "SELECT count(*) FROM tag_updates WHERE number = '$lost'")" 0
assert_eq "the certified registration's label update: state, attempts, pushes recorded" \
    "$(psqlv "SELECT j.state || ' ' || j.attempts || ' ' || (SELECT count(*) FROM tag_updates t WHERE t.job_id = j.id)
              FROM jobs j WHERE number = '$kept' AND type = 'tag_update'")" "done 1 1"
grep -q "label not pushed: the registration's certification is expired" "$NT_TMP"/worker-*.log ||
    fail "the worker's log does not say why the label was not pushed"
log "ok: the worker's log says why the label was not pushed"
