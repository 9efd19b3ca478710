#!/usr/bin/env python3
"""Independent zlib peer for tests/interop_zlib.rs (CPython's zlib module, i.e. C zlib).

Reads ONE JSON request on stdin, writes ONE JSON answer on stdout:

  {"dict_dir": "...", "jobs": [job, ...]}   ->   {"results": [result, ...]}

job "inflate": {"op": "inflate", "dict": "v2"|"v3"|null, "blocks": [hex, ...]}
    One decompressobj (one context) fed the blocks in order; result
    {"ok": true, "blocks": [hex of each block's output, ...]} or {"ok": false, "error": "..."}.
job "deflate": {"op": "deflate", "dict": "v2"|"v3"|"wrong"|null, "level": 0-9,
                "wbits": 8-15, "memlevel": 1-9, "strategy": "default"|"huffman",
                "blocks": [hex of uncompressed blocks, ...]}
    One compressobj; each block is compress() + flush(Z_SYNC_FLUSH); result
    {"ok": true, "blocks": [hex, ...], "dictid": int|null}.
"""
import json
import os
import sys
import zlib


def dictionary(dict_dir, name):
    if name is None:
        return None
    if name == "wrong":
        # Neither SPDY dictionary: a first block must be refused as C33.
        return b"this is not a spdy dictionary, " * 8
    fname = {"v2": "spdy2_dictionary.bin", "v3": "spdy3_dictionary.bin"}[name]
    with open(os.path.join(dict_dir, fname), "rb") as f:
        return f.read()


def run(dict_dir, job):
    d = dictionary(dict_dir, job.get("dict"))
    if job["op"] == "inflate":
        dec = zlib.decompressobj(zdict=d) if d is not None else zlib.decompressobj()
        out = []
        try:
            for block in job["blocks"]:
                out.append(dec.decompress(bytes.fromhex(block)).hex())
                if dec.eof:
                    return {"ok": False, "error": "stream ended"}
        except zlib.error as e:
            return {"ok": False, "error": str(e)}
        return {"ok": True, "blocks": out}
    if job["op"] == "deflate":
        strategy = {"default": zlib.Z_DEFAULT_STRATEGY, "huffman": zlib.Z_HUFFMAN_ONLY}[job.get("strategy", "default")]
        args = (job["level"], zlib.DEFLATED, job["wbits"], job.get("memlevel", 8), strategy)
        comp = zlib.compressobj(*args, zdict=d) if d is not None else zlib.compressobj(*args)
        out = []
        for block in job["blocks"]:
            out.append((comp.compress(bytes.fromhex(block)) + comp.flush(zlib.Z_SYNC_FLUSH)).hex())
        return {"ok": True, "blocks": out, "dictid": zlib.adler32(d) if d is not None else None}
    return {"ok": False, "error": "unknown op " + job["op"]}


def main():
    req = json.load(sys.stdin)
    results = [run(req["dict_dir"], job) for job in req["jobs"]]
    json.dump({"results": results, "zlib": zlib.ZLIB_RUNTIME_VERSION}, sys.stdout)


if __name__ == "__main__":
    main()
