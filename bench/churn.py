"""Writes at a steady rate, and a profile change seen by another instance.

Usage: churn.py WRITE_URL READ_URL API_KEY CUSTOMER_ID INTERVAL_MS SECONDS [domains|accounts]

For SECONDS seconds, creates a domain (or, with `accounts`, renames the display name
of one of the generated accounts user1..10@d1..1000.example) every INTERVAL_MS
through WRITE_URL (paced by schedule on four threads, so one slow answer does not
slow the rate). Meanwhile,
once a second, changes the `default` profile's incoming host through WRITE_URL and
polls READ_URL's auto-configuration (another instance on the same database) every
5 ms until it names the new host: the time from the change's answer to the first
answer of the other instance that shows it. Prints one JSON line: creates asked for,
made, their p50/p99 in ms, and the propagation times in ms.
"""
import http.client
import json
import sys
import threading
import time

write_url, read_url, key, customer = sys.argv[1:5]
interval, seconds = float(sys.argv[5]) / 1000, float(sys.argv[6])
kind = sys.argv[7] if len(sys.argv) > 7 else "domains"
AUTOCONFIG = "/mail/config-v1.1.xml?emailaddress=user7@d42.example"
THREADS = 4


def connect(url):
    host, port = url.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=30)


def call(conn, method, path, body=None):
    headers = {"Authorization": f"Bearer {key}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(body)
    conn.request(method, path, body=body, headers=headers)
    res = conn.getresponse()
    return res.status, res.read()


latencies, failures, lock = [], [], threading.Lock()
start = time.monotonic()
stamp = int(time.time())


def writer(offset):
    conn = connect(write_url)
    i = offset
    while True:
        due = start + i * interval
        if due - start >= seconds:
            return
        time.sleep(max(0.0, due - time.monotonic()))
        began = time.monotonic()
        if kind == "accounts":
            address = f"user{1 + i % 10}@d{1 + i // 10 % 1000}.example"
            status, body = call(conn, "PATCH", f"/v1/accounts/{address}", {"display_name": f"Churn {i}"})
        else:
            status, body = call(conn, "POST", "/v1/domains",
                                {"name": f"churn{stamp}-{i}.example", "customer_id": customer})
        with lock:
            if status in (200, 201):
                latencies.append(time.monotonic() - began)
            else:
                failures.append((status, body[:200]))
        i += THREADS


def propagation():
    conn, reader = connect(write_url), connect(read_url)
    status, body = call(conn, "GET", "/v1/server-profiles/default")
    profile = json.loads(body)
    seen, n = [], 0
    while time.monotonic() - start < seconds - 1.5:
        n += 1
        host = f"imap-{stamp}-{n}.example"
        change = {k: profile[k] for k in ("incoming_host", "outgoing_host", "webmail_url", "endpoints")}
        change["incoming_host"] = host
        status, body = call(conn, "PUT", "/v1/server-profiles/default", change)
        assert status == 200, (status, body)
        changed = time.monotonic()
        while True:
            reader.request("GET", AUTOCONFIG)
            doc = reader.getresponse().read().decode()
            if host in doc:
                seen.append(time.monotonic() - changed)
                break
            if time.monotonic() - changed > 10:
                seen.append(float("inf"))
                break
            time.sleep(0.005)
        time.sleep(max(0.0, 1 - (time.monotonic() - changed)))
    return seen


threads = [threading.Thread(target=writer, args=(o,)) for o in range(THREADS)]
for t in threads:
    t.start()
seen = propagation()
for t in threads:
    t.join()
latencies.sort()


def pct(p):
    return round(latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000, 1) if latencies else None


print(json.dumps({
    "asked": int(seconds / interval), "created": len(latencies), "failed": len(failures),
    "create_p50_ms": pct(0.5), "create_p99_ms": pct(0.99),
    "propagation_ms": [round(s * 1000, 1) for s in seen],
}))
