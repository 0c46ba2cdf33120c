#!/usr/bin/env bash
# Container test: numtrust run for real in containers, as docker-compose.yml describes it.
#
#   1. build every image (deploy/docker/images.sh: base by debootstrap, then app, PostgreSQL,
#      Kafka, Prometheus), timed
#   2. `up` with 3 workers (profile test: the simulator; tests/container/compose.test.yml
#      publishes PostgreSQL, Kafka and the simulator on 127.0.0.1 for the checks)
#   3. import a fleet through a container (numtrust-producer import, exec'd in the reconciler's;
#      the simulator configured by sim.json, ten numbers also on cmcc, which decides by callback);
#      the reconciler turns it into a maintenance cycle: checks, then the
#      appeals the workers file for new marks, tag updates for labels that differ, appeal
#      status polls
#   4. during the run: SIGKILL one worker container, scale 3 -> 5, then 5 -> 2
#   5. the reconciler stopped, the workers stopped with SIGTERM (exit 0), committed lag 0
#      (kafka-consumer-groups in the broker's container), and tests/faults/check_invariants.py:
#      every job's result exactly once, nothing stuck, nothing applied twice at the simulator,
#      no dead letter (nothing here should die) and nothing else on the dead-letter topic
#   6. a day of simulated time: cmcc's decisions are POSTed to the control plane's callback route
#      (NT_SIM_CALLBACK_URL), delivered (2xx) and recorded
#   7. `down -v`: no container, volume or network of the project left
#
# Prints one line
#   container: jobs=N done=N lost=0 doubled=0 lag=0 dead=0 workers=3,kill,5,2 build=Ss up=Ss run=Ss down=Ss
# Exits 77 (ctest: skipped) with the reason when no container engine can run here.
#
# Settings: NT_CT_PORT_BASE (below: PostgreSQL +32, Kafka +92, simulator +80, Prometheus +90,
# API +91), NT_CT_NUMBERS (300 numbers, on 3 platforms), NT_CT_KEEP=1 leaves the stack up on
# failure.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"
T0=$(date +%s.%N)
log() { printf '[%6.1fs] %s\n' "$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')" "$*"; }
secs() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }'; }

if ! why=$(bash deploy/docker/engine.sh check 2>&1); then
    echo "SKIP: no container engine can run containers here: $why"
    exit 77
fi
command -v docker-compose >/dev/null 2>&1 || {
    echo "FAIL: no docker-compose (deploy/local/install-deps.sh installs it)"
    exit 1
}

# Ports: NT_CT_PORT_BASE, else the hundred above the thousand of the test stack's PostgreSQL port
# (tests/run.sh exports NT_PG_PORT: 15432 -> 15100; an engineer's 2X432 -> 2X100, the start of
# their extra ports), so that runs from two checkouts at once do not collide
pg=${NT_PG_PORT:-15432}
BASE=${NT_CT_PORT_BASE:-$((pg / 1000 * 1000 + 100))}
export NT_CT_PG_PORT=$((BASE + 32)) NT_CT_KAFKA_PORT=$((BASE + 92)) NT_CT_SIM_PORT=$((BASE + 80))
export NT_PROMETHEUS_PORT=$((BASE + 90)) NT_API_PORT=$((BASE + 91))
NUMBERS=${NT_CT_NUMBERS:-300}
PREFIX_DIGITS=3090
PROJECT=ntct$BASE
# images of this checkout, whatever another checkout builds meanwhile (the base is shared)
export NT_IMAGE_TAG
NT_IMAGE_TAG=${NT_IMAGE_TAG:-ct$(printf '%s' "$REPO" | sha256sum | cut -c1-8)}
TMP=$(mktemp -d /tmp/nt-container.XXXXXX)
chmod 0755 "$TMP"
export NT_SECRETS_DIR=$TMP/secrets
ENGINE_STARTED=false
UP=false
BUGS=()

eval "$(bash deploy/docker/engine.sh env)"
ENGINE=$NT_CONTAINER_ENGINE
# docker-compose.yml takes settings from the environment: not those of the local test stack
# that tests/run.sh exports (NT_SIM_URL would point the containers at the host's simulator)
COMPOSE_UNSET=(NT_SIM_URL NT_PLATFORMS_FILE NT_PARTITIONS NT_PG_MAX_CONNECTIONS NT_BASE_IMAGE
    NT_GRAFANA_IMAGE NT_GRAFANA_PORT)
