#!/usr/bin/env bash
# Acceptance (f) of the foundation: docker-compose.yml validates (there is no
# Docker engine here; Debian's docker-compose checks the file) and defines
# the services numtrust needs.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
docker-compose -f docker-compose.yml config -q
echo "ok: docker-compose config -q"
services=$(docker-compose -f docker-compose.yml config --services | sort | tr '\n' ' ')
echo "services: $services"
for s in kafka postgres platform-sim migrate producer worker; do
    case " $services " in *" $s "*) ;; *) echo "FAIL: service $s missing"; exit 1;; esac
done
replicas=$(docker-compose -f docker-compose.yml config | awk '/^  worker:/{w=1} w && /replicas:/{print $2; exit}')
[ "${replicas:-0}" -ge 2 ] || { echo "FAIL: worker replicas = ${replicas:-none}"; exit 1; }
echo "ok: worker replicas = $replicas"
echo PASS
