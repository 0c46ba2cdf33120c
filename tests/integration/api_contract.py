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
3. isolation: tenant B tries every numbers/schedules/marks/appeals/feedback/report
   operation on tenant A's data: nothing is found, nothing changes;
4. bad input: malformed JSON, a non-object, an unknown field, a wrong type, a bad
   number, an oversized body, a missing, unknown, revoked or wrong-role token:
   a documented 4xx whose error names the field, and nothing changes.

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
         " (SELECT count(*) FROM number_platforms)")
    return subprocess.run(["psql", PG, "-XAtqc", q], capture_output=True, text=True, check=True).stdout


def q(number):
    return number.replace("+", "%2B")


# ---------------------------------------------------------------- 2: every operation

A, B, ADMIN, FB = TOK["a"], TOK["b"], TOK["admin"], TOK["fb_a"]
st, ans = call("POST", "/v1/callbacks/no-such-platform", None, {"ticket": "x"}, what="a callback, unsigned")
check(st in (401, 404), "callbacks are mounted and refuse an unsigned call (%d)" % st)
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
check(isinstance(html, str) and html.count("<svg") >= 6 and "it-api-a" in html, "reports html: a page with 6 charts for tenant A")
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

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
