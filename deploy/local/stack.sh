#!/usr/bin/env bash
# deploy/local/stack.sh — numtrust's local stack on 127.0.0.1, without Docker: PostgreSQL 15
# (Debian's binaries), a single-node KRaft Kafka broker (jars cached by install-deps.sh) and
# numtrust-platform-sim (from the build tree). Used by the demo, tests/run.sh and the fault
# tests (restart helpers). All state lives under NT_STATE_DIR; `down` stops exactly the
# processes that `up` started, found by recorded pid and start time.
set -euo pipefail

# shellcheck source=deploy/local/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

NT_STACK="$NT_REPO/deploy/local/stack.sh"
NT_PG_PORT="${NT_PG_PORT:-25432}"
NT_KAFKA_PORT="${NT_KAFKA_PORT:-29092}"
NT_KAFKA_CONTROLLER_PORT="${NT_KAFKA_CONTROLLER_PORT:-29093}"
NT_SIM_PORT="${NT_SIM_PORT:-28080}"
NT_SIM_SEED="${NT_SIM_SEED:-42}"
NT_SIM_CONFIG="${NT_SIM_CONFIG-$NT_REPO/deploy/local/sim.json}" # set it empty for none
NT_SIM_HMAC_KEY="${NT_SIM_HMAC_KEY:-sim-key}"
NT_SIM_HMAC_SECRET="${NT_SIM_HMAC_SECRET:-sim-secret}"
NT_SIM_BEARER_TOKEN="${NT_SIM_BEARER_TOKEN:-sim-token}"
NT_SIM_CALLBACK_SECRET="${NT_SIM_CALLBACK_SECRET:-sim-callback-secret}"
NT_BUILD_DIR="${NT_BUILD_DIR:-$NT_REPO/build}"
# a relative build dir means the caller's directory, not the one a component runs in
NT_BUILD_DIR="$(realpath -m -- "$NT_BUILD_DIR")"
NT_KAFKA_HEAP="${NT_KAFKA_HEAP:--Xmx512m -Xms256m}"
NT_STACK_TIMEOUT="${NT_STACK_TIMEOUT:-60}" # seconds to wait for a component to answer
NT_STOP_TIMEOUT="${NT_STOP_TIMEOUT:-30}"   # seconds before a stop escalates to SIGKILL
NT_STATE_DIR="${NT_STATE_DIR:-$NT_REPO/.state}"

