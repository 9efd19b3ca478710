#!/usr/bin/env python3
"""Results of scripts/compare.sh: one record per run, then medians, ratios, a table and a plot.

`record` parses one load generator's output (h2load text + --log-file, spdyload --json, wrk
--latency text) with the CPU ticks the script measured around the run, and appends one JSON line.
`report` turns those lines into bench/results/compare-<stamp>.{md,svg,jsonl} and puts the
compact table into the READMEs between the `compare:begin`/`compare:end` markers.
Ratios are medians of same-round ratios (the peers alternate within a round), not ratios of
medians. It uses the standard library only; it refuses to invent a figure a run did not give.
"""
import argparse
import json
import math
import os
import re
import statistics
import sys

PEER_ORDER = ["spdygate", "nginx", "h2o", "haproxy", "direct"]
COLORS = {"spdygate": "#d62728", "nginx": "#2ca02c", "h2o": "#1f77b4", "haproxy": "#ff7f0e",
          "direct": "#7f7f7f"}
GB = 1e9


# ---------------------------------------------------------------------------------------------
# record

def percentile(values, q):
    if not values:
        return None
    values = sorted(values)
    k = max(0, min(len(values) - 1, math.ceil(q * len(values)) - 1))
    return values[k]


def parse_h2load(text, reqlog):
    m = re.search(r"finished in ([\d.]+)s, ([\d.]+) req/s", text)
    r = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                  r"(\d+) errored, (\d+) timeout", text)
    if not m or not r:
        raise ValueError("no h2load summary")
    lat = []
    if reqlog and os.path.exists(reqlog):
        with open(reqlog) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and parts[1].startswith("2"):
                    lat.append(int(parts[2]))
    return {"elapsed_s": float(m.group(1)), "req_s": float(m.group(2)),
            "succeeded": int(r.group(4)), "failed": int(r.group(5)) + int(r.group(6)) + int(r.group(7)),
            "p99_us": percentile(lat, 0.99), "p50_us": percentile(lat, 0.50)}


def parse_spdyload(text):
    j = json.loads(text[text.index("{"):])
    req = j["requests"]
    pct = j.get("latency_percentiles_us", {})
    return {"elapsed_s": j["elapsed_s"], "req_s": j["req_per_s"], "succeeded": req["succeeded"],
            "failed": req["failed"] + req["errored"] + req["timeout"],
            "p99_us": pct.get("p99"), "p50_us": pct.get("p50"),
            "loadgen_cpu_us_per_req": j.get("cpu_us_per_request")}


def wrk_time_us(s):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", s)
    scale = {"us": 1, "ms": 1e3, "s": 1e6, "m": 60e6}[m.group(2)]
    return float(m.group(1)) * scale


