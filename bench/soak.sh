#!/usr/bin/env bash
# Ten minutes of mixed load with the RSS sampled (bench/soak.py says what); writes
# BENCHMARKS.md's "soak" section. Needs Postgres on 127.0.0.1:5432 (trust), python3.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin mailpanel >/dev/null
exec python3 bench/soak.py target/release/mailpanel
