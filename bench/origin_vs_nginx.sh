#!/usr/bin/env bash
# origin vs Debian's nginx as an HTTP/1.1 backend, same machine, same core, same load.
#
# Both servers answer a 1 KiB body over keep-alive (nginx: `return 200` of a 1024-byte
# string, access log off, unlimited keep-alive requests; origin: /bytes/1024 with its cached
# x-body-sha256). Each server is pinned to core SERVER_CPU (nginx master + 1 worker; origin
# --threads 1); wrk -t1 -c32 runs pinned to core WRK_CPU. Rounds alternate A B A B. Per run
# it records requests/s and the server's CPU time per request (on-CPU ns of every thread of
# every server process, from /proc/*/schedstat, before and after). Prints medians and origin/nginx ratios.
#
# Measured 2026-11-22 on the shared 2-vCPU VM (load average 9-17 from other builds, so req/s
# swings by 50% between rounds; CPU/request is the stable figure), nginx 1.22.1, 3 x 10 s:
#   median us CPU/request  origin 9.68  nginx 10.74  (origin/nginx 0.90; origin lower in every round)
#   median req/s           origin 12054 nginx 11596  (1.04)
#
# Usage: bench/origin_vs_nginx.sh [rounds=3] [duration=10s]
# Env: SERVER_CPU (1), WRK_CPU (0), CONNS (32), NGINX_PORT (18081), ORIGIN_PORT (18082).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
duration=${2:-10s}
server_cpu=${SERVER_CPU:-1}
wrk_cpu=${WRK_CPU:-0}
conns=${CONNS:-32}
nginx_port=${NGINX_PORT:-18081}
origin_port=${ORIGIN_PORT:-18082}

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

cargo build --release --quiet --bin origin
origin_bin=$(pwd)/target/release/origin

work=$(mktemp -d /tmp/origin-bench.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 0.3
  rm -rf "$work"
}
trap cleanup EXIT

body=$(head -c 1024 /dev/zero | tr '\0' 'a')
cat >"$work/nginx.conf" <<EOF
worker_processes 1;
user root;
pid $work/nginx.pid;
error_log $work/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$nginx_port;
    location / { return 200 "$body"; }
  }
}
EOF

taskset -c "$server_cpu" "$nginx_bin" -p "$work" -c "$work/nginx.conf" -g 'daemon off;' &
pids+=($!)
nginx_master=$!
taskset -c "$server_cpu" "$origin_bin" --listen "127.0.0.1:$origin_port" --threads 1 >"$work/origin.out" &
pids+=($!)
origin_pid=$!

for _ in $(seq 100); do
  if curl -fs -o /dev/null "http://127.0.0.1:$nginx_port/" && curl -fs -o /dev/null "http://127.0.0.1:$origin_port/bytes/1024"; then
    break
  fi
  sleep 0.1
done
[ "$(curl -fs "http://127.0.0.1:$nginx_port/" | wc -c)" = 1024 ] || { echo "nginx not serving 1 KiB"; exit 1; }
[ "$(curl -fs "http://127.0.0.1:$origin_port/bytes/1024" | wc -c)" = 1024 ] || { echo "origin not serving 1 KiB"; exit 1; }

# CPU nanoseconds of every thread of the given processes and of their children
# (/proc/<pid>/task/<tid>/schedstat, first field: time on CPU, ns resolution).
cpu_ns() {
  local pid
  for pid in "$@" $(for p in "$@"; do pgrep -P "$p" || true; done); do
    cat /proc/"$pid"/task/*/schedstat 2>/dev/null || true
  done | awk '{ s += $1 } END { printf "%.0f", s }'  # %d would clamp at 2^31 in mawk
}

declare -A rps cpu
run() { # name url pids...
  local name=$1 url=$2
  shift 2
  local before after out reqs rate
  before=$(cpu_ns "$@")
  out=$(taskset -c "$wrk_cpu" wrk -t1 -c"$conns" -d"$duration" "$url")
  after=$(cpu_ns "$@")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  rate=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  if grep -q "Non-2xx\|Socket errors" <<<"$out"; then
    echo "$name: wrk reported errors:"; echo "$out"
  fi
  local us
  us=$(awk -v t=$((after - before)) -v n="$reqs" 'BEGIN { printf "%.3f", t / n / 1e3 }')
  printf '%-7s %10s req/s  %7s us CPU/request  (%s requests, %s ms CPU)\n' "$name" "$rate" "$us" "$reqs" $(((after - before) / 1000000))
  rps[$name]+="$rate "
  cpu[$name]+="$us "
}

# Warm both (page faults, sha cache), then alternate.
taskset -c "$wrk_cpu" wrk -t1 -c"$conns" -d2s "http://127.0.0.1:$nginx_port/" >/dev/null
taskset -c "$wrk_cpu" wrk -t1 -c"$conns" -d2s "http://127.0.0.1:$origin_port/bytes/1024" >/dev/null
echo "rounds=$rounds duration=$duration conns=$conns server cpu=$server_cpu wrk cpu=$wrk_cpu load: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$rounds"); do
  echo "round $round"
  run origin "http://127.0.0.1:$origin_port/bytes/1024" "$origin_pid"
  run nginx "http://127.0.0.1:$nginx_port/" "$nginx_master"
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
o_rps=$(median <<<"${rps[origin]}")
n_rps=$(median <<<"${rps[nginx]}")
o_cpu=$(median <<<"${cpu[origin]}")
n_cpu=$(median <<<"${cpu[nginx]}")
echo
echo "median req/s        origin $o_rps  nginx $n_rps  ratio origin/nginx $(awk -v a="$o_rps" -v b="$n_rps" 'BEGIN { printf "%.2f", a / b }')"
echo "median us CPU/req   origin $o_cpu  nginx $n_cpu  ratio origin/nginx $(awk -v a="$o_cpu" -v b="$n_cpu" 'BEGIN { printf "%.2f", a / b }')"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
