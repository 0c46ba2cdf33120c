#!/usr/bin/env python3
"""check_invariants.py — numtrust's delivery invariants after a fault run.

Every job of the run (ledger rows whose number starts with --prefix, plus the ids of --ids) must
end exactly once: `done` with exactly one result row in its table (check_results, tag_updates,
appeals), or `failed` with none, or `dead` with one dead_letters row and its message on the
dead-letter topic. A check's history row exists only when it observed a change (migration 009):
a `done` check says which in its ledger row (`changed` or `same`), and has exactly one
check_results row when `changed` and none when `same`. Nothing may stay queued/running/retrying, and the simulator must have seen no
side effect twice (its duplicate_side_effects counter, its side-effect totals against the keys
that called it, and one Idempotency-Key per tag/appeal job — shared with its re-runs, which keep
the first attempt's key: jobs.origin).

  lost     a job the producer acknowledged (--expect TYPE=N, --ids) without a final state; a
           `done` job without its result row (a check: `changed` without its history row, or
           neither `changed` nor `same`); a `dead` job without its dead_letters row or
           without its message on the dead-letter topic; a poison message (--poison N)
           missing from dead_letters or from the topic; a label update done without a push
           (`skipped_uncertified`: its registration was seen not certified after the tag pass
           chose it) that no history row of a non-certified observation backs, or whose push
           the simulator saw
  doubled  more than one result row for a job id (in one table or across tables); a result row
           of a job that is not `done` (it ended twice), of a check that observed no change
           (`same`), or that has no ledger row; more than one check result per (number,
           platform) observing the same state, tag update per (number, platform) or appeal per
           (number, platform, mark type) — one enqueue period per run; more than one
           dead_letters row per job id; a dead letter of a job that is not `dead`
  stuck    ledger rows left queued, running or retrying
  side_effects_doubled  the simulator's duplicate_side_effects, plus tag/appeal side effects it
           counted beyond the number of keys that reached it
  unbacked a `done` tag/appeal job the simulator never saw a call for (a result that did not
           come from the platform)

Talks to PostgreSQL through psql ($NUMTRUST_PG_CONNINFO), to Kafka through kcat
($NUMTRUST_KAFKA_BOOTSTRAP_SERVERS) and to the simulator's admin API ($NT_SIM_URL). Run it after
the workers stopped, with the simulator's counters reset at the start of the run.

Prints tallies, then one summary line
  invariants lost=0 doubled=0 stuck=0 dead=N done=N failed=N side_effects_doubled=0 ...
and exits 1 when lost, doubled, stuck, side_effects_doubled or unbacked is not 0 (2: usage or
an infrastructure error).
"""
import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import urllib.parse

FINAL = ("done", "failed", "dead")
RESULT_TABLE = {"check": "check_results", "tag_update": "tag_updates", "appeal": "appeals"}
SIDE_EFFECT_TYPES = ("tag_update", "appeal")


def die(msg):
    print("check_invariants: " + msg, file=sys.stderr)
    sys.exit(2)


def psql_json(conninfo, sql, variables):
    """Runs sql (one or more statements; each SELECT yields one JSON value per row) with psql
    variables bound (:'name'); returns the output lines parsed as JSON."""
    argv = ["psql", conninfo, "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1"]
    for k, v in variables.items():
        argv += ["-v", "%s=%s" % (k, v)]
    p = subprocess.run(argv, input=sql, capture_output=True, text=True)
    if p.returncode != 0:
        die("psql failed: " + p.stderr.strip())
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


