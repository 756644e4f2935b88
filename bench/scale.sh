#!/usr/bin/env bash
# Lists and lookups at two sizes, measured in one run with wrk (8 connections, 10 s
# each, release build): a small provider (1,000 accounts in 100 domains) and a large
# one (GEN_DOMAINS domains × 10 accounts, default 100,000 × 10 = 1,000,000 accounts,
# 20,000 customers, 50 partners), both made by bench/generate.sql. For the admin's,
# a partner's and a customer's key: the first and a deep page of domains, a domain
# search, a domain's first page of accounts, one account, its client settings and
# auto-configuration. Also EXPLAIN (ANALYZE, BUFFERS) of the domain list under the
# generic plan the service's prepared statement gets. Writes the "scale" section of
# BENCHMARKS.md. Needs: Postgres on 127.0.0.1:5432 (trust), wrk (installed if
# missing, as root), curl, jq, python3.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-18085}
GEN_DOMAINS=${GEN_DOMAINS:-100000}
GEN_CUSTOMERS=${GEN_CUSTOMERS:-20000}
DURATION=${DURATION:-10s}
DB=mailpanel_bench_scale
WORK=$(mktemp -d)
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB"
export MAILPANEL_BIND="127.0.0.1:$PORT"
export RUST_LOG=warn
command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null

cargo build --release --bin mailpanel >/dev/null
pid=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$WORK"' EXIT
API="http://127.0.0.1:$PORT"

fill() { # partners customers domains
    [ -n "$pid" ] && { kill $pid; wait $pid 2>/dev/null || true; pid=""; }
    psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
    ./target/release/mailpanel migrate 2>/dev/null
    local start=$SECONDS
    psql -h 127.0.0.1 -U postgres -q -d "$DB" -v partners="$1" -v customers="$2" -v domains="$3" \
        -v per_domain=10 -f bench/generate.sql >"$WORK/generate.log"
    echo "generated in $((SECONDS - start)) s: $(grep -E '^ *[0-9]+ *\|' "$WORK/generate.log" | tail -1)"
    psql -h 127.0.0.1 -U postgres -At -d "$DB" -c "SELECT 'database size: ' || pg_size_pretty(pg_database_size('$DB'))"
    ADMIN=$(./target/release/mailpanel create-api-key --role admin --description bench)
    local partner customer
    partner=$(psql -h 127.0.0.1 -U postgres -At -d "$DB" -c "SELECT id FROM partners ORDER BY name LIMIT 1")
    customer=$(psql -h 127.0.0.1 -U postgres -At -d "$DB" -c "SELECT customer_id FROM domains WHERE name = 'd42.example'")
    PARTNER=$(./target/release/mailpanel create-api-key --role partner --partner "$partner" --description bench)
    CUSTOMER=$(./target/release/mailpanel create-api-key --role customer --customer "$customer" --description bench)
    ./target/release/mailpanel serve & pid=$!
    for _ in $(seq 1 50); do curl -fs "$API/healthz" >/dev/null && break; sleep 0.2; done
}

# A deep page: the cursor after the domain in the middle of the list.
middle_cursor() {
    local name
    name=$(psql -h 127.0.0.1 -U postgres -At -d "$DB" -c \
        "SELECT name FROM domains ORDER BY name OFFSET (SELECT count(*) / 2 FROM domains) LIMIT 1")
    printf '%s' "$name" | base64 -w0 | tr '+/' '-_' | tr -d '='
}

measure() { # label key path → "p99_ms rps" appended to $WORK/<size>
    local size=$1 label=$2 key=$3 path=$4 out auth=()
    [ -n "$key" ] && auth=(-H "Authorization: Bearer $key")
    curl -fsS -o /dev/null "${auth[@]}" "$API$path" \
        || { echo "$path answers an error" >&2; exit 1; }
    out=$(wrk -t2 -c8 -d"$DURATION" --latency "${auth[@]}" "$API$path")
    python3 - "$size" "$label" "$out" >>"$WORK/results" <<'PY'
import re, sys
size, label, out = sys.argv[1], sys.argv[2], sys.argv[3]
def ms(v):
    n, unit = re.match(r"([\d.]+)(\w+)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
p99 = ms(re.search(r"\s99%\s+(\S+)", out).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
print(f"{size}\t{label}\t{p99:.2f}\t{rps:.0f}\t{errors.group(1) if errors else 0}")
PY
    tail -1 "$WORK/results"
}

run() { # size
    local deep
    deep=$(middle_cursor)
    measure "$1" "admin: domains, first page" "$ADMIN" "/v1/domains?limit=100"
    measure "$1" "admin: domains, deep page" "$ADMIN" "/v1/domains?limit=100&cursor=$deep"
    measure "$1" "admin: domains, ?q=" "$ADMIN" "/v1/domains?limit=100&q=d4242"
    measure "$1" "partner: domains, first page" "$PARTNER" "/v1/domains?limit=100"
    measure "$1" "partner: domains, ?q=" "$PARTNER" "/v1/domains?limit=100&q=d42"
    measure "$1" "customer: domains" "$CUSTOMER" "/v1/domains?limit=100"
    measure "$1" "admin: a domain's accounts" "$ADMIN" "/v1/domains/d42.example/accounts?limit=100"
    measure "$1" "customer: account GET" "$CUSTOMER" "/v1/accounts/user7@d42.example"
    measure "$1" "customer: client settings" "$CUSTOMER" "/v1/accounts/user7@d42.example/client-settings"
    measure "$1" "public: auto-configuration" "" "/mail/config-v1.1.xml?emailaddress=user7@d42.example"
}

explain() { # the domain lists as the service builds them, under their generic plans
    local partner
    partner=$(psql -h 127.0.0.1 -U postgres -At -d "$DB" -c "SELECT id FROM partners ORDER BY name LIMIT 1")
    psql -h 127.0.0.1 -U postgres -d "$DB" -q -v partner="$partner" <<'SQL' | grep -v '^$'
SET plan_cache_mode = force_generic_plan;
PREPARE first_page(bigint) AS
  SELECT d.id, d.name, d.customer_id, c.partner_id, d.server_profile, d.account_count, d.alias_count,
         d.quota_mb_allocated, (SELECT t.name FROM domains t WHERE t.id = d.alias_of) AS alias_of,
         d.max_accounts, d.max_aliases, d.max_quota_mb, d.version, d.created_at, d.updated_at
  FROM domains d JOIN customers c ON c.id = d.customer_id WHERE true ORDER BY d.name LIMIT $1;
PREPARE search(text, bigint) AS
  WITH matches AS MATERIALIZED (SELECT id FROM domains WHERE name ILIKE $1)
  SELECT d.id, d.name, d.account_count FROM domains d JOIN customers c ON c.id = d.customer_id
  WHERE true AND d.id IN (SELECT id FROM matches) ORDER BY d.name LIMIT $2;
PREPARE partner_page(uuid, bigint) AS
  SELECT d.id, d.name, d.account_count FROM domains d JOIN customers c ON c.id = d.customer_id
  WHERE true AND d.partner_id = $1 ORDER BY d.name LIMIT $2;
PREPARE partner_search(uuid, text, bigint) AS
  SELECT d.id, d.name, d.account_count FROM domains d JOIN customers c ON c.id = d.customer_id
  WHERE true AND d.partner_id = $1 AND d.name ILIKE $2 ORDER BY d.name LIMIT $3;
\echo '-- admin, first page of domains'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY ON) EXECUTE first_page(101);
\echo '-- admin, ?q=d4242'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY ON) EXECUTE search('%d4242%', 101);
\echo '-- partner, first page of domains'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY ON) EXECUTE partner_page(:'partner', 101);
\echo '-- partner, ?q=d42'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY ON) EXECUTE partner_search(:'partner', '%d42%', 101);
SQL
}

