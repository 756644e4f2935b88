#!/usr/bin/env bash
# Webhook delivery lag, from the change's transaction to the receiver, measured in one
# run (bench/webhook_lag.py does the writing and receiving):
#   1. a quiet baseline: 2 changes a second for 10 s;
#   2. 100 changes a second for 60 s (goal: p99 < 1 s);
#   3. the same with a second instance on the same database, both delivering.
# Each row starts on a fresh database. Default settings (a 200 ms poll); the receiver
# is on loopback, so http and 127.0.0.0/8 are allowed for this run.
# Writes the figures into BENCHMARKS.md between the "webhooks" markers.
# Needs: Postgres on 127.0.0.1:5432 (trust), curl, python3.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-18082}
SECOND_PORT=${SECOND_PORT:-18083}
RECEIVER_PORT=${RECEIVER_PORT:-18084}
SECONDS_AT_LOAD=${SECONDS_AT_LOAD:-60}
DB=mailpanel_bench_webhooks
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB"
export RUST_LOG=warn
export MAILPANEL_WEBHOOK_ALLOW_HTTP=true
export MAILPANEL_WEBHOOK_ALLOWED_NETWORKS=127.0.0.0/8

cargo build --release --bin mailpanel >/dev/null
WORK=$(mktemp -d)
pids=()
stop() {
    [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
    pids=()
}
trap 'stop; rm -rf "$WORK"' EXIT

serve() { # port
    MAILPANEL_BIND="127.0.0.1:$1" ./target/release/mailpanel serve >/dev/null 2>"$WORK/serve-$1.log" &
    pids+=($!)
    for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$1/healthz" >/dev/null && break; sleep 0.2; done
}

row() { # instances rate seconds name → JSON line in $WORK/name
    stop
    psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
    ./target/release/mailpanel migrate 2>/dev/null
    local key
    key=$(./target/release/mailpanel create-api-key --role admin --description bench)
    serve "$PORT"
    [ "$1" -gt 1 ] && serve "$SECOND_PORT"
    python3 bench/webhook_lag.py "http://127.0.0.1:$PORT" "$key" "$RECEIVER_PORT" "$2" "$3" >"$WORK/$4"
    cat "$WORK/$4"
}

echo "== quiet: 2 changes/s for 10 s"
row 1 2 10 quiet
echo "== 100 changes/s for $SECONDS_AT_LOAD s, one instance"
row 1 100 "$SECONDS_AT_LOAD" one
echo "== 100 changes/s for $SECONDS_AT_LOAD s, two instances"
row 2 100 "$SECONDS_AT_LOAD" two
stop
quiet=$(cat "$WORK/quiet") one=$(cat "$WORK/one") two=$(cat "$WORK/two")

line() { # label json
    python3 - "$1" "$2" <<'PY'
import json, sys
label, r = sys.argv[1], json.loads(sys.argv[2])
print(f"| {label} | {r['rate']}/s | {r['received']} of {r['written']} ({r['distinct']} distinct) "
      f"| {r['p50_ms']} | {r['p95_ms']} | **{r['p99_ms']}** | {r['max_ms']} |")
PY
}

python3 bench/write_section.py webhooks <<EOF
## Webhook delivery lag (\`bench/webhooks.sh\`)

{machine}
A partner renamed at a steady rate (8 client threads, paced), one subscription to
\`partner.updated\` whose receiver (Python, loopback) answers \`204\`; lag = arrival at the
receiver − the event's \`occurred_at\` (its transaction's start, so the figure errs
high). Default settings: each instance polls every 200 ms. Fresh database per row.

| run | write rate | webhooks received | p50 ms | p95 ms | p99 ms | max ms |
|---|---|---|---|---|---|---|
$(line "quiet baseline, 1 instance" "$quiet")
$(line "100 changes/s, 1 instance" "$one")
$(line "100 changes/s, 2 instances" "$two")

Goal: p99 < 1 s at 100 events/s. Every event received once (\`distinct\` = written).
EOF