compose() {
    env "${COMPOSE_UNSET[@]/#/-u}" docker-compose -p "$PROJECT" -f docker-compose.yml \
        -f tests/container/compose.test.yml --profile test "$@"
}

# what the project has: containers (any state), volumes, networks
leftovers() {
    {
        $ENGINE ps -a --filter "label=com.docker.compose.project=$PROJECT" --format '{{.Names}}'
        $ENGINE volume ls --format '{{.Name}}' | grep "^${PROJECT}_" || true
        $ENGINE network ls --format '{{.Name}}' | grep "^${PROJECT}_" || true
    } 2>/dev/null | sed '/^$/d'
}

cleanup() {
    local rc=$?
    if $UP; then
        if [ "$rc" -ne 0 ] && [ -n "${NT_CT_KEEP:-}" ]; then
            log "NT_CT_KEEP: leaving project $PROJECT up (docker-compose -p $PROJECT ... down -v)"
        else
            if [ "$rc" -ne 0 ]; then
                log "failed: the last log lines of each service"
                compose logs --no-color --tail 15 2>&1 | tail -n 150 || true
            fi
            compose down -v --remove-orphans -t 20 >/dev/null 2>&1 || true
        fi
    fi
    if $ENGINE_STARTED; then bash deploy/docker/engine.sh stop >/dev/null 2>&1 || true; fi
    if [ "$rc" -eq 0 ]; then rm -rf "$TMP"; else log "kept $TMP"; fi
}
trap cleanup EXIT

fail() {
    log "FAIL: $*"
    exit 1
}

# ---- engine and images ---------------------------------------------------------------------
if ! bash deploy/docker/engine.sh status >/dev/null 2>&1; then
    ENGINE_STARTED=true
    bash deploy/docker/engine.sh start
fi
[ -z "$(leftovers)" ] || {
    log "project $PROJECT has leftovers from an earlier run; removing them"
    compose down -v --remove-orphans -t 5 >/dev/null 2>&1 || true
}
t=$(date +%s.%N)
bash deploy/docker/images.sh build | sed 's/^/    /'
BUILD_S=$(secs "$t")
log "images built in ${BUILD_S}s"

# ---- up with 3 workers ----------------------------------------------------------------------
bash deploy/docker/secrets.sh "$NT_SECRETS_DIR" >/dev/null
t=$(date +%s.%N)
UP=true
compose up -d --no-build --scale worker=3 2>&1 | grep -v '^Creating .* \.\.\. $' | sed 's/^/    /'
UP_S=$(secs "$t")

# health as the engine reports it (deploy/docker/healthd.sh runs the checks under podman)
health_count() { # SERVICE -> how many of its containers are running and healthy
    $ENGINE ps --filter "label=com.docker.compose.project=$PROJECT" \
        --filter "label=com.docker.compose.service=$1" --format '{{.Status}}' |
        grep -c '(healthy)' || true
}
wait_healthy() { # SERVICE N TIMEOUT
    local n t0=$SECONDS
    while :; do
        n=$(health_count "$1")
        [ "$n" -ge "$2" ] && return 0
        [ $((SECONDS - t0)) -lt "$3" ] || fail "$1: $n of $2 containers healthy after $3 s"
        sleep 1
    done
}
wait_healthy worker 3 90
wait_healthy control-plane 1 60
wait_healthy reconciler 1 60
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$NT_API_PORT/readyz")
[ "$code" = 200 ] || fail "the control plane's /readyz on 127.0.0.1:$NT_API_PORT answered $code"
log "up in ${UP_S}s: $(compose ps --services 2>/dev/null | tr '\n' ' ')"

# ---- the run ---------------------------------------------------------------------------------
export PGPASSWORD
PGPASSWORD=$(cat "$NT_SECRETS_DIR/db_password")
export NUMTRUST_PG_CONNINFO="host=127.0.0.1 port=$NT_CT_PG_PORT dbname=numtrust user=numtrust"
export NUMTRUST_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$NT_CT_KAFKA_PORT
export NT_SIM_URL=http://127.0.0.1:$NT_CT_SIM_PORT # for the checker, not for compose
psqlv() { psql "$NUMTRUST_PG_CONNINFO" -X -A -t -q -v ON_ERROR_STOP=1 -c "$1"; }
MINE="number LIKE '+86$PREFIX_DIGITS%'"

