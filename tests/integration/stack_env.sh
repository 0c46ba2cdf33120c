#!/usr/bin/env bash
# The README's way to use a running stack (issue 15, item 5): `eval "$(stack.sh env)"` from
# any directory, then the programs. stack.sh env must export NUMTRUST_PLATFORMS_FILE as an
# absolute path (without it, the default "platforms.json" is looked up in the caller's
# directory), and a relative NT_BUILD_DIR is resolved against the caller's directory.
. "$(dirname "$0")/lib.sh"
nt_setup stackenv
mkdir -p "$NT_TMP/elsewhere/mybuild"
out=$(cd "$NT_TMP/elsewhere" && env -u NUMTRUST_PLATFORMS_FILE NT_BUILD_DIR=mybuild \
    bash "$NT_REPO/deploy/local/stack.sh" env)
pf=$(sed -n "s/^export NUMTRUST_PLATFORMS_FILE='\(.*\)'$/\1/p" <<<"$out")
case "$pf" in /*) ;; *) fail "NUMTRUST_PLATFORMS_FILE not absolute: '$pf'" ;; esac
[ -f "$pf" ] || fail "NUMTRUST_PLATFORMS_FILE names no file: $pf"
log "ok: stack.sh env exports NUMTRUST_PLATFORMS_FILE=$pf"
assert_eq "a relative NT_BUILD_DIR, resolved against the caller's directory" \
    "$(sed -n "s/^export NT_BUILD_DIR='\(.*\)'$/\1/p" <<<"$out")" "$NT_TMP/elsewhere/mybuild"
# the README's sequence, from a directory without a platforms.json
res=$(cd "$NT_TMP/elsewhere" && env -u NUMTRUST_PLATFORMS_FILE bash -c \
    'eval "$("$0/deploy/local/stack.sh" env)" && "$1" enqueue check --prefix +869999999 --period "$2"' \
    "$NT_REPO" "$PRODUCER" "$NT_TEST_NAME-$$" 2>&1) || fail "enqueue after eval \"\$(stack.sh env)\": $res"
grep -q "0 selected" <<<"$res" || fail "unexpected enqueue output: $res"
log "ok: enqueue after eval \"\$(stack.sh env)\" from another directory: $res"
log "PASS"