usage() {
    cat <<'EOF'
usage: deploy/local/stack.sh COMMAND [options]

Local numtrust stack on 127.0.0.1: PostgreSQL 15, Kafka (KRaft, one node), the platform
simulator. Run deploy/local/install-deps.sh and build (cmake --build build) first.

Commands:
  up [--no-sim]        start what is not running and wait until each answers
  down [--purge]       stop what `up` started; --purge also deletes the stack's data
  status               each component up/down with its address (exit 3 if any is down)
  env                  export lines for the programs and tests: eval "$(stack.sh env)"
  logs [pg|kafka|sim] [-f] [-n N]   last N (40) log lines, or follow them
  restart-kafka [--kill]             SIGTERM (or SIGKILL) the broker, start it again
  kill-kafka | start-kafka | stop-kafka
  restart-pg [--fast|--immediate]    stop PostgreSQL in that shutdown mode, start it again
  stop-pg | start-pg
  stop-sim | start-sim | restart-sim
  kafka-topics ARGS... kafka-topics.sh against this broker (e.g. --list, --describe)
  kafka-groups ARGS... kafka-consumer-groups.sh against this broker
                       (e.g. --describe --group numtrust-workers: lag per partition)
  help, --help         this text

Settings (environment):
  NT_STATE_DIR              state: data, logs, pids (default <repo>/.state)
  NT_PG_PORT                PostgreSQL port (default 25432)
  NT_KAFKA_PORT             Kafka PLAINTEXT port (default 29092)
  NT_KAFKA_CONTROLLER_PORT  Kafka KRaft controller port (default 29093)
  NT_SIM_PORT               simulator port (default 28080)
  NT_SIM_SEED               simulator seed (default 42)
  NT_SIM_CLOCK_START        simulated time at start: RFC 3339 or now (default now, so that
                            the simulator's dates agree with numtrust time)
  NT_SIM_CONFIG             simulator config file (default deploy/local/sim.json: every
                            platform of deploy/local/platforms.json; empty for none)
  NT_SIM_HMAC_KEY, NT_SIM_HMAC_SECRET, NT_SIM_BEARER_TOKEN
                            credentials the simulator accepts (sim-key, sim-secret, sim-token)
  NT_SIM_CALLBACK_SECRET    key of the simulator's signed callbacks (sim-callback-secret)
  NT_BUILD_DIR              build tree holding bin/numtrust-platform-sim (default <repo>/build)
  NT_KAFKA_HEAP             broker heap flags (default "-Xmx512m -Xms256m")
  NT_STACK_TIMEOUT          seconds to wait for a component to answer (default 60)
  NT_STOP_TIMEOUT           seconds before a stop escalates (default 30)

When run as root, PostgreSQL (which refuses to run as root) runs as the 'postgres' user with
its data in /var/tmp/numtrust-pg-<hash of NT_STATE_DIR>; NT_STATE_DIR/pg links there.
EOF
}

# ---------------------------------------------------------------------------------------
# settings checks and paths

check_port() { # NAME VALUE
    if ! [[ "$2" =~ ^[0-9]+$ ]] || (($2 < 1 || $2 > 65535)); then
        nt_die "$1='$2' is not a TCP port"
    fi
}

init_paths() {
    check_port NT_PG_PORT "$NT_PG_PORT"
    check_port NT_KAFKA_PORT "$NT_KAFKA_PORT"
    check_port NT_KAFKA_CONTROLLER_PORT "$NT_KAFKA_CONTROLLER_PORT"
    check_port NT_SIM_PORT "$NT_SIM_PORT"
    [[ "$NT_STACK_TIMEOUT" =~ ^[1-9][0-9]*$ ]] || nt_die "NT_STACK_TIMEOUT='$NT_STACK_TIMEOUT' is not a number of seconds"
    [[ "$NT_STOP_TIMEOUT" =~ ^[1-9][0-9]*$ ]] || nt_die "NT_STOP_TIMEOUT='$NT_STOP_TIMEOUT' is not a number of seconds"
    mkdir -p "$NT_STATE_DIR" || nt_die "cannot create NT_STATE_DIR='$NT_STATE_DIR'"
    STATE="$(cd "$NT_STATE_DIR" && pwd -P)"
    RUN="$STATE/run"
    KDIR="$STATE/kafka"
    SDIR="$STATE/sim"
    mkdir -p "$RUN"
    # PostgreSQL's directory: in the state dir, or (as root) where the postgres user can
    # reach it even when the state dir sits under a 0700 directory.
    if nt_is_root; then
        PG_BASE="/var/tmp/numtrust-pg-$(printf '%s' "$STATE" | sha256sum | cut -c1-12)"
    else
        PG_BASE="$STATE/pg"
    fi
    PG_DATA="$PG_BASE/data"
    PG_SOCK="$PG_BASE/socket"
    PG_LOG="$PG_BASE/postgresql.log"
}

# Serialises commands that start or stop things on one state dir. Children must not
# inherit fd 9 (they would hold the lock after we exit): every spawn closes it.
take_lock() {
    exec 9>"$RUN/lock"
    flock -w 300 9 || nt_die "another stack.sh holds $RUN/lock for more than 300 s"
}

# ---------------------------------------------------------------------------------------
# processes: a pid file holds "PID STARTTIME" (field 22 of /proc/PID/stat), so a recycled
# pid is never mistaken for ours.

proc_start_time() { # PID -> start time, or nothing (gone or zombie)
    local stat fields
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    read -ra fields <<<"${stat##*) }"
    if [[ "${fields[0]}" == Z ]]; then
        # A killed multi-threaded process (the JVM) shows its main thread as a zombie
        # while the other threads still exit and hold its sockets: gone only when alone.
        local -a tasks
        tasks=("/proc/$1/task/"*)
        ((${#tasks[@]} > 1)) || return 1
    fi
    printf '%s\n' "${fields[19]}"
}

record_pid() { # NAME PID
    local st
    st="$(proc_start_time "$2")" || return 1
    printf '%s %s\n' "$2" "$st" >"$RUN/$1.pid"
}

running_pid() { # NAME -> prints the pid if the recorded process is alive
    local f="$RUN/$1.pid" pid st now
    [[ -f "$f" ]] || return 1
    read -r pid st <"$f" || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    now="$(proc_start_time "$pid")" || return 1
    [[ "$now" == "$st" ]] || return 1
    printf '%s\n' "$pid"
}

# stop_proc NAME SIGNAL [FINAL_SIGNAL]: signals the recorded process, waits up to
# NT_STOP_TIMEOUT s, then sends FINAL_SIGNAL (default KILL) and waits 10 s more.
stop_proc() {
    local name="$1" sig="$2" final="${3:-KILL}" pid t0
    if ! pid="$(running_pid "$name")"; then
        rm -f "$RUN/$name.pid"
        nt_step "$name: already down"
        return 0
    fi
    t0="$(date +%s.%N)"
    kill -s "$sig" "$pid" 2>/dev/null || true
    if ! wait_gone "$name" "$NT_STOP_TIMEOUT"; then
        nt_warn "$name (pid $pid) still running after SIG$sig and ${NT_STOP_TIMEOUT}s: sending SIG$final"
        kill -s "$final" "$pid" 2>/dev/null || true
        wait_gone "$name" 10 || nt_die "$name (pid $pid) survives SIG$final"
    fi
    rm -f "$RUN/$name.pid"
    nt_step "$name: stopped (pid $pid, SIG$sig, $(elapsed "$t0"))"
}

wait_gone() { # NAME SECONDS
    local deadline=$((SECONDS + $2))
    while running_pid "$1" >/dev/null; do
        ((SECONDS < deadline)) || return 1
        sleep 0.1
    done
}

# spawn NAME LOG CWD CMD...: starts CMD in its own session (no terminal signals), output
# appended to LOG, stdin closed, lock fd closed; records its pid.
spawn() {
    local name="$1" log="$2" cwd="$3"
    shift 3
    local pidtmp="$RUN/$name.pid.new"
    rm -f "$pidtmp"
    printf -- '--- %s: started by stack.sh: %s\n' "$(date -u +%FT%TZ)" "$*" >>"$log"
    # shellcheck disable=SC2016 # $$ and $@ belong to the inner bash
    (cd "$cwd" && exec setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidtmp" "$@" \
        </dev/null >>"$log" 2>&1 9>&-) &
    SPAWN_BG=$! # our child (the subshell execs setsid, setsid execs bash, bash execs CMD)
    local i
    for ((i = 0; i < 100; i++)); do
        [[ -s "$pidtmp" ]] && break
        sleep 0.05
    done
    [[ -s "$pidtmp" ]] || nt_die "$name: could not start $1 (see $log)"
    local pid
    pid="$(cat "$pidtmp")"
    rm -f "$pidtmp"
    if ! record_pid "$name" "$pid"; then
        local status=0
        wait "$SPAWN_BG" 2>/dev/null || status=$?
        log_tail "$log"
        nt_die "$name: $1 exited with status $status right after starting (log: $log)"
    fi
}

elapsed() { # T0 -> "1.2s"
    awk -v t0="$1" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.1fs", t1 - t0 }'
}

port_in_use() { # PORT: a listener, or a client socket (not in TIME-WAIT) bound to it
    [[ -n "$(ss -Htan "sport = :$1" 2>/dev/null | grep -v '^TIME-WAIT')" ]]
}

require_free_port() { # SETTING PORT: waits up to 5 s (a process may still be exiting)
    local i
    for ((i = 0; i < 50; i++)); do
        port_in_use "$2" || return 0
        sleep 0.1
    done
    if port_in_use "$2"; then
        nt_die "$1=$2: the port is already in use (another stack or server?); choose another with $1=..."
    fi
}

# A server that cannot bind its port says so in its log and may linger (or be waited for)
# until a timeout: look for that line and fail at once with it. LOG_MARK is the log's
# size before the start, so only this start's lines count.
log_size() { # LOG
    stat -c %s "$1" 2>/dev/null || echo 0
}

die_on_bind_error() { # NAME LOG MARK SETTING PORT
    local line
    line="$(tail -c +"$(($3 + 1))" "$2" 2>/dev/null |
        grep -m1 -E 'Address already in use|could not bind|BindException|could not create any TCP/IP sockets|bind\(\) failed|cannot listen' || true)"
    [[ -n "$line" ]] || return 0
    nt_die "$1: cannot listen on 127.0.0.1:$5 ($4=$5): $line; another process holds the port (ss -tanp 'sport = :$5' shows it): choose another with $4=..."
}

log_tail() { # LOG
    if [[ -f "$1" ]]; then
        printf -- '--- last lines of %s ---\n' "$1" >&2
        tail -n 30 "$1" >&2
        printf -- '---\n' >&2
    fi
}

# ---------------------------------------------------------------------------------------
# PostgreSQL

as_pg() { # CMD...: runs a server binary as the postgres user when we are root
    if nt_is_root; then
        (cd / && runuser -u postgres -- "$@" 9>&-)
    else
        "$@" 9>&-
    fi
}

pg_prepare_dirs() {
    if nt_is_root; then
        id postgres >/dev/null 2>&1 || nt_die "running as root, but there is no 'postgres' user to run PostgreSQL (install the postgresql package)"
        if [[ -e "$STATE/pg" && ! -L "$STATE/pg" ]]; then
            nt_die "$STATE/pg is a directory made by a non-root run; as root PostgreSQL lives in $PG_BASE. Run stack.sh as that user, or remove $STATE/pg"
        fi
        if [[ ! -L "$STATE/pg" && -d "$PG_BASE" ]]; then
            # Left by an earlier state dir at the same path that was deleted.
            local old
            old="$(head -n1 "$PG_DATA/postmaster.pid" 2>/dev/null || true)"
            if [[ "$old" =~ ^[0-9]+$ ]] && kill -0 "$old" 2>/dev/null; then
                nt_die "$PG_BASE belongs to a deleted state dir at $STATE and its PostgreSQL (pid $old) still runs: stop it (kill -INT $old) or choose another NT_STATE_DIR"
            fi
            nt_step "postgres: removing $PG_BASE, left by an earlier state dir at this path"
            rm -rf "$PG_BASE"
        fi
        install -d -o postgres -g postgres -m 0700 "$PG_BASE"
        install -d -o postgres -g postgres -m 0700 "$PG_SOCK"
        ln -sfn "$PG_BASE" "$STATE/pg"
    else
        mkdir -p "$PG_BASE" "$PG_SOCK"
        chmod 0700 "$PG_BASE"
    fi
}

pg_initdb() {
    nt_step "postgres: initdb in $PG_DATA (first start)"
    local out
    if ! out="$(as_pg "$NT_PG_BIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C \
        --auth=trust --no-instructions 2>&1)"; then
        printf '%s\n' "$out" >&2
        nt_die "initdb failed for $PG_DATA"
    fi
    printf "\ninclude_if_exists = 'numtrust.conf'\n" >>"$PG_DATA/postgresql.conf"
    cat >"$PG_DATA/pg_hba.conf" <<'EOF'
# numtrust local stack: trust on the unix socket and on 127.0.0.1 only (dev/test).
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
host    all       all   127.0.0.1/32  trust
EOF
}

pg_write_conf() {
    local sockdir="$PG_SOCK"
    # A unix socket path is limited to 107 bytes: with a deep state dir, TCP only.
    if ((${#sockdir} + 20 > 107)); then
        nt_warn "postgres: $sockdir is too long for a unix socket path; TCP only"
        sockdir=""
    fi
    cat >"$PG_DATA/numtrust.conf" <<EOF
# Written by deploy/local/stack.sh on every start; edits are lost.
listen_addresses = '127.0.0.1'
port = $NT_PG_PORT
unix_socket_directories = '$sockdir'
max_connections = 200
# No fsync: this is a dev/test stack whose data can be rebuilt, and an OS crash may lose or
# corrupt it; never use these settings in production. synchronous_commit stays on (the
# default): a commit is acknowledged only once its WAL is written, so a PostgreSQL crash or
# immediate restart never loses a commit a worker was told about (the fault suite's
# pg_restart_immediate lost some with it off). Without fsync that write costs little.
fsync = off
synchronous_commit = on
# The rest as docs/operations.md ("PostgreSQL settings") recommends for production: checkpoints
# by the timer, not by WAL volume, with full-page images (compressed) as in production, so the
# benchmark's WAL per job is the one production writes.
full_page_writes = on
wal_compression = lz4
checkpoint_timeout = 15min
max_wal_size = 8GB
min_wal_size = 1GB
checkpoint_completion_target = 0.9
log_line_prefix = '%m [%p] %q%u@%d '
log_min_messages = warning
EOF
    # Profiling aids (tests/bench/run.sh --pg-top): NT_PG_STATEMENTS=1 loads
    # pg_stat_statements; =explain also auto_explain, which logs the plan with timings of one
    # statement in 20 that takes 10 ms or more (to the PostgreSQL log: stack.sh logs pg).
    case ${NT_PG_STATEMENTS:-0} in
    1) printf "shared_preload_libraries = 'pg_stat_statements'\n" >>"$PG_DATA/numtrust.conf" ;;
    explain)
        printf "shared_preload_libraries = 'pg_stat_statements,auto_explain'\n%s\n" \
            "auto_explain.log_min_duration = '10ms'
auto_explain.log_analyze = on
auto_explain.log_buffers = on
auto_explain.log_nested_statements = on
auto_explain.sample_rate = 0.05
log_min_messages = log" >>"$PG_DATA/numtrust.conf"
        ;;
    esac
    if [ "${NT_PG_STATEMENTS:-0}" != 0 ]; then
        printf "pg_stat_statements.track = all\npg_stat_statements.track_planning = on\n" \
            >>"$PG_DATA/numtrust.conf"
    fi
    if nt_is_root; then chown postgres:postgres "$PG_DATA/numtrust.conf" "$PG_DATA/pg_hba.conf" "$PG_DATA/postgresql.conf"; fi
}

pg_answers() {
    "$NT_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$NT_PG_PORT" -U postgres -d postgres -t 2
}

pg_bootstrap() { # roles and database, idempotent
    "$NT_PG_BIN/psql" -X -q -h 127.0.0.1 -p "$NT_PG_PORT" -U postgres -d postgres \
        -v ON_ERROR_STOP=1 >/dev/null <<'EOF' || nt_die "postgres: creating roles numtrust, numtrust_worker and database numtrust failed"
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'numtrust') THEN
        CREATE ROLE numtrust LOGIN CREATEROLE;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'numtrust_worker') THEN
        CREATE ROLE numtrust_worker LOGIN;
    END IF;
END
$$;
SELECT 'CREATE DATABASE numtrust OWNER numtrust'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'numtrust') \gexec
EOF
}

start_pg() {
    local pid
    if pid="$(running_pid postgres)"; then
        nt_step "postgres: already up on 127.0.0.1:$NT_PG_PORT (pid $pid)"
        return 0
    fi
    [[ -x "$NT_PG_BIN/pg_ctl" ]] || nt_die "NT_PG_BIN='$NT_PG_BIN' has no pg_ctl: run deploy/local/install-deps.sh (package postgresql)"
    require_free_port NT_PG_PORT "$NT_PG_PORT"
    local t0
    t0="$(date +%s.%N)"
    pg_prepare_dirs
    [[ -f "$PG_DATA/PG_VERSION" ]] || pg_initdb
    pg_write_conf
    local mark
    mark="$(log_size "$PG_LOG")"
    if ! as_pg "$NT_PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -W -s start >/dev/null 2>&1; then
        log_tail "$PG_LOG"
        nt_die "postgres: pg_ctl start failed (NT_PG_PORT=$NT_PG_PORT)"
    fi
    local deadline=$((SECONDS + NT_STACK_TIMEOUT))
    # line 8 of postmaster.pid is the server's status ("ready" once it accepts connections)
    until [[ "$(sed -n 8p "$PG_DATA/postmaster.pid" 2>/dev/null)" == ready* ]]; do
        die_on_bind_error postgres "$PG_LOG" "$mark" NT_PG_PORT "$NT_PG_PORT"
        local fatal
        fatal="$(tail -c +"$((mark + 1))" "$PG_LOG" 2>/dev/null | grep -m1 -E '(FATAL|PANIC):' || true)"
        if [[ -n "$fatal" ]] && ! as_pg "$NT_PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
            log_tail "$PG_LOG"
            nt_die "postgres: exited while starting: $fatal"
        fi
        if ((SECONDS >= deadline)); then
            log_tail "$PG_LOG"
            nt_die "postgres: did not start on 127.0.0.1:$NT_PG_PORT within ${NT_STACK_TIMEOUT}s (NT_PG_PORT=$NT_PG_PORT)"
        fi
        sleep 0.1
    done
    pid="$(head -n1 "$PG_DATA/postmaster.pid")"
    record_pid postgres "$pid" || nt_die "postgres: postmaster $pid exited right after starting"
    deadline=$((SECONDS + NT_STACK_TIMEOUT))
    until pg_answers; do
        if ((SECONDS >= deadline)); then
            log_tail "$PG_LOG"
            nt_die "postgres: not answering on 127.0.0.1:$NT_PG_PORT after ${NT_STACK_TIMEOUT}s"
        fi
        sleep 0.2
    done
    pg_bootstrap
    nt_step "postgres: up on 127.0.0.1:$NT_PG_PORT (pid $pid, $(elapsed "$t0"))"
}

# MODE: fast (SIGINT: abort transactions, clean shutdown) or immediate (SIGQUIT: no
# shutdown checkpoint, crash recovery at next start).
stop_pg() {
    case "${1:-fast}" in
    fast) stop_proc postgres INT QUIT ;;
    immediate) stop_proc postgres QUIT KILL ;;
    *) nt_die "unknown PostgreSQL stop mode '$1' (fast or immediate)" ;;
    esac
}

