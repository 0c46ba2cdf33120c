#!/usr/bin/env bash
# The monitoring that ships with numtrust: deploy/prometheus/numtrust-rules.yml
# is checked and unit-tested with promtool (Debian's prometheus package); every
# PromQL expression of the Grafana dashboard deploy/grafana/numtrust.json is
# checked by promtool too (as recording rules); and every numtrust_* metric the
# rules and the dashboard use is one a program exports (its name is in the C
# sources), so a renamed metric cannot leave a silent alert or an empty panel.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
command -v promtool >/dev/null || { echo "promtool missing: deploy/local/install-deps.sh installs prometheus"; exit 1; }

promtool check rules "$repo/deploy/prometheus/numtrust-rules.yml"
(cd "$repo/deploy/prometheus/tests" && promtool test rules numtrust-rules.test.yml)

/usr/bin/python3 - "$repo" "$tmp" <<'PY'
import json, re, subprocess, sys
repo, tmp = sys.argv[1:3]
dash = json.load(open(repo + "/deploy/grafana/numtrust.json", encoding="utf-8"))
assert dash["uid"] and dash["title"] == "numtrust", "dashboard uid/title"
exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
assert len(exprs) >= 20, "dashboard has %d queries" % len(exprs)
ids = [p["id"] for p in dash["panels"]]
assert len(ids) == len(set(ids)), "panel ids are unique"
with open(tmp + "/dash-rules.yml", "w") as f:
    f.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, e in enumerate(exprs):
        f.write("      - record: dashboard:q%d\n        expr: %s\n" % (i, json.dumps(e)))
rules = open(repo + "/deploy/prometheus/numtrust-rules.yml", encoding="utf-8").read()
used = set(re.findall(r"numtrust_[a-z0-9_]+", " ".join(exprs) + rules))
used = {re.sub(r"_(bucket|count|sum)$", "", m) for m in used}
src = subprocess.run(["grep", "-rhoE", "numtrust_[a-z0-9_]+", repo + "/common", repo + "/producer",
                      repo + "/workers"], capture_output=True, text=True).stdout.split()
missing = sorted(m for m in used if m not in set(src))
print("dashboard: %d panels, %d queries; metrics used by rules and dashboard: %d" % (len(dash["panels"]), len(exprs), len(used)))
if missing:
    print("not exported by any program: " + ", ".join(missing))
    sys.exit(1)
PY
promtool check rules "$tmp/dash-rules.yml"
