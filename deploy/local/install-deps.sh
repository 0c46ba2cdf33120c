#!/usr/bin/env bash
# deploy/local/install-deps.sh — install what numtrust needs to build, test and run its
# local stack on Debian 12: the C toolchain and -dev libraries, PostgreSQL 15, test tools,
# Java and Maven (apt), and an Apache Kafka broker's jars (Maven Central, cached in
# <repo>/.cache/kafka/<version>/libs). Idempotent: a second run checks and exits in
# seconds, without network.
set -euo pipefail

# shellcheck source=deploy/local/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

APT_PACKAGES=(
    build-essential cmake ninja-build pkg-config git
    librdkafka-dev libpq-dev libcurl4-openssl-dev libcjson-dev libssl-dev libxml2-dev libmicrohttpd-dev
    postgresql postgresql-contrib
    docker-compose
    clang libclang-rt-14-dev clang-format
    wrk kcat jq curl python3 procps iproute2 bc shellcheck
    chromium fonts-noto-cjk prometheus python3-jsonschema python3-yaml
    # containers (deploy/docker/, tests/container/): podman with runc (crun fails on hybrid
    # cgroups), its netavark networking (iptables) and DNS, debootstrap for the base image
    # (python3-yaml, above, also serves deploy/k8s/schemas.py)
    podman runc netavark aardvark-dns iptables debootstrap
)

usage() {
    cat <<EOF
usage: deploy/local/install-deps.sh [--check] [--help]

Installs, only where missing:
  1. Debian packages (apt-get, as root or through sudo):
       ${APT_PACKAGES[*]}
     plus default-jre-headless when no 'java' is on PATH and maven when no 'mvn' is.
  2. Apache Kafka $NT_KAFKA_VERSION (broker, KRaft) and its runtime jars, through Maven
     (deploy/local/kafka/pom.xml), into $NT_KAFKA_LIBS

Options:
  --check   only report what is missing; exit 1 if anything is
  --help    this text

Environment:
  NT_KAFKA_VERSION  Kafka version to fetch (default 4.1.1)
  NT_KAFKA_HOME     cache directory (default <repo>/.cache/kafka/\$NT_KAFKA_VERSION)
EOF
}

# missing_packages: prints the packages of APT_PACKAGES (plus java/maven when their
# commands are absent) that dpkg does not list as installed, one per line.
missing_packages() {
    local -a want=("${APT_PACKAGES[@]}")
    command -v java >/dev/null 2>&1 || want+=(default-jre-headless)
    command -v mvn >/dev/null 2>&1 || want+=(maven)
    local installed
    installed="$(dpkg-query -W -f='${Package} ${Status}\n' "${want[@]}" 2>/dev/null |
        awk '$NF == "installed" { print $1 }' || true)"
    local p
    for p in "${want[@]}"; do
        grep -qxF -- "$p" <<<"$installed" || printf '%s\n' "$p"
    done
}

# apt_install PKG...: installs PKG with apt-get as root, through sudo, or explains.
apt_install() {
    local -a sudo=()
    if ! nt_is_root; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            nt_die "not root and no sudo: as root, run
  apt-get update && apt-get install -y --no-install-recommends $*"
        fi
    fi
    local log
    log="$(mktemp)"
    # wait for another apt-get holding the lock rather than failing at once
    local -a apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get
        -o DPkg::Lock::Timeout=300)
    nt_step "apt-get update"
    if ! "${apt[@]}" update -q >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        nt_die "apt-get update failed (full log: $log)"
    fi
    nt_step "apt-get install $*"
    # --no-install-recommends: docker-compose would otherwise pull in the docker engine.
    if ! "${apt[@]}" install -y -q --no-install-recommends "$@" >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        nt_die "apt-get install failed (full log: $log)"
    fi
    rm -f "$log"
}

# check_java: Kafka 4.x needs Java 17 or newer.
check_java() {
    command -v java >/dev/null 2>&1 || nt_die "no 'java' on PATH after installing default-jre-headless"
    local version major
    version="$(java -version 2>&1 | awk -F'"' '/version/ { print $2; exit }')"
    major="${version%%.*}"
    [[ "$major" == 1 ]] && major="$(cut -d. -f2 <<<"$version")"
    if ! [[ "$major" =~ ^[0-9]+$ ]] || ((major < 17)); then
        nt_die "Kafka $NT_KAFKA_VERSION needs Java 17 or newer; 'java' on PATH is version '$version'"
    fi
    nt_step "java $version: ok"
}

