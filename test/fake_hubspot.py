#!/usr/bin/env python3
"""A fake HubSpot CRM for the tests: 127.0.0.1 only, standard library only.

Speaks the shapes of the CRM v3 contact search (PRODUCT.md section 6):

  POST /crm/v3/objects/contacts/search   Authorization: Bearer <token>
       {"filterGroups":[{"filters":[{"propertyName":"lastmodifieddate",
         "operator":"GTE","value":"<epoch ms>"}]}],
        "sorts":[{"propertyName":"lastmodifieddate","direction":"ASCENDING"}],
        "properties":[...], "limit": <= 200, "after": "<offset>"}
  -> {"total": n, "results": [{"id", "properties", "createdAt", "updatedAt",
      "archived"}], "paging": {"next": {"after": "..."}}}   (no paging on
      the last page); paging past 10,000 results is HTTP 400; more than 5
      searches in a second is HTTP 429 (TEN_SECONDLY_ROLLING body).

Test control (no auth), JSON bodies:

  POST /_control/contacts   {"contacts": [{"id","email","role","modified"}]}
                            replaces the data ("modified": epoch ms)
  POST /_control/generate   {"count": n, "role": "...", "start": ms}
  POST /_control/token      {"token": "..."}
  POST /_control/failures   {"queue": [{"status": 429, "retry_after": 1},
                             {"status": 503}, {"status": 401},
                             {"delay": 30}, {"truncate": true},
                             {"huge": 1048576}]}  consumed one per search
  GET  /_control/log        {"searches": n, "bodies": [...], "auth": [...]}
  POST /_control/reset-log
"""
import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_RESULTS = 10000
RATE_LIMIT = 5  # searches per rolling second

state_lock = threading.Lock()
state = {
    "token": "test-token",
    "contacts": [],
    "failures": [],
    "log": {"searches": 0, "bodies": [], "auth": [], "times": []},
}


def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + ".%03dZ" % (ms % 1000)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, payload, headers=None, raw=None):
        body = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def read_json(self):
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(n) if n else b""
        return json.loads(data or b"{}")

    def do_GET(self):
        if self.path == "/_control/log":
            with state_lock:
                return self.reply(200, state["log"])
        self.reply(404, {"status": "error", "message": "not found"})

    def do_POST(self):
        if self.path.startswith("/_control/"):
            return self.control(self.path[len("/_control/"):])
        if self.path != "/crm/v3/objects/contacts/search":
            return self.reply(404, {"status": "error", "message": "not found"})
        self.search()

    def control(self, what):
        req = self.read_json()
        with state_lock:
            if what == "contacts":
                state["contacts"] = req["contacts"]
            elif what == "generate":
                start = req.get("start", 1763632800000)
                state["contacts"] = [
                    {"id": str(100000 + i), "email": "bulk%d@bulk.test" % i,
                     "role": req.get("role", "Sales Rep"), "modified": start + i}
                    for i in range(req["count"])]
            elif what == "token":
                state["token"] = req["token"]
            elif what == "failures":
                state["failures"] = req["queue"]
            elif what == "reset-log":
                state["log"] = {"searches": 0, "bodies": [], "auth": [], "times": []}
            else:
                return self.reply(404, {"status": "error", "message": "unknown control"})
        self.reply(200, {"ok": True})

    def search(self):
        started = time.time()
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        auth = self.headers.get("Authorization", "")
        with state_lock:
            log = state["log"]
            log["searches"] += 1
            try:
                log["bodies"].append(json.loads(raw))
            except ValueError:
                log["bodies"].append(raw.decode(errors="replace"))
            log["auth"].append(auth)
            now = time.time()
            log["times"].append(now)
            recent = [t for t in log["times"] if now - t < 1.0]
            failure = state["failures"].pop(0) if state["failures"] else None
            token = state["token"]
            contacts = list(state["contacts"])
        if failure and "delay" in failure:
            time.sleep(failure["delay"])
        if failure and "status" in failure:
            status = failure["status"]
            if status == 429:
                headers = {}
                if failure.get("retry_after") is not None:
                    headers["Retry-After"] = str(failure["retry_after"])
                return self.reply(429, {"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
                                        "errorType": "RATE_LIMIT", "correlationId": "fake",
                                        "policyName": "TEN_SECONDLY_ROLLING"}, headers)
            if status in (401, 403):
                return self.reply(status, {"status": "error", "category": "INVALID_AUTHENTICATION",
                                           "message": "Authentication credentials not found."})
            return self.reply(status, {"status": "error", "message": "internal error", "category": "INTERNAL"})
        if RATE_LIMIT and len(recent) > RATE_LIMIT:
            return self.reply(429, {"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
                                    "errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"})
        if auth != "Bearer " + token:
            return self.reply(401, {"status": "error", "category": "INVALID_AUTHENTICATION",
                                    "message": "Authentication credentials not found."})
        try:
            req = json.loads(raw)
            flt = req["filterGroups"][0]["filters"][0]
            assert flt["propertyName"] == "lastmodifieddate" and flt["operator"] == "GTE"
            since = int(flt["value"])
            assert req["sorts"][0] == {"propertyName": "lastmodifieddate", "direction": "ASCENDING"}
            props = req["properties"]
            limit = int(req.get("limit", 10))
            after = int(req.get("after", 0))
        except (ValueError, KeyError, IndexError, TypeError, AssertionError) as e:
            return self.reply(400, {"status": "error", "category": "VALIDATION_ERROR", "message": "bad request: %r" % e})
        if limit < 1 or limit > 200:
            return self.reply(400, {"status": "error", "category": "VALIDATION_ERROR",
                                    "message": "limit must be between 1 and 200"})
        if after + limit > MAX_RESULTS:
            return self.reply(400, {"status": "error", "category": "VALIDATION_ERROR",
                                    "message": "paging beyond 10,000 results is not supported"})
        matching = sorted((c for c in contacts if c["modified"] >= since), key=lambda c: (c["modified"], c["id"]))
        page = matching[after:after + limit]
        role_prop = [p for p in props if p not in ("email", "lastmodifieddate")]
        results = []
        for c in page:
            p = {"email": c.get("email"), "lastmodifieddate": iso(c["modified"]), "hs_object_id": c["id"]}
            for rp in role_prop:
                p[rp] = c.get("role")
            results.append({"id": c["id"], "properties": p, "createdAt": iso(c["modified"]),
                            "updatedAt": iso(c["modified"]), "archived": False})
        payload = {"total": len(matching), "results": results}
        if after + limit < len(matching):
            payload["paging"] = {"next": {"after": str(after + limit),
                                          "link": "?after=%d" % (after + limit)}}
        body = json.dumps(payload).encode()
        if failure and failure.get("truncate"):
            body = body[: max(1, len(body) // 2)]
        if failure and failure.get("huge"):
            body = json.dumps({"total": 0, "results": [], "padding": "x" * int(failure["huge"])}).encode()
        with state_lock:
            state["log"]["server_seconds"] = state["log"].get("server_seconds", 0.0) + (time.time() - started)
        self.reply(200, None, raw=body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--token", default="test-token")
    ap.add_argument("--rate-limit", type=int, default=RATE_LIMIT,
                    help="searches allowed per rolling second; 0 = no limit (benchmarks)")
    args = ap.parse_args()
    globals()["RATE_LIMIT"] = args.rate_limit
    state["token"] = args.token
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
