#!/usr/bin/python3
"""api_contract.py — drives `numtrust-producer serve` against docs/openapi.yaml.

Run by api_contract.sh (which starts the stack's server and makes the tokens);
Debian's python3-yaml and python3-jsonschema (install-deps.sh) do the parsing and
the validation. It checks, in order:

1. the document: OpenAPI 3.0 structure, every $ref resolves, every schema is a
   valid JSON Schema; the server's operation table (`serve --help`) and the
   documented operations are the same set;
2. every operation once with the right token: the status is documented for it
   and the body validates against the documented schema;
   (numbers, schedules, marks, appeals, feedback, reports, policies, service levels,
   alerts and webhook endpoints, quarantine, costs, the manual queue's action items,
   callbacks over their own rate limit);
3. isolation: tenant B tries every resource of tenant A (reads, changes, naming A):
   nothing is found, nothing changes;
4. bad input: malformed JSON, a non-object, an unknown field, a wrong type, a bad
   number, an oversized body, bad values of every new resource, a missing, unknown,
   revoked or wrong-role token: a documented 4xx whose error names the field, and
   nothing changes;
5. CLI parity: every documented operation's x-cli is a numtrust-producer subcommand.

Every answer of every request is validated against the document. Prints one
line per check and ends with 'N passed, N failed'.
"""
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

import jsonschema
import yaml

BASE = os.environ["NT_API_URL"]
TOK = {k: os.environ["NT_TOKEN_" + k.upper()] for k in ("admin", "a", "b", "fb_a", "revoked")}
NUM_A = os.environ["NT_NUM_A"]  # tenant A's number (checked, has marks maybe)
NUM_B = os.environ["NT_NUM_B"]  # tenant B's number
NUM_Q = os.environ["NT_NUM_Q"]  # tenant A's number not in quarantine
PG = os.environ["NUMTRUST_PG_CONNINFO"]
SPEC_PATH = os.environ["NT_OPENAPI"]
PRODUCER = os.environ["NT_PRODUCER"]
MAX_BODY = int(os.environ.get("NT_API_MAX_BODY", "65536"))

spec = yaml.safe_load(open(SPEC_PATH, encoding="utf-8"))
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
        print("ok   " + what)
    else:
        failed += 1
        print("FAIL " + what)


# ---------------------------------------------------------------- the document


def resolve(ref):
    node = spec
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


