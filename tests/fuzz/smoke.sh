#!/usr/bin/env bash
# tests/fuzz/smoke.sh WORKDIR FUZZER [libFuzzer arguments...] — what each fuzz.<target> ctest
# runs: empties WORKDIR (the build tree's working corpus and crash directory), runs FUZZER
# there with -artifact_prefix=WORKDIR/crashes/, and on failure names the crash file.
set -uo pipefail
work="$1"
fuzzer="$(realpath "$2")"
shift 2
rm -rf "$work"
mkdir -p "$work/corpus" "$work/crashes"
cd "$work" || exit 1
"$fuzzer" -artifact_prefix="$work/crashes/" "$@"
rc=$?
if ((rc != 0)); then
    printf 'fuzz smoke failed (exit %d); reproducer(s):\n' "$rc"
    find "$work/crashes" -type f -printf '  %p\n'
fi
exit "$rc"
