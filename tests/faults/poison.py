#!/usr/bin/env python3
"""poison.py — the poison_mix scenario's messages and their verification.

`gen` writes kcat input files (key \\x1f value \\x1e, one file per batch and topic) holding every
kind of bad message, each several times over many keys (so they sit among valid jobs in every
partition), and a manifest of what each must become:

  poison   not JSON, bad UTF-8 (invalid bytes, truncated sequences, overlong forms), a NUL byte,
           oversized, unknown or non-numeric version, not an object, no id, a SQL-like id, nesting
           deeper than the parser allows, binary garbage
           -> a dead_letters row (job_id NULL) with the raw bytes unchanged, and the same bytes
              on the dead-letter topic
  invalid  a usable id but a bad field: numbers that are not E.164 (one of them SQL-like), an
           unknown or malformed platform, a SQL-like tenant, an unknown type, a bad attempt or
           timestamp, a label too long or missing
           -> a `failed` job whose last_error names the field; the number stored byte-identical
  valid    tag updates whose labels are SQL-like (and quotes, backslashes, %s, $$, CJK) and
           appeals whose evidence is SQL-like
           -> `done`, with the label / evidence stored byte-identical

`verify` checks the manifest against PostgreSQL (psql) and the dead-letter topic (kcat).
"""
import argparse
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import uuid

SQL_LABELS = [  # each at most 32 characters, no control characters: a platform accepts them
    "'); DROP TABLE jobs; --",
    "Robert'); DROP TABLE numbers;--",
    "' OR '1'='1",
    '" OR ""="',
    "1; DELETE FROM check_results",
    "$$; TRUNCATE jobs; $$",
    "\\'; SELECT pg_sleep(5); --",
    "%s%s%s%n %x",
    "{\"label\":\"x\"} :'like' :name",
    "E'\\\\x00' -- 标签",
    "O'Reilly & Sons 企业服务",
    "`rm -rf /` $(id) ${HOME}",
    "<script>alert(1)</script>",
    "'; COPY jobs TO '/tmp/x'; --",
    "\\\\\\\" \\' \\n ¿¡ «» ‘’ “”",
]
SQL_EVIDENCE = [
    "'); DELETE FROM appeals; --",
    "Robert'); DROP TABLE marks;-- 证据: 营业执照 \"已认证\" \\ \\\\ %s $1 :'x'",
    "$$ LANGUAGE plpgsql; DROP SCHEMA public CASCADE; $$",
]
MARK_PLATFORMS = ["baidu", "tencent"]


def now_rfc3339():
    import datetime
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(**kw):
    env = {"v": 1, "id": str(uuid.uuid4()), "type": "check", "number": "+8613800138000",
           "platform": "baidu", "tenant": "tenant01", "attempt": 0,
           "created_at": now_rfc3339(), "payload": {}}
    env.update(kw)
    return env


