#!/usr/bin/env bash
# Auto-configuration and client settings against GET /healthz as the ceiling, all
# measured with wrk in one run on this machine; writes BENCHMARKS.md's "autoconfig"
# section. Needs: Postgres on 127.0.0.1:5432 (trust), wrk, curl, jq, python3.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-18081}
DURATION=${DURATION:-15}
DB=mailpanel_bench_autoconfig
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB"
export MAILPANEL_BIND="127.0.0.1:$PORT"
export RUST_LOG=warn
BASE="http://127.0.0.1:$PORT"

cargo build --release --bin mailpanel >/dev/null
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB" >/dev/null
./target/release/mailpanel migrate 2>/dev/null
KEY=$(./target/release/mailpanel create-api-key --role admin --description bench)
./target/release/mailpanel serve & pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -fs "$BASE/healthz" >/dev/null && break; sleep 0.2; done

api() { curl -fsS -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' "$@"; }
customer=$(api -d '{"name":"Bench"}' "$BASE/v1/customers" | jq -r .id)
# Some other domains, so that lookups are not in a map of one.
for i in $(seq 1 200); do api -d "{\"name\":\"d$i.example\",\"customer_id\":\"$customer\"}" "$BASE/v1/domains" >/dev/null; done
api -d "{\"name\":\"bench.example\",\"customer_id\":\"$customer\"}" "$BASE/v1/domains" >/dev/null
api -d '{"local_part":"max","password":"Anfangs-Passwort-Wien-2026"}' "$BASE/v1/domains/bench.example/accounts" >/dev/null

run() { # name, then wrk arguments
    local name=$1; shift
    echo "== $name" >&2
    local out
    out=$(wrk -t2 -c32 -d"${DURATION}s" --latency "$@")
    echo "$name $(awk '/^rps/ {r=$2} /^p50_ms/ {a=$2} /^p99_ms/ {b=$2} /^errors/ {e=$2} END {print r, a, b, e}' <<<"$out")"
}

results=$(
    KEY="" run healthz -s bench/percentiles.lua "$BASE/healthz"
    KEY="" run thunderbird -s bench/percentiles.lua "$BASE/mail/config-v1.1.xml?emailaddress=max%40bench.example"
    KEY="" run autodiscover -s bench/autodiscover.lua "$BASE/autodiscover/autodiscover.xml"
    KEY="$KEY" run client_settings -s bench/percentiles.lua "$BASE/v1/accounts/max@bench.example/client-settings"
    KEY="" run healthz_again -s bench/percentiles.lua "$BASE/healthz"
)
echo "$results"

field() { awk -v n="$1" -v f="$2" '$1 == n {print $f}' <<<"$results"; }
ceiling=$(python3 -c "print(($(field healthz 2) + $(field healthz_again 2)) / 2)")
row() { # name, label, goal
    local rps p50 p99 err pct
    rps=$(field "$1" 2); p50=$(field "$1" 3); p99=$(field "$1" 4); err=$(field "$1" 5)
    pct=$(python3 -c "print(f'{$rps / $ceiling * 100:.1f}')")
    echo "| $2 | $rps | $pct% | $p50 / $p99 ms | $err | $3 |"
}
python3 bench/write_section.py autoconfig <<EOF
## Auto-configuration and client settings (\`bench/autoconfig.sh\`)

{machine}
wrk, 2 threads, 32 connections, ${DURATION}s each, one after another against one
service; 201 hosted domains. The ceiling is the mean of \`GET /healthz\` before and after.

| endpoint | requests/s | of /healthz | p50 / p99 | errors | goal |
|---|---|---|---|---|---|
$(row healthz "\`GET /healthz\`" "ceiling")
$(row thunderbird "Thunderbird \`GET /mail/config-v1.1.xml\`" "≥ 70%")
$(row autodiscover "Autodiscover \`POST /autodiscover/autodiscover.xml\`" "≥ 70%")
$(row client_settings "\`GET /v1/accounts/{address}/client-settings\`" "≥ 40%")
$(row healthz_again "\`GET /healthz\` again" "")
EOF
