#!/usr/bin/env bash
# deploy/docker/healthd.sh — runs podman's container health checks where no systemd timer does.
#
# podman schedules `podman healthcheck run ID` with systemd timers; without systemd a container's
# HEALTHCHECK never runs, its status stays "starting", and docker-compose's
# `depends_on: condition: service_healthy` waits forever. This loop looks at the running
# containers every --tick seconds and runs each one's check when its interval is due (the
# interval, timeout, retries and start period of the container's own healthcheck; podman counts
# failures and marks the container unhealthy). Started and stopped by deploy/docker/engine.sh.
set -uo pipefail

tick=2
case "${1:-}" in
--tick)
    tick="${2:?--tick needs seconds}"
    ;;
-h | --help)
    echo "usage: deploy/docker/healthd.sh [--tick SECONDS]  (started by deploy/docker/engine.sh start)"
    exit 0
    ;;
esac
[[ "$tick" =~ ^[1-9][0-9]*$ ]] || {
    echo "healthd: --tick '$tick' is not a number of seconds" >&2
    exit 2
}

declare -A next_due=() # container id -> epoch second of its next check
declare -A every=()    # container id -> interval in seconds
declare -A busy=()     # container id -> pid of the check in flight

trap 'exit 0' TERM INT
echo "healthd: started, tick ${tick}s"
while :; do
    now=$(date +%s)
    declare -A seen=()
    # containers with a healthcheck show "(starting)", "(healthy)" or "(unhealthy)" in Status
    while read -r id status; do
        [[ -n "$id" && "$status" == *"("*")"* ]] || continue
        seen[$id]=1
        if [[ -z "${every[$id]:-}" ]]; then
            ns=$(podman inspect --format '{{.Config.Healthcheck.Interval}}' "$id" 2>/dev/null || echo 0)
            [[ "$ns" =~ ^[0-9]+$ ]] || ns=0
            s=$((ns / 1000000000))
            ((s >= 1)) || s=30
            every[$id]=$s
            next_due[$id]=$now
        fi
        if [[ -n "${busy[$id]:-}" ]] && kill -0 "${busy[$id]}" 2>/dev/null; then
            continue
        fi
        if ((now >= next_due[$id])); then
            podman healthcheck run "$id" >/dev/null 2>&1 &
            busy[$id]=$!
            next_due[$id]=$((now + every[$id]))
        fi
    done < <(podman ps --filter status=running --format '{{.ID}} {{.Status}}' 2>/dev/null)
    for id in "${!every[@]}"; do
        if [[ -z "${seen[$id]:-}" ]]; then
            unset "every[$id]" "next_due[$id]" "busy[$id]"
        fi
    done
    unset seen
    sleep "$tick" &
    wait $! || true
done
