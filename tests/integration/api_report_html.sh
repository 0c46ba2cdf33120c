#!/usr/bin/env bash
# The HTML report (issue 11) rendered by headless Chromium (Debian's chromium):
# a demo-like cycle on a small fleet (checks, tag pushes, appeals), then
# `report --format html` for one tenant (cost against a budget too), Chromium's DOM and
# screenshot of it checked by api_report_html.py; and the other formats: json, csv, and text
# aligned with wcswidth.
. "$(dirname "$0")/lib.sh"
nt_setup apireport
sim_reset
pfx=234
fleet=$(gen_fleet 90 $pfx)
"$PRODUCER" import --numbers "$fleet"
tenant=$(psqlv "SELECT tenant_id FROM numbers WHERE number LIKE '+86$pfx%' GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
checks_before=$(psqlv "SELECT COALESCE(sum(checks), 0) FROM check_daily WHERE tenant_id = '$tenant'")
"$PRODUCER" costs prices >/dev/null # label updates cost 150-300 CNY from here on
start_worker
"$PRODUCER" enqueue check --prefix "+86$pfx" --period "c1-$$" | grep enqueue
wait_sql "SELECT count(*) FROM check_results WHERE number LIKE '+86$pfx%'" 270 60
"$PRODUCER" enqueue tag --prefix "+86$pfx" --period "t-$$" | grep enqueue
"$PRODUCER" enqueue appeal --prefix "+86$pfx" | grep enqueue
sleep 2
"$PRODUCER" enqueue appeal-status --prefix "+86$pfx" --period "s-$$" | grep enqueue
since=$(date -u -d '-1 day' +%Y-%m-%d)
# a budget for the cost chart's line (taken away again; label updates cost money, checks not)
trap '"$PRODUCER" policy unset --tenant "$tenant" monthly_budget >/dev/null 2>&1 || true; nt_cleanup' EXIT
"$PRODUCER" policy set --tenant "$tenant" monthly_budget=20000 >/dev/null

"$PRODUCER" report --tenant "$tenant" --since "$since" --format html --output "$NT_TMP/report.html"
log "report.html: $(wc -c <"$NT_TMP/report.html") bytes"
profile=$(mktemp -d "$NT_TMP/chromium.XXXXXX")
chrome=(chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run
    --disable-background-networking --disable-component-update --disable-sync
    --user-data-dir="$profile" --hide-scrollbars)
timeout 120 "${chrome[@]}" --dump-dom "file://$NT_TMP/report.html" >"$NT_TMP/dom.html" 2>"$NT_TMP/chromium.log" ||
    { tail "$NT_TMP/chromium.log"; fail "chromium --dump-dom failed"; }
timeout 120 "${chrome[@]}" --window-size=1100,2400 --screenshot="$NT_TMP/report.png" \
    "file://$NT_TMP/report.html" >>"$NT_TMP/chromium.log" 2>&1 ||
    { tail "$NT_TMP/chromium.log"; fail "chromium --screenshot failed"; }
pgrep -f "user-data-dir=$profile" >/dev/null && fail "chromium left running"

"$PRODUCER" report --section scenarios >"$NT_TMP/text.txt"
cat "$NT_TMP/text.txt"
/usr/bin/python3 "$NT_REPO/tests/integration/api_report_html.py" "$NT_TMP/dom.html" "$NT_TMP/report.png" \
    "$NT_TMP/text.txt" || fail "the rendered report is not right"

"$PRODUCER" report --tenant "$tenant" --format json >"$NT_TMP/report.json"
assert_eq "json: the tenant's mark-rate rows are its own" \
    "$(jq -r "[.mark_rate[].tenant] | unique | join(\",\")" "$NT_TMP/report.json")" "$tenant"
# the mark rate counts every check (the daily rollup, migration 009): the tenant's checks
# before this test's and this test's own done checks
assert_eq "json: checks of the tenant counted" \
    "$(jq '[.mark_rate[].checks] | add' "$NT_TMP/report.json")" \
    "$((checks_before + $(psqlv "SELECT count(*) FROM jobs j JOIN numbers n USING (number)
                                  WHERE j.type = 'check' AND j.state = 'done'
                                    AND j.number LIKE '+86$pfx%' AND n.tenant_id = '$tenant'")))"
"$PRODUCER" report --platform baidu --scenario seasonal --format csv >"$NT_TMP/report.csv"
grep -q '^section,platform,status,registrations$' "$NT_TMP/report.csv" || fail "csv: no certification header"
assert_eq "csv: --platform filters" "$(grep '^certification,' "$NT_TMP/report.csv" | cut -d, -f2 | sort -u)" baidu
rc=0
"$PRODUCER" report --format pdf 2>/dev/null || rc=$?
assert_eq "report --format pdf: a usage error" "$rc" 2
[ -n "${NT_REPORT_SCREENSHOT:-}" ] && cp "$NT_TMP/report.png" "$NT_REPORT_SCREENSHOT"
stop_all_workers
log "PASS"