# the simulator runs with deploy/local/sim.json: xiaomi shows labels on android only there
# (without it, every platform shows all three surfaces)
surfaces=$(curl -fsS "$NT_SIM_URL/admin/truth?platform=xiaomi&number=%2B8630900000001" |
    python3 -c 'import json, sys; print(",".join(sorted(json.load(sys.stdin)["labels"])))')
[ "$surfaces" = android ] || BUGS+=("the simulator runs without sim.json (xiaomi shows surfaces $surfaces)")
log "simulator configured by sim.json (xiaomi's surfaces: $surfaces)"

# the simulator answers slowly enough that the run spans the kill and both scalings
curl -fsS -X POST -H 'Content-Type: application/json' \
    -d '{"latency":{"base_ms":400,"jitter_ms":200}}' "$NT_SIM_URL/admin/config" >/dev/null
curl -fsS -X POST "$NT_SIM_URL/admin/counters/reset" >/dev/null

python3 deploy/local/gen-fleet.py --numbers "$NUMBERS" --prefix "$PREFIX_DIGITS" --seed 13 \
    -o "$TMP/fleet.csv"
# ten numbers also on cmcc, which decides by signed callbacks to the control plane (below)
sed -i '2,11s/$/;cmcc/' "$TMP/fleet.csv"
chmod 0644 "$TMP/fleet.csv"
t_run=$(date +%s.%N)
# (docker-compose run would fit better, but podman's API refuses its container links)
# (exec bypasses the entrypoint: nt-entrypoint reads the secret files)
compose exec -T reconciler sh -c 'cat >/tmp/fleet.csv && nt-entrypoint numtrust-producer import --numbers /tmp/fleet.csv' \
    <"$TMP/fleet.csv" 2>&1 | grep -v '^{' | sed 's/^/    /' || true
CHECKS=$(psqlv "SELECT count(*) FROM number_platforms WHERE $MINE")
[ "$CHECKS" -gt 0 ] || fail "the import through the container stored no registration"
log "imported $NUMBERS numbers, $CHECKS registrations; the reconciler takes it from here"

final_count() { psqlv "SELECT count(*) FROM jobs WHERE $MINE AND state IN ('done','failed','dead')"; }
wait_final() { # N TIMEOUT: until N jobs of the run are final
    local got t0=$SECONDS
    while :; do
        got=$(final_count)
        [ "$got" -ge "$1" ] && break
        [ $((SECONDS - t0)) -lt "$2" ] || fail "progress: $got jobs final after $2 s (waited for $1)"
        sleep 0.5
    done
    log "progress: $got jobs final ($(psqlv "SELECT count(*) FROM jobs WHERE $MINE") in the ledger)"
}
workers() {
    $ENGINE ps --filter "label=com.docker.compose.project=$PROJECT" \
        --filter "label=com.docker.compose.service=worker" --format '{{.Names}}' | sort
}

# about 2.2 jobs per registration in all (checks, tag updates, appeals, status polls): the kill
# lands early, the five workers get a share of the run, the scale-down happens mid-run
wait_final $((CHECKS / 5)) 180
victim=$(workers | sed -n 2p)
[ -n "$victim" ] || fail "no second worker container to kill"
$ENGINE kill -s KILL "$victim" >/dev/null
log "SIGKILL to $victim"
sleep 2
log "$victim after the kill: $($ENGINE inspect --format '{{.State.Status}} (restarts {{.RestartCount}})' "$victim")"
wait_final $((CHECKS * 3 / 5)) 180
compose up -d --no-build --no-recreate --no-deps --scale worker=5 worker 2>&1 | grep -v '^Creating .* \.\.\. $' | sed 's/^/    /'
log "scaled to 5 workers: $(workers | wc -l) running"
# every one of the five takes part: each is assigned partitions (joining takes a few seconds)
assigned() { # WORKER: true once it logged an assignment of partitions
    # (no grep -q: it would quit early, and pipefail would count the logger's SIGPIPE)
    $ENGINE logs "$1" 2>&1 | grep -E '"rebalance: [1-9][0-9]* partitions assigned' >/dev/null
}
t0=$SECONDS
while :; do
    waiting=()
    for w in $(workers); do assigned "$w" || waiting+=("$w"); done
    [ "${#waiting[@]}" -eq 0 ] && break
    if [ $((SECONDS - t0)) -ge 60 ]; then
        BUGS+=("not assigned a partition 60 s after the scale-up: ${waiting[*]}")
        break
    fi
    sleep 1
