"""Faults under load, against a private PostgreSQL cluster (initdb into a temporary
folder, its own port; nothing else on the machine is touched):

  1. mixed load: account creates, reads, Control Panel password sets, webmail changes;
  2. the database stopped for 10 s: every request sent meanwhile must answer 503
     problem+json within 2 s, /readyz must say not ready, and the service must recover
     by itself within 5 s of the database's return;
  3. the service SIGKILLed mid-load and started again;
  4. afterwards: every account whose create was answered 201 exists, every
     acknowledged password (set or change) still verifies unless a later attempt on
     the same account replaced it, and no account, domain or audit row is half-written;
  5. SIGTERM with a request in flight: it is answered, new connections are refused,
     and the service exits.

Prints the counts and exits non-zero when a check fails.
Usage: faults.py BINARY
"""

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError

BINARY = sys.argv[1]
PG_BIN = "/usr/lib/postgresql/" + os.listdir("/usr/lib/postgresql")[0] + "/bin"
# Below 32768: Linux hands out 32768-60999 to outgoing connections, and one of
# those holding the port made the private cluster's start fail once.
PG_PORT = int(os.environ.get("FAULTS_PG_PORT", "25432"))
PORT = int(os.environ.get("FAULTS_PORT", "18095"))
BASE = f"http://127.0.0.1:{PORT}"
DB_URL = f"postgres://postgres@127.0.0.1:{PG_PORT}/mailpanel_faults"
WORKERS = 6
OUTAGE = 10.0


def log(*args):
    print(*args, flush=True)


# --- the private cluster ------------------------------------------------------------

data = tempfile.mkdtemp(prefix="mailpanel-faults-")
shutil.chown(data, "postgres", "postgres")
pgdata = os.path.join(data, "pgdata")


