"""Webhook delivery lag: writes changes at a steady rate and receives their webhooks.

Usage: webhook_lag.py BASE_URL API_KEY RECEIVER_PORT RATE SECONDS

Subscribes a receiver on 127.0.0.1:RECEIVER_PORT to `partner.updated`, creates 8
partners and renames them RATE times a second in all for SECONDS seconds (paced by
schedule, one thread per partner, so one slow answer does not slow the rate and no
two renames of one partner race). The receiver notes when
each event arrives; the lag is the arrival time minus the event's `occurred_at` (the
writing transaction's start, a little before its commit, so the figure errs high).
Prints one JSON line: counts and lag percentiles in milliseconds.
"""
import http.client
import http.server
import json
import sys
import threading
import time
from datetime import datetime

base, key, port, rate, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
host, api_port = base.removeprefix("http://").split(":")
lags, ids, lock = [], [], threading.Lock()


class Receiver(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        now = time.time()
        event = json.loads(body)
        occurred = datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00")).timestamp()
        with lock:
            lags.append(now - occurred)
            ids.append(self.headers["webhook-id"])
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()


def call(conn, method, path, body=None):
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    conn.request(method, path, json.dumps(body) if body is not None else None, headers)
    res = conn.getresponse()
    data = res.read()
    if res.status >= 300:
        raise SystemExit(f"{method} {path}: {res.status} {data[:200]!r}")
    return json.loads(data) if data else None


conn = http.client.HTTPConnection(host, int(api_port))
call(conn, "POST", "/v1/webhooks", {"url": f"http://127.0.0.1:{port}/hook", "event_types": ["partner.updated"]})
partners = [call(conn, "POST", "/v1/partners", {"name": f"Lag Bench {t}"})["id"] for t in range(8)]

total = int(rate * seconds)
start = time.time() + 0.5
written, failed = [0], []


def writer(t):
    c = http.client.HTTPConnection(host, int(api_port))
    for i in range(t, total, 8):
        delay = start + i / rate - time.time()
        if delay > 0:
            time.sleep(delay)
        try:
            call(c, "PATCH", f"/v1/partners/{partners[t]}", {"name": f"Lag Bench {t}.{i}"})
            with lock:
                written[0] += 1
        except BaseException as e:  # noqa: B036 (call() raises SystemExit)
            failed.append(str(e))
            c = http.client.HTTPConnection(host, int(api_port))


threads = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
written_in = time.time() - start
deadline = time.time() + 30
while time.time() < deadline:
    with lock:
        if len(lags) >= written[0]:
            break
    time.sleep(0.05)
server.shutdown()

with lock:
    ordered = sorted(lags)
    distinct = len(set(ids))
    received = len(ids)


def pct(p):
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000, 1) if ordered else None


print(json.dumps({
    "written": written[0],
    "failed_writes": len(failed),
    "rate": round(total / written_in, 1),
    "received": received,
    "distinct": distinct,
    "p50_ms": pct(50),
    "p95_ms": pct(95),
    "p99_ms": pct(99),
    "max_ms": round(ordered[-1] * 1000, 1) if ordered else None,
}))
