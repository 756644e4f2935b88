#!/usr/bin/env bash
# Batch import (POST /v1/domains/{domain}/accounts/batch), measured in one run:
#   1. 10,000 accounts with imported {SHA512-CRYPT} hashes in batches of 1000:
#      accounts per second (goal ≥ 5,000/s);
#   2. accounts with plain passwords in batches of 1000 (each hashed with Argon2id):
#      accounts per second, as a ratio of the raw Argon2id rate measured just before
#      and after in the same run (goal ≥ 0.9).
# Writes the figures into BENCHMARKS.md between the "import" markers.
# Needs: Postgres on 127.0.0.1:5432 (trust), curl, jq, python3, openssl.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-18081}
IMPORTED=${IMPORTED:-10000}
PLAIN=${PLAIN:-2000}
DB=mailpanel_bench_import
WORK=$(mktemp -d)
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB"
export MAILPANEL_BIND="127.0.0.1:$PORT"
export RUST_LOG=warn

cargo build --release --bin mailpanel --example hashrate >/dev/null
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null

raw_before=$(./target/release/examples/hashrate 10 | sed -E 's/.*hashes_per_second=([0-9.]+).*/\1/')

./target/release/mailpanel migrate 2>/dev/null
KEY=$(./target/release/mailpanel create-api-key --role admin --description bench)
./target/release/mailpanel serve & pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
api() { curl -fsS -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' "$@"; }
customer=$(api -d '{"name":"Bench"}' "http://127.0.0.1:$PORT/v1/customers" | jq -r .id)
for d in imported.example plain.example; do
    api -d "{\"name\":\"$d\",\"customer_id\":\"$customer\"}" "http://127.0.0.1:$PORT/v1/domains" >/dev/null
done

# The bodies, written before the clock starts: one hash another system stored
# (openssl's SHA512-crypt), and distinct strong passwords.
hash=$(openssl passwd -6 -salt benchsalt 'Fahrrad-Kaffee-Wien-2026')
python3 - "$WORK" "$IMPORTED" "$PLAIN" "$hash" <<'PY'
import json, sys
work, imported, plain, hash_ = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def write(prefix, n, item):
    for b in range(0, n, 1000):
        with open(f"{work}/{prefix}-{b // 1000:03d}.json", "w") as f:
            json.dump({"accounts": [item(i) for i in range(b, min(b + 1000, n))]}, f)
write("imported", imported, lambda i: {"local_part": f"user{i:06d}", "password_hash": "{SHA512-CRYPT}" + hash_})
write("plain", plain, lambda i: {"local_part": f"user{i:06d}", "password": f"Gruene-Tomaten-{i:06d}-Linz"})
PY

run() { # domain prefix → seconds for all its batches
    local start end
    start=$(date +%s.%N)
    for f in "$WORK/$2"-*.json; do
        api -o /dev/null -d @"$f" "http://127.0.0.1:$PORT/v1/domains/$1/accounts/batch"
    done
    end=$(date +%s.%N)
    python3 -c "print($end - $start)"
}

echo "== $IMPORTED accounts with {SHA512-CRYPT} hashes"
imported_secs=$(run imported.example imported)
echo "== $PLAIN accounts with plain passwords"
plain_secs=$(run plain.example plain)
kill $pid; wait $pid 2>/dev/null || true
raw_after=$(./target/release/examples/hashrate 10 | sed -E 's/.*hashes_per_second=([0-9.]+).*/\1/')

count=$(psql -h 127.0.0.1 -U postgres -At -d "$DB" -c "SELECT count(*) FROM accounts")
imported_rate=$(python3 -c "print(f'{$IMPORTED / $imported_secs:.0f}')")
plain_rate=$(python3 -c "print(f'{$PLAIN / $plain_secs:.1f}')")
raw=$(python3 -c "print(f'{($raw_before + $raw_after) / 2:.1f}')")
ratio=$(python3 -c "print(f'{$PLAIN / $plain_secs / (($raw_before + $raw_after) / 2):.2f}')")

python3 bench/write_section.py import <<EOF
## Batch import (\`bench/import.sh\`)

{machine}
Batches of 1000 through \`POST /v1/domains/{domain}/accounts/batch\`, one after another,
one client; Argon2id m=19456 KiB, t=2, p=1, hashing concurrency = cores.

| measure | figure | goal |
|---|---|---|
| $IMPORTED accounts with \`{SHA512-CRYPT}\` hashes | $(printf '%.2f' "$imported_secs") s, **$imported_rate accounts/s** | ≥ 5,000/s |
| $PLAIN accounts with plain passwords (each hashed) | $(printf '%.2f' "$plain_secs") s, $plain_rate accounts/s | |
| raw Argon2id hashes/s, all cores (mean of before and after) | $raw ($raw_before, $raw_after) | |
| plain-password import ÷ raw Argon2id rate | **$ratio** | ≥ 0.9 |
| accounts in the database afterwards | $count of $((IMPORTED + PLAIN)) | all |
EOF
