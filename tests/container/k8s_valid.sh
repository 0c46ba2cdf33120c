#!/usr/bin/env bash
# deploy/k8s/*.yaml against the Kubernetes and KEDA schemas (deploy/k8s/validate.sh: kubeconform,
# strict), that the validator rejects what it should (a broken Deployment and a broken
# ScaledObject), and what the schemas cannot say: every process has a manifest; each Deployment
# has /healthz and /readyz probes and Prometheus scrape annotations; the workers' ScaledObject
# scales on the consumer group's lag with maxReplicaCount = topics.partitions; the workers have
# a disruption budget; Secrets hold placeholders only.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"
TMP=$(mktemp -d /tmp/nt-k8s.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail() {
    echo "FAIL: $*"
    exit 1
}

out=$(bash deploy/k8s/validate.sh 2>&1) || {
    echo "$out"
    fail "deploy/k8s/*.yaml do not validate"
}
grep -v -e "^==>" -e "^Summary:" <<<"$out" || true
summary=$(grep '^Summary:' <<<"$out")
echo "k8s: $summary"

# the validator must reject a broken Deployment and a broken ScaledObject
sed 's/^          args: \["numtrust-worker"\]/&\n          argz: ["x"]/' deploy/k8s/worker.yaml >"$TMP/bad-deployment.yaml"
grep -q argz "$TMP/bad-deployment.yaml" || fail "could not make the broken Deployment"
sed 's/^  maxReplicaCount: 12/  maxReplicaCount: "twelve"/' deploy/k8s/worker.yaml >"$TMP/bad-scaledobject.yaml"
grep -q twelve "$TMP/bad-scaledobject.yaml" || fail "could not make the broken ScaledObject"
for f in bad-deployment bad-scaledobject; do
    if bad=$(bash deploy/k8s/validate.sh "$TMP/$f.yaml" 2>&1); then
        echo "$bad"
        fail "the validator accepted $f.yaml"
    fi
    echo "ok: rejected $f.yaml ($(grep -c 'is invalid' <<<"$bad") invalid resource)"
done

/usr/bin/python3 - deploy/k8s/*.yaml <<'PY'
import json, sys, yaml
docs = [d for f in sys.argv[1:] for d in yaml.safe_load_all(open(f)) if d]
by = {}
for d in docs:
    by.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
bad = []
def need(cond, what):
    if not cond:
        bad.append(what)
deps = by.get("Deployment", {})
for name in ("numtrust-worker", "numtrust-control-plane"):
    need(name in deps, "Deployment %s missing" % name)
need("numtrust-migrate" in by.get("Job", {}), "Job numtrust-migrate missing")
need("numtrust-worker" in by.get("PodDisruptionBudget", {}), "PodDisruptionBudget missing")
need("numtrust-platforms" in by.get("ConfigMap", {}), "ConfigMap numtrust-platforms missing")
for name, d in deps.items():
    t = d["spec"]["template"]
    ann = t["metadata"].get("annotations", {})
    need(ann.get("prometheus.io/scrape") == "true", "%s: no prometheus.io/scrape annotation" % name)
    for c in t["spec"]["containers"]:
        need(c.get("livenessProbe", {}).get("httpGet", {}).get("path") == "/healthz",
             "%s: liveness probe not on /healthz" % name)
        need(c.get("readinessProbe", {}).get("httpGet", {}).get("path") == "/readyz",
             "%s: readiness probe not on /readyz" % name)
    need(t["spec"].get("securityContext", {}).get("runAsNonRoot") is True, "%s: may run as root" % name)
cfg = by["ConfigMap"]["numtrust-config"]["data"]
parts = int(cfg["NUMTRUST_TOPICS_PARTITIONS"])
so = by.get("ScaledObject", {}).get("numtrust-worker")
need(so is not None, "ScaledObject numtrust-worker missing")
if so:
    need(so["spec"]["scaleTargetRef"]["name"] == "numtrust-worker", "ScaledObject targets another Deployment")
    need(so["spec"]["maxReplicaCount"] == parts,
         "ScaledObject maxReplicaCount %s != topics.partitions %d" % (so["spec"]["maxReplicaCount"], parts))
    trig = so["spec"]["triggers"][0]
    need(trig["type"] == "kafka" and trig["metadata"]["consumerGroup"] == "numtrust-workers",
         "ScaledObject does not scale on the lag of numtrust-workers")
plat = json.loads(by["ConfigMap"]["numtrust-platforms"]["data"]["platforms.json"])
need(len(plat.get("platforms", [])) > 0, "platforms.json in the ConfigMap has no platform")
for name, s in by.get("Secret", {}).items():
    for k, v in s.get("stringData", {}).items():
        need(v == "replace-me", "Secret %s key %s holds a value, not the placeholder" % (name, k))
if bad:
    print("\n".join("FAIL: " + b for b in bad))
    sys.exit(1)
print("ok: %d Deployments with probes and scrape annotations, Job, PDB, ScaledObject max %d = partitions, "
      "%d Secrets with placeholders only" % (len(deps), parts, len(by.get("Secret", {}))))
PY
echo PASS
