# shellcheck shell=bash disable=SC2034
# deploy/local/common.sh — settings and helpers shared by install-deps.sh and stack.sh.
# Sourced, never run. Every setting is an environment variable with a default; a script
# that prints an error names the setting and its value.

# Repository root: two levels above this file.
NT_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# Kafka broker fetched from Maven Central by install-deps.sh (keep in step with
# <kafka.version> in deploy/local/kafka/pom.xml).
NT_KAFKA_VERSION="${NT_KAFKA_VERSION:-4.1.1}"
NT_KAFKA_POM="$NT_REPO/deploy/local/kafka/pom.xml"
NT_KAFKA_HOME="${NT_KAFKA_HOME:-$NT_REPO/.cache/kafka/$NT_KAFKA_VERSION}"
NT_KAFKA_LIBS="$NT_KAFKA_HOME/libs"
NT_KAFKA_MARKER="$NT_KAFKA_HOME/.complete"

# PostgreSQL: Debian 12's server binaries.
NT_PG_BIN="${NT_PG_BIN:-/usr/lib/postgresql/15/bin}"

nt_say() { printf '%s\n' "$*"; }
nt_step() { printf '==> %s\n' "$*"; }
nt_warn() { printf 'warning: %s\n' "$*" >&2; }
nt_die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# nt_is_root: true when running as uid 0.
nt_is_root() { [[ "$(id -u)" -eq 0 ]]; }
