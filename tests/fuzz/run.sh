#!/usr/bin/env bash
# tests/fuzz/run.sh — numtrust's fuzz run (docs/fuzzing.md): fetches the cJSON source if
# needed, configures and builds build-fuzz/ with clang (-DNT_FUZZ=ON), runs each libFuzzer
# target for a while over a working copy of its seed corpus, prints exec/s and coverage, and
# exits non-zero when any target crashed, naming the crash file.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
FUZZ="$REPO/tests/fuzz"
BUILD="${NT_FUZZ_BUILD_DIR:-$REPO/build-fuzz}"
ALL_TARGETS=(fuzz_job_decode fuzz_dialect_a fuzz_dialect_b fuzz_dialect_c fuzz_dialect_d fuzz_httpd_request
    fuzz_callback)

usage() {
    cat <<EOF
usage: tests/fuzz/run.sh [--seconds N] [--fork N] [--keep] [--strict] [--no-build]
                         [target...] [-- libFuzzer arguments...]

Targets (default: all): ${ALL_TARGETS[*]}

For each target: copies tests/fuzz/corpus/<target>/ into a temporary working corpus (the
committed seeds are never written), runs build-fuzz/bin/<target> for N seconds with
tests/fuzz/dict/<target>.dict when there is one, and prints the run's exec/s, cov: and ft:.
A crash, leak, sanitizer report or broken contract stops that target; its input is written
to build-fuzz/fuzz-artifacts/<target>/ and the path is printed.

Options:
  --seconds N  time per target (default 15)
  --fork N     N parallel fuzzing processes per target (libFuzzer -fork=N)
  --keep       keep the working corpus in tests/fuzz/corpus-<target>/ (git-ignored) and
               start from it next time: what a long campaign wants
  --strict     tolerate no known bug (tests/fuzz/known-bugs.supp): NT_FUZZ_STRICT=1 and
               UBSan without suppressions
  --no-build   use the binaries already in build-fuzz/bin
  --help       this text
Arguments after -- go to every libFuzzer run (e.g. -- -max_len=8192 -use_value_profile=1).

Environment: NT_FUZZ_BUILD_DIR (default <repo>/build-fuzz).
Exit status: 0 when no target crashed, 1 when one did (or the build failed), 2 usage.
EOF
}

