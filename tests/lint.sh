#!/usr/bin/env bash
# tests/lint.sh — the tree's lint step (ctest lint.*, run by tests/run.sh):
#   format: every tracked .c/.h file is as .clang-format wants it (clang-format 14)
#   scripts: every tracked .sh file passes the shell linter at severity warning (.shellcheckrc)
# Prints each offending file and exits 1 when there is one; `tests/lint.sh fix-format`
# reformats the tracked C files in place.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    echo "usage: tests/lint.sh format|shellcheck|fix-format|all"
}

lint_format() {
    local bad=0 f
    while IFS= read -r -d '' f; do
        if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
            echo "not formatted: $f (clang-format -i $f)"
            bad=$((bad + 1))
        fi
    done < <(git ls-files -z '*.c' '*.h')
    echo "clang-format: $bad file(s) not formatted"
    ((bad == 0))
}

lint_shellcheck() {
    local -a files
    mapfile -d '' files < <(git ls-files -z '*.sh')
    if shellcheck -S warning "${files[@]}"; then
        echo "shellcheck: ${#files[@]} scripts clean"
        return 0
    fi
    echo "shellcheck: findings above"
    return 1
}

case "${1:-all}" in
format) lint_format ;;
shellcheck) lint_shellcheck ;;
fix-format) git ls-files -z '*.c' '*.h' | xargs -0 clang-format -i ;;
all)
    rc=0
    lint_format || rc=1
    lint_shellcheck || rc=1
    exit $rc
    ;;
-h | --help) usage ;;
*)
    usage >&2
    exit 2
    ;;
esac