# ---------------------------------------------------------------------------------------
# Kafka

kafka_write_conf() {
    mkdir -p "$KDIR/data"
    cat >"$KDIR/server.properties" <<EOF
# Written by deploy/local/stack.sh on every start; edits are lost.
# One node, KRaft, combined broker and controller, loopback only.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$NT_KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$NT_KAFKA_PORT,CONTROLLER://127.0.0.1:$NT_KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$NT_KAFKA_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$KDIR/data
auto.create.topics.enable=false
num.partitions=12
default.replication.factor=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
offsets.topic.replication.factor=1
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# After a kill -9 the restarted broker waits for its old registration's session to
# expire before it is unfenced: 3 s instead of 9 s keeps fault tests quick.
broker.session.timeout.ms=3000
broker.heartbeat.interval.ms=500
EOF
    cat >"$KDIR/log4j2.properties" <<'EOF'
# Written by deploy/local/stack.sh: warnings and errors only, plus the start/stop lines.
status = warn
# no log4j shutdown hook: the broker logs while it shuts down
shutdownHook = disable
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.out.ref = OUT
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = INFO
EOF
}

kafka_java() { # CLASS ARGS...: runs a Kafka class with the stack's JVM settings
    local -a heap
    read -ra heap <<<"$NT_KAFKA_HEAP"
    printf '%s\0' java "${heap[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
        -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$KDIR/log4j2.properties" -Dkafka.logs.dir="$KDIR" \
        -cp "$NT_KAFKA_LIBS/*" "$@"
}

kafka_format() {
    local id
    # A Kafka cluster id is 16 random bytes, base64url without padding.
    id="$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
    nt_step "kafka: formatting storage in $KDIR/data (first start, cluster $id)"
    local -a argv
    # --cluster-id=ID, not -t ID: an id starting with "-" (1 in 64) is not taken for an option
    mapfile -d '' argv < <(kafka_java kafka.tools.StorageTool format --cluster-id="$id" -c "$KDIR/server.properties")
    if ! "${argv[@]}" >>"$KDIR/kafka.log" 2>&1 9>&-; then
        log_tail "$KDIR/kafka.log"
        nt_die "kafka: formatting $KDIR/data failed"
    fi
    printf '%s\n' "$id" >"$KDIR/cluster-id"
}

kafka_answers() {
    if command -v kcat >/dev/null 2>&1; then
        kcat -b "127.0.0.1:$NT_KAFKA_PORT" -L -m 2 2>/dev/null | grep -q '^ *broker 1 at '
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$NT_KAFKA_PORT") 2>/dev/null
    fi
}

# launch_kafka: starts the broker process without waiting (so PostgreSQL starts meanwhile);
# sets KAFKA_LAUNCHED to true when it did start one. (Not an if-condition: set -e would be
# off inside it.)
launch_kafka() {
    local pid
    KAFKA_LAUNCHED=false
    if pid="$(running_pid kafka)"; then
        nt_step "kafka: already up on 127.0.0.1:$NT_KAFKA_PORT (pid $pid)"
        return 0
    fi
    if [[ ! -f "$NT_KAFKA_MARKER" ]] || ! compgen -G "$NT_KAFKA_LIBS/kafka_2.13-*.jar" >/dev/null; then
        nt_die "kafka: no broker jars in $NT_KAFKA_LIBS (NT_KAFKA_VERSION=$NT_KAFKA_VERSION): run deploy/local/install-deps.sh"
    fi
    command -v java >/dev/null 2>&1 || nt_die "kafka: no 'java' on PATH: run deploy/local/install-deps.sh"
    require_free_port NT_KAFKA_PORT "$NT_KAFKA_PORT"
    require_free_port NT_KAFKA_CONTROLLER_PORT "$NT_KAFKA_CONTROLLER_PORT"
    KAFKA_T0="$(date +%s.%N)"
    kafka_write_conf
    [[ -f "$KDIR/data/meta.properties" ]] || kafka_format
    local -a argv
    mapfile -d '' argv < <(kafka_java kafka.Kafka "$KDIR/server.properties")
    KAFKA_LOG_MARK="$(log_size "$KDIR/kafka.log")"
    spawn kafka "$KDIR/kafka.log" "$KDIR" "${argv[@]}"
    KAFKA_LAUNCHED=true
}

wait_kafka() {
    local deadline=$((SECONDS + NT_STACK_TIMEOUT)) pid
    until kafka_answers; do
        die_on_bind_error kafka "$KDIR/kafka.log" "${KAFKA_LOG_MARK:-0}" NT_KAFKA_PORT "$NT_KAFKA_PORT or NT_KAFKA_CONTROLLER_PORT=$NT_KAFKA_CONTROLLER_PORT"
        if ! pid="$(running_pid kafka)"; then
            log_tail "$KDIR/kafka.log"
            nt_die "kafka: the broker exited before answering on 127.0.0.1:$NT_KAFKA_PORT"
        fi
        if ((SECONDS >= deadline)); then
            log_tail "$KDIR/kafka.log"
            nt_die "kafka: no metadata from 127.0.0.1:$NT_KAFKA_PORT after ${NT_STACK_TIMEOUT}s (NT_STACK_TIMEOUT=$NT_STACK_TIMEOUT)"
        fi
        sleep 0.3
    done
    pid="$(running_pid kafka)"
    nt_step "kafka: up on 127.0.0.1:$NT_KAFKA_PORT, controller 127.0.0.1:$NT_KAFKA_CONTROLLER_PORT (pid $pid, $(elapsed "$KAFKA_T0"))"
}

kafka_tool() { # CLASS ARGS...: one of Kafka's admin CLIs, aimed at this broker
    local class="$1"
    shift
    [[ -f "$KDIR/log4j2.properties" ]] || kafka_write_conf # quiet logging
    exec java -Xmx256m -Dlog4j2.configurationFile="$KDIR/log4j2.properties" \
        -cp "$NT_KAFKA_LIBS/*" "$class" --bootstrap-server "127.0.0.1:$NT_KAFKA_PORT" "$@"
}

start_kafka() {
    launch_kafka
    if $KAFKA_LAUNCHED; then wait_kafka; fi
}

# ---------------------------------------------------------------------------------------
# simulator

sim_answers() {
    curl -fsS --max-time 2 "http://127.0.0.1:$NT_SIM_PORT/admin/health" >/dev/null 2>&1
}

sim_preflight() { # what start_sim needs, checked before anything starts
    local bin="$NT_BUILD_DIR/bin/numtrust-platform-sim"
    [[ -x "$bin" ]] || nt_die "sim: $bin not found (NT_BUILD_DIR=$NT_BUILD_DIR): build first (cmake -S . -B build -G Ninja && cmake --build build), or use 'up --no-sim'"
    [[ "$NT_SIM_SEED" =~ ^[0-9]+$ ]] || nt_die "NT_SIM_SEED='$NT_SIM_SEED' is not a non-negative integer"
    [[ -z "$NT_SIM_CONFIG" || -r "$NT_SIM_CONFIG" ]] || nt_die "NT_SIM_CONFIG='$NT_SIM_CONFIG' is not a readable file"
}

start_sim() {
    local pid
    if pid="$(running_pid sim)"; then
        nt_step "sim: already up on 127.0.0.1:$NT_SIM_PORT (pid $pid)"
        return 0
    fi
    local bin="$NT_BUILD_DIR/bin/numtrust-platform-sim"
    sim_preflight
    # simulated time starts at real time, as numtrust time does: certification
    # expiry dates then mean the same thing on both sides
    local -a args=(--listen "127.0.0.1:$NT_SIM_PORT" --seed "$NT_SIM_SEED"
        --clock-start "${NT_SIM_CLOCK_START:-now}")
    if [[ -n "$NT_SIM_CONFIG" ]]; then
        args+=(--config "$(realpath "$NT_SIM_CONFIG")")
    fi
    require_free_port NT_SIM_PORT "$NT_SIM_PORT"
    mkdir -p "$SDIR"
    local t0
    t0="$(date +%s.%N)"
    export NT_SIM_HMAC_KEY NT_SIM_HMAC_SECRET NT_SIM_BEARER_TOKEN NT_SIM_CALLBACK_SECRET # the credentials it accepts and signs with
    local mark
    mark="$(log_size "$SDIR/sim.log")"
    spawn sim "$SDIR/sim.log" "$SDIR" "$bin" "${args[@]}"
    local deadline=$((SECONDS + NT_STACK_TIMEOUT))
    until sim_answers; do
        die_on_bind_error sim "$SDIR/sim.log" "$mark" NT_SIM_PORT "$NT_SIM_PORT"
        if ! pid="$(running_pid sim)"; then
            rm -f "$RUN/sim.pid"
            local status=0
            wait "$SPAWN_BG" 2>/dev/null || status=$?
            log_tail "$SDIR/sim.log"
            nt_die "sim: $bin exited with status $status before answering http://127.0.0.1:$NT_SIM_PORT/admin/health"
        fi
        if ((SECONDS >= deadline)); then
            log_tail "$SDIR/sim.log"
            nt_die "sim: no answer from http://127.0.0.1:$NT_SIM_PORT/admin/health after ${NT_STACK_TIMEOUT}s"
        fi
        sleep 0.1
    done
    nt_step "sim: up on 127.0.0.1:$NT_SIM_PORT (pid $(running_pid sim), seed $NT_SIM_SEED, $(elapsed "$t0"))"
}

# ---------------------------------------------------------------------------------------
# commands

cmd_up() {
    local sim=true
    while (($#)); do
        case "$1" in
        --no-sim) sim=false ;;
        *) nt_die "up: unknown option '$1' (--no-sim)" ;;
        esac
        shift
    done
    if $sim; then sim_preflight; fi
    take_lock
    trap 'if (($? != 0)); then nt_warn "up failed; what did start keeps running: stack.sh status, stack.sh down"; fi' EXIT
    nt_step "stack: state in $STATE"
    if running_pid postgres >/dev/null && running_pid kafka >/dev/null &&
        { ! $sim || running_pid sim >/dev/null; }; then
        nt_step "stack: already up, nothing to do (stack.sh status for details)"
        return 0
    fi
    # The broker's JVM takes longest: launch it, start PostgreSQL meanwhile, then wait.
    launch_kafka
    start_pg
    if $KAFKA_LAUNCHED; then wait_kafka; fi
    if $sim; then start_sim; else nt_step "sim: skipped (--no-sim)"; fi
    nt_step "stack: up; settings: eval \"\$($NT_STACK env)\""
}

cmd_down() {
    local purge=false
    while (($#)); do
        case "$1" in
        --purge) purge=true ;;
        *) nt_die "down: unknown option '$1' (--purge)" ;;
        esac
        shift
    done
    take_lock
    stop_proc sim TERM
    stop_proc kafka TERM
    stop_pg fast
    if $purge; then
        nt_step "stack: deleting data in $STATE (pg, kafka, sim, run)"
        rm -rf "$KDIR" "$SDIR"
        if [[ -L "$STATE/pg" ]]; then rm -f "$STATE/pg"; fi
        rm -rf "$PG_BASE"
        rm -rf "$RUN"
        rmdir "$STATE" 2>/dev/null || true
    fi
}

status_line() { # NAME ADDRESS ANSWERS_FN
    local pid state
    if pid="$(running_pid "$1")"; then
        if "$3"; then state="up"; else state="up (not answering)"; fi
        printf '%-9s %-20s %-22s pid %s\n' "$1" "$state" "$2" "$pid"
        [[ "$state" == up ]]
    else
        printf '%-9s %-20s %s\n' "$1" "down" "$2"
        return 1
    fi
}

cmd_status() {
    local ok=0
    printf 'stack state: %s\n' "$STATE"
    status_line postgres "127.0.0.1:$NT_PG_PORT" pg_answers || ok=3
    status_line kafka "127.0.0.1:$NT_KAFKA_PORT" kafka_answers || ok=3
    status_line sim "127.0.0.1:$NT_SIM_PORT" sim_answers || ok=3
    return "$ok"
}

sq() { # single-quotes a value for the shell
    printf "'%s'" "${1//\'/\'\\\'\'}"
}

cmd_env() {
    local -a kv=(
        NUMTRUST_PG_CONNINFO "host=127.0.0.1 port=$NT_PG_PORT dbname=numtrust user=numtrust"
        NUMTRUST_KAFKA_BOOTSTRAP_SERVERS "127.0.0.1:$NT_KAFKA_PORT"
        NT_SIM_URL "http://127.0.0.1:$NT_SIM_PORT"
        NUMTRUST_PLATFORMS_FILE "$NT_REPO/deploy/local/platforms.json"
        NT_PG_WORKER_CONNINFO "host=127.0.0.1 port=$NT_PG_PORT dbname=numtrust user=numtrust_worker"
        NT_PG_ADMIN_CONNINFO "host=127.0.0.1 port=$NT_PG_PORT dbname=postgres user=postgres"
        NT_SIM_HMAC_KEY "$NT_SIM_HMAC_KEY"
        NT_SIM_HMAC_SECRET "$NT_SIM_HMAC_SECRET"
        NT_SIM_BEARER_TOKEN "$NT_SIM_BEARER_TOKEN"
        NT_SIM_CALLBACK_SECRET "$NT_SIM_CALLBACK_SECRET"
        # so that `stack.sh restart-kafka` etc. from a test reach this same stack
        NT_STACK "$NT_STACK"
        NT_STATE_DIR "$STATE"
        NT_PG_PORT "$NT_PG_PORT"
        NT_KAFKA_PORT "$NT_KAFKA_PORT"
        NT_KAFKA_CONTROLLER_PORT "$NT_KAFKA_CONTROLLER_PORT"
        NT_SIM_PORT "$NT_SIM_PORT"
        NT_SIM_SEED "$NT_SIM_SEED"
        NT_BUILD_DIR "$NT_BUILD_DIR"
        NT_KAFKA_LIBS "$NT_KAFKA_LIBS"
    )
    [[ -z "$NT_SIM_CONFIG" ]] || kv+=(NT_SIM_CONFIG "$(realpath "$NT_SIM_CONFIG")")
    local i
    for ((i = 0; i < ${#kv[@]}; i += 2)); do
        printf 'export %s=%s\n' "${kv[i]}" "$(sq "${kv[i + 1]}")"
    done
}

cmd_logs() {
    local follow=false n=40 which=""
    while (($#)); do
        case "$1" in
        -f | --follow) follow=true ;;
        -n)
            [[ "${2:-}" =~ ^[0-9]+$ ]] || nt_die "logs: -n needs a number of lines"
            n="$2"
            shift
            ;;
        pg | postgres | kafka | sim) which="$1" ;;
        *) nt_die "logs: unknown argument '$1' (pg, kafka, sim, -f, -n N)" ;;
        esac
        shift
    done
    local -a files=()
    [[ -z "$which" || "$which" == pg || "$which" == postgres ]] && files+=("$PG_LOG")
    [[ -z "$which" || "$which" == kafka ]] && files+=("$KDIR/kafka.log")
    [[ -z "$which" || "$which" == sim ]] && files+=("$SDIR/sim.log")
    local -a present=()
    local f
    for f in "${files[@]}"; do [[ -f "$f" ]] && present+=("$f"); done
    ((${#present[@]})) || nt_die "no logs yet under $STATE"
    if $follow; then
        exec tail -n "$n" -F "${present[@]}"
    fi
    tail -n "$n" "${present[@]}"
}

one_opt() { # CMD ALLOWED... -- ARGS: at most one argument, from ALLOWED
    local cmd="$1"
    shift
    local -a allowed=()
    while [[ "$1" != -- ]]; do
        allowed+=("$1")
        shift
    done
    shift
    (($# <= 1)) || nt_die "$cmd: too many arguments"
    [[ $# -eq 0 ]] && return 0
    local a
    for a in "${allowed[@]}"; do [[ "$1" == "$a" ]] && return 0; done
    nt_die "$cmd: unknown option '$1' (${allowed[*]})"
}

main() {
    local cmd="${1:-help}"
    (($#)) && shift
    case "$cmd" in
    help | -h | --help)
        usage
        return 0
        ;;
    esac
    init_paths
    case "$cmd" in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status "$@" ;;
    env) cmd_env "$@" ;;
    logs) cmd_logs "$@" ;;
    restart-kafka)
        one_opt "$cmd" --kill -- "$@"
        take_lock
        if [[ "${1:-}" == --kill ]]; then stop_proc kafka KILL; else stop_proc kafka TERM; fi
        start_kafka
        ;;
    kill-kafka)
        one_opt "$cmd" -- "$@"
        take_lock
        stop_proc kafka KILL
        ;;
    stop-kafka)
        one_opt "$cmd" -- "$@"
        take_lock
        stop_proc kafka TERM
        ;;
    start-kafka)
        one_opt "$cmd" -- "$@"
        take_lock
        start_kafka
        ;;
    restart-pg)
        one_opt "$cmd" --fast --immediate -- "$@"
        take_lock
        local mode="${1:---fast}"
        stop_pg "${mode#--}"
        start_pg
        ;;
    stop-pg)
        one_opt "$cmd" -- "$@"
        take_lock
        stop_pg fast
        ;;
    start-pg)
        one_opt "$cmd" -- "$@"
        take_lock
        start_pg
        ;;
    stop-sim)
        one_opt "$cmd" -- "$@"
        take_lock
        stop_proc sim TERM
        ;;
    start-sim)
        one_opt "$cmd" -- "$@"
        take_lock
        start_sim
        ;;
    restart-sim)
        one_opt "$cmd" -- "$@"
        take_lock
        stop_proc sim TERM
        start_sim
        ;;
    kafka-topics) kafka_tool org.apache.kafka.tools.TopicCommand "$@" ;;
    kafka-groups) kafka_tool org.apache.kafka.tools.consumer.group.ConsumerGroupCommand "$@" ;;
    *)
        usage >&2
        nt_die "unknown command '$cmd'"
        ;;
    esac
}

main "$@"
