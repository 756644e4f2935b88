#!/usr/bin/env bash
# Password hashing under load, measured in one run on this machine:
#   1. raw Argon2id hashes per second, every core, the service's parameters;
#   2. the service's Control Panel password sets (PUT, one hash each) per second
#      under 64 concurrent clients;
#   3. the p99 of a GET /v1/accounts/{address} stream alone, and during that storm;
#   4. the service's peak RSS.
# Writes the figures into BENCHMARKS.md between the "passwords" markers.
# Needs: Postgres on 127.0.0.1:5432 (trust), wrk, curl, jq, python3.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-18080}
SECONDS_STORM=${SECONDS_STORM:-30}
SECONDS_GET=${SECONDS_GET:-20}
ACCOUNTS=${ACCOUNTS:-256}
DB=mailpanel_bench_passwords
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB"
export MAILPANEL_BIND="127.0.0.1:$PORT"
export RUST_LOG=warn

cargo build --release --bin mailpanel --example hashrate >/dev/null
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB" >/dev/null

echo "== raw Argon2id hash rate"
raw=$(./target/release/examples/hashrate 10)
echo "$raw"
raw_rate=$(sed -E 's/.*hashes_per_second=([0-9.]+).*/\1/' <<<"$raw")

./target/release/mailpanel migrate 2>/dev/null
KEY=$(./target/release/mailpanel create-api-key --role admin --description bench)
export KEY
./target/release/mailpanel serve & pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done

api() { curl -fsS -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' "$@"; }
customer=$(api -d '{"name":"Bench"}' "http://127.0.0.1:$PORT/v1/customers" | jq -r .id)
api -d "{\"name\":\"bench.example\",\"customer_id\":\"$customer\"}" "http://127.0.0.1:$PORT/v1/domains" >/dev/null
echo "== creating $ACCOUNTS accounts"
seq 0 $((ACCOUNTS - 1)) | xargs -P 4 -I{} curl -fsS -o /dev/null -H "Authorization: Bearer $KEY" \
    -H 'Content-Type: application/json' -d '{"local_part":"bench{}","password":"Anfangs-Passwort-Wien-2026"}' \
    "http://127.0.0.1:$PORT/v1/domains/bench.example/accounts"

GET_URL="http://127.0.0.1:$PORT/v1/accounts/bench1@bench.example"
echo "== GET stream alone (4 connections, 10 ms between requests)"
quiet=$(DELAY_MS=10 wrk -t1 -c4 -d"${SECONDS_GET}s" --latency -s bench/get-account.lua "$GET_URL")
echo "$quiet" | grep -E "Requests/sec|p99_ms|status"

echo "== PUT storm (64 clients) with the GET stream beside it"
THREADS=2 ACCOUNTS=$ACCOUNTS wrk -t2 -c64 -d"${SECONDS_STORM}s" --timeout 30s -s bench/put-password.lua \
    "http://127.0.0.1:$PORT" >/tmp/mailpanel-storm.txt &
storm=$!
sleep 5
busy=$(DELAY_MS=10 wrk -t1 -c4 -d"${SECONDS_GET}s" --latency -s bench/get-account.lua "$GET_URL")
wait $storm
cat /tmp/mailpanel-storm.txt | grep -E "Requests/sec|status|Socket errors|Non-2xx"
echo "$busy" | grep -E "Requests/sec|p99_ms|status"
rss_kib=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
kill $pid; wait $pid 2>/dev/null || true
# The machine is shared and noisy: measure the raw rate again after the storm and
# compare against the mean of both.
echo "== raw Argon2id hash rate, again"
raw2=$(./target/release/examples/hashrate 10)
echo "$raw2"
raw_rate=$(python3 -c "print(($raw_rate + $(sed -E 's/.*hashes_per_second=([0-9.]+).*/\1/' <<<"$raw2")) / 2)")

put_rate=$(awk '/Requests\/sec/ {print $2}' /tmp/mailpanel-storm.txt)
put_statuses=$(grep '^status' /tmp/mailpanel-storm.txt | awk '{printf "%s×%s ", $3, $2}')
put_errors=$(grep -E "Socket errors" /tmp/mailpanel-storm.txt || true)
quiet_p99=$(awk '/^p99_ms/ {print $2}' <<<"$quiet")
busy_p99=$(awk '/^p99_ms/ {print $2}' <<<"$busy")
busy_p50=$(awk '/^p50_ms/ {print $2}' <<<"$busy")
quiet_p50=$(awk '/^p50_ms/ {print $2}' <<<"$quiet")
get_statuses=$(grep '^status' <<<"$busy" | awk '{printf "%s×%s ", $3, $2}')

python3 - "$raw_rate" "$put_rate" "$quiet_p50" "$quiet_p99" "$busy_p50" "$busy_p99" "$rss_kib" "$put_statuses" "$get_statuses" "$put_errors" <<'PY'
import sys, datetime, platform, os, re, subprocess
raw, put, qp50, qp99, bp50, bp99, rss, put_st, get_st, sock = sys.argv[1:]
raw, put, rss = float(raw), float(put), int(rss)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), "0")
section = f"""<!-- passwords:start -->
## Password hashing under load (`bench/passwords.sh`)

Run {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores ({cpu}), {int(mem)//1024//1024} GiB, {platform.system()} {platform.release()}.
Argon2id m=19456 KiB, t=2, p=1; hashing concurrency = cores, queue 256; release build.

| measure | figure | goal |
|---|---|---|
| raw Argon2id hashes/s, all cores (mean of before and after the storm) | {raw:.1f} | |
| password sets/s (`PUT …/password`, 64 clients) | {put:.1f} | |
| sets/s ÷ raw hashes/s | {put / raw * 100:.1f}% | ≥ 90% |
| GET `/v1/accounts/{{address}}` stream p50 / p99, alone | {qp50} ms / {qp99} ms | |
| same GET stream (4 connections, 10 ms apart) p50 / p99, during the storm | {bp50} ms / {bp99} ms | p99 < 50 ms |
| peak RSS of the service | {rss/1024:.1f} MiB | < 512 MB |
| PUT answers | {put_st.strip()} {sock.strip()} | no errors but deliberate 503s |
| GET answers during the storm | {get_st.strip()} | |
<!-- passwords:end -->"""
path = "BENCHMARKS.md"
text = open(path).read() if os.path.exists(path) else "# Benchmarks\n\nEvery figure here comes from a committed script; rerun it to refresh its section.\n"
if "<!-- passwords:start -->" in text:
    text = re.sub(r"<!-- passwords:start -->.*?<!-- passwords:end -->", lambda _: section, text, flags=re.S)
else:
    text = text.rstrip() + "\n\n" + section + "\n"
open(path, "w").write(text)
print(section)
PY
