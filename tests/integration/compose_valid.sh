#!/usr/bin/env bash
# docker-compose.yml validates (Debian's docker-compose checks the file) and defines what numtrust
# runs in containers: PostgreSQL, Kafka, the one-shot migrations, the control plane, the reconciler, workers
# (2 by default), Prometheus; the simulator only in the demo/test profiles; no secret in the file.
# tests/container/compose_run.sh runs it for real.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
docker-compose -f docker-compose.yml config -q
echo "ok: docker-compose config -q"
services=$(docker-compose -f docker-compose.yml config --services | sort | tr '\n' ' ')
echo "services: $services"
for s in kafka postgres platform-sim migrate control-plane reconciler worker prometheus; do
    case " $services " in *" $s "*) ;; *) echo "FAIL: service $s missing"; exit 1;; esac
done
cfg=$(docker-compose -f docker-compose.yml config)
replicas=$(awk '/^  worker:/{w=1} w && /replicas:/{print $2; exit}' <<<"$cfg")
[ "${replicas:-0}" -ge 2 ] || { echo "FAIL: worker replicas = ${replicas:-none}"; exit 1; }
echo "ok: worker replicas = $replicas"
profiles=$(awk '/^  platform-sim:/{w=1} w && /^    profiles:/{getline; print; exit}' <<<"$cfg")
[ -n "$profiles" ] || { echo "FAIL: platform-sim runs without a profile"; exit 1; }
echo "ok: platform-sim only in a profile ($(awk '/^  platform-sim:/{w=1} w && /^    profiles:/{p=1; next} p && /^    - /{printf "%s ", $2} p && !/^    - /{exit}' <<<"$cfg"))"
# the simulator with its per-platform seeds (sim.json, copied into the image) and its
# callbacks aimed at the control plane's route (tests/container/compose_run.sh sees them land)
sim=$(awk '/^  platform-sim:/{w=1; next} w && /^  [a-z]/{exit} w' <<<"$cfg")
grep -qx -- '    - /opt/numtrust/sim.json' <<<"$sim" && grep -qx -- '    - --config' <<<"$sim" ||
    { echo "FAIL: platform-sim runs without --config /opt/numtrust/sim.json"; exit 1; }
grep -q '^COPY deploy/local/sim.json sim.json$' deploy/docker/Dockerfile ||
    { echo "FAIL: the image does not carry deploy/local/sim.json as /opt/numtrust/sim.json"; exit 1; }
grep -qx '      NT_SIM_CALLBACK_URL: http://control-plane:8090/v1/callbacks/{platform}' <<<"$sim" ||
    { echo "FAIL: platform-sim's NT_SIM_CALLBACK_URL is not the control plane's callback route"; exit 1; }
echo "ok: platform-sim with sim.json, calling back to control-plane:8090/v1/callbacks/{platform}"
if grep -nE 'PASSWORD: [^$/]|PASSWORD=[^$]' docker-compose.yml; then
    echo "FAIL: a password in docker-compose.yml (secrets come from files)"
    exit 1
fi
echo "ok: passwords only from secret files"
echo PASS
