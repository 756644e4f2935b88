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

echo "== PUT storm (64 clients) alone"
THREADS=2 ACCOUNTS=$ACCOUNTS wrk -t2 -c64 -d"${SECONDS_STORM}s" --timeout 30s -s bench/put-password.lua \
    "http://127.0.0.1:$PORT" >/tmp/mailpanel-storm-alone.txt
grep -E "Requests/sec|status" /tmp/mailpanel-storm-alone.txt
alone_rate=$(awk '/Requests\/sec/ {print $2}' /tmp/mailpanel-storm-alone.txt)
alone_statuses=$(grep '^status' /tmp/mailpanel-storm-alone.txt | awk '{printf "%s×%s ", $3, $2}')

# wrk stops sending at its deadline, but up to 64 sets are still queued in the
# service; let them drain, or the next storm's first requests race them (409s).
sleep 5

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

ratio=$(python3 -c "print(f'{$put_rate / $raw_rate * 100:.1f}')")
alone_ratio=$(python3 -c "print(f'{$alone_rate / $raw_rate * 100:.1f}')")
python3 bench/write_section.py passwords <<EOF
## Password hashing under load (\`bench/passwords.sh\`)

{machine}
Argon2id m=19456 KiB, t=2, p=1; hashing concurrency = cores, queue 256.

| measure | figure | goal |
|---|---|---|
| raw Argon2id hashes/s, all cores (mean of before and after the storm) | $(printf '%.1f' "$raw_rate") | |
| password sets/s (\`PUT …/password\`, 64 clients), storm alone | $alone_rate | |
| sets/s ÷ raw hashes/s, storm alone | $alone_ratio% | ≥ 90% |
| password sets/s with the GET stream beside the storm | $put_rate | |
| sets/s ÷ raw hashes/s, with the GET stream | $ratio% | |
| GET \`/v1/accounts/{address}\` stream (4 connections, 10 ms apart) p50 / p99, alone | $quiet_p50 ms / $quiet_p99 ms | |
| the same GET stream p50 / p99, during the storm | $busy_p50 ms / $busy_p99 ms | p99 < 50 ms |
| peak RSS of the service | $((rss_kib / 1024)) MiB | < 512 MB |
| PUT answers (storm alone; with the GET stream) | $alone_statuses; $put_statuses $put_errors | no errors but deliberate 503s |
| GET answers during the storm | $get_statuses | |
EOF
