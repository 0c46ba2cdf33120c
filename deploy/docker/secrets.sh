#!/usr/bin/env bash
# deploy/docker/secrets.sh [DIR] — the secret files docker-compose.yml mounts, made once: a random
# value for each file that does not exist yet, in DIR (default $NT_SECRETS_DIR or <repo>/.secrets,
# mode 0700; git ignores it). Existing files are kept: put your platforms' real credentials there
# yourself. The files are 0644 so the containers' non-root users can read their bind mounts;
# the directory's 0700 keeps other host users out.
set -euo pipefail
# shellcheck source=deploy/local/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../local/common.sh"
case "${1:-}" in
-h | --help)
    sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
esac
dir="${1:-${NT_SECRETS_DIR:-$NT_REPO/.secrets}}"
names=(pg_superuser_password db_password worker_db_password sim_hmac_key sim_hmac_secret
    sim_bearer_token sim_callback_secret grafana_admin_password)
mkdir -p "$dir"
chmod 0700 "$dir"
made=0
for n in "${names[@]}"; do
    [[ -s "$dir/$n" ]] && continue
    (umask 022 && head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$dir/$n")
    made=$((made + 1))
done
nt_step "secrets: $dir ($made made, $((${#names[@]} - made)) kept)"
