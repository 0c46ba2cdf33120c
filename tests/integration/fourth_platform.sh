#!/usr/bin/env bash
# Acceptance of the adapters issue: a fourth platform that reuses a dialect
# is added by configuration alone. The test writes a platforms file with a
# "hiya" platform (dialect A under another scope, with its own mark names),
# imports numbers on it, and checks, tags and compares it with the truth,
# with the same binaries.
. "$(dirname "$0")/lib.sh"
nt_setup fourth
sim_reset
sim POST /admin/config '{"clock":{"speed":0}}' >/dev/null
trap 'sim_reset; nt_cleanup' EXIT
export NUMTRUST_WORKER_APPEAL_FAST_PATH=false
export NUMTRUST_PLATFORMS_FILE=$NT_TMP/platforms.json
python3 - "$NT_REPO/deploy/local/platforms.json" "$NUMTRUST_PLATFORMS_FILE" <<'PY'
import copy, json, sys
doc = json.load(open(sys.argv[1]))
baidu = next(p for p in doc["platforms"] if p["id"] == "baidu")
hiya = copy.deepcopy(baidu)
hiya["id"] = "hiya"
hiya["name"] = "Hiya (a fourth platform, configured only)"
hiya["base_url"] = "${NT_SIM_URL}/p/hiya"
doc["platforms"].append(hiya)
json.dump(doc, open(sys.argv[2], "w"), ensure_ascii=False, indent=1)
PY
log "platforms file with 4 platforms: $(python3 -c "import json,sys; print([p['id'] for p in json.load(open(sys.argv[1]))['platforms']])" "$NUMTRUST_PLATFORMS_FILE")"

fleet=$(gen_fleet 200 206 hiya,baidu)
"$PRODUCER" import --numbers "$fleet"
assert_eq "hiya registered in PostgreSQL" "$(psqlv "SELECT count(*) FROM platforms WHERE id = 'hiya'")" 1
start_worker
"$PRODUCER" enqueue check --prefix +86206 --period "$NT_TEST_NAME-$$" | grep enqueue
wait_sql "SELECT count(*) FROM check_results WHERE number LIKE '+86206%' AND platform = 'hiya'" 200 60
hiya_calls=$(sim GET /admin/counters | python3 -c "import json,sys; print(json.load(sys.stdin)['by_endpoint']['a.check'])")
log "dialect A check calls seen by the simulator (baidu and hiya): $hiya_calls"
python3 "$(dirname "$0")/truth.py" --prefix +86206 --platform hiya | tail -n 5 | tee "$NT_TMP/truth.out"
case "$(tail -n 1 "$NT_TMP/truth.out")" in "mismatches=0 compared=200 "*) ;; *) fail "hiya truth";; esac
"$PRODUCER" enqueue tag --prefix +86206 --platform hiya | grep enqueue
wait_sql "SELECT count(*) > 0 AND count(*) = count(*) FILTER (WHERE state = 'pending_review')
          FROM tag_updates WHERE number LIKE '+86206%' AND platform = 'hiya'" t 60
stop_all_workers
log "PASS"
