#!/usr/bin/env bash
# Fuzzing with cargo-fuzz (libFuzzer) on the stable toolchain (--sanitizer none: no
# nightly needed; panics, overflows in debug-assertion builds and aborts still crash).
#
#   scripts/fuzz.sh smoke                  every real target under tests/fuzz/fuzz_targets for
#                                          FUZZ_SECONDS each (default 20); what scripts/test.sh runs
#   scripts/fuzz.sh long <target> [secs]   one target for longer (default 600 s)
#
# Targets whose file contains the word "Placeholder" are skipped with a message. Seeds come
# from tests/fuzz/seeds/<target>/ (committed, read-only); the working corpus lives in
# target/fuzz-corpus/<target>/. Exits non-zero on a crash; reproducers land in
# tests/fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
fuzz_dir=tests/fuzz

usage() {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

ensure_cargo_fuzz() {
  if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "installing cargo-fuzz (cargo install cargo-fuzz --locked)"
    cargo install cargo-fuzz --locked
  fi
}

is_placeholder() {
  grep -q 'Placeholder' "$fuzz_dir/fuzz_targets/$1.rs"
}

# run_target <target> <seconds>
run_target() {
  local target=$1 seconds=$2
  local corpus="$root/target/fuzz-corpus/$target"
  local seeds="$root/$fuzz_dir/seeds/$target"
  mkdir -p "$corpus"
  local dirs=("$corpus")
  [ -d "$seeds" ] && dirs+=("$seeds")
  echo "--- fuzz $target for ${seconds}s (corpus: ${dirs[*]})"
  # -max_total_time bounds the run; the outer timeout only guards against a hang in the
  # build or in libFuzzer itself.
  local log="$root/target/fuzz-$target.log" status=0
  mkdir -p "$root/target"
  timeout $((seconds + 1800)) \
    cargo fuzz run --fuzz-dir "$fuzz_dir" --sanitizer none "$target" "${dirs[@]}" -- \
      -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1 || status=$?
  grep -E '^(Done |stat::number_of_executed_units)' "$log" || true
  if [ "$status" -ne 0 ]; then
    echo "--- $target failed (exit $status); last lines of $log:"
    tail -n 60 "$log"
  fi
  return "$status"
}

cmd=${1:-}
case "$cmd" in
  smoke)
    ensure_cargo_fuzz
    seconds=${FUZZ_SECONDS:-20}
    failed=()
    for file in "$fuzz_dir"/fuzz_targets/*.rs; do
      target=$(basename "$file" .rs)
      if is_placeholder "$target"; then
        echo "--- skip $target: still a Placeholder ($file)"
        continue
      fi
      run_target "$target" "$seconds" || failed+=("$target")
    done
    if [ ${#failed[@]} -gt 0 ]; then
      echo "fuzz smoke FAILED: ${failed[*]} (reproducers in $fuzz_dir/artifacts/)"
      exit 1
    fi
    echo "fuzz smoke ok"
    ;;
  long)
    target=${2:-}
    [ -n "$target" ] && [ -f "$fuzz_dir/fuzz_targets/$target.rs" ] || usage
    if is_placeholder "$target"; then
      echo "$target is still a Placeholder"
      exit 2
    fi
    ensure_cargo_fuzz
    run_target "$target" "${3:-600}"
    ;;
  *)
    usage
    ;;
esac
