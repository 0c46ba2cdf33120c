#!/usr/bin/env bash
# tests/run.sh — numtrust's test command (the README's, and CI's through .ci/run): installs
# what is missing, builds, starts a private local stack (own state dir and ports, so a demo
# stack keeps running), runs ctest against it, always stops the stack, and exits with
# ctest's status.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK="$REPO/deploy/local/stack.sh"

usage() {
    cat <<'EOF'
usage: tests/run.sh [--no-stack] [--no-sim] [--no-sanitize] [--] [ctest arguments...]

  1. deploy/local/install-deps.sh (fast when everything is there)
  2. cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build build
  3. a fresh test stack (PostgreSQL, Kafka, simulator) from deploy/local/stack.sh, with
     NT_STATE_DIR=<repo>/.state/test and ports 15432 / 19092 / 19093 / 18080 (below Linux's ephemeral range); its
     settings (stack.sh env) are exported to the tests; stopped on exit, whatever happens
  4. ctest --test-dir build --output-on-failure [ctest arguments...]
  5. the same build in build-asan with -DNT_SANITIZE=ON (ASan+UBSan, leak checks on exit),
     its unit and simulator tests, and the integration tests that drive the most worker
     code paths (exactly-once, poison, restarts, tags and appeals, the control plane's API
     and its iCalendar import) with those binaries
  6. the fuzzing smoke run: tests/fuzz/run.sh --seconds NT_FUZZ_SECONDS (10) per target

Options:
  --no-stack   no servers: only the unit tests and the lint step (ctest -L 'unit|lint')
  --no-sim     start PostgreSQL and Kafka but not the platform simulator
  --no-sanitize  skip the sanitizer build and its tests
  --no-fuzz      skip the fuzzing smoke run (NT_FUZZ_SECONDS per target, default 10)
  --help       this text
Anything else (e.g. -R pattern, -L label, -j 2) goes to ctest.

Environment: NT_TEST_STATE_DIR, NT_TEST_PG_PORT, NT_TEST_KAFKA_PORT,
NT_TEST_KAFKA_CONTROLLER_PORT, NT_TEST_SIM_PORT override the test stack's state dir and ports.
Exit status: ctest's (the first failing one); 2 for a usage error; 1 when
installing, building or starting the stack fails.
EOF
}

T_START="$(date +%s.%N)"
FUZZ_SECONDS="${NT_FUZZ_SECONDS:-10}"
SECTION=""
SECTION_T0=""
declare -a SUMMARY=()

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

section() { # NAME: ends the previous section (printing its time) and starts NAME
    end_section
    SECTION="$1"
    SECTION_T0="$(now)"
    printf '\n=== %s\n' "$SECTION"
}

end_section() {
    [[ -n "$SECTION" ]] || return 0
    local s
    s="$(secs "$SECTION_T0" "$(now)")"
    printf -- '--- %s: %ss\n' "$SECTION" "$s"
    SUMMARY+=("$(printf '%8ss  %s' "$s" "$SECTION")")
    SECTION=""
}

STACK_STARTED=false
on_exit() {
    local rc=$?
    end_section
    if $STACK_STARTED; then
        printf '\n=== stop test stack\n'
        # In CI (a throw-away clone) the data goes too: as root, PostgreSQL's lives in
        # /var/tmp, outside the clone. Locally it stays for a look after a failure.
        local -a down_args=()
        [[ -z "${CI:-}" ]] || down_args+=(--purge)
        "$STACK" down "${down_args[@]}" || printf 'warning: stack.sh down failed; check with: NT_STATE_DIR=%s %s status\n' "$NT_STATE_DIR" "$STACK" >&2
    fi
    printf '\n=== summary\n'
    local line
    for line in "${SUMMARY[@]}"; do printf '%s\n' "$line"; done
    printf '%8ss  total, exit status %d\n' "$(secs "$T_START" "$(now)")" "$rc"
}

build() { # DIR CMAKE_ARGS...
    local dir="$1"
    shift
    # Ninja for a new build tree; an existing one keeps the generator it was made with
    local gen=(-G Ninja)
    [[ -f "$REPO/$dir/CMakeCache.txt" ]] && gen=()
    cmake -S "$REPO" -B "$REPO/$dir" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
    cmake --build "$REPO/$dir"
}

main() {
    local use_stack=true use_sim=true sanitize=true fuzz=true
    local -a ctest_args=()
    while (($#)); do
        case "$1" in
        --no-stack) use_stack=false ;;
        --no-sim) use_sim=false ;;
        --no-sanitize) sanitize=false ;;
        --no-fuzz) fuzz=false ;;
        --sanitize) sanitize=true ;; # the default; kept for old habits
        -h | --help)
            usage
            return 0
            ;;
        --)
            shift
            ctest_args+=("$@")
            break
            ;;
        *) ctest_args+=("$1") ;;
        esac
        shift
    done

    trap on_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    cd "$REPO"

    section "install dependencies"
    bash "$REPO/deploy/local/install-deps.sh"

    section "build (build/, RelWithDebInfo)"
    build build

    if $use_stack; then
        section "start test stack"
        # Test values always win over a demo stack's NT_* settings in this shell.
        export NT_STATE_DIR="${NT_TEST_STATE_DIR:-$REPO/.state/test}"
        export NT_PG_PORT="${NT_TEST_PG_PORT:-15432}"
        export NT_KAFKA_PORT="${NT_TEST_KAFKA_PORT:-19092}"
        export NT_KAFKA_CONTROLLER_PORT="${NT_TEST_KAFKA_CONTROLLER_PORT:-19093}"
        export NT_SIM_PORT="${NT_TEST_SIM_PORT:-18080}"
        export NT_BUILD_DIR="$REPO/build"
        # A fresh stack each run: results never depend on an earlier run's data.
        "$STACK" down --purge >/dev/null
        STACK_STARTED=true
        local -a up_args=()
        $use_sim || up_args+=(--no-sim)
        "$STACK" up "${up_args[@]}"
        eval "$("$STACK" env)"
        "$STACK" env | sed 's/^/    /'
    else
        ctest_args=(-L 'unit|lint' "${ctest_args[@]}")
    fi

    local rc=0
    section "ctest (build/)"
    ctest --test-dir "$REPO/build" --output-on-failure --no-tests=error "${ctest_args[@]}" || rc=$?

    if $sanitize; then
        section "build with sanitizers (build-asan/, NT_SANITIZE=ON)"
        build build-asan -DNT_SANITIZE=ON
        section "ctest unit and sim tests (build-asan/)"
        export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}"
        export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
        local arc=0
        ctest --test-dir "$REPO/build-asan" --output-on-failure --no-tests=error -R '^(unit|sim)\.' \
            -j "$(nproc)" || arc=$?
        ((rc != 0)) || rc=$arc
        if $use_stack; then
            # the worker and producer under ASan+UBSan against the real stack: a
            # sanitizer report or a leak at exit makes the process exit non-zero,
            # which these tests check
            section "ctest integration tests with sanitized binaries (build-asan/)"
            arc=0
            ctest --test-dir "$REPO/build-asan" --output-on-failure --no-tests=error \
                -R '^integration\.(checks_exactly_once|poison_messages|tag_and_appeal|worker_restart|api_contract|api_calendar)$' ||
                arc=$?
            ((rc != 0)) || rc=$arc
        fi
    fi
    if $fuzz; then
        # coverage-guided fuzzing of the envelope decoder, each dialect's answer
        # parser and the HTTP request parser, with cJSON compiled in from source;
        # the reproducers of every bug found so far are replayed as seeds
        section "fuzz smoke (libFuzzer, ${FUZZ_SECONDS}s per target)"
        local frc=0
        bash "$REPO/tests/fuzz/run.sh" --seconds "$FUZZ_SECONDS" || frc=$?
        ((rc != 0)) || rc=$frc
    fi
    return "$rc"
}

main "$@"