def to_jsonschema(node):
    """OpenAPI 3.0 schema object -> JSON Schema (nullable -> type list, refs inlined)."""
    if isinstance(node, list):
        return [to_jsonschema(n) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return to_jsonschema(resolve(node["$ref"]))
    out = {}
    for k, v in node.items():
        if k in ("nullable", "example", "description", "x-cli"):
            continue
        out[k] = to_jsonschema(v)
    if node.get("nullable"):
        t = out.get("type")
        if isinstance(t, str):
            out["type"] = [t, "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = out["enum"] + [None]
    return out


def all_refs(node, acc):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                acc.append(v)
            else:
                all_refs(v, acc)
    elif isinstance(node, list):
        for v in node:
            all_refs(v, acc)
    return acc


check(str(spec.get("openapi", "")).startswith("3."), "openapi.yaml: OpenAPI 3 document")
check(all(k in spec for k in ("info", "paths", "components")), "openapi.yaml: info, paths, components")
bad_refs = []
for ref in all_refs(spec, []):
    try:
        resolve(ref)
    except (KeyError, TypeError):
        bad_refs.append(ref)
check(not bad_refs, "openapi.yaml: every $ref resolves %s" % (bad_refs or ""))
bad_schemas = []
for name, sch in spec["components"]["schemas"].items():
    try:
        jsonschema.Draft7Validator.check_schema(to_jsonschema(sch))
    except jsonschema.SchemaError as e:
        bad_schemas.append("%s: %s" % (name, e.message))
check(not bad_schemas, "openapi.yaml: every component schema is a valid JSON Schema %s" % (bad_schemas or ""))
METHODS = ("get", "post", "patch", "delete", "put")
documented = set()
for path, item in spec["paths"].items():
    for m in METHODS:
        if m in item:
            op = item[m]
            check("responses" in op and op["responses"], "openapi.yaml: %s %s has responses" % (m.upper(), path))
            if path.startswith("/v1/"):  # the callbacks' line is in serve --help too
                documented.add((m.upper(), path))
help_text = subprocess.run([PRODUCER, "serve", "--help"], capture_output=True, text=True).stdout
served = set()
in_ops = False
for line in help_text.splitlines():
    if line.startswith("operations:"):
        in_ops = True
        continue
    if in_ops and line.strip():
        parts = line.split()
        served.add((parts[0], parts[1]))
check(served == documented,
      "the server's operations are the documented ones (undocumented %s, not served %s)"
      % (sorted(served - documented), sorted(documented - served)))


# ---------------------------------------------------------------- requests


def find_op(method, path):
    """The documented operation for a concrete path."""
    for tpl, item in spec["paths"].items():
        a, b = tpl.strip("/").split("/"), path.split("?")[0].strip("/").split("/")
        if len(a) == len(b) and all(x == y or x.startswith("{") for x, y in zip(a, b)):
            if method.lower() in item:
                return tpl, item[method.lower()]
    return None, None


def call(method, path, token=None, body=None, ctype=None, raw=None, expect=None, what="", documented=True):
    """One request; validates the answer against the document; returns (status, json|text)."""
    url = BASE + path
    data = None
    headers = {}
    if token is not None:
        headers["Authorization"] = "Bearer " + token
    if raw is not None:
        data = raw if isinstance(raw, bytes) else raw.encode()
        headers["Content-Type"] = ctype or "text/plain"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, ctype_got, text = r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        status, ctype_got, text = e.code, e.headers.get("Content-Type", ""), e.read()
    tpl, op = find_op(method, path)
    if op is None and not documented:
        # an undocumented path: the answer must still be the documented error
        tpl, op = path, {"responses": {str(status): {"$ref": "#/components/responses/NotFound"}}}
    label = "%s %s%s" % (method, path if len(path) < 70 else path[:67] + "...", (" (" + what + ")") if what else "")
    ok = op is not None and str(status) in op["responses"]
    detail = ""
    parsed = None
    if ok:
        resp = op["responses"][str(status)]
        if "$ref" in resp:
            resp = resolve(resp["$ref"])
        media = resp.get("content", {})
        mt = ctype_got.split(";")[0].strip()
        if mt in media:
            if mt == "application/json":
                try:
                    parsed = json.loads(text)
                    jsonschema.validate(parsed, to_jsonschema(media[mt]["schema"]))
                except (ValueError, jsonschema.ValidationError) as e:
                    ok, detail = False, "body does not match the document: %s" % str(e).splitlines()[0]
            else:
                parsed = text.decode("utf-8", "replace")
        elif media:
            ok, detail = False, "content type %s not documented" % mt
    else:
        detail = "status %d not documented for %s %s" % (status, method, tpl)
    if expect is not None and status != expect:
        ok, detail = False, "status %d, want %d: %s" % (status, expect, text[:200].decode("utf-8", "replace"))
    check(ok, "%s -> %d %s" % (label, status, detail))
    return status, parsed


def err_field(ans):
    return ans["error"]["field"] if isinstance(ans, dict) and "error" in ans else None


def snapshot():
    """What a refused request must not change."""
    q = ("SELECT (SELECT md5(string_agg(n::text, ',' ORDER BY number)) FROM numbers n),"
         " (SELECT md5(COALESCE(string_agg(l::text, ',' ORDER BY id), '')) FROM label_schedules l),"
         " (SELECT count(*) FROM feedback), (SELECT count(*) FROM jobs),"
         " (SELECT count(*) FROM number_platforms),"
         " (SELECT md5(string_agg(p::text, ',' ORDER BY tenant_id, scenario_id)) FROM policies p),"
         " (SELECT md5(COALESCE(string_agg(e::text, ',' ORDER BY id), '')) FROM alert_endpoints e),"
         " (SELECT md5(COALESCE(string_agg(q::text, ',' ORDER BY id), '')) FROM quarantine q),"
         " (SELECT md5(COALESCE(string_agg(a::text, ',' ORDER BY id), '')) FROM action_items a),"
         " (SELECT count(*) FROM alerts), (SELECT count(*) FROM alert_deliveries WHERE state = 'pending')")
    return subprocess.run(["psql", PG, "-XAtqc", q], capture_output=True, text=True, check=True).stdout


def q(number):
    return number.replace("+", "%2B")


# ---------------------------------------------------------------- 2: every operation

A, B, ADMIN, FB = TOK["a"], TOK["b"], TOK["admin"], TOK["fb_a"]
st, ans = call("POST", "/v1/callbacks/no-such-platform", None, {"ticket": "x"}, what="a callback, unsigned")
check(st in (401, 404), "callbacks are mounted and refuse an unsigned call (%d)" % st)
# callbacks have a limit of their own (serve runs here with api.callback_rate_per_s 1, burst 2):
# over it 503 with Retry-After, which platforms retry (a 429 many of them drop)
cb = []
for i in range(4):
    st, ans = call("POST", "/v1/callbacks/cmcc", None, raw="<notify/>", ctype="application/xml",
                   what="a burst of callbacks, %d" % i)
    cb.append(st)
check(cb[:2] == [401, 401] and 503 in cb[2:], "callbacks over their limit: 503, not 429 %s" % cb)
try:
    urllib.request.urlopen(urllib.request.Request(BASE + "/v1/callbacks/cmcc", data=b"<notify/>",
                                                  method="POST"), timeout=10)
    check(False, "callbacks over their limit: still over it")
except urllib.error.HTTPError as e:
    check(e.code == 503 and int(e.headers.get("Retry-After", "0")) >= 1,
          "callbacks over their limit: %d with Retry-After %s" % (e.code, e.headers.get("Retry-After")))
call("GET", "/healthz", expect=200)
call("GET", "/readyz", expect=200)
call("GET", "/metrics", expect=200)
st, me = call("GET", "/v1/whoami", A, expect=200)
check(me == {"role": "tenant", "tenant": "it-api-a"}, "whoami: tenant A")
st, page = call("GET", "/v1/numbers?limit=5", A, expect=200)
check(page and all(n["tenant"] == "it-api-a" for n in page["items"]), "numbers list: only tenant A's")
st, page2 = call("GET", "/v1/numbers?limit=5&after=" + q(page["next"]), A, expect=200)
check(page2["items"] and page2["items"][0]["number"] > page["next"], "numbers list: the next page follows")
call("GET", "/v1/numbers/" + NUM_A, A, expect=200)
new = "+86" + NUM_A[3:-4] + "9999"
st, n = call("POST", "/v1/numbers", A, {"number": new, "scenario": "seasonal", "base_label": "测试-新号",
                                         "platforms": ["baidu", "tencent"]}, expect=201)
check(n and n["tenant"] == "it-api-a" and len(n["registrations"]) == 2, "numbers add: registered for A on 2 platforms")
csv = "tenant,number,scenario,base_label,platforms\nit-api-a,%s,individual,门店-导入,baidu\n" % (new[:-4] + "9998")
st, imp = call("POST", "/v1/numbers/import", A, raw=csv, ctype="text/csv", expect=200)
check(imp and imp["imported"] == 1 and imp["rejected"] == 0, "numbers import: one row imported")
st, n = call("PATCH", "/v1/numbers/" + new, A, {"base_label": "测试-改名"}, expect=200)
check(n and n["base_label"] == "测试-改名", "numbers update: the label changed")
st, n = call("POST", "/v1/numbers/%s/disable" % new, A, expect=200)
check(n and n["status"] == "disabled", "numbers disable")
call("POST", "/v1/numbers/%s/recheck" % new, A, expect=409, what="disabled")
st, n = call("POST", "/v1/numbers/%s/enable" % new, A, expect=200)
check(n and n["status"] == "active", "numbers enable")
st, enq = call("POST", "/v1/numbers/%s/recheck" % new, A, {"platform": "baidu"}, expect=202)
check(enq and enq["enqueued"] == 1, "numbers recheck: one check enqueued for one platform")
call("POST", "/v1/numbers/%s/appeal" % NUM_A, A, expect=202)
st, sch = call("POST", "/v1/schedules", A, {"number": new, "kind": "qualification", "label": "微整医师-李主任",
                                             "event_start": "2030-01-01T00:00:00Z"}, expect=201)
check(sch and sch["lead"] in ("00:00:00", "0", "00:00:00.000000"), "schedules add: a qualification's lead is 0 (%s)" % (sch or {}).get("lead"))
scsv = ("number,platform,kind,label,event_start,event_end,lead,priority\n"
        "%s,baidu,region,海淀区-服务专员,2030-01-01T00:00:00Z,2030-04-01T00:00:00Z,,1\n" % new)
st, si = call("POST", "/v1/schedules/import", A, raw=scsv, ctype="text/csv", expect=201)
check(si and si["imported"] == 1, "schedules import (CSV): one schedule")
st, lst = call("GET", "/v1/schedules?number=" + q(new), A, expect=200)
check(lst is not None and len(lst) == 2, "schedules list: both schedules of the number")
call("DELETE", "/v1/schedules/%d" % si["ids"][0], A, expect=200)
call("GET", "/v1/marks?number=" + q(NUM_A), A, expect=200)
call("GET", "/v1/appeals?number=" + q(NUM_A), A, expect=200)
call("GET", "/v1/action-items?state=open", A, expect=200)
st, acc = call("POST", "/v1/feedback", FB, {"number": NUM_A, "seen_mark": "harassment",
                                            "message": "我是他们的客户", "reporter": "203.0.113.7"}, expect=202)
st, acc2 = call("POST", "/v1/feedback", FB, {"number": NUM_B, "seen_mark": "harassment",
                                             "reporter": "203.0.113.8"}, expect=202, what="B's number")
check(acc == acc2 == {"accepted": True}, "feedback: the same answer for A's and B's numbers")
pre = urllib.request.Request(BASE + "/v1/feedback", method="OPTIONS",
                             headers={"Origin": "https://www.example.com", "Access-Control-Request-Method": "POST"})
with urllib.request.urlopen(pre, timeout=10) as r:
    check(r.status == 204 and r.headers.get("Access-Control-Allow-Origin") == "*"
          and "Authorization" in r.headers.get("Access-Control-Allow-Headers", ""),
          "feedback: a browser's CORS preflight is answered")
statuses = [call("POST", "/v1/feedback", FB, {"number": NUM_A, "seen_label": "未知号码", "reporter": "198.51.100.9"},
                 what="one source, report %d" % i)[0] for i in range(5)]
check(statuses[:3] == [202, 202, 202] and 429 in statuses[3:],
      "feedback: one source is rate limited after its burst %s" % statuses)
st, fl = call("GET", "/v1/feedback", A, expect=200)
check(fl is not None and set(f["number"] for f in fl) == {NUM_A}, "feedback list: A's reports stored, the one on B's number not")
for name in ("fleet", "mark_rate", "trust", "labels", "marks", "appeals", "certification", "operations", "feedback", "jobs"):
    call("GET", "/v1/reports/" + name, A, expect=200)
st, html = call("GET", "/v1/reports/html?since=2020-01-01", A, expect=200)
check(isinstance(html, str) and html.count("<svg") >= 7 and "it-api-a" in html, "reports html: a page with 7 charts for tenant A")

# -- policies, service levels, alerts, quarantine, costs (issue 10's resources)
st, pol = call("GET", "/v1/policies", A, expect=200)
check(pol and pol["tenant"] == "it-api-a" and pol["fields"]["max_mark_rate"]["value"] == "3%",
      "policy show: A's policy, the 3% target from the defaults")
st, pol = call("PATCH", "/v1/policies", A, {"scenario": "seasonal", "appeal_file_within": "6h"}, expect=200)
check(pol and pol["fields"]["appeal_file_within"] == {"value": "6h", "origin": "tenant+scenario"},
      "policy set: A's seasonal layer (%s)" % (pol or {}).get("fields", {}).get("appeal_file_within"))
st, pol = call("PATCH", "/v1/policies", A, {"monthly_budget": 100000}, expect=200)
check(pol and pol["fields"]["monthly_budget"] == {"value": "100000", "origin": "tenant"}, "policy set: A's budget")
st, pol = call("PATCH", "/v1/policies", A, {"monthly_budget": None}, expect=200)
check(pol and pol["fields"]["monthly_budget"]["origin"] == "defaults", "policy unset (null): A's budget from the defaults again")
call("PATCH", "/v1/policies", A, {"monthly_budget": 100000}, expect=200)
st, pol = call("PATCH", "/v1/policies", ADMIN, {"cert_warn_ahead": "31d"}, expect=200, what="the defaults")
check(pol and pol["tenant"] is None and pol["fields"]["cert_warn_ahead"] == {"value": "31d", "origin": "defaults"},
      "policy set by an admin: the defaults row (the fix of policies.c)")
st, pol = call("PATCH", "/v1/policies", ADMIN, {"cert_warn_ahead": None}, expect=200, what="the defaults")
check(pol and pol["fields"]["cert_warn_ahead"]["value"] == "30d", "policy unset on the defaults: the built-in 30d")
st, doc = call("GET", "/v1/policies/document", ADMIN, expect=200)
check(doc and doc["tenants"]["it-api-a"]["monthly_budget"] == 100000, "policy export: A's layer in the document")
st, ap = call("PUT", "/v1/policies/document?dry_run=true", ADMIN, raw=json.dumps(doc), ctype="application/json", expect=200)
st, ap2 = call("PUT", "/v1/policies/document", ADMIN, raw=json.dumps(doc), ctype="application/json", expect=200)
check(ap and ap["dry_run"] and ap2 and not ap2["dry_run"] and " 0 added, 0 changed, 0 removed" in ap2["report"][-1],
      "policy apply: the exported document applied changes nothing (%s)" % (ap2 or {}).get("report"))
st, summ = call("GET", "/v1/sla/summary", A, expect=200)
check(summ and [r["tenant"] for r in summ] == ["it-api-a"] and summ[0]["budget"] == 100000,
      "sla summary: A's row, with its budget")
call("GET", "/v1/sla/breaches?kind=appeal_filing", A, expect=200)
st, rates = call("GET", "/v1/sla/rates", A, expect=200)
check(rates and {r["tenant"] for r in rates} == {"it-api-a"}, "sla rates: A's rows")
st, tr = call("GET", "/v1/sla/trend/" + NUM_A, A, expect=200)
check(tr and tr["number"] == NUM_A and tr["quarters"], "sla trend: A's number, its quarters")
st, ep = call("POST", "/v1/alerts/endpoints", A, {"name": "it-api-a-hook", "url": "https://hooks.example/a",
                                                   "secret": "0123456789abcdef-a", "events": ["test", "sla_breach"]}, expect=201)
check(ep and ep["created"] and ep["endpoint"]["tenant"] == "it-api-a" and ep["endpoint"]["secret"] == "0123****",
      "alerts endpoint add: A's, secret masked")
st, ep = call("POST", "/v1/alerts/endpoints", A, {"name": "it-api-a-hook", "url": "https://hooks.example/a2",
                                                   "secret": "0123456789abcdef-a"}, expect=200)
check(ep and not ep["created"] and ep["endpoint"]["events"] is None, "alerts endpoint add again: replaced")
st, eps = call("GET", "/v1/alerts/endpoints", A, expect=200)
check([e["name"] for e in eps or []] == ["it-api-a-hook"], "alerts endpoint list: A's")
st, t = call("POST", "/v1/alerts/test", A, expect=202)
check(t == {"raised": True, "endpoints": 1}, "alerts test: raised for A's endpoint (%s)" % t)
st, al = call("GET", "/v1/alerts?event=test", A, expect=200)
check(al and al[0]["tenant"] == "it-api-a" and al[0]["deliveries"] == 1, "alerts list: A's test alert, one delivery")
st, dl = call("GET", "/v1/alerts/deliveries?state=pending", A, expect=200)
check(dl and all(d["endpoint"] == "it-api-a-hook" for d in dl), "alerts deliveries: to A's endpoint")
st, rq = call("POST", "/v1/alerts/retry", A, expect=200)
check(rq == {"requeued": 0}, "alerts retry: nothing dead")
st, qa = call("POST", "/v1/quarantine", A, {"number": NUM_Q, "note": "spoofed in a scam"}, expect=201)
check(qa and qa["number"] == NUM_Q and qa["reason"] == "manual" and qa["released_at"] is None, "quarantine add: A's number")
call("POST", "/v1/quarantine", A, {"number": NUM_Q, "note": "again"}, expect=409, what="twice")
st, ql = call("GET", "/v1/quarantine", A, expect=200)
check(ql is not None and NUM_Q in [x["number"] for x in ql] and {x["tenant"] for x in ql} == {"it-api-a"},
      "quarantine list: A's, with the number")
st, qr = call("POST", "/v1/quarantine/%s/release" % NUM_Q, A, {"note": "a mistake"}, expect=200)
check(qr and qr["release_reason"] == "manual", "quarantine release")
call("POST", "/v1/quarantine/%s/release" % NUM_Q, A, expect=409, what="twice")
st, qall = call("GET", "/v1/quarantine?all=true&number=" + q(NUM_Q), A, expect=200)
check(qall and qall[0]["released_at"] is not None, "quarantine list all: the released episode")
st, co = call("GET", "/v1/costs", A, expect=200)
check(co and [r["tenant"] for r in co] == ["it-api-a"] and co[0]["budget"] == 100000, "costs: A's month against its budget")
st, cp = call("GET", "/v1/costs?by=platform", A, expect=200)
check(cp is not None and {r["tenant"] for r in cp} <= {"it-api-a"}, "costs by platform: A's rows")
# -- the manual queue (P2's actions.h)
st, items = call("GET", "/v1/action-items?number=" + q(NUM_A), A, expect=200)
check(items and items[0]["label"] == "周年庆-会员日" and items[0]["state"] == "open", "action items: A's vivo label")
item = items[0]["id"] if items else "00000000-0000-0000-0000-000000000000"
st, it = call("GET", "/v1/action-items/" + item, A, expect=200)
check(it and it["form"] and it["form_url"].startswith("https://"), "action item: the platform's form")
st, sub = call("POST", "/v1/action-items/%s/submit" % item, A, {"reference": "VIVO-API-1"}, expect=200)
check(sub and sub["effect"] == "recorded" and sub["item"]["state"] == "submitted", "action submit: recorded")
st, sub = call("POST", "/v1/action-items/%s/submit" % item, A, {"reference": "VIVO-API-2"}, expect=200)
check(sub and sub["effect"] == "already" and sub["item"]["reference"] == "VIVO-API-1", "action submit again: already")
st, dn = call("POST", "/v1/action-items/%s/done" % item, A, {"outcome": "applied"}, expect=200)
check(dn and dn["effect"] == "recorded" and dn["item"]["outcome"] == "applied", "action done: applied")
st, ans = call("POST", "/v1/action-items/%s/done" % item, A, {"outcome": "rejected"}, expect=409, what="another outcome")
check(err_field(ans) == "outcome", "action done with another outcome: 409 naming outcome")
call("DELETE", "/v1/numbers/" + new, A, expect=200)
st, off = call("GET", "/v1/numbers?status=offboarded", A, expect=200)
check(off and new in [x["number"] for x in off["items"]], "numbers offboard: listed as offboarded")

# ---------------------------------------------------------------- 3: isolation
before = snapshot()
st, lb = call("GET", "/v1/numbers?status=all&limit=1000", B, expect=200)
check(lb is not None and NUM_A not in [x["number"] for x in lb["items"]], "isolation: B's list lacks A's number")
for method, path, body in (
        ("GET", "/v1/numbers/" + NUM_A, None),
        ("PATCH", "/v1/numbers/" + NUM_A, {"base_label": "hijacked"}),
        ("POST", "/v1/numbers/%s/disable" % NUM_A, None),
        ("POST", "/v1/numbers/%s/enable" % NUM_A, None),
        ("DELETE", "/v1/numbers/" + NUM_A, None),
        ("POST", "/v1/numbers/%s/recheck" % NUM_A, None),
        ("POST", "/v1/numbers/%s/appeal" % NUM_A, None),
        ("DELETE", "/v1/schedules/%d" % sch["id"], None)):
    st, ans = call(method, path, B, body, what="tenant B on A's")
    check(st == 404, "isolation: %s %s by B is 404 (%d)" % (method, path, st))
st, ans = call("POST", "/v1/numbers", B, {"number": NUM_A, "scenario": "seasonal", "base_label": "x",
                                           "platforms": ["baidu"]}, what="B registers A's number")
check(st == 400 and err_field(ans) == "number", "isolation: B cannot take over A's number (%d)" % st)
st, ans = call("POST", "/v1/numbers/import", B, raw="tenant,number,scenario,base_label,platforms\n"
               "it-api-b,%s,seasonal,x,baidu\n" % NUM_A, ctype="text/csv", what="B imports A's number")
check(st == 200 and ans["imported"] == 0 and ans["errors"][0]["field"] == "number", "isolation: B's import of A's number is rejected")
st, ans = call("POST", "/v1/schedules", B, {"number": NUM_A, "kind": "campaign", "label": "x",
                                            "event_start": "2030-01-01T00:00:00Z"}, what="B schedules A's")
check(st == 400 and err_field(ans) == "number", "isolation: B cannot schedule A's number")
for path in ("/v1/schedules?number=" + q(NUM_A), "/v1/marks?number=" + q(NUM_A),
             "/v1/appeals?number=" + q(NUM_A), "/v1/feedback?number=" + q(NUM_A),
             "/v1/action-items?number=" + q(NUM_A)):
    st, ans = call("GET", path, B, expect=200, what="B reads A's")
    check(ans == [], "isolation: %s is empty for B" % path.split("?")[0])
for name in ("mark_rate", "labels", "feedback", "operations"):
    st, rows = call("GET", "/v1/reports/%s?tenant=it-api-a" % name, B, what="B asks for A's report")
    check(st == 400 and err_field(rows) == "tenant", "isolation: B's report cannot name tenant A (%s)" % name)
st, rows = call("GET", "/v1/reports/labels", B, expect=200)
check(all(r["tenant"] == "it-api-b" for r in rows), "isolation: B's label report holds only B")

# the resources of policies, service levels, alerts, quarantine, costs and the manual queue
for method, path, body in (("GET", "/v1/policies?tenant=it-api-a", None),
                           ("PATCH", "/v1/policies", {"tenant": "it-api-a", "monthly_budget": 1}),
                           ("GET", "/v1/costs?tenant=it-api-a", None),
                           ("GET", "/v1/alerts?tenant=it-api-a", None)):
    st, ans = call(method, path, B, body, what="B names tenant A")
    check(st == 400 and err_field(ans) == "tenant", "isolation: %s %s naming A by B is 400" % (method, path))
st, pb = call("GET", "/v1/policies", B, expect=200)
check(pb and pb["tenant"] == "it-api-b" and pb["fields"]["monthly_budget"]["origin"] == "defaults",
      "isolation: B's policy is not A's")
for method, path in (("GET", "/v1/policies/document"), ("PUT", "/v1/policies/document")):
    st, ans = call(method, path, B, raw="{}", ctype="application/json", what="a tenant on the document")
    check(st == 403, "isolation: %s %s is an admin's (%d)" % (method, path, st))
for path in ("/v1/sla/summary", "/v1/sla/rates", "/v1/alerts", "/v1/costs", "/v1/quarantine?all=true",
             "/v1/action-items?state=all"):
    st, rows = call("GET", path, B, expect=200, what="B's own")
    check(rows is not None and all(r.get("tenant") in ("it-api-b", None) for r in rows)
          and "it-api-a" not in json.dumps(rows), "isolation: %s holds nothing of A's" % path.split("?")[0])
for path in ("/v1/sla/breaches?number=" + q(NUM_A), "/v1/alerts?number=" + q(NUM_A),
             "/v1/quarantine?all=true&number=" + q(NUM_Q), "/v1/alerts/endpoints", "/v1/alerts/deliveries"):
    st, ans = call("GET", path, B, expect=200, what="B reads A's")
    check(ans == [], "isolation: %s is empty for B" % path.split("?")[0])
for method, path, body in (("GET", "/v1/sla/trend/" + NUM_A, None),
                           ("POST", "/v1/quarantine", {"number": NUM_Q, "note": "hijack"}),
                           ("POST", "/v1/quarantine/%s/release" % NUM_Q, None),
                           ("DELETE", "/v1/alerts/endpoints/it-api-a-hook", None),
                           ("GET", "/v1/action-items/" + item, None),
                           ("POST", "/v1/action-items/%s/submit" % item, {"reference": "B"}),
                           ("POST", "/v1/action-items/%s/done" % item, {"outcome": "rejected"})):
    st, ans = call(method, path, B, body, what="tenant B on A's")
    check(st == 404, "isolation: %s %s by B is 404 (%d)" % (method, path, st))
st, ans = call("POST", "/v1/alerts/endpoints", B, {"name": "it-api-a-hook", "url": "https://evil.example/",
                                                    "secret": "0123456789abcdef-b"}, what="B takes A's endpoint name")
check(st == 409 and err_field(ans) == "name", "isolation: B cannot take over A's endpoint (%d)" % st)
st, rq = call("POST", "/v1/alerts/retry", B, expect=200)
check(rq == {"requeued": 0}, "isolation: B's retry touches only B's deliveries")
check(snapshot() == before, "isolation: nothing changed in the database")

# ---------------------------------------------------------------- 4: bad input
before = snapshot()
for raw, what, field in (('{"number": ', "malformed JSON", "body"), ("[1,2]", "not an object", "body"),
                         ('{"number":"%s","scenario":"seasonal","base_lable":"x","platforms":["baidu"]}' % new,
                          "misspelt field", "base_lable"),
                         ('{"number":"%s","scenario":"seasonal","base_label":"x","platforms":5}' % new,
                          "wrong type", "platforms"),
                         ('{"number":"12345","scenario":"seasonal","base_label":"x","platforms":["baidu"]}',
                          "bad number", "number"),
                         ('{"number":"%s","scenario":"weekly","base_label":"x","platforms":["baidu"]}' % new,
                          "unknown scenario", "scenario"),
                         ('{"number":"%s","scenario":"seasonal","base_label":"%s","platforms":["baidu"]}' % (new, "长" * 65),
                          "label too long", "base_label"),
                         ('{"number":"%s","scenario":"seasonal","base_label":"x","platforms":["nope"]}' % new,
                          "unknown platform", "platforms")):
    st, ans = call("POST", "/v1/numbers", A, raw=raw, ctype="application/json", what=what)
    check(st == 400 and err_field(ans) == field, "bad body (%s): 400 naming %s (got %d, %s)" % (what, field, st, err_field(ans)))
st, ans = call("POST", "/v1/numbers", A, raw="x" * (MAX_BODY + 1), ctype="application/json", what="oversized")
check(st == 413 and err_field(ans) == "body", "oversized body: 413")
st, ans = call("POST", "/v1/schedules", A, {"number": NUM_A, "kind": "holiday", "label": "x",
                                            "event_start": "2030-01-01T00:00:00Z"}, what="bad kind")
check(st == 400 and err_field(ans) == "kind", "bad schedule kind: 400 naming kind")
st, ans = call("POST", "/v1/schedules", A, {"number": NUM_A, "kind": "campaign", "label": "x",
                                            "event_start": "next tuesday"}, what="bad time")
check(st == 400 and err_field(ans) == "event_start", "bad schedule time: 400 naming event_start")
ics = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:ok\r\nDTSTART:20300101T000000Z\r\nX-NUMTRUST-NUMBERS:%s\r\nEND:VEVENT\r\n" \
      "BEGIN:VEVENT\r\nSUMMARY:bad\r\nDTSTART:2030-01-01\r\nX-NUMTRUST-NUMBERS:%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n" % (NUM_A, NUM_A)
st, ans = call("POST", "/v1/schedules/import", A, raw=ics, ctype="text/calendar", what="bad iCalendar")
check(st == 400 and err_field(ans) == "DTSTART" and "line 7" in ans["error"]["message"],
      "bad iCalendar: 400 naming DTSTART and its line, nothing imported")
st, ans = call("POST", "/v1/feedback", FB, {"number": NUM_A, "seen_mark": "spam"}, what="bad mark")
check(st == 400 and err_field(ans) == "seen_mark", "bad feedback: 400 naming seen_mark")
for method, path, body, field in (
        ("PATCH", "/v1/policies", {"max_mark_rate": "300%"}, "max_mark_rate"),
        ("PATCH", "/v1/policies", {"appeal_file_within": "soon"}, "appeal_file_within"),
        ("PATCH", "/v1/policies", {"max_mark_rat": "3%"}, "max_mark_rat"),
        ("PATCH", "/v1/policies", {"scenario": "weekly", "max_mark_rate": "3%"}, "scenario"),
        ("PATCH", "/v1/policies", {"scenario": "seasonal", "monthly_budget": 5}, "monthly_budget"),
        ("PATCH", "/v1/policies", {}, "body"),
        ("POST", "/v1/alerts/endpoints", {"name": "it-api-x", "url": "http://10.0.0.1/", "secret": "0123456789abcdef"}, "url"),
        ("POST", "/v1/alerts/endpoints", {"name": "it-api-x", "url": "https://a.example/", "secret": "short"}, "secret"),
        ("POST", "/v1/alerts/endpoints", {"name": "it-api-x", "url": "https://a.example/", "secret": "0123456789abcdef",
                                          "events": ["nothing"]}, "events"),
        ("POST", "/v1/quarantine", {"number": NUM_Q}, "note"),
        ("POST", "/v1/quarantine", {"number": "12345", "note": "x"}, "number"),
        ("GET", "/v1/costs?month=2027-13", None, "month"),
        ("GET", "/v1/costs?by=team", None, "by"),
        ("GET", "/v1/sla/breaches?kind=late", None, "kind"),
        ("GET", "/v1/alerts?event=boom", None, "event"),
        ("GET", "/v1/action-items?state=stuck", None, "state"),
        ("GET", "/v1/action-items/not-a-uuid", None, "id"),
        ("POST", "/v1/action-items/%s/done" % item, {"outcome": "maybe"}, "outcome"),
        ("POST", "/v1/action-items/%s/done" % item, {}, "outcome")):
    st, ans = call(method, path, A, body, what="bad " + field)
    check(st == 400 and err_field(ans) == field, "bad input: %s %s -> 400 naming %s (got %d, %s)"
          % (method, path, field, st, err_field(ans)))
st, ans = call("PUT", "/v1/policies/document", ADMIN, raw='{"tenants": {"x": {"max_mark_rate": "300%"}}}',
               ctype="application/json", what="bad document")
check(st == 400 and err_field(ans) == "body" and "tenants.x.max_mark_rate" in ans["error"]["message"],
      "bad policy document: 400 naming the path in it")
st, ans = call("GET", "/v1/numbers", None, what="no token")
check(st == 401 and err_field(ans) == "Authorization", "no token: 401")
st, ans = call("GET", "/v1/numbers", "nt_tenant_" + "0" * 48, what="unknown token")
check(st == 401, "unknown token: 401")
st, ans = call("GET", "/v1/numbers", TOK["revoked"], what="revoked token")
check(st == 401, "revoked token: 401")
st, ans = call("GET", "/v1/numbers", FB, what="feedback token elsewhere")
check(st == 403, "feedback token on numbers: 403")
st, ans = call("POST", "/v1/feedback", A, {"number": NUM_A, "seen_mark": "fraud"}, what="tenant token on the intake")
check(st == 403, "tenant token on the feedback intake: 403")
st, ans = call("GET", "/v1/nothing", A, what="no route", documented=False)
check(st == 404, "unknown resource: 404")
check(snapshot() == before, "bad input: nothing changed in the database")

call("DELETE", "/v1/alerts/endpoints/it-api-a-hook", A, expect=200)
call("PATCH", "/v1/policies", A, {"monthly_budget": None, "scenario": None}, expect=200)
call("PATCH", "/v1/policies", A, {"scenario": "seasonal", "appeal_file_within": None}, expect=200)

# ---------------------------------------------------------------- 5: CLI parity
# every documented operation names its numtrust-producer subcommand, and that command has it
for path, item_ in spec["paths"].items():
    for m in METHODS:
        cli = item_.get(m, {}).get("x-cli")
        if not cli:
            continue
        words = []
        for w in cli.split():
            if not w.islower() or w.startswith("-") or "(" in w:
                break
            words.append(w)
        out = subprocess.run([PRODUCER, words[0], "--help"], capture_output=True, text=True)
        check(out.returncode == 0 and " ".join(words[1:]) in out.stdout,
              "CLI parity: %s %s is `numtrust-producer %s`" % (m.upper(), path, " ".join(words)))
out = subprocess.run([PRODUCER, "action-items", "list", "--state", "all", "--number", NUM_A, "--json"],
                     capture_output=True, text=True)
check(out.returncode == 0 and item in out.stdout, "CLI: action-items is the actions command")

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
