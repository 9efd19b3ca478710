#!/usr/bin/env bash
# Fails if a sans-IO layer (spdy, http1, gateway) reaches for sockets, threads, clocks or
# io_uring. Those belong to runtime/ and shard/ (STYLE.md (b)).
set -euo pipefail
cd "$(dirname "$0")/.."
bad=0
for dir in src/spdy src/http1 src/gateway; do
  [ -d "$dir" ] || continue
  if grep -RnE '(crate::runtime|crate::shard|io_uring|std::net|Instant::now|SystemTime::now|std::thread)' "$dir"; then
    bad=1
  fi
done
if [ "$bad" -ne 0 ]; then echo "layer check failed: the lines above break the sans-IO rule"; exit 1; fi
echo "layer check ok"