def jbytes(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def poison_kinds(rng, number):
    """(kind, bytes) of every poison message kind, for one key."""
    i = str(uuid.uuid4())
    full = jbytes(envelope(id=i, number=number))
    out = [
        ("not_json", b'{"v":1,"id":"' + i.encode() + b'","type":"check","number":"' +
         number.encode() + b'"'),
        ("bad_utf8", full.replace(number.encode(), b"+86\xff\xfe" + number[3:].encode())),
        ("truncated_utf8", b'{"v":1,"id":"' + i.encode() + b'","type":"check","tenant":"\xe4\xb8"}'),
        ("overlong_utf8_no_id", b'{"v":1,"note":"\xc0\xaf\xe0\x80\xaf"}'),
        ("nul_byte", full.replace(b'"type"', b'"\x00type"', 1)),
        ("oversized", jbytes(envelope(id=i, number=number, pad="x" * 70000))),
        ("unknown_version", jbytes(dict(envelope(id=i, number=number), v=2))),
        ("string_version", jbytes(dict(envelope(id=i, number=number), v="1"))),
        ("not_object", rng.choice([b"[1,2,3]", b'"just a string"', b"null", b"42", b"true"])),
        ("no_id", jbytes({k: v for k, v in envelope(number=number).items() if k != "id"})),
        ("sql_id", jbytes(envelope(id="'); DROP TABLE jobs; --", number=number))),
        # no id: poison whatever the parser does with it (it must not recurse to a crash)
        ("deep_nesting", b'{"v":1,"payload":' + b"[" * 32000 + b"]" * 32000 + b"}"),
        ("garbage", b"\xff" + bytes(rng.choice([b for b in range(256) if b not in (0x1e, 0x1f)])
                                    for _ in range(rng.randrange(16, 400)))),
        ("whitespace", b"   \n\t  "),
    ]
    return out


def invalid_kinds(number, tag_number):
    """(kind, envelope, field the error must name) of jobs with an id and a bad field."""
    return [
        ("number_not_e164", envelope(number="13800138000"), "number"),
        ("number_spaces", envelope(number="+86 138 0013 8000"), "number"),
        ("number_sql", envelope(number="'); DROP TABLE jobs;--"), "number"),
        ("number_empty", envelope(number=""), "number"),
        ("platform_unknown", envelope(number=number, platform="nosuch"), "platform"),
        ("platform_bad", envelope(number=number, platform="Baidu'--"), "platform"),
        ("tenant_sql", envelope(number=number, tenant="x'; DROP TABLE tenants;--"), "tenant"),
        ("type_unknown", envelope(number=number, type="teleport"), "type"),
        ("attempt_negative", envelope(number=number, attempt=-1), "attempt"),
        ("created_at_bad", envelope(number=number, created_at="yesterday"), "created_at"),
        ("label_too_long", envelope(number=tag_number, type="tag_update",
                                    payload={"label": "标" * 65}), "payload.label"),
        ("label_missing", envelope(number=tag_number, type="tag_update", payload={}),
         "payload.label"),
    ]


def read_fleet(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        next(f)
        for line in f:
            parts = line.rstrip("\n").split(",")
            rows.append({"tenant": parts[0], "number": parts[1]})
    return rows


def cmd_gen(args):
    rng = random.Random(args.seed)
    checks = read_fleet(args.check_fleet)
    tags = read_fleet(args.tag_fleet)
    tp = args.topics_prefix
    topics = {"check": tp + ".check", "tag": tp + ".tag", "appeal": tp + ".appeal",
              "tier": tp + ".retry.1s"}
    batches = args.batches.split(",")
    files = {}  # (batch, topic) -> list of (key, value)
    man = {"poison": [], "invalid": [], "valid": [], "marks": [], "ids": []}

    def put(batch, topic, key, value):
        if b"\x1e" in value or b"\x1f" in value or "\x1e" in key or "\x1f" in key:
            raise SystemExit("poison.py: a message holds a kcat delimiter")
        files.setdefault((batch, topic), []).append((key, value))

    n = 0
    for r in range(args.rounds):
        for kind, value in poison_kinds(rng, rng.choice(checks)["number"]):
            batch = batches[n % len(batches)]
            n += 1
            # mostly the check topic; some on the tag, appeal and retry-tier topics
            topic = topics[["check", "check", "tag", "appeal", "tier"][r % 5]]
            key = rng.choice(checks)["number"]
            put(batch, topic, key, value)
            man["poison"].append({"kind": kind, "topic": topic,
                                  "sha256": hashlib.sha256(value).hexdigest()})
        for kind, env, field in invalid_kinds(rng.choice(checks)["number"],
                                              rng.choice(checks)["number"]):
            batch = batches[n % len(batches)]
            n += 1
            topic = topics["tag"] if env["type"] == "tag_update" else topics["check"]
            key = env["number"] if env["number"].startswith("+") else rng.choice(checks)["number"]
            put(batch, topic, key, jbytes(env))
            # not in man["ids"]: a message that is not a valid job is recorded under an id of
            # its own (its place on Kafka), naming the id it claimed; verify finds it so
            man["invalid"].append({"kind": kind, "id": env["id"], "field": field,
                                   "number": env["number"]})
    # valid: SQL-like labels on check-fleet registrations (each its own registration), and
    # appeals with SQL-like evidence for marks injected at the simulator on tag-fleet numbers
    used = set()
    for i, label in enumerate(SQL_LABELS * 3):
        while True:
            row = rng.choice(checks)
            plat = ["baidu", "tencent", "qihoo360"][i % 3]
            if (row["number"], plat) not in used:
                used.add((row["number"], plat))
                break
        env = envelope(type="tag_update", number=row["number"], platform=plat,
                       tenant=row["tenant"], payload={"label": label})
        put(batches[i % len(batches)], topics["tag"], row["number"], jbytes(env))
        man["valid"].append({"id": env["id"], "type": "tag_update", "table": "tag_updates",
                             "column": "label", "value": label})
        man["ids"].append(env["id"])
    used = set()
    for i, ev in enumerate(SQL_EVIDENCE * 4):
        while True:
            row = rng.choice(tags)
            plat = MARK_PLATFORMS[i % len(MARK_PLATFORMS)]
            if (row["number"], plat) not in used:
                used.add((row["number"], plat))
                break
        env = envelope(type="appeal", number=row["number"], platform=plat, tenant=row["tenant"],
                       payload={"mark_type": "fraud", "evidence": ev})
        put(batches[i % len(batches)], topics["appeal"], row["number"], jbytes(env))
        man["marks"].append({"platform": plat, "number": row["number"], "type": "fraud",
                             "count": 7})
        man["valid"].append({"id": env["id"], "type": "appeal", "table": "appeals",
                             "column": "evidence", "value": ev})
        man["ids"].append(env["id"])
    os.makedirs(args.out, exist_ok=True)
    listing = []
    for (batch, topic), msgs in sorted(files.items()):
        rng.shuffle(msgs)
        path = os.path.join(args.out, "%s-%s.bin" % (batch, topic))
        with open(path, "wb") as f:
            for key, value in msgs:
                f.write(key.encode() + b"\x1f" + value + b"\x1e")
        listing.append("%s %s %s %d" % (batch, topic, path, len(msgs)))
    with open(os.path.join(args.out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(man, f, ensure_ascii=False)
    with open(os.path.join(args.out, "ids"), "w") as f:
        f.write("".join(i + "\n" for i in man["ids"]))
    with open(os.path.join(args.out, "marks.jsonl"), "w", encoding="utf-8") as f:
        for m in man["marks"]:
            f.write(json.dumps(m, ensure_ascii=False) + "\n")
    with open(os.path.join(args.out, "files"), "w") as f:
        f.write("\n".join(listing) + "\n")
    kinds = sorted({p["kind"] for p in man["poison"]})
    print("poison: %d messages (%d kinds: %s), %d invalid jobs, %d valid jobs with SQL-like "
          "strings, %d marks to inject" % (len(man["poison"]), len(kinds), " ".join(kinds),
                                           len(man["invalid"]), len(man["valid"]),
                                           len(man["marks"])))


def psql(sql, variables=None):
    argv = ["psql", os.environ["NUMTRUST_PG_CONNINFO"], "-X", "-A", "-t", "-q", "-v",
            "ON_ERROR_STOP=1"]
    for k, v in (variables or {}).items():
        argv += ["-v", "%s=%s" % (k, v)]
    p = subprocess.run(argv, input=sql, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit("poison.py: psql: " + p.stderr.strip())
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


def cmd_verify(args):
    with open(args.manifest, encoding="utf-8") as f:
        man = json.load(f)
    tp = args.topics_prefix
    bad = []
    # 1. poison: dead_letters rows with the raw bytes, per source topic (a message over
    #    job.max_bytes keeps only that many: its size and the hash of all its bytes say what
    #    it was)
    rows = psql("SELECT coalesce(json_agg(json_build_array(source_topic,"
                " CASE WHEN raw_size > length(raw) THEN raw_sha256 ELSE encode(sha256(raw), 'hex')"
                " END, reason)), '[]') FROM dead_letters WHERE job_id IS NULL"
                " AND left(source_topic, length(:'tp') + 1) = :'tp' || '.';", {"tp": tp})[0]
    have = {}
    for topic, sha, _reason in rows:
        have[(topic, sha)] = have.get((topic, sha), 0) + 1
    want = {}
    for p in man["poison"]:
        want[(p["topic"], p["sha256"])] = want.get((p["topic"], p["sha256"]), 0) + 1
    missing = [(k, n - have.get(k, 0)) for k, n in want.items() if have.get(k, 0) < n]
    extra = [(k, n - want.get(k, 0)) for k, n in have.items() if want.get(k, 0) < n]
    by_kind = {}
    for p in man["poison"]:
        by_kind.setdefault(p["kind"], [0, 0])[0] += 1
        if have.get((p["topic"], p["sha256"]), 0) > 0:
            by_kind[p["kind"]][1] += 1
    print("poison in dead_letters (raw bytes unchanged), by kind: " + " ".join(
        "%s=%d/%d" % (k, v[1], v[0]) for k, v in sorted(by_kind.items())))
    if missing:
        bad.append("%d poison messages without a byte-identical dead_letters row" %
                   sum(n for _, n in missing))
    if extra:
        bad.append("%d dead_letters rows (no job id) that match no poison message" %
                   sum(n for _, n in extra))
    reasons = sorted({r[2].split(":")[0][:60] for r in rows})
    print("dead_letters reasons: " + " | ".join(reasons))
    # 2. poison on the dead-letter topic: the same bytes, with source headers
    p = subprocess.run(["kcat", "-b", os.environ["NUMTRUST_KAFKA_BOOTSTRAP_SERVERS"], "-C", "-t",
                        tp + ".dead", "-o", "beginning", "-e", "-q", "-f", r"%h\x1f%s\x1e"],
                       capture_output=True, timeout=120)
    if p.returncode != 0:
        raise SystemExit("poison.py: kcat: " + p.stderr.decode("utf-8", "replace"))
    on_topic = {}
    for rec in p.stdout.split(b"\x1e"):
        if not rec:
            continue
        hdr, _, value = rec.partition(b"\x1f")
        m = re.search(rb"source_topic=([^,]*)", hdr)
        topic = m.group(1).decode() if m else "?"
        sha = hashlib.sha256(value).hexdigest()
        if b"raw_truncated=true" in hdr:  # kept in part: the header hashes all its bytes
            m = re.search(rb"raw_sha256=([0-9a-f]{64})", hdr)
            sha = m.group(1).decode() if m else "?"
        k = (topic, sha)
        on_topic[k] = on_topic.get(k, 0) + 1
        for h in (b"source_partition=", b"source_offset=", b"attempts=", b"error="):
            if h not in hdr:
                bad.append("a dead-letter message lacks header %s" % h.decode())
                break
    missing = sum(n - on_topic.get(k, 0) for k, n in want.items() if on_topic.get(k, 0) < n)
    if missing:
        bad.append("%d poison messages not on %s.dead byte-identical" % (missing, tp))
    # 3. invalid jobs: failed, the error names the field; numbers byte-identical
    ids = [i["id"] for i in man["invalid"]] + [v["id"] for v in man["valid"]]
    rows = psql("SELECT coalesce(json_object_agg(id::text, json_build_array(state, last_error, "
                "encode(convert_to(number, 'UTF8'), 'hex'), type, result)), '{}') FROM jobs "
                "WHERE id = ANY(:'ids'::uuid[]);", {"ids": "{" + ",".join(ids) + "}"})[0]
    # invalid messages: recorded under their own id, the claimed one in the reason
    claimed = psql("SELECT coalesce(json_object_agg(substring(last_error FROM "
                   "'claimed job id ([0-9a-f-]{36})'), json_build_array(state, last_error, "
                   "encode(convert_to(number, 'UTF8'), 'hex'), type)), '{}') FROM jobs "
                   "WHERE last_error LIKE '%claimed job id%' "
                   "AND substring(last_error FROM 'claimed job id ([0-9a-f-]{36})') = "
                   "ANY(:'ids');", {"ids": "{" + ",".join(ids) + "}"})[0]
    for k, v in claimed.items():
        rows[k] = v
    wrong = {}
    for inv in man["invalid"]:
        r = rows.get(inv["id"])
        why = None
        if r is None:
            why = "not in the ledger"
        elif r[0] != "failed":
            why = "state %s" % r[0]
        elif not (r[1] or "").startswith("field %s" % inv["field"]) and \
                not (inv["field"] == "platform" and "platform" in (r[1] or "")):
            why = "error %r does not name field %s" % (r[1], inv["field"])
        elif r[2] != inv["number"].encode("utf-8").hex():
            why = "number stored as %r" % bytes.fromhex(r[2]).decode("utf-8", "replace")
        if why:
            wrong.setdefault(inv["kind"], []).append(why)
    print("invalid jobs failed with the field named: %d of %d" % (
        len(man["invalid"]) - sum(len(v) for v in wrong.values()), len(man["invalid"])))
    for kind, whys in sorted(wrong.items()):
        bad.append("invalid %s: %d wrong, e.g. %s" % (kind, len(whys), whys[0]))
    # 4. valid jobs with SQL-like strings: done, stored byte-identical
    vals = psql("SELECT coalesce(json_object_agg(job_id::text, encode(convert_to(label, 'UTF8'), "
                "'hex')), '{}') FROM tag_updates WHERE job_id = ANY(:'ids'::uuid[]);"
                "SELECT coalesce(json_object_agg(job_id::text, encode(convert_to(evidence, "
                "'UTF8'), 'hex')), '{}') FROM appeals WHERE job_id = ANY(:'ids'::uuid[]);",
                {"ids": "{" + ",".join(ids) + "}"})
    stored = dict(vals[0])
    stored.update(vals[1])
    ok = 0
    skipped = 0
    for v in man["valid"]:
        r = rows.get(v["id"])
        if r is None or r[0] != "done":
            bad.append("%s %s with %s %r: %s" % (v["type"], v["id"], v["column"], v["value"],
                                                 "not in the ledger" if r is None else
                                                 "state %s (%s)" % (r[0], r[1])))
        elif v["type"] == "tag_update" and len(r) > 4 and r[4] == "skipped_uncertified":
            # the registration was seen uncertified (the run's checks race the label
            # updates): done without a push, so nothing stored; check_invariants.py
            # holds such a skip to a non-certified observation and no platform call
            if v["id"] in stored:
                bad.append("tag_update %s: skipped as uncertified, yet a label was stored" %
                           v["id"])
            else:
                skipped += 1
        elif stored.get(v["id"]) != v["value"].encode("utf-8").hex():
            got = stored.get(v["id"])
            bad.append("%s %s: %s stored as %r, want %r" % (
                v["type"], v["id"], v["column"],
                None if got is None else bytes.fromhex(got).decode("utf-8", "replace"), v["value"]))
        else:
            ok += 1
    print("SQL-like strings stored byte-identical: %d of %d (label updates skipped, the "
          "registration uncertified: %d)" % (ok, len(man["valid"]), skipped))
    if ok * 2 < len(man["valid"]):
        bad.append("fewer than half of the SQL-like strings were stored (%d of %d): the check "
                   "tested too little" % (ok, len(man["valid"])))
    # 5. the schema is intact
    t = psql("SELECT json_build_array(to_regclass('public.jobs') IS NOT NULL, "
             "to_regclass('public.numbers') IS NOT NULL, to_regclass('public.tenants') IS NOT NULL,"
             " to_regclass('public.check_results') IS NOT NULL, "
             "to_regclass('public.appeals') IS NOT NULL, to_regclass('public.marks') IS NOT NULL);")[0]
    if not all(t):
        bad.append("a table is gone: %r" % t)
    for b in bad:
        print("POISON CHECK FAILED: " + b)
    print("poison_check problems=%d" % len(bad))
    sys.exit(1 if bad else 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("--topics-prefix", required=True)
    g.add_argument("--check-fleet", required=True)
    g.add_argument("--tag-fleet", required=True)
    g.add_argument("--rounds", type=int, default=24)
    g.add_argument("--batches", default="A,B,C,D")
    g.add_argument("--seed", type=int, default=7)
    g.add_argument("--out", required=True)
    v = sub.add_parser("verify")
    v.add_argument("--topics-prefix", required=True)
    v.add_argument("--manifest", required=True)
    args = ap.parse_args()
    if args.cmd == "gen":
        cmd_gen(args)
    else:
        cmd_verify(args)


if __name__ == "__main__":
    main()
