# Sourced by scripts/demo.sh and scripts/loadgen_ratio.sh: starts the demo stack on loopback —
# two `origin` backends on the load core and spdygate (1 shard) pinned to core 0 — and stops
# everything it started when the calling script exits.
# Needs: $bin (the directory with spdygate and origin). Sets: gw_core, other_cores, tmp, o1, o2,
# gw (the gateway's address), gw_pid, and start/addr_of for anything else to launch.

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

cores=$(nproc)
gw_core=0
other_cores=$(( cores > 1 ? 1 : 0 ))

# Start a process in the background (its pid goes to `pids`).
start() {
  local log=$1; shift
  "$@" >"$log" 2>&1 &
  pids+=($!)
}
# The address from a "... listening on ADDR" line of a log, waiting up to 10 s for it.
addr_of() {
  local log=$1
  for _ in $(seq 1 200); do
    if grep -q "listening on" "$log" 2>/dev/null; then
      grep -m1 -o "listening on [0-9.:]*" "$log" | awk '{print $3}'
      return 0
    fi
    sleep 0.05
  done
  echo "failed to start (log $log):" >&2; cat "$log" >&2; exit 1
}

tmp=$(mktemp -d)
start "$tmp/origin1.log" taskset -c "$other_cores" "$bin/origin" --listen 127.0.0.1:0 --threads 1 --no-pin
start "$tmp/origin2.log" taskset -c "$other_cores" "$bin/origin" --listen 127.0.0.1:0 --threads 1 --no-pin
o1=$(addr_of "$tmp/origin1.log"); o2=$(addr_of "$tmp/origin2.log")
start "$tmp/gw.log" taskset -c "$gw_core" "$bin/spdygate" --listen 127.0.0.1:0 --backend "$o1" --backend "$o2" --shards 1
gw_pid=${pids[2]}
gw=$(addr_of "$tmp/gw.log")
