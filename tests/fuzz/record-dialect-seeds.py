#!/usr/bin/env python3
"""tests/fuzz/record-dialect-seeds.py URL OUTDIR — records the platform answers that seed
fuzz_dialect_{a,b,c}: every operation and error of each dialect (docs/simulator.md), asked of a
running numtrust-platform-sim with its default credentials, e.g.

    build-fuzz/bin/numtrust-platform-sim --listen 127.0.0.1:38917 --seed 7 &
    tests/fuzz/record-dialect-seeds.py http://127.0.0.1:38917 /tmp/seeds

Each file is one status byte (index into 200, 400, 401, 404, 409, 429, 500, 503, as the
targets read it) followed by the body. It injects marks and changes the simulator's rate
limit, faults and outage state: use a simulator of its own."""
import hashlib, hmac, json, os, sys, time, urllib.request, urllib.error, secrets

if len(sys.argv) != 3:
    sys.exit(__doc__)
BASE = sys.argv[1].rstrip("/")
OUT = sys.argv[2]
STATUSES = [200, 400, 401, 404, 409, 429, 500, 503]
NUM = "+8613800138000"

def call(method, path, body=None, headers=None, sign=False, bearer=None):
    data = json.dumps(body, ensure_ascii=False).encode() if body is not None else b""
    h = {"Content-Type": "application/json"} if body is not None else {}
    if sign:
        ts = str(int(time.time())); nonce = secrets.token_hex(16)
        s = "\n".join([method, path, ts, nonce, hashlib.sha256(data).hexdigest()])
        sig = hmac.new(b"sim-secret", s.encode(), hashlib.sha256).hexdigest()
        h.update({"X-Nt-Key": "sim-key", "X-Nt-Timestamp": ts, "X-Nt-Nonce": nonce, "X-Nt-Signature": sig})
    if bearer:
        h["Authorization"] = "Bearer " + bearer
    h.update(headers or {})
    req = urllib.request.Request(BASE + path, data=data if body is not None else None, method=method, headers=h)
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()

def save(dialect, name, status, body):
    d = os.path.join(OUT, "fuzz_dialect_" + dialect); os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(bytes([STATUSES.index(status)]) + body)
    print(dialect, name, status, body[:160].decode(errors="replace"))

def admin(path, body):
    return call("POST", "/admin/" + path, body)

# marks so that checks carry several and appeals have something to appeal
for scope in ("baidu", "tencent", "qihoo360"):
    admin("marks", {"platform": scope, "number": NUM, "type": "fraud", "count": 7})
    admin("marks", {"platform": scope, "number": NUM, "type": "harassment", "count": 3})

# dialect A
P = "/p/baidu/a/v1"
enc = "%2B8613800138000"
s, b = call("GET", f"{P}/numbers/{enc}/status", sign=True); save("a", "check", s, b)
s, b = call("GET", f"{P}/numbers/%2B86123/status", sign=True); save("a", "error_400_invalid_number", s, b)
s, b = call("GET", f"{P}/numbers/{enc}/status"); save("a", "error_401", s, b)
s, b = call("POST", f"{P}/numbers/{enc}/label", {"label": "某某科技", "surfaces": ["android", "ios", "search"]}, sign=True); save("a", "tag_update", s, b)
s, b = call("POST", f"{P}/appeals", {"number": NUM, "mark": "诈骗电话", "evidence": "营业执照"}, sign=True); save("a", "appeal_submit", s, b)
tid = json.loads(b)["data"]["ticket_id"]
s, b = call("GET", f"{P}/appeals/{tid}", sign=True); save("a", "appeal_status", s, b)
s, b = call("GET", f"{P}/appeals/nope", sign=True); save("a", "error_404", s, b)
s, b = call("POST", f"{P}/appeals", {"number": NUM, "mark": "出租车", "evidence": "x"}, sign=True); save("a", "error_409_no_mark", s, b)

# dialect B
B = "/p/tencent/b/api/v2"
s, b = call("POST", f"{B}/query", {"phone": "8613800138000"}, bearer="sim-token"); save("b", "check", s, b)
s, b = call("POST", f"{B}/query", {"phone": "86123"}, bearer="sim-token"); save("b", "error_2001_in_200", s, b)
s, b = call("POST", f"{B}/query", {"phone": "8613800138000"}, bearer="wrong"); save("b", "error_401", s, b)
s, b = call("POST", f"{B}/label", {"phone": "8613800138000", "name": "某某科技"}, bearer="sim-token"); save("b", "tag_update", s, b)
s, b = call("POST", f"{B}/complaint", {"phone": "8613800138000", "code": 51, "reason": "营业执照"}, bearer="sim-token"); save("b", "appeal_submit", s, b)
cid = json.loads(b)["result"]["complaint_id"]
s, b = call("POST", f"{B}/complaint/query", {"complaint_id": cid}, bearer="sim-token"); save("b", "appeal_status", s, b)
s, b = call("POST", f"{B}/complaint/query", {"complaint_id": "nope"}, bearer="sim-token"); save("b", "error_2004_in_200", s, b)

# dialect C
C = "/p/qihoo360/c"
s, b = call("POST", f"{C}/batch/query", {"numbers": [NUM]}); save("c", "check", s, b)
s, b = call("POST", f"{C}/batch/query", {"numbers": ["+8613800138000", "+86bad", "+8613800138002", "+8613800138001"]}); save("c", "check_batch", s, b)
s, b = call("POST", f"{C}/label/submit", {"number": NUM, "show_name": "某某科技"}); save("c", "tag_update", s, b)
s, b = call("POST", f"{C}/appeal/submit", {"number": NUM, "tag_name": "诈骗", "reason": "营业执照"}); save("c", "appeal_submit", s, b)
aid = json.loads(b)["data"]["id"]
s, b = call("GET", f"{C}/appeal/{aid}"); save("c", "appeal_status", s, b)
s, b = call("GET", f"{C}/appeal/nope"); save("c", "error_404", s, b)
s, b = call("POST", f"{C}/batch/query", {"numbers": "x"}); save("c", "error_400", s, b)

# faults: 429, 500, 503 in every dialect's own shape
admin("config", {"rate_limit": {"qps": 0.001, "burst": 1}})
for d, f in (("a", lambda: call("GET", f"{P}/numbers/{enc}/status", sign=True)),
             ("b", lambda: call("POST", f"{B}/query", {"phone": "8613800138000"}, bearer="sim-token")),
             ("c", lambda: call("POST", f"{C}/batch/query", {"numbers": [NUM]}))):
    for _ in range(3):
        s, b = f()
        if s == 429:
            save(d, "error_429", s, b); break
admin("config", {"rate_limit": {"qps": 0}, "faults": {"rate_5xx": 1.0}})
for d, f in (("a", lambda: call("GET", f"{P}/numbers/{enc}/status", sign=True)),
             ("b", lambda: call("POST", f"{B}/query", {"phone": "8613800138000"}, bearer="sim-token")),
             ("c", lambda: call("POST", f"{C}/batch/query", {"numbers": [NUM]}))):
    s, b = f(); save(d, "error_%d" % s, s, b)
admin("config", {"faults": {"rate_5xx": 0.0}})
admin("outage", {"seconds": 2, "mode": "503"})
for d, f in (("a", lambda: call("GET", f"{P}/numbers/{enc}/status", sign=True)),
             ("b", lambda: call("POST", f"{B}/query", {"phone": "8613800138000"}, bearer="sim-token")),
             ("c", lambda: call("POST", f"{C}/batch/query", {"numbers": [NUM]}))):
    s, b = f(); save(d, "error_%d" % s, s, b)