# kafka_fingerprint: what the cache must have been built from.
kafka_fingerprint() {
    printf 'kafka %s pom %s\n' "$NT_KAFKA_VERSION" "$(sha256sum "$NT_KAFKA_POM" | cut -d' ' -f1)"
}

# fetch_kafka: copies the broker's runtime jars into NT_KAFKA_LIBS unless the marker
# says they are there already from the same version and pom.
fetch_kafka() {
    local want
    want="$(kafka_fingerprint)"
    if [[ -f "$NT_KAFKA_MARKER" && "$(cat "$NT_KAFKA_MARKER")" == "$want" ]] &&
        compgen -G "$NT_KAFKA_LIBS/kafka_2.13-$NT_KAFKA_VERSION.jar" >/dev/null; then
        nt_step "kafka $NT_KAFKA_VERSION: cached in $NT_KAFKA_LIBS"
        return 0
    fi
    command -v mvn >/dev/null 2>&1 || nt_die "no 'mvn' on PATH after installing maven"
    nt_step "kafka $NT_KAFKA_VERSION: fetching jars with Maven into $NT_KAFKA_LIBS"
    mkdir -p "$NT_KAFKA_HOME"
    local tmp="$NT_KAFKA_HOME/libs.tmp.$$"
    rm -rf "$tmp"
    local log="$NT_KAFKA_HOME/mvn.log"
    if ! mvn -q -B -Dstyle.color=never -f "$NT_KAFKA_POM" \
        -Dkafka.version="$NT_KAFKA_VERSION" \
        dependency:copy-dependencies -DoutputDirectory="$tmp" -DincludeScope=runtime \
        >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        rm -rf "$tmp"
        nt_die "mvn could not fetch Kafka (NT_KAFKA_VERSION=$NT_KAFKA_VERSION; it needs Maven Central or a filled ~/.m2); full log: $log"
    fi
    [[ -f "$tmp/kafka_2.13-$NT_KAFKA_VERSION.jar" ]] ||
        nt_die "mvn finished but $tmp has no kafka_2.13-$NT_KAFKA_VERSION.jar"
    rm -rf "$NT_KAFKA_LIBS"
    mv "$tmp" "$NT_KAFKA_LIBS"
    printf '%s\n' "$want" >"$NT_KAFKA_MARKER"
    nt_step "kafka $NT_KAFKA_VERSION: $(find "$NT_KAFKA_LIBS" -name '*.jar' | wc -l) jars in $NT_KAFKA_LIBS"
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
            nt_die "unknown argument '$1'"
            ;;
        esac
        shift
    done

    local -a missing
    mapfile -t missing < <(missing_packages)
    if ((${#missing[@]} == 0)); then
        nt_step "apt packages: all present"
    elif $check_only; then
        nt_say "missing apt packages: ${missing[*]}"
    else
        apt_install "${missing[@]}"
        mapfile -t missing < <(missing_packages)
        ((${#missing[@]} == 0)) || nt_die "still missing after apt-get install: ${missing[*]}"
        nt_step "apt packages: installed"
    fi

    if $check_only; then
        local ok=true
        ((${#missing[@]} == 0)) || ok=false
        if [[ -f "$NT_KAFKA_MARKER" && "$(cat "$NT_KAFKA_MARKER")" == "$(kafka_fingerprint)" ]]; then
            nt_step "kafka $NT_KAFKA_VERSION: cached in $NT_KAFKA_LIBS"
        else
            nt_say "missing: kafka $NT_KAFKA_VERSION jars in $NT_KAFKA_LIBS"
            ok=false
        fi
        $ok
        return
    fi

    check_java
    fetch_kafka
    # kubeconform and the Kubernetes/KEDA schemas for tests/container/k8s_valid.sh
    bash "$NT_REPO/deploy/k8s/validate.sh" --install
    nt_step "dependencies ready"
}

main "$@"
