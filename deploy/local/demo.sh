#!/usr/bin/env bash
# demo.sh — the README's first command: one maintenance cycle over a demo
# fleet, end to end, on this machine.
#
# Installs what is missing, builds, starts PostgreSQL, Kafka and the platform
# simulator on loopback, imports a generated fleet (default 2,000 numbers x 3
# platforms, the four scenarios, several tenants), checks every number on
# every platform with 2 workers, pushes the wanted label where the displayed
# one differs (a campaign label on some numbers), appeals wrong marks, then
# moves numtrust time and the simulator's clock on together so that the
# loop closes: reviews decided and verified, the campaign reverted, appeals
# decided and re-filed; printing progress as it goes and a summary at the end.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: deploy/local/demo.sh [--numbers N] [--workers N] [--keep] [--help]

Runs one numtrust maintenance cycle over a generated demo fleet against the
platform simulator, with progress output and a summary at the end.

  --numbers N   numbers in the demo fleet (default 2000; each on every platform
                of deploy/local/platforms.json)
  --workers N   numtrust-worker processes (default 2)
  --keep        leave the stack and its data running afterwards (stop it with
                deploy/local/stack.sh down); by default the demo stops it and
                deletes its data, so every run starts from a fresh stack
  --help        this text

Ports and state: see deploy/local/stack.sh --help (NT_PG_PORT, NT_KAFKA_PORT,
NT_SIM_PORT, NT_STATE_DIR). The first run installs Debian packages and the
Kafka broker's jars (a few minutes); later runs take well under a minute.
EOF
}

numbers=2000
workers=2
keep=false
while [ $# -gt 0 ]; do
    case "$1" in
    --numbers) numbers=${2:?--numbers needs a value}; shift 2 ;;
    --workers) workers=${2:?--workers needs a value}; shift 2 ;;
    --keep) keep=true; shift ;;
    --help | -h) usage; exit 0 ;;
    *) echo "demo.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[[ "$numbers" =~ ^[1-9][0-9]*$ ]] || { echo "demo.sh: --numbers '$numbers' is not a positive integer" >&2; exit 2; }
[[ "$workers" =~ ^[1-9][0-9]?$ ]] || { echo "demo.sh: --workers '$workers' must be 1-99" >&2; exit 2; }

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
t_start=$(date +%s.%N)
since() { echo "$(date +%s.%N) - $1" | bc; }
step() { printf '\n==> %s\n' "$*"; }

step "installing what is missing"
bash deploy/local/install-deps.sh

step "building"
# Ninja for a new build tree; an existing one (e.g. from a plain `cmake -S . -B build`) keeps its generator
gen=(-G Ninja)
[[ -f build/CMakeCache.txt ]] && gen=()
cmake -S . -B build "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target numtrust-producer numtrust-worker numtrust-platform-sim | tail -n 1

step "starting PostgreSQL, Kafka and the platform simulator"
bash deploy/local/stack.sh up
eval "$(bash deploy/local/stack.sh env)"
export NUMTRUST_PLATFORMS_FILE=$repo/deploy/local/platforms.json
export NUMTRUST_LOG_LEVEL=warn
P=build/bin/numtrust-producer
W=build/bin/numtrust-worker
run=$(date -u +demo-%Y%m%dT%H%M%S)
tmp=$(mktemp -d /tmp/numtrust-demo.XXXXXX)
worker_pids=()

cleanup() {
    local rc=$?
    for pid in "${worker_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${worker_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ "$keep" = false ]; then
        # the demo's data goes with it: the next run starts from a fresh stack
        bash deploy/local/stack.sh down --purge >"$tmp/stack-down.log" 2>&1 || cat "$tmp/stack-down.log" >&2
    fi
    [ "$rc" -eq 0 ] && rm -rf "$tmp" || echo "demo.sh: failed; logs kept in $tmp" >&2
}
trap cleanup EXIT

step "schema and topics"
$P migrate
$P topics | sed 's/^/  /'

