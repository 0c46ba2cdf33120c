#!/bin/bash
# Run once by the postgres image's entrypoint (/docker-entrypoint-initdb.d) on an empty
# data directory: the same roles and database that deploy/local/stack.sh creates.
#   numtrust         owns database numtrust, runs migrations (LOGIN, CREATEROLE)
#   numtrust_worker  what workers connect as (grants come from the migrations)
# Passwords come from NT_DB_PASSWORD and NT_WORKER_DB_PASSWORD (docker-compose.yml).
set -eo pipefail
psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    -v owner_pw="${NT_DB_PASSWORD:?set NT_DB_PASSWORD}" \
    -v worker_pw="${NT_WORKER_DB_PASSWORD:?set NT_WORKER_DB_PASSWORD}" <<'EOSQL'
CREATE ROLE numtrust LOGIN CREATEROLE PASSWORD :'owner_pw';
CREATE ROLE numtrust_worker LOGIN PASSWORD :'worker_pw';
CREATE DATABASE numtrust OWNER numtrust;
EOSQL