def parse_wrk(text):
    n = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", text)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if not n or not rps:
        raise ValueError("no wrk summary")
    bad = 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        bad += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        bad += sum(int(g) for g in m.groups())
    pct = dict((k, wrk_time_us(v)) for k, v in re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", text, re.M))
    total = int(n.group(1))
    return {"elapsed_s": wrk_time_us(n.group(2) + n.group(3)) / 1e6, "req_s": float(rps.group(1)),
            "succeeded": total - min(bad, total), "failed": bad,
            "p99_us": pct.get("99"), "p50_us": pct.get("50")}


def cmd_record(a):
    with open(a.stdout) as f:
        text = f.read()
    if a.tool == "h2load":
        r = parse_h2load(text, a.reqlog)
    elif a.tool == "spdyload":
        r = parse_spdyload(text)
    else:
        r = parse_wrk(text)
    # Only successful responses count, for every tool (h2load's and wrk's req/s count failures too).
    if not r["succeeded"]:
        r["p99_us"] = r["p50_us"] = None  # spdyload reports 0 for an empty histogram
    r["req_s_tool"] = r["req_s"]
    r["req_s"] = r["succeeded"] / r["elapsed_s"] if r["elapsed_s"] else 0.0
    gw_s = a.gw_ticks / a.clk_tck
    be_s = a.backend_ticks / a.clk_tck
    ok = r["succeeded"]
    rec = {"peer": a.peer, "size": a.size, "pattern": a.pattern, "clients": a.clients,
           "streams": a.streams, "round": a.round, "duration_s": a.duration, "rc": a.rc,
           "tool": a.tool, "loadavg": a.loadavg, **r,
           "gw_cpu_s": None if a.peer == "direct" else gw_s,
           "backend_cpu_s": be_s,
           "gw_cpu_us_per_req": None if a.peer == "direct" or not ok else gw_s * 1e6 / ok,
           "backend_cpu_us_per_req": be_s * 1e6 / ok if ok else None,
           "gw_cpu_s_per_gb": None if a.peer == "direct" or not ok else gw_s / (ok * a.size / GB)}
    with open(a.out, "a") as f:
        f.write(json.dumps(rec) + "\n")


# ---------------------------------------------------------------------------------------------
# report

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def size_name(n):
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return f"{n >> 20} MiB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n >> 10} KiB"
    return f"{n} B"


def fmt(x, digits=3):
    if x is None:
        return "—"
    if x == 0:
        return "0"
    if abs(x) >= 10 ** digits:
        return f"{x:,.0f}"
    return f"{x:.{max(0, digits - 1 - int(math.floor(math.log10(abs(x)))))}f}"


def fmt_ratio(x):
    return "—" if x is None else f"{x:.2f}×"


class Cell:
    """The runs of one (size, pattern) across peers and rounds."""

    def __init__(self, runs):
        self.runs = runs
        self.by_peer = {}
        for r in runs:
            self.by_peer.setdefault(r["peer"], []).append(r)

    def median(self, peer, key):
        return med([r[key] for r in self.by_peer.get(peer, [])])

    def spread(self, peer, key):
        xs = [r[key] for r in self.by_peer.get(peer, []) if r[key] is not None]
        m = med(xs)
        if not xs or not m:
            return None
        return (max(xs) - min(xs)) / m * 100

    def ratio(self, peer, ref, key):
        """Median over rounds of peer/ref, both measured in the same round."""
        ours = {r["round"]: r[key] for r in self.by_peer.get(peer, [])}
        theirs = {r["round"]: r[key] for r in self.by_peer.get(ref, [])}
        return med([ours[k] / theirs[k] for k in ours
                    if k in theirs and ours[k] is not None and theirs[k]])


def load_jsonl(path):
    out = []
    if path and os.path.exists(path):
        with open(path) as f:
            out = [json.loads(line) for line in f if line.strip()]
    return out


def cells_of(runs):
    keys = sorted({(r["size"], r["pattern"], r["clients"], r["streams"]) for r in runs},
                  key=lambda k: (k[0], k[1] != "tput", k[1]))
    return [(k, Cell([r for r in runs if (r["size"], r["pattern"], r["clients"], r["streams"]) == k]))
            for k in keys]


def peers_in(runs):
    present = {r["peer"] for r in runs}
    return [p for p in PEER_ORDER if p in present] + sorted(present - set(PEER_ORDER))


def full_tables(runs, idle, meta):
    peers = peers_in(runs)
    refs = [p for p in ("nginx", "h2o") if p in peers]
    lines = []
    head = ["size", "pattern", "peer", "req/s", "±%", "p99 ms", "gw CPU µs/req", "±%",
            "backend µs/req", "errors"]
    for ref in refs:
        head += [f"req/s ×{ref}", f"CPU ×{ref}"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for (size, pat, c, m), cell in cells_of(runs):
        for peer in peers:
            if peer not in cell.by_peer:
                continue
            errors = sum(r["failed"] for r in cell.by_peer[peer]) + \
                sum(1 for r in cell.by_peer[peer] if r["rc"] != 0)
            p99 = cell.median(peer, "p99_us")
            row = [size_name(size), f"{pat} (-c {c} -m {m})", f"**{peer}**" if peer == "spdygate" else peer,
                   "0 (stalled)" if cell.median(peer, "req_s") == 0 else fmt(cell.median(peer, "req_s")),
                   fmt(cell.spread(peer, "req_s"), 2),
                   fmt(p99 / 1000 if p99 is not None else None),
                   fmt(cell.median(peer, "gw_cpu_us_per_req")), fmt(cell.spread(peer, "gw_cpu_us_per_req"), 2),
                   fmt(cell.median(peer, "backend_cpu_us_per_req")), str(errors)]
            for ref in refs:
                if peer == ref:
                    row += ["1", "1"]
                else:
                    row += [fmt_ratio(cell.ratio(peer, ref, "req_s")),
                            fmt_ratio(cell.ratio(peer, ref, "gw_cpu_us_per_req"))]
            lines.append("| " + " | ".join(row) + " |")
    out = ["## Every cell (medians over rounds)", "",
           "`±%` is the spread (max − min) / median over the rounds. `gw CPU µs/req` sums utime+stime "
           "of every process of the gateway; `backend µs/req` is the origin's, the same for every peer "
           "if the gateway keeps its backend connections alive. Ratios are medians of same-round ratios "
           "(CPU ratio < 1: cheaper than the reference).", ""] + lines

    big = [k for k, _ in cells_of(runs) if k[0] >= 1 << 20]
    if big:
        out += ["", "## CPU seconds per GB of 1 MiB bodies (gateway)", "",
                "| pattern | " + " | ".join(p for p in peers if p != "direct") + " |",
                "|---|" + "---|" * len([p for p in peers if p != "direct"])]
        for (size, pat, c, m), cell in cells_of(runs):
            if size < 1 << 20:
                continue
            out.append(f"| {size_name(size)} {pat} | " + " | ".join(
                fmt(cell.median(p, "gw_cpu_s_per_gb")) for p in peers if p != "direct") + " |")

    if idle:
        out += ["", f"## RSS per idle connection ({meta.get('idle_conns')} connections, one request each, then idle)", "",
                "| peer | connections | errors | RSS before MiB | RSS after MiB | KiB per idle connection |",
                "|---|---|---|---|---|---|"]
        for e in sorted(idle, key=lambda e: PEER_ORDER.index(e["peer"]) if e["peer"] in PEER_ORDER else 99):
            r = e["result"]
            per = r.get("bytes_per_idle_conn")
            out.append(f"| {e['peer']} | {r['connections']} | {r['errors']} | {r['rss_before_kib'] / 1024:.1f} | "
                       f"{r['rss_after_kib'] / 1024:.1f} | {fmt(per / 1024 if per is not None else None)} |")
    return out


def compact_table(runs):
    """Rows: peer; columns: size; cell: req/s and gateway CPU µs/req of the throughput pattern."""
    peers = peers_in(runs)
    cells = [(k, c) for k, c in cells_of(runs) if k[1] == "tput"] or cells_of(runs)
    if not cells:
        return ["(no runs)"]
    (_, pat, cc, mm) = cells[0][0]

    def label(k):
        return size_name(k[0]) + ("" if (k[2], k[3]) == (cc, mm) else f" (-c {k[2]} -m {k[3]})")

    lines = [f"req/s · gateway CPU µs per request, pattern {pat} (-c {cc} -m {mm} unless said), medians:", "",
             "| peer | " + " | ".join(label(k) for k, _ in cells) + " |",
             "|---|" + "---|" * len(cells)]
    for peer in peers:
        row = []
        for _, cell in cells:
            rps, cpu = cell.median(peer, "req_s"), cell.median(peer, "gw_cpu_us_per_req")
            row.append("—" if rps is None else "0 (stalled)" if rps == 0 else f"{fmt(rps)} · {fmt(cpu)}")
        lines.append(f"| {peer} | " + " | ".join(row) + " |")
    return lines


def header(meta):
    v = meta.get("versions", {})
    return [f"- Date: {meta['date']}{' (QUICK smoke matrix)' if meta.get('quick') else ''}; "
            f"{meta['rounds']} round(s) × {meta['duration_s']} s per cell, peers alternating within a round.",
            f"- Machine: {meta['machine']}; load average at start {meta['loadavg_start']}, "
            f"at end {meta['loadavg_end']} (shared machine: other jobs were running).",
            f"- Gateway pinned to core {meta['gateway_core']} (1 worker/thread/shard each); backend "
            f"({meta['backend']}) and load generator on core {meta['load_core']}. All on 127.0.0.1, " + (
            "plaintext for every gateway (SPDY/3.1 for spdygate, h2c prior knowledge for the others);"
            if meta.get("transport") == "plaintext" else "TLS (self-signed P-256) for every gateway;") + " direct = wrk → backend over plain HTTP/1.1 (no pipelining).",
            f"- spdygate ({meta.get('binaries') or '@ ' + meta['git']}) driven by spdyload (SPDY/3.1); nginx, h2o, haproxy driven by "
            f"h2load (HTTP/2). Versions: {v.get('nginx')}; {v.get('h2o')}; {v.get('haproxy')}; "
            f"{v.get('h2load')}; {v.get('wrk')}."]


def svg_plot(runs, title):
    peers = peers_in(runs)
    tput = [(k, c) for k, c in cells_of(runs) if k[1] == "tput"]
    lat = [(k, c) for k, c in cells_of(runs) if k[1] == "lat"]
    rows = []
    if tput:
        rows.append(("req/s (throughput)", tput, "req_s", 1))
        rows.append(("gw CPU µs/req (thr.)", tput, "gw_cpu_us_per_req", 1))
    if lat:
        rows.append(("p99 ms (latency)", lat, "p99_us", 1e-3))
    cols = max((len(r[1]) for r in rows), default=1)
    cw, ch, top, left = 230, 170, 60, 20
    width, height = left + cols * cw + 20, top + len(rows) * (ch + 40)
    s = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
         f'font-family="sans-serif" font-size="11">',
         f'<rect width="{width}" height="{height}" fill="white"/>',
         f'<text x="{left}" y="20" font-size="14" font-weight="bold">{title}</text>']
    x = left
    for p in peers:
        s.append(f'<rect x="{x}" y="32" width="12" height="12" fill="{COLORS.get(p, "#000")}"/>'
                 f'<text x="{x + 16}" y="42">{p}</text>')
        x += 90
    for ri, (label, cells, key, scale) in enumerate(rows):
        y0 = top + ri * (ch + 40)
        for ci, ((size, pat, c, m), cell) in enumerate(cells):
            x0 = left + ci * cw
            vals = [(p, cell.median(p, key)) for p in peers]
            vals = [(p, v * scale if v is not None else None) for p, v in vals]
            # The bare backend (direct) is a ceiling far above any gateway: it does not set the
            # scale; its bar is clipped and says so.
            vmax = max([v for p, v in vals if v is not None and p != "direct"] or [1]) or 1
            s.append(f'<text x="{x0}" y="{y0 + 12}" font-weight="bold">{label} — {size_name(size)}</text>')
            base = y0 + ch
            s.append(f'<line x1="{x0}" y1="{base}" x2="{x0 + cw - 20}" y2="{base}" stroke="#444"/>')
            bw = (cw - 30) / max(1, len(vals))
            for pi, (p, v) in enumerate(vals):
                bx = x0 + 5 + pi * bw
                if v is None:
                    s.append(f'<text x="{bx + bw / 2:.1f}" y="{base - 4}" text-anchor="middle">n/a</text>')
                    continue
                h = (ch - 40) * min(v, vmax * 1.15) / vmax
                s.append(f'<rect x="{bx:.1f}" y="{base - h:.1f}" width="{bw - 4:.1f}" height="{h:.1f}" '
                         f'fill="{COLORS.get(p, "#000")}"><title>{p}: {fmt(v)}</title></rect>')
                if v > vmax * 1.15:  # clipped: a white break across the bar
                    s.append(f'<line x1="{bx:.1f}" y1="{base - h + 14:.1f}" x2="{bx + bw - 4:.1f}" '
                             f'y2="{base - h + 8:.1f}" stroke="white" stroke-width="3"/>')
                s.append(f'<text x="{bx + (bw - 4) / 2:.1f}" y="{base - h - 3:.1f}" text-anchor="middle" '
                         f'font-size="9">{fmt(v)}</text>')
    s.append("</svg>")
    return "\n".join(s) + "\n"


def replace_section(path, body, create):
    begin, end = "<!-- compare:begin -->", "<!-- compare:end -->"
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
    elif create:
        text = ""
    else:
        return
    block = begin + "\n" + body.rstrip("\n") + "\n" + end
    if begin in text and end in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    elif create:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    else:
        return
    with open(path, "w") as f:
        f.write(text)


def cmd_report(a):
    runs = load_jsonl(a.runs)
    idle = load_jsonl(a.idle)
    with open(a.meta) as f:
        meta = json.load(f)
    if not runs:
        sys.exit("analyze.py: no runs recorded")
    stamp = meta["stamp"]
    name = f"compare-{stamp}" + ("-quick" if meta.get("quick") else "")
    md = [f"# spdygate vs nginx, h2o, haproxy and the bare backend — {meta['date']}", ""] + header(meta) + \
         [""] + compact_table(runs) + ["", f"![req/s and CPU per request]({name}.svg)", ""] + \
         full_tables(runs, idle, meta) + [""]
    with open(os.path.join(a.out_dir, name + ".md"), "w") as f:
        f.write("\n".join(md))
    with open(os.path.join(a.out_dir, name + ".svg"), "w") as f:
        f.write(svg_plot(runs, f"spdygate compare — {meta['date']}"))
    with open(os.path.join(a.out_dir, name + ".jsonl"), "w") as f:
        for r in runs:
            f.write(json.dumps(r) + "\n")
        for e in idle:
            f.write(json.dumps({"idle": e}) + "\n")
    summary = [f"Latest `scripts/compare.sh` run ([full table](bench/results/{name}.md), "
               f"[plot](bench/results/{name}.svg)):", ""] + header(meta) + [""] + compact_table(runs)
    for path in a.readme:
        local = path.endswith(os.path.join("bench", "results", "README.md"))
        body = "\n".join(summary)
        if local:
            body = body.replace("bench/results/", "")
        replace_section(path, body, create=local)
    print("\n".join(md))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    r.add_argument("--out", required=True)
    r.add_argument("--peer", required=True)
    r.add_argument("--size", type=int, required=True)
    r.add_argument("--pattern", required=True)
    r.add_argument("--clients", type=int, required=True)
    r.add_argument("--streams", type=int, required=True)
    r.add_argument("--round", type=int, required=True)
    r.add_argument("--duration", type=float, required=True)
    r.add_argument("--rc", type=int, required=True)
    r.add_argument("--tool", choices=["h2load", "spdyload", "wrk"], required=True)
    r.add_argument("--stdout", required=True)
    r.add_argument("--reqlog")
    r.add_argument("--gw-ticks", type=int, required=True)
    r.add_argument("--backend-ticks", type=int, required=True)
    r.add_argument("--clk-tck", type=int, required=True)
    r.add_argument("--loadavg", default="")
    q = sub.add_parser("report")
    q.add_argument("--runs", required=True)
    q.add_argument("--idle")
    q.add_argument("--meta", required=True)
    q.add_argument("--out-dir", required=True)
    q.add_argument("--readme", action="append", default=[])
    a = p.parse_args()
    cmd_record(a) if a.cmd == "record" else cmd_report(a)


if __name__ == "__main__":
    main()
