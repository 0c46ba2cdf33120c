#!/bin/bash
# Run once by the postgres image's entrypoint (/docker-entrypoint-initdb.d) on an empty data
# directory: the same roles and database that deploy/local/stack.sh creates.
#   numtrust         owns database numtrust, runs migrations (LOGIN, CREATEROLE)
#   numtrust_worker  what workers connect as (grants come from the migrations)
# Passwords come from NT_DB_PASSWORD and NT_WORKER_DB_PASSWORD, or from the files that
# NT_DB_PASSWORD_FILE and NT_WORKER_DB_PASSWORD_FILE name (docker-compose.yml's secrets).
set -eo pipefail
for v in NT_DB_PASSWORD NT_WORKER_DB_PASSWORD; do
    f="${v}_FILE"
    if [[ -n "${!f:-}" ]]; then
        printf -v "$v" '%s' "$(cat "${!f}")"
    fi
    [[ -n "${!v:-}" ]] || {
        echo "postgres-init: set $v or $f" >&2
        exit 1
    }
done
psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    -v owner_pw="$NT_DB_PASSWORD" -v worker_pw="$NT_WORKER_DB_PASSWORD" <<'EOSQL'
CREATE ROLE numtrust LOGIN CREATEROLE PASSWORD :'owner_pw';
CREATE ROLE numtrust_worker LOGIN PASSWORD :'worker_pw';
CREATE DATABASE numtrust OWNER numtrust;
EOSQL