# One session: the run's jobs in a temporary table, then one JSON document per question.
SQL = r"""
CREATE TEMP TABLE u AS
  SELECT id, type, state, attempts, number, platform, result FROM jobs
  WHERE number LIKE :'like' OR id = ANY(:'ids'::uuid[]);
CREATE UNIQUE INDEX ON u (id);
CREATE TEMP TABLE res AS
  SELECT job_id, 'check'::text AS t, number, platform,
         -- what a check observed: two history rows of one registration observing the same
         -- state are one change written twice
         md5(concat_ws('|', cert_status, trust_score, label_android, label_ios, label_search,
                       (SELECT string_agg(m::text, ',' ORDER BY m::text)
                        FROM jsonb_array_elements(marks) m))) AS sub FROM check_results
    WHERE number LIKE :'like' OR job_id IN (SELECT id FROM u)
  UNION ALL
  SELECT job_id, 'tag_update', number, platform, NULL FROM tag_updates
    WHERE number LIKE :'like' OR job_id IN (SELECT id FROM u)
  UNION ALL
  SELECT job_id, 'appeal', number, platform, mark_type FROM appeals
    WHERE number LIKE :'like' OR job_id IN (SELECT id FROM u);
CREATE INDEX ON res (job_id);
CREATE TEMP TABLE dl AS
  SELECT source_topic, source_partition, source_offset, job_id FROM dead_letters
  WHERE job_id IN (SELECT id FROM u)
     OR (job_id IS NULL AND left(source_topic, length(:'tp') + 1) = :'tp' || '.');
-- 1: counts by type and state
SELECT coalesce(json_object_agg(k, n), '{}') FROM
  (SELECT type || '/' || state AS k, count(*) AS n FROM u GROUP BY 1) s;
-- 2: ids given with --ids that the ledger does not hold
SELECT coalesce(json_agg(i), '[]') FROM unnest(:'ids'::uuid[]) i
  WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = i);
-- 3: done jobs of a type with a result table but without a result row of that type (a check
--    only when it observed a change), and done checks that recorded neither a change nor none
SELECT json_build_object('n', count(*), 'sample', (array_agg(u.id::text || ':' ||
         coalesce(u.result, 'NULL')))[1:5]) FROM u
  WHERE u.state = 'done' AND u.type IN ('check', 'tag_update', 'appeal')
    AND ((u.type = 'check' AND u.result IS DISTINCT FROM 'changed'
          AND u.result IS DISTINCT FROM 'same')
         OR ((u.type <> 'check' OR u.result = 'changed')
             AND NOT (u.type = 'tag_update' AND u.result = 'skipped_uncertified')
             AND NOT EXISTS (SELECT 1 FROM res WHERE res.job_id = u.id AND res.t = u.type)));
-- 4: job ids with more than one result row (any tables)
SELECT json_build_object('n', coalesce(sum(c - 1), 0), 'sample', (array_agg(job_id::text))[1:5])
  FROM (SELECT job_id, count(*) AS c FROM res GROUP BY 1 HAVING count(*) > 1) s;
-- 5: result rows of a job that is not done, of another type, of a check that observed no
--    change, or not in the ledger at all
SELECT json_build_object('n', count(*), 'sample', (array_agg(res.job_id::text || ':' ||
         coalesce(j.type || '/' || j.state || '/' || coalesce(j.result, 'NULL'),
                  'no ledger row')))[1:5])
  FROM res LEFT JOIN jobs j ON j.id = res.job_id
  WHERE j.id IS NULL OR j.state <> 'done' OR j.type <> res.t
     OR (j.type = 'check' AND j.result IS DISTINCT FROM 'changed')
     OR (j.type = 'tag_update' AND j.result = 'skipped_uncertified');
-- 6: more than one result per registration (one period per run; checks: per observed state)
SELECT json_build_object('n', coalesce(sum(c - 1), 0), 'sample', (array_agg(k))[1:5]) FROM
  (SELECT t || ' ' || number || ' ' || platform || coalesce(' ' || sub, '') AS k, count(*) AS c
   FROM res GROUP BY t, number, platform, sub HAVING count(*) > 1) s;
-- 7: dead jobs without a dead_letters row
SELECT json_build_object('n', count(*), 'sample', (array_agg(u.id::text))[1:5]) FROM u
  WHERE u.state = 'dead' AND NOT EXISTS (SELECT 1 FROM dl WHERE dl.job_id = u.id);
-- 8: job ids with more than one dead_letters row
SELECT json_build_object('n', coalesce(sum(c - 1), 0), 'sample', (array_agg(job_id::text))[1:5])
  FROM (SELECT job_id, count(*) AS c FROM dl WHERE job_id IS NOT NULL GROUP BY 1
        HAVING count(*) > 1) s;
-- 9: dead letters of a job that is not dead
SELECT json_build_object('n', count(*), 'sample', (array_agg(dl.job_id::text || ':' || u.state))[1:5])
  FROM dl JOIN u ON u.id = dl.job_id WHERE u.state <> 'dead';
-- 10: every dead letter of the run (coordinates), poison or not
SELECT coalesce(json_agg(json_build_array(source_topic, source_partition, source_offset,
                                          job_id IS NULL)), '[]') FROM dl;
-- 11: tag/appeal job ids, states and Idempotency-Keys (a re-run keeps its first attempt's id)
SELECT coalesce(json_agg(json_build_array(u.id::text, u.type, u.state,
                                          coalesce(j.origin, u.id)::text, u.result)), '[]')
  FROM u JOIN jobs j ON j.id = u.id WHERE u.type IN ('tag_update', 'appeal');
-- 12: attempts (how often jobs were claimed); done checks by what they observed
SELECT json_build_object('max', coalesce(max(attempts), 0),
                         'over1', count(*) FILTER (WHERE attempts > 1),
                         'changed', count(*) FILTER (WHERE type = 'check' AND state = 'done'
                                                     AND result = 'changed'),
                         'same', count(*) FILTER (WHERE type = 'check' AND state = 'done'
                                                  AND result = 'same')) FROM u;
-- 13: label updates done without a push because their registration was not certified
--     (skipped_uncertified), and those of them no check backs: a skip needs a history row
--     of the registration observing it not certified (any state it held came from one)
SELECT json_build_object('n', count(*), 'unbacked', count(*) FILTER (WHERE NOT s.backed),
       'sample', (array_agg(s.id::text) FILTER (WHERE NOT s.backed))[1:5]) FROM
  (SELECT u.id, EXISTS (
            SELECT 1 FROM check_results cr WHERE cr.number = u.number AND cr.platform = u.platform
              AND cr.cert_status IS NOT NULL AND cr.cert_status <> 'certified') AS backed
   FROM u
   WHERE u.type = 'tag_update' AND u.state = 'done' AND u.result = 'skipped_uncertified') s;
"""


