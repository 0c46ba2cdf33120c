#!/usr/bin/env bash
# An installed numtrust finds its migrations where it is installed, and nothing it prints
# or documents carries the build machine's paths (issue 15, item 6).
. "$(dirname "$0")/lib.sh"
nt_setup install
prefix=$NT_TMP/prefix
cmake --install "$NT_BUILD_DIR" --prefix "$prefix" >"$NT_TMP/install.log" || {
    cat "$NT_TMP/install.log"
    fail "cmake --install failed"
}
for b in numtrust-producer numtrust-worker numtrust-platform-sim; do
    [ -x "$prefix/bin/$b" ] || fail "$b not installed in $prefix/bin"
done
want=$(find "$NT_REPO/deploy/sql" -name '[0-9]*_*.sql' | wc -l)
got=$(find "$prefix/share/numtrust/sql" -name '[0-9]*_*.sql' | wc -l)
assert_eq "migrations installed" "$got" "$want"
[ -f "$prefix/share/numtrust/platforms.example.json" ] || fail "no platforms.example.json installed"

# the installed producer looks beside itself, not in the source or build tree
help=$(env -u NUMTRUST_SQL_DIR "$prefix/bin/numtrust-producer" migrate --help)
grep -qF "$prefix/bin/../share/numtrust/sql" <<<"$help" || fail "migrate --help: $help"
log "ok: migrate --help names $prefix/bin/../share/numtrust/sql"
# and applies from there: the test database is migrated already, so nothing is new
out=$(env -u NUMTRUST_SQL_DIR "$prefix/bin/numtrust-producer" migrate)
grep -qE "^schema up to date: $want migrations, 0 applied now$" <<<"$out" || fail "installed migrate: $out"
log "ok: installed migrate: $out"

# the configuration reference and the committed docs name no build machine's path
doc=$(env -u NUMTRUST_SQL_DIR "$prefix/bin/numtrust-producer" --config-doc)
for path in "$NT_REPO" "$NT_BUILD_DIR" "$prefix"; do
    if grep -qF "$path" <<<"$doc"; then fail "--config-doc carries $path"; fi
done
if grep -qE '/(work|home|root|tmp)/' "$NT_REPO/docs/configuration.md"; then
    fail "docs/configuration.md carries an absolute path: $(grep -nE '/(work|home|root|tmp)/' "$NT_REPO/docs/configuration.md" | head -1)"
fi
log "ok: --config-doc and docs/configuration.md carry no absolute build path"