echo "== small: 1,000 accounts"
fill 5 20 100
run small
echo "== large: $((GEN_DOMAINS * 10)) accounts in $GEN_DOMAINS domains"
fill 50 "$GEN_CUSTOMERS" "$GEN_DOMAINS"
run large
explain >"$WORK/explain"
cat "$WORK/explain"

# Auto-configuration while domains are created, one every 100 ms (each change reloads
# every instance's in-memory directory), against the quiet figure of the same run.
customer=$(psql -h 127.0.0.1 -U postgres -At -d "$DB" -c "SELECT id FROM customers ORDER BY id LIMIT 1")
(
    i=0
    while [ ! -f "$WORK/stop-writer" ]; do
        curl -fsS -o /dev/null -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
            -d "{\"name\":\"churn$i.example\",\"customer_id\":\"$customer\"}" "$API/v1/domains" || true
        i=$((i + 1))
        sleep 0.1
    done
    echo "$i" >"$WORK/created"
) &
writer=$!
measure churn "public: auto-configuration, a domain created every 100 ms" "" \
    "/mail/config-v1.1.xml?emailaddress=user7@d42.example"
touch "$WORK/stop-writer"
wait $writer
churn=$(python3 - "$WORK/results" "$(cat "$WORK/created")" "$DURATION" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
quiet = next(float(r[3]) for r in rows if r[0] == "large" and r[1] == "public: auto-configuration")
busy = next(r for r in rows if r[0] == "churn")
print(f"| auto-configuration at 1M, quiet | {quiet:.0f}/s | |")
print(f"| the same while a domain is created every 100 ms ({sys.argv[2]} created) | {float(busy[3]):.0f}/s, p99 {float(busy[2]):.1f} ms | **{float(busy[3]) / quiet:.2f}** of quiet (goal ≥ 0.7) |")
PY
)

table=$(python3 - "$WORK/results" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    size, label, p99, rps, errors = line.rstrip("\n").split("\t")
    if size == "churn":
        continue
    rows.setdefault(label, {})[size] = (float(p99), rps, errors)
for label, r in rows.items():
    s, l = r["small"], r["large"]
    ratio = l[0] / s[0] if s[0] else float("nan")
    flag = "" if l[0] < 20 and ratio <= 1.5 else " ✗"
    print(f"| {label} | {s[0]:.1f} ms ({s[1]}/s) | {l[0]:.1f} ms ({l[1]}/s) | {ratio:.2f}{flag} | {int(s[2]) + int(l[2])} |")
PY
)

python3 bench/write_section.py scale <<EOF
## Lists and lookups at a million accounts (\`bench/scale.sh\`)

{machine}
wrk, 8 connections, $DURATION per row, one instance, default settings. Small: 100
domains × 10 accounts; large: $GEN_DOMAINS domains × 10 accounts, $GEN_CUSTOMERS customers,
50 partners, one alias per domain (\`bench/generate.sql\`). Goal: p99 < 20 ms at 1M and
within 1.5× of the small figure (✗ where not).

| request | p99 small | p99 large | ratio | errors |
|---|---|---|---|---|
$table

While domains are created (the in-memory directory reloads on every change, on every
instance). "created" is how many the writer managed: a create answers only after its
instance has reloaded the whole directory, so at 100,000 domains it takes far longer
than the 100 ms the writer waits between creates:

| measure | throughput | |
|---|---|---|
$churn

The domain list under the plan the service's prepared statement gets at 1M
(\`plan_cache_mode = force_generic_plan\`):

\`\`\`
$(cat "$WORK/explain")
\`\`\`
EOF
