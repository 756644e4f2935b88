"""A soak: mixed load (account creates, reads, client settings, Control Panel password
sets, webmail changes) for SOAK_SECONDS against the release build, with the
service's RSS sampled every 10 s. Writes BENCHMARKS.md's "soak" section: RSS of the
second minute against the last, and every status seen.

Usage: soak.py BINARY   (env: SOAK_SECONDS, default 600; PORT, default 18097)
"""

import json
import os
import random
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter

BINARY = sys.argv[1]
SECONDS = int(os.environ.get("SOAK_SECONDS", "600"))
PORT = int(os.environ.get("PORT", "18097"))
BASE = f"http://127.0.0.1:{PORT}"
DB = "mailpanel_bench_soak"
env = dict(os.environ, DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{DB}",
           MAILPANEL_BIND=f"127.0.0.1:{PORT}", RUST_LOG="warn",
           MAILPANEL_WEBMAIL_MAX_FAILURES_PER_CLIENT="1000000")
subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)"],
               check=True, capture_output=True)
subprocess.run([BINARY, "migrate"], env=env, check=True, capture_output=True)
KEY = subprocess.run([BINARY, "create-api-key", "--role", "admin"], env=env, check=True,
                     capture_output=True, text=True).stdout.strip()
service = subprocess.Popen([BINARY, "serve"], env=env, stderr=subprocess.DEVNULL)
for _ in range(200):
    try:
        urllib.request.urlopen(BASE + "/healthz", timeout=1)
        break
    except Exception:
        time.sleep(0.05)


def call(method, path, body=None, key=KEY):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if key:
        req.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            res.read()
            return res.status
    except urllib.error.HTTPError as e:
        e.read()
        return e.code
    except Exception:
        return 0


customer = json.loads(urllib.request.urlopen(urllib.request.Request(
    BASE + "/v1/customers", data=b'{"name":"Soak"}', method="POST",
    headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})).read())["id"]
assert call("POST", "/v1/domains", {"name": "soak.example", "customer_id": customer}) == 201

WORDS = ["Fahrrad", "Kaffee", "Wien", "Donau", "Linz", "Graz", "Tomaten", "Walzer", "Berg", "Wolke"]
stop = threading.Event()
statuses = Counter()
lock = threading.Lock()


def password():
    return "-".join(random.sample(WORDS, 4)) + f"-{random.randint(1000, 9999)}"


def worker(n):
    mine = {}
    i = 0
    while not stop.is_set():
        i += 1
        op = random.random()
        if op < 0.1 or not mine:
            pw = password()
            address = f"s{n}x{i}@soak.example"
            s = call("POST", "/v1/domains/soak.example/accounts", {"local_part": f"s{n}x{i}", "password": pw})
            if s == 201:
                mine[address] = pw
        elif op < 0.5:
            s = call("GET", f"/v1/accounts/{random.choice(list(mine))}")
        elif op < 0.75:
            s = call("GET", f"/v1/accounts/{random.choice(list(mine))}/client-settings")
        elif op < 0.85:
            address = random.choice(list(mine))
            pw = password()
            s = call("PUT", f"/v1/accounts/{address}/password", {"password": pw})
            if s == 204:
                mine[address] = pw
        else:
            address = random.choice(list(mine))
            pw = password()
            s = call("POST", "/v1/password-change",
                     {"address": address, "current_password": mine[address], "new_password": pw}, key=None)
            if s == 200:
                mine[address] = pw
        with lock:
            statuses[s] += 1


threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
for t in threads:
    t.start()
samples = []  # (seconds since start, RSS MiB)
started = time.monotonic()
while time.monotonic() - started < SECONDS:
    time.sleep(10)
    rss = next(int(l.split()[1]) for l in open(f"/proc/{service.pid}/status") if l.startswith("VmRSS"))
    samples.append((time.monotonic() - started, rss / 1024))
    print(f"{samples[-1][0]:5.0f} s  RSS {samples[-1][1]:6.1f} MiB  requests {sum(statuses.values())}", flush=True)
stop.set()
for t in threads:
    t.join()
service.terminate()
service.wait()

second = [r for t, r in samples if 60 <= t < 120] or [samples[0][1]]
last = [r for t, r in samples if t >= samples[-1][0] - 60]
second_mean, last_mean = sum(second) / len(second), sum(last) / len(last)
growth = (last_mean / second_mean - 1) * 100
errors = sum(n for s, n in statuses.items() if s >= 500 and s != 503)
total = sum(statuses.values())
body = f"""## Soak (`bench/soak.sh`)

{{machine}}
{SECONDS} s of mixed load from 8 clients (account creates 10%, account reads 40%, client
settings 25%, Control Panel password sets 10%, webmail changes 15%); the service's RSS
sampled every 10 s.

| measure | figure | goal |
|---|---|---|
| requests | {total} ({total / SECONDS:.0f}/s) | |
| RSS, mean of the second minute | {second_mean:.1f} MiB | |
| RSS, mean of the last minute | {last_mean:.1f} MiB | |
| last minute against the second | {growth:+.1f}% | within ±10% |
| RSS samples (MiB) | {', '.join(f'{r:.0f}' for _, r in samples)} | |
| answers | {', '.join(f'{n}×{s}' for s, n in sorted(statuses.items()))} | |
| 5xx other than deliberate 503s | {errors} | 0 |
"""
subprocess.run([sys.executable, "bench/write_section.py", "soak"], input=body, text=True, check=True)
sys.exit(0 if errors == 0 and abs(growth) <= 10 else 1)
