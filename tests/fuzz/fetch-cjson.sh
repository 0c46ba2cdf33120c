#!/usr/bin/env bash
# tests/fuzz/fetch-cjson.sh — puts the source of the cJSON that Debian 12 ships (the same
# version and the same Debian patches as the libcjson1 the programs link) into
# <repo>/.cache/cjson-1.7.15/, so the fuzz build compiles the JSON parser with coverage.
#
# Debian's libcjson-dev has headers only, so the source comes from the Debian mirror's pool:
# the upstream tarball and the Debian tarball of the pinned revision, both checked against the
# sha256 sums below (the ones in the revision's signed .dsc); the patches listed in
# debian/patches/series are applied, and the resulting cJSON.c and cJSON.h are checked again.
# Result:
#   .cache/cjson-1.7.15/cJSON.c
#   .cache/cjson-1.7.15/include/cjson/cJSON.h   (so <cjson/cJSON.h> resolves to it)
#   .cache/cjson-1.7.15/.complete               (what it was built from)
# Idempotent: a second run checks the sums and exits without network.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

CJSON_VERSION="1.7.15"
# Debian 12 (bookworm) revision; keep in step with the installed libcjson1
# (dpkg-query -W libcjson1). Bookworm's pool keeps only current revisions: when a point or
# security release replaces this one, update the version and the four sums below.
CJSON_DEB_VERSION="${CJSON_VERSION}-1+deb12u4"
ORIG_TAR="cjson_${CJSON_VERSION}.orig.tar.gz"
ORIG_SHA256="5308fd4bd90cef7aa060558514de6a1a4a0819974a26e6ed13973c5f624c24b2"
DEBIAN_TAR="cjson_${CJSON_DEB_VERSION}.debian.tar.xz"
DEBIAN_SHA256="afd19a970966cf534ff1e9ec077d710a5e7e78eb4ec9b499c8bdc32e55da12cb"
# The patched files (cJSON.h is byte-identical to /usr/include/cjson/cJSON.h of libcjson-dev).
CJSON_C_SHA256="5c5ab83a24eecfebc25b6aa4d47dbdb5f23d1baec92de75fec5f0528dbe255a7"
CJSON_H_SHA256="c25b54ebc98e814eb7b3eeaf12ce899806f87ff5a275b20a3b77dbb3968e5d0b"

MIRROR="${NT_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DEST="${NT_CJSON_DIR:-$REPO/.cache/cjson-$CJSON_VERSION}"
MARKER="$DEST/.complete"

