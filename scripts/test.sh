#!/usr/bin/env bash
# The one test command (README, .ci/run). Installs what it needs on a fresh machine,
# runs every test, and exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export CARGO_TERM_COLOR=never

step() { printf '\n=== %s\n' "$*"; }

step "tools"
need_apt=()
command -v python3 >/dev/null || need_apt+=(python3)
command -v node >/dev/null || need_apt+=(nodejs npm)
command -v curl >/dev/null || need_apt+=(curl)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

if [ -f tests/interop/package.json ]; then
  step "node interop peers (npm ci)"
  (cd tests/interop && npm ci --no-audit --no-fund --loglevel=error)
fi

step "layer check"
bash scripts/check-layers.sh

mkdir -p "$root/target"
step "cargo test"
set +e
cargo test --all-targets >"$root/target/test.log" 2>&1
status=$?
set -e
grep -E '^(test result|running|failures|---- )' "$root/target/test.log" || true
if [ "$status" -ne 0 ]; then
  echo "cargo test failed (exit $status); log in target/test.log"
  tail -n 80 "$root/target/test.log"
  exit 1
fi
passed=$(grep -E '^test result: ok' "$root/target/test.log" | awk '{s+=$4} END {print s+0}')
failed=$(grep -E '^test result:' "$root/target/test.log" | awk '{s+=$6} END {print s+0}')
[ "$passed" -gt 0 ] || { echo "cargo test ran no test"; exit 1; }

if [ -f tests/fuzz/Cargo.toml ]; then
  step "fuzz smoke (bounded)"
  bash scripts/fuzz.sh smoke
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
