#!/usr/bin/env bash
# scripts/compare.sh — spdygate side by side with nginx, h2o and haproxy (HTTP/2-over-TLS ->
# HTTP/1.1 gateways) and the bare backend, in one run, on loopback.
#
# Every peer proxies to the same `origin` backend. The gateway under test is pinned to one core
# (GW_CORE), the backend and the load generator to the other (LOAD_CORE). Each cell
# (peer x body size x pattern) is measured ROUNDS times, peers alternating (A B C A B C ...),
# and the report quotes medians and same-round ratios. The steadiest figure is the gateway's CPU
# per proxied request: utime+stime of all its processes (/proc/PID/stat) around a run, divided
# by the completed requests. Also: req/s, p99, CPU seconds per GB for 1 MiB bodies, and RSS per
# idle connection (bench/compare/idle_conns.py).
#
# Usage:  bash scripts/compare.sh                 # full matrix (~15 min on 2 cores)
#         QUICK=1 bash scripts/compare.sh         # smoke matrix (~2 min)
# Environment:
#   ROUNDS (3)  DURATION (5, seconds per run)  WARMUP (1, seconds per peer and cell, unrecorded)
#   SIZES ("100 1024 16384 1048576")  PATTERNS ("tput:32:16 lat:8:1" = name:clients:streams)
#   PATTERNS_LARGE ("tput:8:4 lat:8:1", for bodies >= 1 MiB)
#   PEERS ("spdygate nginx h2o haproxy direct")  IDLE_CONNS (500)
#   GW_CORE (0)  LOAD_CORE (1)  BIN_DIR (dir with spdygate, origin, spdyload; default: build them)
#   BIN_NOTE (what those binaries were built from, quoted in the report)
#   OUT_DIR (bench/results)  KEEP_TMP (0: delete the temp dir with the logs on exit)
#   PLAINTEXT (0; 1: every gateway on plaintext — SPDY for spdygate, h2c prior knowledge for the
#              others — the report goes to compare-<stamp>-plain.* and the READMEs are left alone)
# Output: $OUT_DIR/compare-<stamp>.{md,svg,jsonl}; the table also goes into
# bench/results/README.md and README.md (between the `compare:begin/end` markers).
# It starts processes only on 127.0.0.1, and stops everything it started on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CFG=$ROOT/bench/compare
QUICK=${QUICK:-0}
if [[ $QUICK == 1 ]]; then
    ROUNDS=${ROUNDS:-2}
    DURATION=${DURATION:-2}
    SIZES=${SIZES:-"100 1048576"}
    IDLE_CONNS=${IDLE_CONNS:-100}
fi
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
SIZES=${SIZES:-"100 1024 16384 1048576"}
PATTERNS=${PATTERNS:-"tput:32:16 lat:8:1"}
# 1 MiB x 32 x 16 streams is 512 MiB in flight: bodies >= 1 MiB use a smaller throughput pattern.
PATTERNS_LARGE=${PATTERNS_LARGE:-"tput:8:4 lat:8:1"}
PEERS=${PEERS:-"spdygate nginx h2o haproxy direct"}
IDLE_CONNS=${IDLE_CONNS:-500}
GW_CORE=${GW_CORE:-0}
LOAD_CORE=${LOAD_CORE:-1}
BIN_DIR=${BIN_DIR:-}
BIN_NOTE=${BIN_NOTE:-}  # where the binaries came from, for the report (default: this checkout's commit)
OUT_DIR=${OUT_DIR:-$ROOT/bench/results}
KEEP_TMP=${KEEP_TMP:-0}
PLAINTEXT=${PLAINTEXT:-0}
if [[ $PLAINTEXT == 1 ]]; then SCHEME=http; TRANSPORT=plaintext; else SCHEME=https; TRANSPORT=TLS; fi

