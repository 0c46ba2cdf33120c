#!/usr/bin/env python3
"""alert_receiver.py — a webhook receiver for the alert tests (docs/policies.md, Alerts).

Verifies every delivery as a real receiver should: X-Numtrust-Signature is
v1=hex(HMAC-SHA256(secret, TIMESTAMP + "." + BODY)), compared in constant time;
X-Numtrust-Timestamp within 300 s of now; X-Numtrust-Delivery an id to
deduplicate on (delivery is at least once). Counts what it got:

  GET  /stats           {"valid", "invalid", "unique", "duplicates", "failed_on_purpose",
                         "by_event": {...}, "ids": [...]}
  POST /admin/fail      {"next": N, "status": 500}  answer the next N valid deliveries with
                        that status (and do not count them as received)

Every valid delivery is appended to --log as one JSON line (headers and body).
Binds 127.0.0.1 only. Stops on SIGTERM.
"""
import argparse
import hashlib
import hmac
import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"valid": 0, "invalid": 0, "failed_on_purpose": 0, "by_event": {}, "ids": {},
         "fail_next": 0, "fail_status": 500, "errors": []}


def verify(secret, ts, sig, body, now):
    if ts is None or sig is None:
        return "missing headers"
    try:
        t = int(ts)
    except ValueError:
        return "timestamp not an integer"
    if abs(now - t) > 300:
        return "timestamp %d is %d s from now" % (t, now - t)
    want = "v1=" + hmac.new(SECRET, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(v.strip(), want) for v in sig.split(",")):
        return "signature mismatch"
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path != "/stats":
            return self.reply(404, {"error": "not found"})
        with LOCK:
            ids = STATE["ids"]
            self.reply(200, {"valid": STATE["valid"], "invalid": STATE["invalid"],
                             "unique": len(ids), "duplicates": sum(ids.values()) - len(ids),
                             "failed_on_purpose": STATE["failed_on_purpose"],
                             "by_event": STATE["by_event"], "ids": sorted(ids),
                             "errors": STATE["errors"][-5:]})

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        if self.path == "/admin/fail":
            req = json.loads(body or b"{}")
            with LOCK:
                STATE["fail_next"] = int(req.get("next", 0))
                STATE["fail_status"] = int(req.get("status", 500))
            return self.reply(200, {"ok": True})
        err = verify(SECRET, self.headers.get("X-Numtrust-Timestamp"),
                     self.headers.get("X-Numtrust-Signature"), body, int(time.time()))
        did = self.headers.get("X-Numtrust-Delivery")
        with LOCK:
            if err is None and not did:
                err = "no delivery id"
            if err is None:
                try:
                    doc = json.loads(body)
                    if doc.get("delivery_id") != did:
                        err = "delivery id of body and header differ"
                except ValueError:
                    err = "body is not JSON"
            if err is not None:
                STATE["invalid"] += 1
                STATE["errors"].append(err)
                return self.reply(401, {"error": err})
            if STATE["fail_next"] > 0:
                STATE["fail_next"] -= 1
                STATE["failed_on_purpose"] += 1
                return self.reply(STATE["fail_status"], {"error": "failing on purpose"})
            STATE["valid"] += 1
            STATE["ids"][did] = STATE["ids"].get(did, 0) + 1
            ev = doc.get("event", "?")
            STATE["by_event"][ev] = STATE["by_event"].get(ev, 0) + 1
            if LOG is not None:
                LOG.write(json.dumps({"delivery": did,
                                      "event": self.headers.get("X-Numtrust-Event"),
                                      "body": doc}, ensure_ascii=False) + "\n")
                LOG.flush()
        self.reply(200, {"ok": True})


def main():
    global SECRET, LOG
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--log")
    a = ap.parse_args()
    SECRET = a.secret.encode()
    LOG = open(a.log, "a", encoding="utf-8") if a.log else None
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.shutdown).start())
    print("listening on 127.0.0.1:%d" % a.port, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