platforms=$(python3 -c 'import json, sys; print(",".join(p["id"] for p in json.load(open(sys.argv[1]))["platforms"]))' "$NUMTRUST_PLATFORMS_FILE")
step "importing a demo fleet of $numbers numbers x $(tr ',' '\n' <<<"$platforms" | wc -l) platforms"
python3 deploy/local/gen-fleet.py --numbers "$numbers" --tenants 6 --platforms "$platforms" --groups -o "$tmp/fleet.csv"
$P import --numbers "$tmp/fleet.csv"
psql "$NUMTRUST_PG_CONNINFO" -X -A -t -F ' ' -c \
    "SELECT '  ' || s.id || ' (' || s.name_zh || ', every ' || s.check_interval || '): ' || count(*)
     FROM numbers n JOIN scenarios s ON s.id = n.scenario_id GROUP BY s.id, s.name_zh, s.check_interval
     ORDER BY s.check_interval"

step "policies per tenant (deploy/local/policies.json) and platform prices"
$P policy apply deploy/local/policies.json | sed 's/^/  /'
$P costs prices | head -n 1 | sed 's/^/  /'

q() { psql "$NUMTRUST_PG_CONNINFO" -X -A -t -q -c "$1"; }
# the jobs of this run are those the ledger got since now
t_run=$(q "SELECT now()")

step "starting $workers workers"
for i in $(seq 1 "$workers"); do
    NUMTRUST_WORKER_ID="demo-worker-$i" $W >"$tmp/worker-$i.log" 2>&1 &
    worker_pids+=("$!")
done
echo "  pids ${worker_pids[*]}; logs in $tmp"

