#!/usr/bin/env bash
# deploy/docker/images.sh — builds every image docker-compose.yml runs, from this machine's
# package sources alone (no container registry): a Debian 12 base made with debootstrap from the
# mirror apt uses, then numtrust (producer, worker, simulator), PostgreSQL 15 (Debian's package),
# Kafka (the broker jars deploy/local/install-deps.sh fetched through Maven) and Prometheus
# (Debian's package). Prints how long each build took and what each image weighs.
set -euo pipefail

# shellcheck source=deploy/local/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../local/common.sh"

DOCKER_DIR="$NT_REPO/deploy/docker"
NT_BASE_IMAGE="${NT_BASE_IMAGE:-}"
LOCAL_BASE=numtrust/debian:bookworm
NT_IMAGE_TAG="${NT_IMAGE_TAG:-local}"
NT_BUILD_LOGS="${NT_BUILD_LOGS:-$NT_REPO/.state/images}"

usage() {
    cat <<USAGE
usage: deploy/docker/images.sh [build|base|sizes|names] [--serial] [--refresh-base]

  build   (default) the base image if needed, then the four images below, two at a time
  base    only the base image
  sizes   each image's size
  names   the image names, one a line

Images (tag NT_IMAGE_TAG, default "local"):
  numtrust/app:TAG         numtrust-producer, numtrust-worker, numtrust-platform-sim
                           (deploy/docker/Dockerfile; built from source in a build stage)
  numtrust/postgres:TAG    PostgreSQL 15 from Debian (deploy/docker/postgres.Dockerfile)
  numtrust/kafka:TAG       Kafka $NT_KAFKA_VERSION, KRaft (deploy/docker/kafka.Dockerfile; the
                           jars in $NT_KAFKA_LIBS)
  numtrust/prometheus:TAG  Prometheus from Debian (deploy/docker/prometheus.Dockerfile)
All run as non-root users and have a HEALTHCHECK.

Base image: NT_BASE_IMAGE when set (e.g. debian:12-slim where a registry is reachable), else
$LOCAL_BASE, made here: debootstrap --variant=minbase bookworm from the mirror apt uses,
upgraded from bookworm-updates and bookworm-security, trimmed (no docs, man pages, locales,
apt lists) and imported with \`<engine> import\`. It is rebuilt only when its inputs change
(mirrors, this script's base recipe), or with --refresh-base (to take newer security updates).

Options:
  --serial        build one image at a time (default: two at once)
  --refresh-base  rebuild the base image even when its inputs did not change
Environment: NT_CONTAINER_ENGINE (podman or docker; see deploy/docker/engine.sh),
NT_BASE_IMAGE, NT_IMAGE_TAG, NT_BUILD_LOGS (build logs, default <repo>/.state/images).
USAGE
}

IMAGES=(app postgres kafka prometheus)

engine() { "$NT_CONTAINER_ENGINE" "$@"; }

elapsed() { awk -v t0="$1" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.0f", t1 - t0 }'; }

# ---------------------------------------------------------------------------------------
# base image

# apt_sites: "URI SUITE" of each Debian source apt uses on this machine (bookworm,
# bookworm-updates, bookworm-security), from apt's own view of its sources.
apt_sites() {
    apt-get indextargets --format '$(SITE) $(RELEASE)' 'Created-By: Packages' 2>/dev/null |
        awk '$2 ~ /^bookworm(-updates|-security)?$/' | sort -u
}

base_recipe() { # what the base image is made from: its fingerprint's input
    printf 'sites:\n%s\n' "$(apt_sites)"
    declare -f build_base
}

build_base() {
    local main_site
    main_site="$(apt_sites | awk '$2 == "bookworm" { print $1; exit }')"
    main_site="${main_site:-http://deb.debian.org/debian}"
    command -v debootstrap >/dev/null 2>&1 || nt_die "no debootstrap: run deploy/local/install-deps.sh"
    nt_is_root || nt_die "debootstrap needs root"
    local root
    root="$(mktemp -d /var/tmp/numtrust-base.XXXXXX)"
    # shellcheck disable=SC2064 # expand now: the path is fixed
    trap "rm -rf '$root'" RETURN
    nt_step "base: debootstrap --variant=minbase bookworm from $main_site"
    debootstrap --variant=minbase bookworm "$root/fs" "$main_site" >"$NT_BUILD_LOGS/base.log" 2>&1 ||
        {
            tail -n 20 "$NT_BUILD_LOGS/base.log" >&2
            nt_die "debootstrap failed (log: $NT_BUILD_LOGS/base.log)"
        }
    local fs="$root/fs"
    apt_sites | awk '{ printf "deb %s %s main\n", $1, $2 }' >"$fs/etc/apt/sources.list"
    [[ -s "$fs/etc/apt/sources.list" ]] || echo "deb $main_site bookworm main" >"$fs/etc/apt/sources.list"
    # as in Debian's own container images: no services started by package scripts, no docs,
    # no recommends, no apt caches left behind
    printf '#!/bin/sh\nexit 101\n' >"$fs/usr/sbin/policy-rc.d"
    chmod 0755 "$fs/usr/sbin/policy-rc.d"
    cat >"$fs/etc/dpkg/dpkg.cfg.d/numtrust-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
CFG
    cat >"$fs/etc/apt/apt.conf.d/90numtrust-slim" <<'CFG'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
CFG
    cp /etc/resolv.conf "$fs/etc/resolv.conf"
    nt_step "base: apt-get upgrade from bookworm-updates and bookworm-security"
    chroot "$fs" sh -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get -y -q upgrade' \
        >>"$NT_BUILD_LOGS/base.log" 2>&1 || nt_die "apt-get upgrade in the base failed (log: $NT_BUILD_LOGS/base.log)"
    rm -rf "$fs"/var/lib/apt/lists/* "$fs"/var/cache/apt/* "$fs"/usr/share/doc/*/[!c]* \
        "$fs"/usr/share/man/* "$fs"/usr/share/info/* "$fs"/usr/share/locale/* \
        "$fs"/var/log/*.log "$fs"/var/log/apt/* "$fs"/tmp/* "$fs"/root/.bash_history
    : >"$fs/etc/resolv.conf"
    local fp="$1"
    tar -C "$fs" --numeric-owner -c . |
        engine import --change 'CMD ["bash"]' \
            --change "LABEL dev.numtrust.base.fingerprint=$fp" - "$LOCAL_BASE" >>"$NT_BUILD_LOGS/base.log" 2>&1
}

ensure_base() { # [--refresh]
    if [[ -n "$NT_BASE_IMAGE" ]]; then
        BASE="$NT_BASE_IMAGE"
        nt_step "base: $BASE (NT_BASE_IMAGE)"
        return 0
    fi
    BASE="$LOCAL_BASE"
    local fp have t0
    fp="$(base_recipe | sha256sum | cut -c1-16)"
    have="$(engine image inspect --format '{{ index .Config.Labels "dev.numtrust.base.fingerprint" }}' \
        "$LOCAL_BASE" 2>/dev/null || true)"
    if [[ "$have" == "$fp" && "${1:-}" != --refresh ]]; then
        nt_step "base: $LOCAL_BASE is up to date (fingerprint $fp)"
        BASE_SECS=0
        return 0
    fi
    t0="$(date +%s.%N)"
    build_base "$fp"
    BASE_SECS="$(elapsed "$t0")"
    nt_step "base: $LOCAL_BASE built in ${BASE_SECS}s"
}

# ---------------------------------------------------------------------------------------
# images

dockerfile_of() {
    case "$1" in
    app) echo "$DOCKER_DIR/Dockerfile" ;;
    *) echo "$DOCKER_DIR/$1.Dockerfile" ;;
    esac
}

build_one() { # NAME: builds numtrust/NAME:TAG, log in NT_BUILD_LOGS/NAME.log
    local name="$1" t0 rc=0
    t0="$(date +%s.%N)"
    local -a args=(build -f "$(dockerfile_of "$name")" -t "numtrust/$name:$NT_IMAGE_TAG"
        --build-arg "BASE_IMAGE=$BASE" --build-arg "KAFKA_VERSION=$NT_KAFKA_VERSION")
    # podman writes OCI images by default, which have no HEALTHCHECK
    [[ "$NT_CONTAINER_ENGINE" != podman ]] || args+=(--format docker)
    engine "${args[@]}" "$NT_REPO" >"$NT_BUILD_LOGS/$name.log" 2>&1 || rc=$?
    printf '%s %s %s\n' "$name" "$rc" "$(elapsed "$t0")" >"$NT_BUILD_LOGS/$name.status"
    return "$rc"
}

cmd_build() {
    local serial=false refresh=""
    while (($#)); do
        case "$1" in
        --serial) serial=true ;;
        --refresh-base) refresh=--refresh ;;
        *) nt_die "build: unknown option '$1' (--serial, --refresh-base)" ;;
        esac
        shift
    done
    [[ -f "$NT_KAFKA_LIBS/kafka_2.13-$NT_KAFKA_VERSION.jar" ]] ||
        nt_die "no Kafka jars in $NT_KAFKA_LIBS: run deploy/local/install-deps.sh first"
    local t0
    t0="$(date +%s.%N)"
    BASE_SECS=0
    ensure_base $refresh
    # the Kafka image's build context holds the jars: stage them (hard links) where the
    # context filter (.dockerignore) lets them through
    rm -rf "$NT_REPO/.cache/docker/kafka-libs"
    mkdir -p "$NT_REPO/.cache/docker"
    cp -al "$NT_KAFKA_LIBS" "$NT_REPO/.cache/docker/kafka-libs" 2>/dev/null ||
        cp -a "$NT_KAFKA_LIBS" "$NT_REPO/.cache/docker/kafka-libs"
    local name running=0 failed=()
    local -a pids=()
    for name in "${IMAGES[@]}"; do
        rm -f "$NT_BUILD_LOGS/$name.status"
        nt_step "build numtrust/$name:$NT_IMAGE_TAG (log: $NT_BUILD_LOGS/$name.log)"
        if $serial; then
            build_one "$name" || true
        else
            build_one "$name" &
            pids+=($!)
            running=$((running + 1))
            if ((running >= 2)); then
                wait -n || true
                running=$((running - 1))
            fi
        fi
    done
    local p
    for p in "${pids[@]}"; do wait "$p" || true; done
    for name in "${IMAGES[@]}"; do
        local n rc secs
        read -r n rc secs <"$NT_BUILD_LOGS/$name.status" || rc=1
        if [[ "$rc" != 0 ]]; then
            failed+=("$name")
            tail -n 25 "$NT_BUILD_LOGS/$name.log" >&2
        else
            nt_step "numtrust/$name:$NT_IMAGE_TAG: built in ${secs}s"
        fi
    done
    ((${#failed[@]} == 0)) || nt_die "build failed: ${failed[*]} (logs in $NT_BUILD_LOGS)"
    cmd_sizes
    nt_say "images built in $(elapsed "$t0")s (base ${BASE_SECS}s)"
}

cmd_sizes() {
    local name ref size
    for name in base "${IMAGES[@]}"; do
        if [[ "$name" == base ]]; then ref="${NT_BASE_IMAGE:-$LOCAL_BASE}"; else ref="numtrust/$name:$NT_IMAGE_TAG"; fi
        size="$(engine image inspect --format '{{.Size}}' "$ref" 2>/dev/null || echo)"
        if [[ -n "$size" ]]; then
            printf 'image %-28s %6.1f MB\n' "$ref" "$(awk -v s="$size" 'BEGIN { print s / 1e6 }')"
        else
            printf 'image %-28s (not built)\n' "$ref"
        fi
    done
}

main() {
    local cmd="${1:-build}"
    (($#)) && shift
    case "$cmd" in
    help | -h | --help)
        usage
        return 0
        ;;
    names)
        local n
        for n in "${IMAGES[@]}"; do echo "numtrust/$n:$NT_IMAGE_TAG"; done
        return 0
        ;;
    esac
    eval "$(bash "$DOCKER_DIR/engine.sh" env)"
    bash "$DOCKER_DIR/engine.sh" setup
    mkdir -p "$NT_BUILD_LOGS"
    case "$cmd" in
    build) cmd_build "$@" ;;
    base) ensure_base "${1:+--refresh}" ;;
    sizes) cmd_sizes ;;
    *)
        usage >&2
        nt_die "unknown command '$cmd'"
        ;;
    esac
}

main "$@"
