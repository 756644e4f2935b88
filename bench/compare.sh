#!/usr/bin/env bash
# Runs bench/passwords.sh and bench/autoconfig.sh on a base revision and on this
# tree, one after the other in one run on this machine, and writes both sets of
# ratios side by side into BENCHMARKS.md's "compare" section: the way to tell a
# change's cost from this shared machine's noise.
# Usage: bash bench/compare.sh BASE_REV   (e.g. the commit before a refactor)
# Needs what the two benchmarks need (Postgres, wrk, curl, jq, python3).
set -euo pipefail
cd "$(dirname "$0")/.."
base_rev=${1:?usage: bench/compare.sh BASE_REV}
here=$(pwd)
base_dir=$(mktemp -d /tmp/mailpanel-base.XXXXXX)
trap 'git -C "$here" worktree remove --force "$base_dir" >/dev/null 2>&1 || true' EXIT
git worktree add --detach -q "$base_dir" "$base_rev"
# The base builds in a target of its own; starting from this tree's release build
# spares most of the compile.
export CARGO_TARGET_DIR_BASE="$here/target/base"
mkdir -p "$CARGO_TARGET_DIR_BASE"
if [ ! -d "$CARGO_TARGET_DIR_BASE/release" ] && [ -d target/release ]; then
    cp -r target/release "$CARGO_TARGET_DIR_BASE/"
fi
ln -sfn "$CARGO_TARGET_DIR_BASE" "$base_dir/target"

for bench in passwords autoconfig; do
    echo "== $bench on $base_rev"
    (cd "$base_dir" && bash "bench/$bench.sh" >/tmp/mailpanel-compare-base-$bench.log 2>&1)
    echo "== $bench on this tree"
    bash "bench/$bench.sh" >/tmp/mailpanel-compare-new-$bench.log 2>&1
done

python3 - "$base_dir/BENCHMARKS.md" BENCHMARKS.md "$base_rev" "$(git rev-parse --short HEAD)" <<'PY' | python3 bench/write_section.py compare
import re, sys
base_path, new_path, base_rev, new_rev = sys.argv[1:5]

def rows(path, section):
    text = open(path).read()
    body = re.search(rf"<!-- {section}:start -->(.*?)<!-- {section}:end -->", text, re.S).group(1)
    out = {}
    for line in body.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and not set(cells[0]) <= set("-") and cells[0] not in ("measure", "endpoint"):
            out[cells[0]] = cells[1:]
    return out

print("## Before and after one change, side by side (`bench/compare.sh`)\n")
print("{machine}")
print(f"Base `{base_rev}` and this tree (`{new_rev}`), each benchmark on the base first, then on this tree.\n")
print("| measure | base | this tree |\n|---|---|---|")
b, n = rows(base_path, "passwords"), rows(new_path, "passwords")
for key in ["sets/s ÷ raw hashes/s, storm alone", "sets/s ÷ raw hashes/s, with the GET stream",
            "raw Argon2id hashes/s, all cores (mean of before and after the storm)",
            "password sets/s (`PUT …/password`, 64 clients), storm alone",
            "the same GET stream p50 / p99, during the storm", "peak RSS of the service"]:
    print(f"| passwords: {key} | {b.get(key, ['?'])[0]} | {n.get(key, ['?'])[0]} |")
b, n = rows(base_path, "autoconfig"), rows(new_path, "autoconfig")
for key in n:
    if key.startswith("`GET /healthz` again"):
        continue
    print(f"| autoconfig: {key}, req/s (of /healthz) | {b.get(key, ['?', '?'])[0]} ({b.get(key, ['?', '?'])[1]}) | {n[key][0]} ({n[key][1]}) |")
PY
