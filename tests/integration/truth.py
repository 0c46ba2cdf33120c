#!/usr/bin/env python3
"""truth.py — compare numtrust's observed state in PostgreSQL with the simulator's ground truth.

For every registration (number, platform) whose number starts with --prefix, reads the
latest observed state from number_platforms and open marks from the latest check result,
asks the simulator's /admin/truth for the same (platform, number), and compares
cert_status, trust_score, the label on each surface and the marks (type and count).
Prints one line per mismatch and a summary line `mismatches=N compared=M`; exits 1 when
anything differs or nothing was compared.
"""
import argparse
import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prefix", required=True, help="E.164 prefix of the numbers, e.g. +86205")
    ap.add_argument("--platform", action="append", help="only these platforms (repeatable)")
    args = ap.parse_args()
    sim = os.environ["NT_SIM_URL"]
    sql = """
        SELECT json_build_object('number', np.number, 'platform', np.platform,
               'cert_status', np.cert_status, 'trust_score', np.trust_score,
               'labels', json_build_object('android', np.label_android, 'ios', np.label_ios,
                                           'search', np.label_search),
               'marks', cr.marks)
        FROM number_platforms np JOIN check_results cr ON cr.job_id = np.last_check_job
        WHERE np.number LIKE %s ORDER BY np.number, np.platform
    """ % ("'" + args.prefix.replace("'", "") + "%'")
    out = subprocess.run(["psql", os.environ["NUMTRUST_PG_CONNINFO"], "-X", "-A", "-t", "-q",
                          "-v", "ON_ERROR_STOP=1", "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    if args.platform:
        rows = [r for r in rows if r["platform"] in args.platform]
    mismatches = 0
    for r in rows:
        url = "%s/admin/truth?platform=%s&number=%s" % (
            sim, urllib.parse.quote(r["platform"]), urllib.parse.quote(r["number"]))
        with urllib.request.urlopen(url, timeout=10) as resp:
            t = json.load(resp)
        # a platform shows labels on some surfaces only (a handset vendor's
        # dialer: android): the simulator lists those, numtrust maps only those
        ours = {"cert_status": r["cert_status"], "trust_score": r["trust_score"],
                "labels": {k: v for k, v in r["labels"].items() if v is not None},
                "marks": sorted((m["type"], m["count"]) for m in r["marks"])}
        theirs = {"cert_status": t["cert_status"], "trust_score": t["trust_score"],
                  "labels": t["labels"],
                  "marks": sorted((m["type"], m["count"]) for m in t["marks"])}
        for k in ours:
            if ours[k] != theirs[k]:
                mismatches += 1
                print("mismatch %s %s %s: numtrust=%r simulator=%r" % (
                    r["platform"], r["number"], k, ours[k], theirs[k]))
    by_platform = {}
    for r in rows:
        by_platform[r["platform"]] = by_platform.get(r["platform"], 0) + 1
    print("mismatches=%d compared=%d %s" % (mismatches, len(rows), " ".join(
        "%s=%d" % kv for kv in sorted(by_platform.items()))))
    sys.exit(1 if mismatches or not rows else 0)


if __name__ == "__main__":
    main()