log() { printf '[compare %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }

# ---------------------------------------------------------------------------------------------
# Tools: install what is missing (Debian packages).
need_pkgs=()
for pair in nginx:nginx h2o:h2o haproxy:haproxy h2load:nghttp2-client wrk:wrk openssl:openssl \
            taskset:util-linux python3:python3 pgrep:procps; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || need_pkgs+=("${pair#*:}")
done
if ((${#need_pkgs[@]})); then
    log "installing ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq "${need_pkgs[@]}" >/dev/null \
        || die "apt-get install ${need_pkgs[*]} failed"
    # The Debian packages start their own services on the default ports; we do not use them.
    for svc in nginx h2o haproxy; do
        command -v systemctl >/dev/null 2>&1 && systemctl stop "$svc" >/dev/null 2>&1 || true
    done
fi
[[ $(nproc) -ge 2 ]] || log "warning: fewer than 2 cores; gateway and load share a core"

# ---------------------------------------------------------------------------------------------
# Our binaries.
if [[ -z $BIN_DIR ]]; then
    BIN_DIR=$ROOT/target/release
    bins=()
    for b in spdygate origin spdyload; do
        [[ -f $ROOT/src/bin/$b.rs ]] && bins+=(--bin "$b")
    done
    if ((${#bins[@]})); then
        log "cargo build --release ${bins[*]}"
        (cd "$ROOT" && cargo build --release --quiet "${bins[@]}") || die "cargo build failed"
    fi
fi
have_bin() { [[ -x $BIN_DIR/$1 ]]; }
SPDY_DICT=$ROOT/src/spdy/header/dict/spdy3_dictionary.bin

# ---------------------------------------------------------------------------------------------
# Temp dir, cleanup, helpers.
TMP=$(mktemp -d /tmp/spdygate-compare.XXXXXX)
mkdir -p "$TMP/nginx-tmp" "$TMP/runs"
STARTED=()  # pids we started (process group leaders not guaranteed; we kill each tree)

tree_pids() {  # pid and all its descendants
    local p=$1 c
    echo "$p"
    for c in $(pgrep -P "$p" 2>/dev/null || true); do tree_pids "$c"; done
}
cleanup() {
    local p pids=()
    for p in "${STARTED[@]}"; do
        kill -0 "$p" 2>/dev/null && pids+=($(tree_pids "$p"))
    done
    ((${#pids[@]})) && kill -TERM "${pids[@]}" 2>/dev/null
    for _ in $(seq 30); do
        local alive=0
        for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
        ((alive)) || break
        sleep 0.1
    done
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    if [[ $KEEP_TMP == 1 ]]; then log "logs kept in $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_listening() {  # name pid port logfile
    local name=$1 pid=$2 port=$3 logf=$4
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || { cat "$logf" >&2 || true; die "$name exited during start-up (log above)"; }
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.1
    done
    cat "$logf" >&2 || true
    die "$name is not listening on 127.0.0.1:$port after 10 s"
}
cpu_ticks() {  # summed utime+stime (clock ticks) of the given pids and all their descendants
    local t=0 p line f
    for p in $(for r in "$@"; do tree_pids "$r"; done); do
        line=$(cat "/proc/$p/stat" 2>/dev/null) || continue
        read -r -a f <<<"${line##*) }"  # f[0] = field 3 (state); utime = field 14, stime = 15
        t=$((t + f[11] + f[12]))
    done
    echo "$t"
}
subst() {  # template output port (lines starting @TLS@ / @PLAIN@ are kept for that transport only)
    local keep=@TLS@ drop=@PLAIN@
    [[ $PLAINTEXT == 1 ]] && { keep=@PLAIN@; drop=@TLS@; }
    sed -e "/^$drop/d" -e "s|^$keep||" -e "s|@DIR@|$TMP|g" -e "s|@PORT@|$3|g" -e "s|@BACKEND@|$BACKEND|g" \
        -e "s|@CERT@|$TMP/cert.pem|g" -e "s|@KEY@|$TMP/key.pem|g" -e "s|@PEM@|$TMP/both.pem|g" \
        "$1" >"$2"
}
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true

# ---------------------------------------------------------------------------------------------
# Self-signed certificate (one for every TLS peer).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=localhost -keyout "$TMP/key.pem" -out "$TMP/cert.pem" >/dev/null 2>&1 \
    || die "openssl req failed"
cat "$TMP/cert.pem" "$TMP/key.pem" >"$TMP/both.pem"

# ---------------------------------------------------------------------------------------------
# The backend, on the load core.
if have_bin origin; then
    BACKEND_KIND=origin
    taskset -c "$LOAD_CORE" "$BIN_DIR/origin" --listen 127.0.0.1:0 --threads 1 >"$TMP/origin.log" 2>&1 &
    BACKEND_PID=$!
    STARTED+=("$BACKEND_PID")
    for _ in $(seq 100); do
        grep -q 'origin listening on' "$TMP/origin.log" 2>/dev/null && break
        kill -0 "$BACKEND_PID" 2>/dev/null || { cat "$TMP/origin.log" >&2; die "origin exited"; }
        sleep 0.1
    done
    BACKEND=$(sed -n 's/.*origin listening on \([0-9.:]*\).*/\1/p' "$TMP/origin.log" | head -1)
    [[ -n $BACKEND ]] || die "origin did not print its address"
else
    BACKEND_KIND=nginx-static
    log "no origin binary: using nginx serving static files as the backend"
    mkdir -p "$TMP/www/bytes"
    for s in $SIZES; do head -c "$s" /dev/urandom >"$TMP/www/bytes/$s"; done
    port=$(free_port)
    BACKEND=127.0.0.1:$port
    subst "$CFG/backend-nginx.conf.in" "$TMP/backend-nginx.conf" "$port"
    taskset -c "$LOAD_CORE" nginx -e "$TMP/backend-nginx.error.log" -p "$TMP/" -c "$TMP/backend-nginx.conf" \
        >"$TMP/backend.log" 2>&1 &
    BACKEND_PID=$!
    STARTED+=("$BACKEND_PID")
fi
wait_listening backend "$BACKEND_PID" "${BACKEND##*:}" "$TMP/origin.log"
log "backend ($BACKEND_KIND) on $BACKEND"

# ---------------------------------------------------------------------------------------------
# The gateways, on the gateway core, all started once and left idle while others are measured.
declare -A PID PORT
start_peer() {
    local peer=$1 port
    port=$(free_port)
    case $peer in
    spdygate)
        have_bin spdygate && have_bin spdyload || { log "spdygate/spdyload not built: row left unmeasured"; return 1; }
        local tls=(--tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem")
        [[ $PLAINTEXT == 1 ]] && tls=()
        taskset -c "$GW_CORE" "$BIN_DIR/spdygate" --listen "127.0.0.1:$port" --backend "$BACKEND" --shards 1 \
            "${tls[@]}" >"$TMP/spdygate.log" 2>&1 &
        ;;
    nginx)
        subst "$CFG/nginx.conf.in" "$TMP/nginx.conf" "$port"
        taskset -c "$GW_CORE" nginx -e "$TMP/nginx.error.log" -p "$TMP/" -c "$TMP/nginx.conf" >"$TMP/nginx.log" 2>&1 &
        ;;
    h2o)
        subst "$CFG/h2o.conf.in" "$TMP/h2o.conf" "$port"
        taskset -c "$GW_CORE" h2o -c "$TMP/h2o.conf" >"$TMP/h2o.log" 2>&1 &
        ;;
    haproxy)
        subst "$CFG/haproxy.cfg.in" "$TMP/haproxy.cfg" "$port"
        taskset -c "$GW_CORE" haproxy -db -f "$TMP/haproxy.cfg" >"$TMP/haproxy.log" 2>&1 &
        ;;
    direct)
        PID[$peer]=$BACKEND_PID
        PORT[$peer]=${BACKEND##*:}
        return 0
        ;;
    *) die "unknown peer $peer" ;;
    esac
    PID[$peer]=$!
    PORT[$peer]=$port
    STARTED+=("$!")
    wait_listening "$peer" "$!" "$port" "$TMP/$peer.log"
    log "$peer on 127.0.0.1:$port (pids: $(tree_pids "${PID[$peer]}" | tr '\n' ' '))"
}
ACTIVE=()
for peer in $PEERS; do
    if start_peer "$peer"; then ACTIVE+=("$peer"); fi
done
((${#ACTIVE[@]})) || die "no peer could be started"

# ---------------------------------------------------------------------------------------------
# RSS per idle connection, measured first, on fresh processes (after a load run the allocators
# keep freed memory and new connections would not grow the RSS).
IDLE=$TMP/idle.jsonl
: >"$IDLE"
for peer in "${ACTIVE[@]}"; do
    case $peer in spdygate) proto=spdy/3.1 ;; direct) proto=h1 ;; *) proto=h2 ;; esac
    if out=$(timeout 120 taskset -c "$LOAD_CORE" python3 "$CFG/idle_conns.py" --port "${PORT[$peer]}" \
        --proto "$proto" --count "$IDLE_CONNS" --path "/bytes/$(echo "$SIZES" | awk '{print $1}')" \
        --spdy-dictionary "$SPDY_DICT" $([[ $PLAINTEXT == 1 ]] && echo --plain) $(for p in $(tree_pids "${PID[$peer]}"); do echo --pid "$p"; done) \
        2>"$TMP/idle-$peer.err"); then
        printf '{"peer": "%s", "result": %s}\n' "$peer" "$out" >>"$IDLE"
        log "idle $peer: $out"
    else
        log "idle connections to $peer failed: $(head -c 500 "$TMP/idle-$peer.err")"
    fi
done

# ---------------------------------------------------------------------------------------------
# One run: load generator on the load core, CPU of the gateway and backend around it.
START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
RUNS=$TMP/runs.jsonl
: >"$RUNS"
load_cmd() {  # peer size clients streams duration logfile
    local peer=$1 size=$2 c=$3 m=$4 d=$5 logf=$6 url
    case $peer in
    spdygate)
        echo "$BIN_DIR/spdyload" -t 1 -c "$c" -m "$m" -D "${d}s" -k -p spdy/3.1 --json --no-progress \
            "$SCHEME://127.0.0.1:${PORT[$peer]}/bytes/$size"
        ;;
    direct)
        echo wrk -t 1 -c "$c" -d "${d}s" --latency "http://127.0.0.1:${PORT[$peer]}/bytes/$size"
        ;;
    *)
        echo h2load -t 1 -c "$c" -m "$m" -D "$d" --log-file="$logf" "$SCHEME://127.0.0.1:${PORT[$peer]}/bytes/$size"
        ;;
    esac
}
run_once() {  # peer size pattern clients streams round record(0/1) duration
    local peer=$1 size=$2 pat=$3 c=$4 m=$5 round=$6 record=$7 d=$8
    local base=$TMP/runs/$peer-$size-$pat-$round-$record gw0 gw1 be0 be1 load rc=0
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    gw0=$(cpu_ticks "${PID[$peer]}")
    be0=$(cpu_ticks "$BACKEND_PID")
    # shellcheck disable=SC2046
    timeout $((d + 60)) taskset -c "$LOAD_CORE" $(load_cmd "$peer" "$size" "$c" "$m" "$d" "$base.reqlog") \
        >"$base.out" 2>"$base.err" || rc=$?
    gw1=$(cpu_ticks "${PID[$peer]}")
    be1=$(cpu_ticks "$BACKEND_PID")
    kill -0 "${PID[$peer]}" 2>/dev/null || die "$peer died during a run (see $TMP)"
    ((record)) || { rm -f "$base.reqlog"; return 0; }
    python3 "$CFG/analyze.py" record --out "$RUNS" --peer "$peer" --size "$size" --pattern "$pat" \
        --clients "$c" --streams "$m" --round "$round" --duration "$d" --rc "$rc" \
        --tool "$(case $peer in spdygate) echo spdyload ;; direct) echo wrk ;; *) echo h2load ;; esac)" \
        --stdout "$base.out" --reqlog "$base.reqlog" \
        --gw-ticks $((gw1 - gw0)) --backend-ticks $((be1 - be0)) --clk-tck "$(getconf CLK_TCK)" \
        --loadavg "$load" ||
        { log "could not read the result of $peer $size $pat round $round:"; head -c 2000 "$base.out" "$base.err" >&2; }
    rm -f "$base.reqlog"
}

log "peers: ${ACTIVE[*]}; sizes: $SIZES; patterns: $PATTERNS (>= 1 MiB: $PATTERNS_LARGE); rounds: $ROUNDS x ${DURATION}s; load average: $START_LOAD"
for size in $SIZES; do
    pats=$PATTERNS
    ((size >= 1048576)) && pats=$PATTERNS_LARGE
    for p in $pats; do
        IFS=: read -r pat c m <<<"$p"
        for peer in "${ACTIVE[@]}"; do run_once "$peer" "$size" "$pat" "$c" "$m" 0 0 "$WARMUP"; done
        for round in $(seq "$ROUNDS"); do
            for peer in "${ACTIVE[@]}"; do run_once "$peer" "$size" "$pat" "$c" "$m" "$round" 1 "$DURATION"; done
        done
        log "size $size pattern $pat done (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    done
done

# ---------------------------------------------------------------------------------------------
# Metadata and the report.
END_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
STAMP=$(date -u +%Y%m%d-%H%M)
[[ $PLAINTEXT == 1 ]] && STAMP=$STAMP-plain
ver() { "$@" 2>&1 | head -1 | tr -d '"\\' || true; }
cat >"$TMP/meta.json" <<EOF
{
  "date": "$(date -u +'%Y-%m-%d %H:%M UTC')",
  "stamp": "$STAMP",
  "quick": $QUICK,
  "transport": "$TRANSPORT",
  "rounds": $ROUNDS,
  "duration_s": $DURATION,
  "idle_conns": $IDLE_CONNS,
  "machine": "$(uname -srm), $(nproc) cores, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1 | tr -d '"\\'), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)",
  "loadavg_start": "$START_LOAD",
  "loadavg_end": "$END_LOAD",
  "gateway_core": $GW_CORE,
  "load_core": $LOAD_CORE,
  "backend": "$BACKEND_KIND (1 thread)",
  "git": "$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)",
  "binaries": "$(printf %s "$BIN_NOTE" | tr -d '"\\')",
  "versions": {
    "nginx": "$(ver nginx -v)",
    "h2o": "$(ver h2o --version)",
    "haproxy": "$(ver haproxy -v)",
    "h2load": "$(ver h2load --version)",
    "wrk": "$(ver wrk -v | cut -d' ' -f1-2)"
  }
}
EOF
mkdir -p "$OUT_DIR"
readmes=(--readme "$ROOT/bench/results/README.md" --readme "$ROOT/README.md")
[[ $PLAINTEXT == 1 ]] && readmes=()
python3 "$CFG/analyze.py" report --runs "$RUNS" --idle "$IDLE" --meta "$TMP/meta.json" \
    --out-dir "$OUT_DIR" "${readmes[@]}"
log "done: $OUT_DIR/compare-$STAMP.md"
