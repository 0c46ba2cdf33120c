#!/usr/bin/env bash
# deploy/docker/engine.sh — prepares and runs the container engine that deploy/docker/images.sh,
# docker-compose.yml and tests/container/ use. With a working Docker daemon there is nothing to
# do; otherwise podman (Debian's) is set up the way it runs on a machine without systemd or a
# container registry, and Debian's docker-compose talks to `podman system service` through
# DOCKER_HOST. See usage below and README.md, "Containers".
set -euo pipefail

# shellcheck source=deploy/local/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../local/common.sh"

NT_CTR_STATE="${NT_CTR_STATE:-$NT_REPO/.state/engine}"
NT_CONTAINER_ENGINE="${NT_CONTAINER_ENGINE:-}"
NT_HEALTHD_TICK="${NT_HEALTHD_TICK:-2}"
CONF_DROPIN=/etc/containers/containers.conf.d/50-numtrust.conf

usage() {
    cat <<USAGE
usage: deploy/docker/engine.sh COMMAND

Commands:
  setup     podman only: write $CONF_DROPIN (idempotent):
              runtime = "runc"            crun fails on hybrid cgroups ("cgroups in hybrid
                                          mode not supported")
              cgroup_manager = "cgroupfs" no systemd to manage cgroups
              events_logger = "file"      no journald
              default_ulimits nofile=20000:20000, nproc=32768:32768
                                          raising limits beyond the engine's own fails
                                          with EPERM without CAP_SYS_RESOURCE
              exit_command_delay = 10     exec sessions' conmon does not linger 5 minutes
              network_backend = "netavark" (DNS between containers by service name)
  start     setup, then (podman) start \`podman system service\` on a socket in
            NT_CTR_STATE and the healthcheck runner (deploy/docker/healthd.sh: without
            systemd nothing else runs a container's HEALTHCHECK, and docker-compose's
            depends_on: condition: service_healthy waits for it)
  stop      stop what start started (recorded pids); containers are left alone
  env       export lines for docker-compose and the scripts: eval "\$(engine.sh env)"
  status    which engine, and whether its service and the healthcheck runner run
  check     exit 0 when a container engine can run containers here, 1 (with the reason)
            when not
  help      this text

Environment:
  NT_CONTAINER_ENGINE  podman or docker (default: docker when \`docker info\` answers,
                       else podman)
  NT_CTR_STATE         socket, pids and logs (default <repo>/.state/engine)
  NT_HEALTHD_TICK      seconds between the healthcheck runner's looks (default 2)
USAGE
}

detect_engine() {
    if [[ -n "$NT_CONTAINER_ENGINE" ]]; then
        case "$NT_CONTAINER_ENGINE" in
        podman | docker) ;;
        *) nt_die "NT_CONTAINER_ENGINE='$NT_CONTAINER_ENGINE' is neither podman nor docker" ;;
        esac
    elif command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
        NT_CONTAINER_ENGINE=docker
    else
        NT_CONTAINER_ENGINE=podman
    fi
}

# pid files hold "PID STARTTIME" (field 22 of /proc/PID/stat): a recycled pid is never ours
proc_start() { awk '{ sub(/^.*\) /, ""); print $20 }' "/proc/$1/stat" 2>/dev/null; }

running_pid() { # NAME -> the pid when the recorded process still runs
    local f="$NT_CTR_STATE/$1.pid" pid st
    [[ -f "$f" ]] || return 1
    read -r pid st <"$f" || return 1
    [[ -n "$pid" && "$(proc_start "$pid")" == "$st" ]] || return 1
    printf '%s\n' "$pid"
}

spawn() { # NAME CMD...: in its own session, output appended to NAME.log, pid recorded
    local name="$1"
    shift
    mkdir -p "$NT_CTR_STATE"
    setsid "$@" </dev/null >>"$NT_CTR_STATE/$name.log" 2>&1 &
    local pid=$!
    printf '%s %s\n' "$pid" "$(proc_start "$pid")" >"$NT_CTR_STATE/$name.pid"
}

stop_pid() { # NAME: SIGTERM, 10 s, SIGKILL
    local pid i
    if pid="$(running_pid "$1")"; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            running_pid "$1" >/dev/null || break
            sleep 0.1
        done
        if running_pid "$1" >/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
        nt_step "$1: stopped (pid $pid)"
    fi
    rm -f "$NT_CTR_STATE/$1.pid"
}

sock() { printf '%s/podman.sock' "$NT_CTR_STATE"; }

cmd_setup() {
    [[ "$NT_CONTAINER_ENGINE" == podman ]] || return 0
    command -v podman >/dev/null 2>&1 || nt_die "no podman: run deploy/local/install-deps.sh"
    command -v runc >/dev/null 2>&1 || nt_die "no runc: run deploy/local/install-deps.sh"
    local want
    want='# Written by numtrust (deploy/docker/engine.sh setup): podman on a machine without
# systemd, with hybrid cgroups and without CAP_SYS_RESOURCE.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
# the conmon of an exec session (health checks, docker-compose exec) waits this long after the
# command for someone to ask for its exit code: 10 s, not 5 minutes, so none outlives a test
exit_command_delay = 10

[network]
network_backend = "netavark"'
    if [[ ! -f "$CONF_DROPIN" || "$(cat "$CONF_DROPIN")" != "$want" ]]; then
        nt_is_root || nt_die "writing $CONF_DROPIN needs root (or sudo deploy/docker/engine.sh setup)"
        mkdir -p "$(dirname "$CONF_DROPIN")"
        printf '%s\n' "$want" >"$CONF_DROPIN"
        nt_step "podman: wrote $CONF_DROPIN"
    fi
}

cmd_start() {
    cmd_setup
    [[ "$NT_CONTAINER_ENGINE" == podman ]] || return 0
    mkdir -p "$NT_CTR_STATE"
    if ! running_pid service >/dev/null; then
        rm -f "$(sock)"
        spawn service podman system service --time=0 "unix://$(sock)"
        local i
        for ((i = 0; i < 100; i++)); do
            [[ -S "$(sock)" ]] && break
            sleep 0.1
        done
        [[ -S "$(sock)" ]] || nt_die "podman system service did not create $(sock) (log: $NT_CTR_STATE/service.log)"
        nt_step "podman system service: $(sock) (pid $(running_pid service))"
    fi
    if ! running_pid healthd >/dev/null; then
        spawn healthd bash "$NT_REPO/deploy/docker/healthd.sh" --tick "$NT_HEALTHD_TICK"
        nt_step "healthcheck runner: pid $(running_pid healthd) (log: $NT_CTR_STATE/healthd.log)"
    fi
}

cmd_stop() {
    [[ "$NT_CONTAINER_ENGINE" == podman ]] || return 0
    stop_pid healthd
    stop_pid service
    rm -f "$(sock)"
}

cmd_env() {
    printf 'export NT_CONTAINER_ENGINE=%s\n' "$NT_CONTAINER_ENGINE"
    if [[ "$NT_CONTAINER_ENGINE" == podman ]]; then
        printf 'export DOCKER_HOST=unix://%s\n' "$(sock)"
    fi
}

cmd_status() {
    local rc=0 pid
    printf 'engine: %s\n' "$NT_CONTAINER_ENGINE"
    [[ "$NT_CONTAINER_ENGINE" == podman ]] || return 0
    if pid="$(running_pid service)"; then
        printf 'service: up (%s, pid %s)\n' "$(sock)" "$pid"
    else
        echo "service: down"
        rc=3
    fi
    if pid="$(running_pid healthd)"; then
        printf 'healthd: up (pid %s)\n' "$pid"
    else
        echo "healthd: down"
        rc=3
    fi
    return "$rc"
}

cmd_check() {
    if [[ "$NT_CONTAINER_ENGINE" == docker ]]; then
        docker info >/dev/null 2>&1 || {
            echo "docker: the daemon does not answer (docker info)"
            return 1
        }
        return 0
    fi
    command -v podman >/dev/null 2>&1 || {
        echo "no podman and no docker on PATH (deploy/local/install-deps.sh installs podman)"
        return 1
    }
    command -v runc >/dev/null 2>&1 || {
        echo "no runc on PATH (deploy/local/install-deps.sh installs it)"
        return 1
    }
    local out
    if ! out="$(podman info --format '{{.Host.OCIRuntime.Name}}' 2>&1)"; then
        printf 'podman info fails: %s\n' "$(tail -n 1 <<<"$out")"
        return 1
    fi
    return 0
}

main() {
    local cmd="${1:-help}"
    case "$cmd" in
    help | -h | --help)
        usage
        return 0
        ;;
    esac
    detect_engine
    case "$cmd" in
    setup) cmd_setup ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    env) cmd_env ;;
    status) cmd_status ;;
    check) cmd_check ;;
    *)
        usage >&2
        nt_die "unknown command '$cmd'"
        ;;
    esac
}

main "$@"