def read_dead_topic(bootstrap, topic):
    """(source_topic, partition, offset) -> number of messages on the dead-letter topic."""
    argv = ["kcat", "-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q",
            "-f", r"%h\x1e"]
    p = subprocess.run(argv, capture_output=True, timeout=120)
    if p.returncode != 0:
        err = p.stderr.decode("utf-8", "replace").strip()
        if "Unknown topic" in err or "UNKNOWN_TOPIC" in err:
            return {}, 0
        die("kcat on %s failed: %s" % (topic, err))
    seen = {}
    n = 0
    pat = re.compile(rb"(?:^|,)source_topic=([^,]*),source_partition=(-?\d+),source_offset=(-?\d+)")
    for rec in p.stdout.split(b"\x1e"):
        if not rec.strip():
            continue
        n += 1
        m = pat.search(rec)
        if m is None:
            continue
        k = (m.group(1).decode("utf-8", "replace"), int(m.group(2)), int(m.group(3)))
        seen[k] = seen.get(k, 0) + 1
    return seen, n


class Sim:
    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port or 80
        self.conn = None

    def get(self, path):
        for attempt in range(3):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
                self.conn.request("GET", path)
                r = self.conn.getresponse()
                body = r.read()
                if r.status != 200:
                    die("simulator GET %s: HTTP %d %s" % (path, r.status, body[:200]))
                return json.loads(body)
            except (OSError, http.client.HTTPException):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prefix", required=True, help="E.164 prefix of the run's numbers (+86301)")
    ap.add_argument("--expect", action="append", default=[], metavar="TYPE=N",
                    help="the producer acknowledged N jobs of TYPE (check, tag_update, appeal, "
                    "appeal_status); repeatable")
    ap.add_argument("--ids", help="file of job ids (one a line) that were acknowledged on Kafka "
                    "and must end in a final state, whatever their number")
    ap.add_argument("--poison", type=int, default=None,
                    help="poison messages (no usable job id) produced to the run's topics")
    ap.add_argument("--topics-prefix", default=os.environ.get("NUMTRUST_TOPICS_PREFIX"),
                    help="the run's topic prefix (default $NUMTRUST_TOPICS_PREFIX)")
    ap.add_argument("--no-sim", action="store_true", help="skip the simulator's counters")
    ap.add_argument("--json", help="also write the tallies to this file")
    args = ap.parse_args()
    if not re.fullmatch(r"\+[0-9]{1,15}", args.prefix):
        die("--prefix %r must be + and digits" % args.prefix)
    if not args.topics_prefix:
        die("no --topics-prefix and no NUMTRUST_TOPICS_PREFIX")
    expect = {}
    for e in args.expect:
        m = re.fullmatch(r"(check|tag_update|appeal|appeal_status)=([0-9]+)", e)
        if m is None:
            die("--expect %r: want TYPE=N" % e)
        expect[m.group(1)] = expect.get(m.group(1), 0) + int(m.group(2))
    ids = []
    if args.ids:
        with open(args.ids, encoding="utf-8") as f:
            ids = [line.strip().lower() for line in f if line.strip()]
        for i in ids:
            if not re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", i):
                die("--ids: %r is not a UUID" % i)
    conninfo = os.environ.get("NUMTRUST_PG_CONNINFO") or die("NUMTRUST_PG_CONNINFO is not set")
    bootstrap = os.environ.get("NUMTRUST_KAFKA_BOOTSTRAP_SERVERS") or die(
        "NUMTRUST_KAFKA_BOOTSTRAP_SERVERS is not set")

    out = psql_json(conninfo, SQL, {"like": args.prefix + "%", "tp": args.topics_prefix,
                                    "ids": "{" + ",".join(ids) + "}"})
    if len(out) != 13:
        die("unexpected psql output (%d documents)" % len(out))
    (by_ts, ids_missing, done_nores, multi_res, conflict, per_reg, dead_nodl, multi_dl,
     dl_notdead, dls, se_jobs, attempts, skipped) = out
    ids_missing = ids_missing or []

    problems = []  # (category, n, what, sample)

    def add(cat, n, what, sample=None):
        if n:
            problems.append((cat, n, what, sample or []))

    by_type, by_state = {}, {}
    for k, n in by_ts.items():
        t, s = k.split("/", 1)
        by_type.setdefault(t, {})[s] = n
        by_state[s] = by_state.get(s, 0) + n

    # lost: acknowledged jobs that are not in the ledger or not final
    for t, want in sorted(expect.items()):
        have = sum(by_type.get(t, {}).values())
        add("lost", max(0, want - have), "%s jobs acknowledged but not in the ledger "
            "(%d of %d there)" % (t, have, want))
    add("lost", len(ids_missing), "acknowledged job ids (--ids) not in the ledger", ids_missing[:5])
    not_final = sum(n for s, n in by_state.items() if s not in FINAL)
    add("lost", not_final, "jobs without a final state")
    add("lost", done_nores["n"], "done jobs without their result row (checks: a change without "
        "its history row, or no observation recorded)", done_nores["sample"])
    add("lost", dead_nodl["n"], "dead jobs without a dead_letters row", dead_nodl["sample"])
    add("lost", skipped["unbacked"], "label updates skipped as uncertified without a check that "
        "saw the registration not certified", skipped["sample"])
    stuck = not_final

    # doubled
    add("doubled", multi_res["n"], "extra result rows for one job id", multi_res["sample"])
    add("doubled", conflict["n"], "result rows of a job that is not done (or of another type, "
        "of a check that observed no change, or not in the ledger)", conflict["sample"])
    add("doubled", per_reg["n"], "extra results for one registration (number, platform[, mark "
        "type; a check: observing the same state])",
        per_reg["sample"])
    add("doubled", multi_dl["n"], "extra dead_letters rows for one job id", multi_dl["sample"])
    add("doubled", dl_notdead["n"], "dead letters of a job that is not dead", dl_notdead["sample"])

    # dead letters: on the topic, poison counted
    dead_topic = args.topics_prefix + ".dead"
    on_topic, topic_msgs = read_dead_topic(bootstrap, dead_topic)
    missing_on_topic = [d for d in dls if (d[0], d[1], d[2]) not in on_topic]
    add("lost", len(missing_on_topic), "dead letters not on %s" % dead_topic,
        ["%s[%d]@%d" % (d[0], d[1], d[2]) for d in missing_on_topic[:5]])
    poison_rows = sum(1 for d in dls if d[3])
    if args.poison is not None:
        add("lost", max(0, args.poison - poison_rows),
            "poison messages without a dead_letters row (%d of %d)" % (poison_rows, args.poison))
        add("doubled", max(0, poison_rows - args.poison),
            "more poison dead letters than poison messages (%d of %d)" % (poison_rows, args.poison))
    topic_repeats = sum(c - 1 for c in on_topic.values() if c > 1)
    run_coords = {(d[0], d[1], d[2]) for d in dls}
    foreign = sum(c for k, c in on_topic.items() if k not in run_coords)

    # the simulator: calls per Idempotency-Key, side effects
    se_doubled = 0
    unbacked = 0
    calls_hist = {}
    max_calls = 0
    sim_line = "simulator: skipped"
    if not args.no_sim:
        sim = Sim(os.environ.get("NT_SIM_URL") or die("NT_SIM_URL is not set"))
        c = sim.get("/admin/counters")
        keys_called = {"tag_update": 0, "appeal": 0}
        unbacked_sample = []
        calls_of = {}  # Idempotency-Key -> calls (a key shared by a job and its re-runs once)
        pushed_skips = []
        for jid, t, state, key, result in se_jobs:
            if key not in calls_of:
                calls_of[key] = sim.get("/admin/idempotency?key=" + urllib.parse.quote(key))["calls"]
                n = calls_of[key]
                calls_hist[n] = calls_hist.get(n, 0) + 1
                max_calls = max(max_calls, n)
                if n > 0:
                    keys_called[t] += 1
            skip = t == "tag_update" and result == "skipped_uncertified"
            if calls_of[key] == 0 and state == "done" and not skip:
                unbacked += 1
                unbacked_sample.append(jid)
            if calls_of[key] > 0 and state == "done" and skip:
                pushed_skips.append(jid)
        dup = int(c.get("duplicate_side_effects", 0))
        se = c.get("side_effects", {})
        extra_tags = max(0, int(se.get("tag_updates", 0)) - keys_called["tag_update"])
        extra_appeals = max(0, int(se.get("appeals", 0)) - keys_called["appeal"])
        se_doubled = dup + extra_tags + extra_appeals
        add("side_effects_doubled", dup, "simulator duplicate_side_effects")
        add("side_effects_doubled", extra_tags, "simulator tag updates beyond the keys that "
            "called it (%s side effects, %d keys)" % (se.get("tag_updates"), keys_called["tag_update"]))
        add("side_effects_doubled", extra_appeals, "simulator appeals beyond the keys that called "
            "it (%s side effects, %d keys)" % (se.get("appeals"), keys_called["appeal"]))
        add("unbacked", unbacked, "done tag/appeal jobs the simulator never saw a call for",
            unbacked_sample[:5])
        add("lost", len(pushed_skips), "label updates recorded as skipped (uncertified) whose "
            "push the simulator saw: a side effect without its result row", pushed_skips[:5])
        sim_line = ("simulator: requests=%d 429=%d 5xx=%d timeouts=%d side_effects=%s "
                    "duplicate_side_effects=%d early_retries=%d keys=%d max_calls_per_key=%d "
                    "calls_per_key=%s" % (
                        c.get("requests", 0), c.get("rate_limited", 0),
                        c.get("faults", {}).get("5xx", 0), c.get("faults", {}).get("timeout", 0),
                        json.dumps(se, sort_keys=True, separators=(",", ":")), dup,
                        c.get("early_retries", 0), len(calls_of), max_calls,
                        ",".join("%d:%d" % kv for kv in sorted(calls_hist.items()))))

    # report
    print("ledger: " + " ".join("%s=%d" % (k, by_ts[k]) for k in sorted(by_ts)))
    print("results: attempts_max=%d jobs_claimed_more_than_once=%d checks_changed=%d "
          "checks_same=%d labels_skipped_uncertified=%d dead_letters=%d (poison %d) "
          "dead_topic_messages=%d dead_topic_repeats=%d dead_topic_other=%d" % (
              attempts["max"], attempts["over1"], attempts["changed"], attempts["same"],
              skipped["n"], len(dls), poison_rows, topic_msgs,
              topic_repeats, foreign))
    print(sim_line)
    for cat, n, what, sample in problems:
        print("%s %d: %s%s" % (cat.upper(), n, what,
                               (" e.g. " + ", ".join(map(str, sample))) if sample else ""))
    tot = {cat: sum(p[1] for p in problems if p[0] == cat)
           for cat in ("lost", "doubled", "side_effects_doubled", "unbacked")}
    dead = by_state.get("dead", 0) + poison_rows
    summary = {"lost": tot["lost"], "doubled": tot["doubled"], "stuck": stuck, "dead": dead,
               "done": by_state.get("done", 0), "failed": by_state.get("failed", 0),
               "side_effects_doubled": tot["side_effects_doubled"], "unbacked": tot["unbacked"],
               "jobs": sum(by_state.values()) + poison_rows, "poison": poison_rows,
               "checks_changed": attempts["changed"], "checks_same": attempts["same"],
               "max_calls_per_key": max_calls}
    print("invariants lost=%(lost)d doubled=%(doubled)d stuck=%(stuck)d dead=%(dead)d "
          "done=%(done)d failed=%(failed)d side_effects_doubled=%(side_effects_doubled)d "
          "unbacked=%(unbacked)d jobs=%(jobs)d max_calls_per_key=%(max_calls_per_key)d" % summary)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(summary, f)
    bad = summary["lost"] or summary["doubled"] or summary["stuck"] or \
        summary["side_effects_doubled"] or summary["unbacked"]
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