usage() {
    cat <<EOF
usage: tests/fuzz/fetch-cjson.sh [--check] [--help]

Fetches cJSON $CJSON_VERSION ($CJSON_DEB_VERSION, Debian 12) from
  $MIRROR/pool/main/c/cjson/{$ORIG_TAR,$DEBIAN_TAR}
verifies both, applies debian/patches and installs cJSON.c and include/cjson/cJSON.h into
  $DEST

Options:
  --check   only say whether the cache is complete; exit 1 if not
  --help    this text

Environment:
  NT_DEBIAN_MIRROR  Debian mirror (default http://deb.debian.org/debian)
  NT_CJSON_DIR      cache directory (default <repo>/.cache/cjson-$CJSON_VERSION)
EOF
}

say() { printf '==> %s\n' "$*"; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

fingerprint() {
    printf 'cjson %s c %s h %s\n' "$CJSON_DEB_VERSION" "$CJSON_C_SHA256" "$CJSON_H_SHA256"
}

# cached: true when the marker and both files are there with the pinned sums.
cached() {
    [[ -f "$MARKER" && "$(cat "$MARKER")" == "$(fingerprint)" ]] || return 1
    [[ -f "$DEST/cJSON.c" && -f "$DEST/include/cjson/cJSON.h" ]] || return 1
    [[ "$(sha_of "$DEST/cJSON.c")" == "$CJSON_C_SHA256" ]] || return 1
    [[ "$(sha_of "$DEST/include/cjson/cJSON.h")" == "$CJSON_H_SHA256" ]] || return 1
}

# fetch NAME SHA256 DIR: downloads pool file NAME into DIR and checks it.
fetch() {
    local name="$1" want="$2" dir="$3"
    local url="$MIRROR/pool/main/c/cjson/$name"
    say "fetching $url"
    if ! curl -fsSL --retry 3 --connect-timeout 20 --max-time 300 -o "$dir/$name" "$url"; then
        die "could not download $url (a superseded revision leaves the pool: update CJSON_DEB_VERSION and the sums in $0 to the current bookworm revision, see 'apt-cache policy libcjson1')"
    fi
    local got
    got="$(sha_of "$dir/$name")"
    [[ "$got" == "$want" ]] || die "$name: sha256 $got, expected $want"
}

main() {
    local check_only=false
    while (($#)); do
        case "$1" in
        --check) check_only=true ;;
        -h | --help)
            usage
            return 0
            ;;
        *)
            usage >&2
            die "unknown argument '$1'"
            ;;
        esac
        shift
    done

    if cached; then
        say "cjson $CJSON_DEB_VERSION: cached in $DEST"
        return 0
    fi
    if $check_only; then
        printf 'missing: cjson %s source in %s\n' "$CJSON_DEB_VERSION" "$DEST"
        return 1
    fi
    local tool
    for tool in curl tar xz patch sha256sum; do
        command -v "$tool" >/dev/null 2>&1 || die "'$tool' is needed (apt-get install curl tar xz-utils patch coreutils)"
    done

    local tmp
    tmp="$(mktemp -d "${TMPDIR:-/tmp}/nt-cjson.XXXXXX")"
    # shellcheck disable=SC2064 # expand tmp now
    trap "rm -rf '$tmp'" EXIT
    fetch "$ORIG_TAR" "$ORIG_SHA256" "$tmp"
    fetch "$DEBIAN_TAR" "$DEBIAN_SHA256" "$tmp"

    tar -xzf "$tmp/$ORIG_TAR" -C "$tmp"
    local src="$tmp/cJSON-$CJSON_VERSION"
    [[ -d "$src" ]] || die "$ORIG_TAR has no cJSON-$CJSON_VERSION/"
    tar -xJf "$tmp/$DEBIAN_TAR" -C "$src"
    local series="$src/debian/patches/series" p
    if [[ -f "$series" ]]; then
        while read -r p _; do
            [[ -n "$p" && "$p" != \#* ]] || continue
            say "applying debian/patches/$p"
            patch -d "$src" -p1 -s --no-backup-if-mismatch <"$src/debian/patches/$p" ||
                die "patch $p does not apply"
        done <"$series"
    fi
    local got
    got="$(sha_of "$src/cJSON.c")"
    [[ "$got" == "$CJSON_C_SHA256" ]] || die "patched cJSON.c: sha256 $got, expected $CJSON_C_SHA256"
    got="$(sha_of "$src/cJSON.h")"
    [[ "$got" == "$CJSON_H_SHA256" ]] || die "patched cJSON.h: sha256 $got, expected $CJSON_H_SHA256"

    # Install through a temporary directory so an interrupted run leaves no half cache.
    local stage="$DEST.tmp.$$"
    rm -rf "$stage"
    mkdir -p "$stage/include/cjson"
    cp "$src/cJSON.c" "$stage/cJSON.c"
    cp "$src/cJSON.h" "$stage/include/cjson/cJSON.h"
    cp "$src/LICENSE" "$stage/LICENSE"
    fingerprint >"$stage/.complete"
    rm -rf "$DEST"
    mkdir -p "$(dirname "$DEST")"
    mv "$stage" "$DEST"
    say "cjson $CJSON_DEB_VERSION: cJSON.c and include/cjson/cJSON.h in $DEST"
}

main "$@"
