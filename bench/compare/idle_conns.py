#!/usr/bin/env python3
"""RSS per idle connection of a gateway, for scripts/compare.sh.

Opens COUNT connections to 127.0.0.1:PORT, completes the TLS handshake (ALPN h2 or spdy/3.1)
or plain TCP (h1), sends ONE request per connection and reads its whole response, then leaves
every connection idle and reads the resident set (VmRSS) of the gateway's processes (the given
pids and all their descendants) before and after. Prints one JSON object.
It refuses any address but loopback.
"""
import argparse
import asyncio
import json
import os
import resource
import ssl
import struct
import sys
import time
import zlib


def descendants(roots):
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(name))
    out, todo = [], list(roots)
    while todo:
        pid = todo.pop()
        if pid in out:
            continue
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def rss_kib(roots):
    total = 0
    for pid in descendants(roots):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def h2_request(path, authority):
    def lit(name_index, value):
        v = value.encode()
        assert len(v) < 127
        return bytes([name_index, len(v)]) + v  # literal without indexing, indexed name (4-bit prefix)

    # :method GET (2), :scheme https (7) fully indexed; :path (4) and :authority (1) literals.
    block = b"\x82\x87" + lit(0x04, path) + lit(0x01, authority)
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    settings = struct.pack(">I", 0)[1:] + b"\x04\x00" + struct.pack(">I", 0)
    headers = struct.pack(">I", len(block))[1:] + b"\x01\x05" + struct.pack(">I", 1) + block
    return preface + settings + headers


def spdy3_request(path, authority, dictionary):
    pairs = [(":method", "GET"), (":path", path), (":version", "HTTP/1.1"),
             (":host", authority), (":scheme", "https")]
    raw = struct.pack(">I", len(pairs))
    for name, value in pairs:
        raw += struct.pack(">I", len(name)) + name.encode() + struct.pack(">I", len(value)) + value.encode()
    z = zlib.compressobj(zdict=dictionary)
    block = z.compress(raw) + z.flush(zlib.Z_SYNC_FLUSH)
    body = struct.pack(">II", 1, 0) + b"\x00\x00" + block  # stream 1, no associated stream, priority 0
    return b"\x80\x03\x00\x01" + bytes([0x01]) + struct.pack(">I", len(body))[1:] + body  # FLAG_FIN


async def read_h2_response(reader, writer):
    while True:
        head = await reader.readexactly(9)
        length = int.from_bytes(head[:3], "big")
        ftype, flags, stream = head[3], head[4], int.from_bytes(head[5:9], "big") & 0x7FFFFFFF
        payload = await reader.readexactly(length)
        if ftype == 4 and not flags & 1:  # SETTINGS: acknowledge
            writer.write(b"\x00\x00\x00\x04\x01\x00\x00\x00\x00")
        if ftype == 7:
            raise ConnectionError("GOAWAY")
        if stream == 1 and ftype in (0, 1) and flags & 1:
            return
        del payload


async def read_spdy_response(reader):
    while True:
        head = await reader.readexactly(8)
        length = int.from_bytes(head[5:8], "big")
        flags = head[4]
        await reader.readexactly(length)
        if head[0] & 0x80:
            ftype = int.from_bytes(head[2:4], "big")
            if ftype == 7:
                raise ConnectionError("GOAWAY")
            if ftype == 3:
                raise ConnectionError("RST_STREAM")
            if ftype == 2 and flags & 1:
                return
        elif int.from_bytes(head[0:4], "big") == 1 and flags & 1:
            return


async def read_h1_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)


async def one(args, ctx, request, conns, sem):
    async with sem:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(args.host, args.port, ssl=ctx), timeout=10)
        writer.write(request)
        if args.proto == "h2":
            await asyncio.wait_for(read_h2_response(reader, writer), timeout=10)
        elif args.proto == "spdy/3.1":
            await asyncio.wait_for(read_spdy_response(reader), timeout=10)
        else:
            await asyncio.wait_for(read_h1_response(reader), timeout=10)
        conns.append(writer)


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--proto", choices=["h2", "spdy/3.1", "h1"], required=True)
    p.add_argument("--count", type=int, default=500)
    p.add_argument("--path", default="/bytes/100")
    p.add_argument("--pid", type=int, action="append", required=True)
    p.add_argument("--spdy-dictionary")
    p.add_argument("--settle", type=float, default=2.0)
    p.add_argument("--plain", action="store_true", help="no TLS: SPDY or h2c prior knowledge")
    args = p.parse_args()
    if not args.host.startswith("127."):
        sys.exit("idle_conns.py: loopback only")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, args.count * 2 + 64)), hard))

    ctx = None
    authority = f"{args.host}:{args.port}"
    if args.proto == "h1":
        request = f"GET {args.path} HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode()
    else:
        if not args.plain:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.set_alpn_protocols([args.proto])
        if args.proto == "h2":
            request = h2_request(args.path, authority)
        else:
            with open(args.spdy_dictionary, "rb") as f:
                request = spdy3_request(args.path, authority, f.read())

    time.sleep(args.settle)
    before = rss_kib(args.pid)
    conns, sem = [], asyncio.Semaphore(32)
    results = await asyncio.gather(*(one(args, ctx, request, conns, sem) for _ in range(args.count)),
                                   return_exceptions=True)
    errors = [repr(r) for r in results if isinstance(r, BaseException)]
    await asyncio.sleep(args.settle)
    after = rss_kib(args.pid)
    ok = len(conns)
    print(json.dumps({
        "connections": ok,
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "rss_before_kib": before,
        "rss_after_kib": after,
        "bytes_per_idle_conn": (after - before) * 1024 / ok if ok else None,
    }))
    for w in conns:
        w.close()


asyncio.run(main())