# wait_jobs TYPE LABEL: progress until every job of TYPE (% for all) created
# in this run has finished
wait_jobs() {
    local type=$1 label=$2 total done_n left t0
    t0=$(date +%s.%N)
    while :; do
        read -r total done_n left < <(q "SELECT count(*), count(*) FILTER (WHERE state IN ('done','failed','dead')),
                                               count(*) FILTER (WHERE state NOT IN ('done','failed','dead'))
                                        FROM jobs WHERE type LIKE '$type' AND created_at >= '$t_run'" | tr '|' ' ')
        printf '  [%5.1fs] %-14s %6d / %-6d done' "$(since "$t_start")" "$label" "$done_n" "$total"
        if [ "$type" = check ]; then
            printf ' | open marks %s | appeals filed %s' \
                "$(q "SELECT count(*) FROM marks WHERE state = 'open'")" \
                "$(q "SELECT count(*) FROM appeals WHERE filed_at >= '$t_run'")"
        fi
        printf '\n'
        [ "$left" -eq 0 ] && break
        for pid in "${worker_pids[@]}"; do
            kill -0 "$pid" 2>/dev/null || { echo "demo.sh: worker $pid died; see $tmp" >&2; exit 1; }
        done
        [ "$(echo "$(since "$t0") > 240" | bc)" -eq 1 ] && { echo "demo.sh: $label did not finish in 240 s" >&2; exit 1; }
        sleep 1
    done
}

t_work=$(date +%s.%N)
step "checking every number on every platform (certification, trust score, labels, marks)"
$P enqueue check --all --period "$run" | sed 's/^/  /'
wait_jobs check "checks"

# a campaign 3 to 5 days ahead on 1% of the numbers (live now: its lead is 7 days), and on a few
# a campaign label with a word the platforms' review refuses
q "INSERT INTO label_schedules (number, kind, label, event_start, event_end)
   SELECT number, 'campaign', CASE WHEN i % 10 = 0 THEN '双11-全网最低价' ELSE '双11-折扣专线' END,
          nt_now() + interval '3 days', nt_now() + interval '5 days'
   FROM (SELECT number, row_number() OVER (ORDER BY number) AS i FROM numbers) n
   WHERE i <= greatest(10, $numbers / 100)" >/dev/null
# both clocks move together from here on: numtrust time and the simulator's
advance() { # DAYS
    $P clock advance "${1}d" >/dev/null
    curl -fsS -X POST -H 'Content-Type: application/json' -d "{\"advance_s\":$(($1 * 86400))}" \
        "$NT_SIM_URL/admin/clock" >/dev/null
}
reconcile() { # [PASSES]: one reconciler pass (run --once): its bookkeeping, then those passes
    $P run --once --passes "${1:-retry}" 2>&1 | grep '^enqueue' | sed 's/^/  /' || true
}

step "pushing the wanted label where the displayed one differs (a campaign label on $(q "SELECT count(DISTINCT number) FROM label_schedules") numbers)"
$P enqueue tag --all --period "$run" | sed 's/^/  /'
wait_jobs tag_update "tag updates"

step "appealing wrong marks (the workers filed most already; this is the safety net)"
$P enqueue appeal --all | sed 's/^/  /'
wait_jobs appeal "appeals"

step "a day later: reviews decided, appeals followed to their outcome, pushes verified"
advance 1
echo "  (numtrust time and the simulator's clock moved 24 h forward: reviews took their time)"
reconcile tag-status,appeal-status
wait_jobs % "follow-ups"

step "checking again: the platforms now show the pushed labels, approved appeals cleared their marks"
$P enqueue check --all --period "$run-verify" | sed 's/^/  /'
wait_jobs check "all checks"
reconcile # records what the checks verified

step "a week later: the campaign is over and reverted; rejected appeals are filed again; expiring certifications renewed"
advance 7
reconcile tag,appeal-refile,appeal-status,renewal
wait_jobs % "follow-ups"
advance 1
reconcile tag-status,appeal-status
wait_jobs % "follow-ups"
reconcile
work_s=$(since "$t_work")

step "stopping the workers (SIGTERM: drain, commit, exit 0)"
for pid in "${worker_pids[@]}"; do kill -TERM "$pid"; done
for pid in "${worker_pids[@]}"; do
    rc=0
    wait "$pid" || rc=$?
    echo "  worker $pid exited $rc"
    [ "$rc" -eq 0 ] || exit 1
done
worker_pids=()

$P report
# the same state as one self-contained page with charts (no network needed to view it)
$P report --format html --output build/demo-report.html
echo "  HTML report: $repo/build/demo-report.html"

step "per tenant: mark rate against its target, service levels met and breached, the month's cost"
$P sla pass >/dev/null
$P sla summary

jobs=$(q "SELECT count(*) FROM jobs WHERE created_at >= '$t_run' AND state IN ('done','failed','dead')")
printf '\n==> summary of run %s\n' "$run"
q "SELECT
     '  numbers checked      ' || (SELECT count(DISTINCT j.number) FROM jobs j WHERE j.type = 'check' AND j.state = 'done' AND j.created_at >= '$t_run') ||
     ' (' || (SELECT count(*) FROM jobs j WHERE j.type = 'check' AND j.state = 'done' AND j.created_at >= '$t_run') || ' platform checks, ' ||
     (SELECT count(*) FROM check_results cr JOIN jobs j ON j.id = cr.job_id WHERE j.created_at >= '$t_run') || ' saw a change)' || chr(10) ||
     '  marks found          ' || (SELECT count(*) FROM marks WHERE last_seen_at >= '$t_run') ||
     coalesce(' (' || (SELECT string_agg(type || ' ' || n, ', ' ORDER BY n DESC) FROM
        (SELECT type, count(*) AS n FROM marks WHERE last_seen_at >= '$t_run' GROUP BY type) m) || ')', '') || chr(10) ||
     '  tags pushed          ' || (SELECT count(*) FROM tag_updates) ||
     ' (applied ' || (SELECT count(*) FROM tag_updates WHERE state = 'applied') ||
     ', rejected ' || (SELECT count(*) FROM tag_updates WHERE state = 'rejected') ||
     ', pending ' || (SELECT count(*) FROM tag_updates WHERE state = 'pending_review') ||
     ', unconfirmed ' || (SELECT count(*) FROM tag_updates WHERE state = 'unconfirmed') ||
     '); verified by a check ' || (SELECT count(*) FROM tag_updates WHERE verified_at IS NOT NULL) || chr(10) ||
     coalesce((SELECT '  rejected labels      ' || string_agg(reason || ' (' || n || ')', ', ') || chr(10) FROM
        (SELECT reason, count(*) AS n FROM tag_updates WHERE state = 'rejected' GROUP BY reason ORDER BY count(*) DESC LIMIT 3) r), '') ||
     '  campaign             live on ' || (SELECT count(*) FROM tag_updates t JOIN label_schedules s ON s.number = t.number
                                            AND s.label = t.label WHERE t.state = 'applied') ||
     ' registrations at its lead, reverted on ' || (SELECT count(*) FROM tag_updates t JOIN numbers n ON n.number = t.number
        WHERE t.label = n.base_label AND t.pushed_at >= (SELECT min(event_end) FROM label_schedules)) ||
     ' after it' || chr(10) ||
     '  appeals decided      ' || (SELECT count(*) FROM appeals WHERE decided_at IS NOT NULL) ||
     ' (approved ' || (SELECT count(*) FROM appeals WHERE state = 'approved') ||
     ', rejected ' || (SELECT count(*) FROM appeals WHERE state = 'rejected') ||
     '); re-filed ' || (SELECT count(*) FROM appeals WHERE round > 1) ||
     ', escalated ' || (SELECT count(*) FROM marks WHERE state = 'escalated') || chr(10) ||
     '  appeals filed        ' || (SELECT count(*) FROM appeals WHERE filed_at >= '$t_run') ||
     coalesce(' (' || (SELECT string_agg(state || ' ' || n, ', ' ORDER BY state) FROM
        (SELECT state, count(*) AS n FROM appeals WHERE filed_at >= '$t_run' GROUP BY state) a) || ')', '') || chr(10) ||
     '  failed / dead jobs   ' || (SELECT count(*) FROM jobs WHERE created_at >= '$t_run' AND state = 'failed') ||
     ' / ' || (SELECT count(*) FROM jobs WHERE created_at >= '$t_run' AND state = 'dead') || chr(10) ||
     '  manual action items  ' || (SELECT count(*) FROM action_items WHERE state <> 'done') || ' open' ||
     coalesce(' (' || (SELECT string_agg(platform || ' ' || kind || ' ' || n, ', ' ORDER BY platform, kind) FROM
        (SELECT platform, kind, count(*) AS n FROM action_items WHERE state <> 'done' GROUP BY 1, 2) i) ||
        '): a person files them, numtrust-producer actions list', '')"
echo "  per platform         checks / open marks / tags pushed / appeals (approved) / dialect:"
q "SELECT format('    %-9s %6s / %5s / %5s / %5s (%s) / %s', p.id,
        (SELECT count(*) FROM jobs j WHERE j.type = 'check' AND j.state = 'done'
          AND j.created_at >= '$t_run' AND j.platform = p.id),
        (SELECT count(*) FROM marks m WHERE m.platform = p.id AND m.state = 'open'),
        (SELECT count(*) FROM tag_updates t WHERE t.platform = p.id AND t.pushed_at >= '$t_run'),
        (SELECT count(*) FROM appeals a WHERE a.platform = p.id AND a.filed_at >= '$t_run'),
        (SELECT count(*) FROM appeals a WHERE a.platform = p.id AND a.filed_at >= '$t_run'
          AND a.state = 'approved'), p.dialect)
   FROM platforms p ORDER BY p.id"
printf '  jobs processed       %s in %.1f s: %.0f jobs/s with %s workers\n' "$jobs" "$work_s" \
    "$(echo "$jobs / $work_s" | bc -l)" "$workers"
printf '  elapsed              %.1f s in all\n' "$(since "$t_start")"
if [ "$keep" = true ]; then
    echo
    echo "The stack is still running: eval \"\$(deploy/local/stack.sh env)\", then e.g."
    echo "  psql \"\$NUMTRUST_PG_CONNINFO\"   or   build/bin/numtrust-producer report"
    # the same settings the stack was started with, or `down` would look elsewhere
    echo "Stop it with: NT_STATE_DIR=$NT_STATE_DIR NT_PG_PORT=$NT_PG_PORT NT_KAFKA_PORT=$NT_KAFKA_PORT NT_KAFKA_CONTROLLER_PORT=$NT_KAFKA_CONTROLLER_PORT NT_SIM_PORT=$NT_SIM_PORT deploy/local/stack.sh down"
fi
