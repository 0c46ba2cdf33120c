#!/bin/bash
# nt-entrypoint CMD... — the numtrust image's entrypoint: secrets from files, then exec CMD.
#
# For each variable below, VAR_FILE (a path, e.g. a docker-compose secret under /run/secrets)
# sets VAR to the file's content without its trailing newline; setting both is an error. The
# programs read the variables themselves: libpq reads PGPASSWORD (so NUMTRUST_PG_CONNINFO need
# not hold a password), platforms.json names the credential variables (*_env keys).
set -euo pipefail
vars=(PGPASSWORD NUMTRUST_PG_CONNINFO NT_SIM_HMAC_KEY NT_SIM_HMAC_SECRET NT_SIM_BEARER_TOKEN
    NT_SIM_CALLBACK_SECRET)
# more credential variables for a production platforms.json: NT_SECRET_FILE_VARS="A B"
read -ra extra <<<"${NT_SECRET_FILE_VARS:-}"
for v in "${vars[@]}" "${extra[@]}"; do
    f="${v}_FILE"
    [[ -n "${!f:-}" ]] || continue
    if [[ -n "${!v:-}" ]]; then
        echo "nt-entrypoint: both $v and $f are set; set one" >&2
        exit 2
    fi
    [[ -r "${!f}" ]] || {
        echo "nt-entrypoint: $f='${!f}' is not a readable file" >&2
        exit 2
    }
    val="$(cat "${!f}")"
    export "$v=$val"
    unset "$f"
done
exec "$@"
