# bench-lib.sh — what run.sh, ceilings.sh and matrix.sh share: the stack to run against
# (the one in the environment, or a private one with --stack) and where the programs are.
# Sourced; the caller sets -euo pipefail.
# shellcheck shell=bash

NT_BENCH_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NT_BENCH_STACK_STARTED=false

# bench_stack_up: a private stack for --stack, with its own state dir and ports (so that a
# demo or test stack keeps running), started unless it already runs; exports its settings.
# bench_stack_down stops it again if bench_stack_up started it.
bench_stack_up() {
    export NT_STATE_DIR=${NT_BENCH_STATE_DIR:-$NT_BENCH_REPO/.state/bench-run}
    export NT_PG_PORT=${NT_BENCH_PG_PORT:-17432}
    export NT_KAFKA_PORT=${NT_BENCH_KAFKA_PORT:-17092}
    export NT_KAFKA_CONTROLLER_PORT=${NT_BENCH_KAFKA_CONTROLLER_PORT:-17093}
    export NT_SIM_PORT=${NT_BENCH_SIM_PORT:-17080}
    NT_BUILD_DIR=$(realpath -m -- "${NT_BUILD_DIR:-$NT_BENCH_REPO/build}")
    export NT_BUILD_DIR
    if ! "$NT_BENCH_REPO/deploy/local/stack.sh" status >/dev/null 2>&1; then
        echo "[bench] starting a private stack in $NT_STATE_DIR" >&2
        "$NT_BENCH_REPO/deploy/local/stack.sh" up >&2
        NT_BENCH_STACK_STARTED=true
    fi
    eval "$("$NT_BENCH_REPO/deploy/local/stack.sh" env)"
}

bench_stack_down() {
    if $NT_BENCH_STACK_STARTED; then
        "$NT_BENCH_REPO/deploy/local/stack.sh" down >&2 || true
        NT_BENCH_STACK_STARTED=false
    fi
}

# bench_bin NAME: path of a benchmark helper program (tests/bench/CMakeLists.txt), or exit 1
# with what to do.
bench_bin() {
    local b=${NT_BENCH_BIN:-${NT_BUILD_DIR:-$NT_BENCH_REPO/build}/bin}/$1
    if [ ! -x "$b" ]; then
        echo "bench: $b is not built: tests/CMakeLists.txt needs add_subdirectory(bench), then" \
            "cmake --build; or point NT_BENCH_BIN at a build that has it" >&2
        exit 1
    fi
    printf '%s\n' "$b"
}