say() { printf '==> %s\n' "$*"; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

main() {
    local seconds=15 fork=0 keep=false strict=false build=true
    local -a targets=() extra=()
    while (($#)); do
        case "$1" in
        --seconds)
            [[ "${2:-}" =~ ^[0-9]+$ ]] || {
                usage >&2
                return 2
            }
            seconds="$2"
            shift
            ;;
        --fork)
            [[ "${2:-}" =~ ^[0-9]+$ ]] || {
                usage >&2
                return 2
            }
            fork="$2"
            shift
            ;;
        --keep) keep=true ;;
        --strict) strict=true ;;
        --no-build) build=false ;;
        -h | --help)
            usage
            return 0
            ;;
        --)
            shift
            extra=("$@")
            break
            ;;
        -*)
            usage >&2
            return 2
            ;;
        *)
            local known=false t
            for t in "${ALL_TARGETS[@]}"; do [[ "$t" == "$1" ]] && known=true; done
            $known || {
                printf 'unknown target %s (targets: %s)\n' "$1" "${ALL_TARGETS[*]}" >&2
                return 2
            }
            targets+=("$1")
            ;;
        esac
        shift
    done
    ((${#targets[@]})) || targets=("${ALL_TARGETS[@]}")

    if $build; then
        say "cJSON source"
        bash "$FUZZ/fetch-cjson.sh"
        command -v clang >/dev/null 2>&1 || die "no clang on PATH (deploy/local/install-deps.sh installs clang and libclang-rt-14-dev)"
        say "configure $BUILD (clang, NT_FUZZ=ON)"
        mkdir -p "$BUILD"
        cmake -S "$REPO" -B "$BUILD" -G Ninja -DNT_FUZZ=ON -DCMAKE_C_COMPILER=clang \
            -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$BUILD/configure.log" 2>&1 ||
            {
                tail -n 30 "$BUILD/configure.log" >&2
                die "cmake configure failed (log: $BUILD/configure.log)"
            }
        say "build ${targets[*]}"
        cmake --build "$BUILD" --target "${targets[@]}" || die "build failed"
    fi

    local -a env=()
    if $strict; then
        env=(NT_FUZZ_STRICT=1 "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:report_error_type=1:suppressions=")
    fi

    local tmproot
    tmproot="$(mktemp -d "${TMPDIR:-/tmp}/nt-fuzz.XXXXXX")"
    # shellcheck disable=SC2064 # expand tmproot now
    trap "rm -rf '$tmproot'" EXIT

    local failed=0 t
    local -a summary=()
    for t in "${targets[@]}"; do
        local bin="$BUILD/bin/$t"
        [[ -x "$bin" ]] || die "$bin is missing (run without --no-build)"
        local work="$tmproot/corpus-$t"
        $keep && work="$FUZZ/corpus-$t"
        local art="$BUILD/fuzz-artifacts/$t"
        local log="$BUILD/fuzz-logs/$t.log"
        mkdir -p "$work" "$art" "$(dirname "$log")"
        cp -n "$FUZZ/corpus/$t/"* "$work/" 2>/dev/null || true
        local -a args=(-max_total_time="$seconds" -print_final_stats=1 -timeout=30
            -artifact_prefix="$art/")
        [[ -f "$FUZZ/dict/$t.dict" ]] && args+=(-dict="$FUZZ/dict/$t.dict")
        ((fork > 0)) && args+=(-fork="$fork")
        say "$t: ${seconds}s, corpus $work ($(find "$work" -type f | wc -l) inputs), log $log"
        local rc=0
        # the fuzzer runs in its work directory so that fork-mode scratch files stay there
        (cd "$tmproot" && env "${env[@]}" "$bin" "${args[@]}" "${extra[@]}" "$work") >"$log" 2>&1 ||
            rc=$?
        local last execs
        last="$(grep -E '^#[0-9]+:?[[:space:]].*cov: ' "$log" | tail -n 1 || true)"
        execs="$(awk '/stat::average_exec_per_sec/ { print $2 }' "$log" | tail -n 1)"
        [[ -n "$execs" ]] || execs="$(sed -n 's/.*exec\/s:\{0,1\} \([0-9]*\).*/\1/p' <<<"$last")"
        local cov ft
        cov="$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")"
        ft="$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")"
        printf '    %s\n' "${last:-(no status line)}"
        printf '    exec/s %s  cov: %s  ft: %s\n' "${execs:-?}" "${cov:-?}" "${ft:-?}"
        if ((rc != 0)); then
            failed=1
            printf '    CRASH (exit %d):\n' "$rc"
            grep -E 'ERROR: |SUMMARY: |runtime error|fuzz check failed|round trip|Test unit written' "$log" |
                head -n 20 | sed 's/^/      /'
            summary+=("$(printf '%-20s exec/s %-8s cov: %-6s ft: %-6s CRASH  %s' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$(sed -n 's/.*Test unit written to \(.*\)/\1/p' "$log" | head -n 1)")")
        else
            summary+=("$(printf '%-20s exec/s %-8s cov: %-6s ft: %-6s ok' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}")")
        fi
    done

    printf '\n=== fuzz summary (%ss per target)\n' "$seconds"
    local line
    for line in "${summary[@]}"; do printf '%s\n' "$line"; done
    if ((failed)); then
        printf 'crash inputs are in %s/fuzz-artifacts/<target>/; see docs/fuzzing.md to reproduce and minimise\n' "$BUILD"
        return 1
    fi
    return 0
}

main "$@"
