#!/usr/bin/env bash
# Benchmark (not a test): is spdyload cheap enough not to be the bottleneck on a 2-core box?
# Starts origin x2 + spdygate as scripts/demo.sh does (gateway pinned to core 0, one shard;
# backends and spdyload on core 1), then runs ROUNDS rounds of the demo workload and prints,
# per round and as medians: gateway CPU per request (utime+stime from /proc/PID/stat),
# spdyload CPU per request, and their ratio (target: spdyload/gateway <= 1/3, issue 5).
#
# spdyload's CPU is taken two ways and both are printed:
#   own  - its --json `cpu_us_per_request`: getrusage(RUSAGE_SELF) (whole process, all
#          threads, user+system) from just before the workers start to after they are
#          joined, divided by requests done in the measured window. It includes connection
#          setup and teardown, any --warm-up time and the requests abandoned in flight at
#          the end of -D (none of which count as done), so it errs high, never low;
#   wait - what the kernel reports for the whole child process at exit (wait4 rusage:
#          everything, including process start-up and argument parsing), divided by the
#          same request count. The ratio uses `wait`, the stricter of the two.
#
# Env: ROUNDS (5), DURATION (5 s), CONNS (16), STREAMS (16), SIZE (1024), BUILD (1; 0 skips
# the cargo build), LOADGEN (path of the spdyload binary to measure, default the fresh one),
# COMPARE (path of a second spdyload binary, e.g. an older build: every round then runs
# both, alternating which goes first, against the same gateway, and medians are per binary).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5}
CONNS=${CONNS:-16}
STREAMS=${STREAMS:-16}
SIZE=${SIZE:-1024}
BUILD=${BUILD:-1}

if [ "$BUILD" = 1 ]; then
  echo "== building (release)"
  cargo build --release --quiet --bin spdygate --bin origin --bin spdyload
fi
bin=target/release
LOADGEN=${LOADGEN:-$bin/spdyload}
COMPARE=${COMPARE:-}

# shellcheck source=scripts/lib/stack.sh
source scripts/lib/stack.sh
echo "== spdygate on $gw (core $gw_core, 1 shard); origins and $LOADGEN on core $other_cores"
echo "== $ROUNDS rounds of: spdyload -D $DURATION -c $CONNS -m $STREAMS http://$gw/bytes/$SIZE"

# Warm up the gateway and the backends.
taskset -c "$other_cores" "$LOADGEN" -n 2000 -c 4 -m 4 --no-progress "http://$gw/bytes/$SIZE" >/dev/null

python3 - "$ROUNDS" "$gw_pid" "$other_cores" "$DURATION" "$CONNS" "$STREAMS" "http://$gw/bytes/$SIZE" "$LOADGEN" $COMPARE <<'PY'
import json, os, statistics, subprocess, sys
rounds, gw_pid, core, duration, conns, streams, url = sys.argv[1:8]
loadgens = sys.argv[8:]
hz = os.sysconf("SC_CLK_TCK")

def gw_ticks():
    with open(f"/proc/{gw_pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime (fields 14, 15)

rows = {lg: [] for lg in loadgens}

def one_run(loadgen):
    cmd = ["taskset", "-c", core, loadgen, "-D", duration, "-c", conns, "-m", streams,
           "--json", "--no-progress", url]
    before = gw_ticks()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    after = gw_ticks()
    if status != 0:
        sys.exit(f"{loadgen} failed (status {status})")
    r = json.loads(out)
    done = r["requests"]["done"]
    ok = r["requests"]["succeeded"]
    if r["requests"]["failed"] or r["requests"]["errored"]:
        print(f"  warning: {r['requests']['failed']} failed, {r['requests']['errored']} errored")
    gw_us = (after - before) / hz * 1e6 / max(ok, 1)
    own = r["cpu_us_per_request"]
    wait = (usage.ru_utime + usage.ru_stime) * 1e6 / max(done, 1)
    ratio = wait / gw_us if gw_us else float("nan")
    return (r["req_per_s"], ok, gw_us, own, wait, ratio)

head = f"{'round':>5} {'req/s':>9} {'done':>8} {'gw us/req':>10} {'load own':>9} {'load wait':>10} {'ratio':>6}"
print(head + ("  binary" if len(loadgens) > 1 else ""))
for i in range(int(rounds)):
    order = loadgens if i % 2 == 0 else loadgens[::-1]
    for lg in order:
        row = one_run(lg)
        rows[lg].append(row)
        rps, ok, gw_us, own, wait, ratio = row
        tag = f"  {lg}" if len(loadgens) > 1 else ""
        print(f"{i+1:>5} {rps:>9.0f} {ok:>8} {gw_us:>10.2f} {own:>9.2f} {wait:>10.2f} {ratio:>6.3f}{tag}")
for lg in loadgens:
    med = [statistics.median(c) for c in zip(*rows[lg])]
    tag = f"  {lg}" if len(loadgens) > 1 else ""
    print(f"{'med':>5} {med[0]:>9.0f} {'':>8} {med[2]:>10.2f} {med[3]:>9.2f} {med[4]:>10.2f} {med[5]:>6.3f}{tag}")
    print(f"median ratio spdyload/gateway = {med[5]:.3f} (target <= 0.333){tag}")
PY
