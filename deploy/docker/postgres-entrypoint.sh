#!/bin/bash
# nt-postgres [postgres ARGS...] — the numtrust/postgres image's entrypoint (Debian's
# PostgreSQL 15), with the official postgres image's conventions:
#   POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE  the superuser's password (required on first start)
#   POSTGRES_USER                                the superuser (default postgres)
#   PGDATA                                       the data directory (a volume)
#   /docker-entrypoint-initdb.d/*.sh, *.sql      run once, on an empty data directory, against
#                                                a server listening on its unix socket only
# Clients on the network authenticate with scram-sha-256; the local socket trusts (inside the
# container only). Any other command than postgres is run as it is.
set -euo pipefail
if [[ "${1:-postgres}" != postgres ]]; then
    exec "$@"
fi
(($#)) && shift
: "${PGDATA:?}"
if [[ -n "${POSTGRES_PASSWORD_FILE:-}" ]]; then
    [[ -z "${POSTGRES_PASSWORD:-}" ]] || {
        echo "nt-postgres: both POSTGRES_PASSWORD and POSTGRES_PASSWORD_FILE are set" >&2
        exit 2
    }
    POSTGRES_PASSWORD="$(cat "$POSTGRES_PASSWORD_FILE")"
fi
su="${POSTGRES_USER:-postgres}"

if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
    [[ -n "${POSTGRES_PASSWORD:-}" ]] || {
        echo "nt-postgres: empty data directory and no POSTGRES_PASSWORD(_FILE) for user $su" >&2
        exit 2
    }
    pwfile="$(mktemp)"
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    initdb -D "$PGDATA" -U "$su" -E UTF8 --locale=C.UTF-8 --auth-local=trust \
        --auth-host=scram-sha-256 --pwfile="$pwfile" >/dev/null
    rm -f "$pwfile"
    {
        echo "listen_addresses = '*'"
        echo "jit = off # the image leaves LLVM out"
        echo "include_if_exists = 'numtrust.conf'"
    } >>"$PGDATA/postgresql.conf"
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    if compgen -G "/docker-entrypoint-initdb.d/*" >/dev/null; then
        pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -c unix_socket_directories=/var/run/postgresql" \
            -w -s start
        export POSTGRES_USER="$su" PGHOST=/var/run/postgresql
        for f in /docker-entrypoint-initdb.d/*; do
            case "$f" in
            *.sh)
                echo "nt-postgres: running $f"
                bash "$f"
                ;;
            *.sql)
                echo "nt-postgres: running $f"
                psql -v ON_ERROR_STOP=1 -U "$su" -d postgres -f "$f"
                ;;
            *) echo "nt-postgres: ignoring $f" ;;
            esac
        done
        pg_ctl -D "$PGDATA" -m fast -w -s stop
        unset PGHOST
    fi
    echo "nt-postgres: initialised $PGDATA"
fi
unset POSTGRES_PASSWORD
exec postgres -D "$PGDATA" "$@"