def as_postgres(*cmd):
    return subprocess.run(["runuser", "-u", "postgres", "--", *cmd], check=True,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def pg_ctl(action, *extra):
    as_postgres(f"{PG_BIN}/pg_ctl", "-D", pgdata, "-w", "-l", os.path.join(data, "pg.log"),
                "-o", f"-p {PG_PORT} -k {data} -c listen_addresses=127.0.0.1", *extra, action)


as_postgres(f"{PG_BIN}/initdb", "-D", pgdata, "-A", "trust", "-U", "postgres")
pg_ctl("start")

# --- the service ----------------------------------------------------------------------

env = dict(os.environ, DATABASE_URL=DB_URL, MAILPANEL_BIND=f"127.0.0.1:{PORT}", RUST_LOG="warn",
           MAILPANEL_WEBMAIL_MAX_FAILURES_PER_CLIENT="1000000")
service_log = open(os.path.join(data, "service.log"), "a")


def start_service():
    proc = subprocess.Popen([BINARY, "serve"], env=env, stdout=service_log, stderr=service_log)
    for _ in range(200):
        try:
            urllib.request.urlopen(BASE + "/healthz", timeout=1)
            return proc
        except Exception:
            time.sleep(0.05)
    raise SystemExit("the service did not start")


subprocess.run([BINARY, "migrate"], env=env, check=True, stderr=subprocess.DEVNULL)
KEY = subprocess.run([BINARY, "create-api-key", "--role", "admin"], env=env, check=True,
                     capture_output=True, text=True).stdout.strip()
service = start_service()


def call(method, path, body=None, key=KEY, timeout=10):
    """(status, parsed body or None, content type, seconds); status 0 = no answer."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if key:
        req.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    started = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            raw = res.read()
            status, ctype = res.status, res.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        raw, status, ctype = e.read(), e.code, e.headers.get("Content-Type", "")
    except Exception:
        return 0, None, "", time.monotonic() - started
    elapsed = time.monotonic() - started
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return status, parsed, ctype, elapsed


status, customer, _, _ = call("POST", "/v1/customers", {"name": "Faults"})
assert status == 201, status
status, _, _, _ = call("POST", "/v1/domains", {"name": "faults.example", "customer_id": customer["id"]})
assert status == 201, status

# --- the load -------------------------------------------------------------------------

WORDS = ["Fahrrad", "Kaffee", "Wien", "Donau", "Linz", "Graz", "Tomaten", "Walzer", "Berg",
         "Wolke", "Kerze", "Spiegel", "Anker", "Laterne", "Eule"]


def password():
    return "-".join(random.sample(WORDS, 4)) + f"-{random.randint(1000, 9999)}"


lock = threading.Lock()
stop = threading.Event()
created = {}          # address -> True (acknowledged 201)
attempts = {}         # address -> [(password, acknowledged)] in the order sent
results = []          # (sent_at, method, status, is_problem, seconds)
phase = {"outage": None}


def record(sent_at, what, status, ctype, seconds):
    with lock:
        results.append((sent_at, what, status, ctype.startswith("application/problem+json"), seconds))


def worker(n):
    mine = []
    i = 0
    while not stop.is_set():
        i += 1
        op = random.random()
        sent = time.monotonic()
        if op < 0.35 or not mine:
            local = f"w{n}x{i}"
            pw = password()
            status, _, ctype, s = call("POST", "/v1/domains/faults.example/accounts",
                                       {"local_part": local, "password": pw})
            address = f"{local}@faults.example"
            with lock:
                attempts.setdefault(address, []).append((pw, status == 201))
                if status == 201:
                    created[address] = True
                    mine.append(address)
            record(sent, "create", status, ctype, s)
        elif op < 0.6:
            status, _, ctype, s = call("GET", f"/v1/accounts/{random.choice(mine)}")
            record(sent, "read", status, ctype, s)
        elif op < 0.8:
            address = random.choice(mine)
            pw = password()
            status, _, ctype, s = call("PUT", f"/v1/accounts/{address}/password", {"password": pw})
            with lock:
                attempts[address].append((pw, status == 204))
            record(sent, "set", status, ctype, s)
        else:
            address = random.choice(mine)
            with lock:
                known = [p for p, ok in attempts[address] if ok]
            pw = password()
            status, _, ctype, s = call("POST", "/v1/password-change",
                                       {"address": address, "current_password": known[-1],
                                        "new_password": pw}, key=None)
            with lock:
                attempts[address].append((pw, status == 200))
            record(sent, "change", status, ctype, s)


threads = [threading.Thread(target=worker, args=(n,)) for n in range(WORKERS)]
for t in threads:
    t.start()

time.sleep(5)
log("== the database stops for 10 s")
pg_ctl("stop", "-m", "fast")
outage_start = time.monotonic()
ready_during = []
while time.monotonic() - outage_start < OUTAGE:
    status, _, _, _ = call("GET", "/readyz", key=None, timeout=5)
    ready_during.append(status)
    time.sleep(0.5)
outage_end = time.monotonic()
pg_ctl("start")
back = time.monotonic()
recovered = None
probe = 0
while time.monotonic() - back < 30:
    # A write: a new account, hashed, inserted, audited, announced.
    probe += 1
    status, _, _, _ = call("POST", "/v1/domains/faults.example/accounts",
                           {"local_part": f"probe{probe}", "password": password()}, timeout=5)
    if status == 201:
        recovered = time.monotonic() - back
        break
    time.sleep(0.1)
log(f"   back after {recovered:.2f} s" if recovered is not None else "   never came back")

time.sleep(5)
log("== the service is killed (SIGKILL) and started again")
service.send_signal(signal.SIGKILL)
service.wait()
killed_at = time.monotonic()
service = start_service()
restarted = time.monotonic() - killed_at
time.sleep(5)
stop.set()
for t in threads:
    t.join()

# --- the checks -----------------------------------------------------------------------

failures = []


def check(ok, text):
    log(("ok    " if ok else "FAIL  ") + text)
    if not ok:
        failures.append(text)


# Sent and answered while the database was away (a request that straddles its return
# may well succeed).
during = [r for r in results if outage_start + 0.5 <= r[0] and r[0] + r[4] <= outage_end]
slowest = max((r[4] for r in results if outage_start <= r[0] <= outage_end), default=0.0)
not_503 = [r for r in during if not (r[2] == 503 and r[3])]
server_errors = [r for r in results if r[2] >= 500 and not (r[2] == 503 and r[3])]
check(len(during) > 0 and not not_503,
      f"requests sent during the outage: {len(during)}, answered 503 problem+json: "
      f"{len(during) - len(not_503)} (others: {sorted(set(r[2] for r in not_503))})")
check(slowest <= 2.0, f"longest request during the outage: {slowest:.2f} s (limit 2 s)")
check(all(s == 503 for s in ready_during[1:]), f"/readyz during the outage: {sorted(set(ready_during))}")
check(recovered is not None and recovered <= 5.0,
      f"recovery after the database returned: {recovered if recovered is None else round(recovered, 2)} s (limit 5 s)")
check(not server_errors, f"5xx other than deliberate 503s: {len(server_errors)}")
log(f"      service restart after SIGKILL: {restarted:.2f} s")

psql = ["psql", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres", "-d", "mailpanel_faults",
        "-Atc"]


def query(sql):
    return subprocess.run(psql + [sql], capture_output=True, text=True, check=True).stdout.strip()


stored = {}
for line in query("SELECT local_part || '@' || d.name, password_hash FROM accounts a "
                  "JOIN domains d ON d.id = a.domain_id").splitlines():
    address, hash_ = line.split("|", 1)
    stored[address] = hash_

hasher = PasswordHasher()


def verifies(hash_, pw):
    try:
        return hasher.verify(hash_.removeprefix("{ARGON2ID}"), pw)
    except VerifyMismatchError:
        return False


missing = [a for a in created if a not in stored]
check(not missing, f"accounts answered 201: {len(created)}, found afterwards: {len(created) - len(missing)}")
acknowledged = lost = 0
for address, tries in attempts.items():
    acked = [i for i, (_, ok) in enumerate(tries) if ok]
    if not acked or address not in stored:
        continue
    last = acked[-1]
    acknowledged += sum(1 for _, ok in tries[1:] if ok)
    # The last acknowledged password, or one sent after it whose answer was lost.
    candidates = [pw for pw, _ in tries[last:]]
    if not any(verifies(stored[address], pw) for pw in candidates):
        lost += 1
check(lost == 0, f"accounts whose last acknowledged password (of {acknowledged} acknowledged "
      f"sets and changes) no longer holds: {lost}")
partial = {
    "accounts without their account.created event": query(
        "SELECT count(*) FROM accounts a JOIN domains d ON d.id = a.domain_id WHERE NOT EXISTS ("
        "SELECT 1 FROM audit_events e WHERE e.action = 'account.created' "
        "AND e.account = a.local_part || '@' || d.name)"),
    "account.created events without their account": query(
        "SELECT count(*) FROM audit_events e WHERE e.action = 'account.created' AND NOT EXISTS ("
        "SELECT 1 FROM accounts a JOIN domains d ON d.id = a.domain_id "
        "WHERE e.account = a.local_part || '@' || d.name)"),
    "domains without their domain.created event": query(
        "SELECT count(*) FROM domains d WHERE NOT EXISTS (SELECT 1 FROM audit_events e "
        "WHERE e.action = 'domain.created' AND e.domain = d.name)"),
    "accounts without a domain": query(
        "SELECT count(*) FROM accounts a WHERE NOT EXISTS (SELECT 1 FROM domains d WHERE d.id = a.domain_id)"),
}
for what, n in partial.items():
    check(n == "0", f"{what}: {n}")
total = len(results)
log(f"      requests: {total} ({', '.join(f'{k} {sum(1 for r in results if r[1] == k)}' for k in ('create', 'read', 'set', 'change'))})")

log("== SIGTERM with a request in flight")
import socket

# Autodiscover is served from memory: the request in flight needs nothing but the
# service itself.
body = ("<?xml version=\"1.0\"?><Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/"
        "autodiscover/outlook/requestschema/2006\"><Request><EMailAddress>max@faults.example"
        "</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/"
        "autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request>"
        "</Autodiscover>").encode()
head = (f"POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: localhost\r\n"
        f"Content-Type: text/xml\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
inflight = socket.create_connection(("127.0.0.1", PORT))
inflight.sendall(head + body[:10])
time.sleep(0.3)
service.send_signal(signal.SIGTERM)
time.sleep(0.5)
try:
    socket.create_connection(("127.0.0.1", PORT), timeout=2).close()
    refused = False
except OSError:
    refused = True
inflight.sendall(body[10:])
answer = b""
while True:
    chunk = inflight.recv(65536)
    if not chunk:
        break
    answer += chunk
try:
    service.wait(timeout=30)
    exited = True
except subprocess.TimeoutExpired:
    exited = False
status_line = answer.split(b"\r\n", 1)[0].decode(errors="replace")
check(status_line.startswith("HTTP/1.1 200"), f"the request in flight at SIGTERM: {status_line}")
if not status_line.startswith("HTTP/1.1 200"):
    log(answer.decode(errors="replace")[-400:])
check(refused, "a new connection after SIGTERM: refused" if refused else "a new connection after SIGTERM: accepted")
check(exited, "the service exited after SIGTERM" if exited else "the service did not exit after SIGTERM")
pg_ctl("stop", "-m", "fast")
shutil.rmtree(data, ignore_errors=True)
log(f"{len(failures)} failed" if failures else "all held")
sys.exit(1 if failures else 0)