done
log "all $(workers | wc -l) workers assigned partitions $((SECONDS - t0)) s after the scale-up"
wait_final $((CHECKS * 6 / 5)) 180
compose up -d --no-build --no-recreate --no-deps --scale worker=2 worker 2>&1 | sed 's/^/    /'
n=$(workers | wc -l)
log "scaled to 2 workers: $n running"
[ "$n" -eq 2 ] || BUGS+=("scale to 2 left $n worker containers")

# Prometheus scrapes every numtrust process: each running worker, the reconciler and the
# control plane are targets that are up (found by DNS, refreshed every 10 s); the alert rules
# are loaded
prom_up() { # JOB -> "up/targets"
    curl -fsS "http://127.0.0.1:$NT_PROMETHEUS_PORT/api/v1/targets?state=active" |
        python3 -c 'import json, sys
t = [x for x in json.load(sys.stdin)["data"]["activeTargets"] if x["labels"]["job"] == sys.argv[1]]
print("%d/%d" % (sum(x["health"] == "up" for x in t), len(t)))' "$1"
}
t0=$SECONDS
while :; do
    pw=$(prom_up numtrust-worker)
    pc=$(prom_up numtrust-control-plane)
    pr=$(prom_up numtrust-reconciler)
    [ "$pw" = "$n/$n" ] && [ "$pc" = 1/1 ] && [ "$pr" = 1/1 ] && break
    if [ $((SECONDS - t0)) -ge 60 ]; then
        BUGS+=("Prometheus: up/targets workers $pw (want $n/$n), control plane $pc, reconciler $pr (want 1/1)")
        break
    fi
    sleep 2
done
rules=$(curl -fsS "http://127.0.0.1:$NT_PROMETHEUS_PORT/api/v1/rules" |
    python3 -c 'import json, sys; g = json.load(sys.stdin)["data"]["groups"]; print(sum(len(x["rules"]) for x in g))')
