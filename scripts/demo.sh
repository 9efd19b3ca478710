#!/usr/bin/env bash
# The demo: builds spdygate, starts two built-in `origin` backends and the gateway on
# loopback, drives them with spdyload for ~10 s, prints a summary (throughput, latency,
# gateway CPU per request, memory) and stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
CONNS=${CONNS:-16}
STREAMS=${STREAMS:-16}
SIZE=${SIZE:-1024}

echo "== building (release)"
cargo build --release --quiet --bin spdygate --bin origin --bin spdyload
bin=target/release

# shellcheck source=scripts/lib/stack.sh
source scripts/lib/stack.sh
echo "== origin backends on $o1 and $o2; spdygate on $gw (pinned to core $gw_core)"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
tick_hz=$(getconf CLK_TCK)

# Warm up, then measure.
taskset -c "$other_cores" $bin/spdyload -n 2000 -c 4 -m 4 --no-progress "http://$gw/bytes/$SIZE" >/dev/null
before=$(cpu_ticks "$gw_pid")
echo "== spdyload -D $DURATION -c $CONNS -m $STREAMS http://$gw/bytes/$SIZE"
taskset -c "$other_cores" $bin/spdyload -D "$DURATION" -c "$CONNS" -m "$STREAMS" --json --no-progress "http://$gw/bytes/$SIZE" >"$tmp/load.json"
after=$(cpu_ticks "$gw_pid")
rss=$(rss_kb "$gw_pid")

python3 - "$tmp/load.json" "$before" "$after" "$tick_hz" "$rss" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
before, after, hz, rss = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
done = r["requests"]["succeeded"]
gw_cpu_us = (after - before) / hz * 1e6 / max(done, 1)
lat = r["latency_percentiles_us"]
mx = r["latency_us"]["max"]
print()
print("spdygate demo summary")
print(f"  requests        {done} succeeded, {r['requests']['failed']} failed, {r['requests']['errored']} errored")
print(f"  throughput      {r['req_per_s']:.0f} req/s, {r['mb_per_s']:.1f} MB/s")
print(f"  latency (us)    p50 {lat['p50']}  p90 {lat['p90']}  p99 {lat['p99']}  p99.9 {lat['p99_9']}  max {mx:.0f}")
print(f"  gateway CPU     {gw_cpu_us:.1f} us per request (1 shard, pinned)")
print(f"  spdyload CPU    {r.get('cpu_us_per_request', float('nan')):.1f} us per request")
print(f"  gateway memory  {rss/1024:.1f} MiB RSS")
PY