if ls deploy/prometheus/*-rules.yml >/dev/null 2>&1; then
    [ "$rules" -gt 0 ] || BUGS+=("Prometheus loaded no alert rule from deploy/prometheus/*-rules.yml")
fi
log "Prometheus targets up: workers $pw, control plane $pc, reconciler $pr; $rules alert rules loaded"

# the cycle is over when every job is final and the reconciler has added nothing for a while
stable=0
last=-1
t0=$SECONDS
while [ "$stable" -lt 3 ]; do
    [ $((SECONDS - t0)) -lt 300 ] || fail "the run did not settle in 300 s: $(psqlv "SELECT string_agg(state || '=' || n, ' ') FROM (SELECT state, count(*) n FROM jobs WHERE $MINE GROUP BY 1) s")"
    sleep 4
    total=$(psqlv "SELECT count(*) FROM jobs WHERE $MINE")
    open=$(psqlv "SELECT count(*) FROM jobs WHERE $MINE AND state NOT IN ('done','failed','dead')")
    if [ "$open" -eq 0 ] && [ "$total" -eq "$last" ]; then stable=$((stable + 1)); else stable=0; fi
    last=$total
done
RUN_S=$(secs "$t_run")
log "settled: $total jobs, all final, none added for 3 looks (${RUN_S}s after the import)"

compose stop -t 20 reconciler >/dev/null 2>&1
lag() { # committed lag of numtrust-workers, or "?" when the group's partitions cannot be listed
    compose exec -T kafka kafka-consumer-groups --describe --group numtrust-workers 2>/dev/null |
        awk 'NR > 1 && $2 ~ /^[a-z]/ && $5 ~ /^[0-9]+$/ {
                 rows++; if ($4 ~ /^[0-9]+$/) lag += $5 - $4; else lag += $5
             } END { if (rows) print lag + 0; else print "?" }'
}
LAG="?"
for _ in $(seq 1 30); do
    LAG=$(lag)
    [ "$LAG" = 0 ] && break
    sleep 2
done
log "committed lag: $LAG"
[ "$LAG" = 0 ] || BUGS+=("committed lag $LAG, not 0")

# the workers leave with SIGTERM (drain, commit, exit 0)
running_workers=$(workers)
compose stop -t 30 worker >/dev/null 2>&1
for w in $running_workers; do
    code=$($ENGINE inspect --format '{{.State.ExitCode}}' "$w")
    [ "$code" = 0 ] || BUGS+=("worker $w exited $code after SIGTERM")
done
log "workers stopped: $(echo "$running_workers" | tr '\n' ' ')"

set +e
python3 tests/faults/check_invariants.py --prefix "+86$PREFIX_DIGITS" --topics-prefix numtrust \
    --expect "check=$CHECKS" --json "$TMP/inv.json" | tee "$TMP/inv.txt"
inv_rc=${PIPESTATUS[0]}
set -e
[ "$inv_rc" -eq 0 ] || BUGS+=("check_invariants.py exited $inv_rc")
read -r JOBS DONE LOST DOUBLED DEAD < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["jobs"], d["done"], d["lost"], d["doubled"], d["dead"])' "$TMP/inv.json")
# nothing here should die (no faults, no poison): a dead letter would be a bug, and so would
# anything on the dead-letter topic
[ "$DEAD" -eq 0 ] || BUGS+=("$DEAD dead jobs in a run without faults")
grep -q 'dead_topic_messages=0 ' "$TMP/inv.txt" || BUGS+=("messages on numtrust.dead: $(grep -o 'dead_topic_messages=[0-9]*' "$TMP/inv.txt")")
types=$(psqlv "SELECT string_agg(type || '=' || n, ' ' ORDER BY type) FROM (SELECT type, count(*) n FROM jobs WHERE $MINE GROUP BY 1) s")
log "jobs by type: $types"
case " $types " in *" tag_update="*) ;; *) BUGS+=("the cycle enqueued no tag update") ;; esac

# the simulator's decisions come back by callback: a day of simulated time decides cmcc's label
# reviews (4 h) and appeals (20 h); they are POSTed to control-plane:8090/v1/callbacks/cmcc
# (NT_SIM_CALLBACK_URL), signed with sim_callback_secret, and recorded
cb_tickets=$(psqlv "SELECT count(*) FROM (SELECT ticket FROM tag_updates WHERE $MINE AND platform = 'cmcc'
                    AND ticket IS NOT NULL UNION ALL SELECT ticket FROM appeals WHERE $MINE
                    AND platform = 'cmcc') t")
curl -fsS -X POST -H 'Content-Type: application/json' -d '{"advance_s":86400}' "$NT_SIM_URL/admin/clock" >/dev/null
cb_stats() { curl -fsS "$NT_SIM_URL/admin/callbacks"; }
cb_field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
t0=$SECONDS
while [ "$cb_tickets" -gt 0 ] && [ "$(cb_stats | cb_field delivered)" -eq 0 ] && [ $((SECONDS - t0)) -lt 30 ]; do
    sleep 1
done
CB=$(cb_stats)
cb_recorded=$(psqlv "SELECT count(*) FROM platform_callbacks WHERE platform = 'cmcc'")
log "callbacks: $cb_tickets cmcc tickets; simulator $CB; recorded by the control plane: $cb_recorded"
if [ "$cb_tickets" -eq 0 ]; then
    BUGS+=("no cmcc ticket to call back about (the ten cmcc numbers got no label update or appeal)")
else
    [ "$(cb_field url <<<"$CB")" = set ] || BUGS+=("the simulator has no callback URL")
    [ "$(cb_field delivered <<<"$CB")" -gt 0 ] && [ "$(cb_field rejected <<<"$CB")" -eq 0 ] ||
        BUGS+=("callbacks not delivered to the control plane (or refused): $CB")
    [ "$cb_recorded" -gt 0 ] || BUGS+=("the control plane recorded no cmcc callback")
fi

# ---- down -------------------------------------------------------------------------------------
if [ "${#BUGS[@]}" -gt 0 ] && [ -n "${NT_CT_KEEP:-}" ]; then
    printf 'FAIL: %s\n' "${BUGS[@]}"
    fail "NT_CT_KEEP: the stack stays up for a look"
fi
t=$(date +%s.%N)
compose down -v --remove-orphans -t 20 2>&1 | grep -v '^Removing .* \.\.\. $' | sed 's/^/    /' || true
UP=false
DOWN_S=$(secs "$t")
left=$(leftovers)
[ -z "$left" ] || BUGS+=("down left: $(echo "$left" | tr '\n' ' ')")
log "down in ${DOWN_S}s; left behind: ${left:-nothing}"

echo "container: jobs=$JOBS done=$DONE lost=$LOST doubled=$DOUBLED lag=$LAG dead=$DEAD workers=3,kill,5,2 build=${BUILD_S}s up=${UP_S}s run=${RUN_S}s down=${DOWN_S}s total=$(secs "$T0")s"
if [ "${#BUGS[@]}" -gt 0 ]; then
    printf 'FAIL: %s\n' "${BUGS[@]}"
    exit 1
fi
echo PASS
