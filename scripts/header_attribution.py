#!/usr/bin/env python3
"""Where the compressed bytes of the header corpus go, per header name: zlib-6/15 against
our encoder.

Both streams are decoded by the small deflate decoder below, which charges every output
byte its share of the symbol that produced it (a literal's code, or a copy's length and
distance codes spread over the copied bytes). The per-name totals are what each encoder
spends on that header across the corpus; the symbol counts say whether the difference is in
literals or in copies. Also reports what zlib spends on the secret parts of set-cookie
values, which our encoder never matches partially (CRIME).

Usage (our streams come from the header_deflate bench):
    HEADER_DUMP_DIR=/tmp/fast cargo bench --bench header_deflate -- zzz
    python3 scripts/header_attribution.py /tmp/fast
The corpus conversion is the one of tests/support_corpus/mod.rs.
"""
import glob
import json
import os
import struct
import sys
import zlib
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "..", "shared", "corpus", "headers", "raw-data")
DICT = open(os.path.join(ROOT, "src", "spdy", "header", "dict", "spdy3_dictionary.bin"), "rb").read()
HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "host"}


def convert(headers):
    pairs = []
    for h in headers:
        ((name, value),) = h.items()
        name = ":host" if name == ":authority" else name
        if name in HOP:
            continue
        value = value.encode()
        for p in pairs:
            if p[0] == name.encode():
                p[1] += b"\0" + value
                break
        else:
            pairs.append([name.encode(), bytearray(value)])
        if name in (":method", ":status"):
            pairs.append([b":version", bytearray(b"HTTP/1.1")])
    return [(n, bytes(v)) for n, v in pairs]


def stories():
    for path in sorted(glob.glob(os.path.join(CORPUS, "*.json"))):
        cases = json.load(open(path))["cases"]
        yield os.path.basename(path)[:-5], [convert(c["headers"]) for c in cases]


def nv(block):
    out = bytearray(struct.pack(">I", len(block)))
    for n, v in block:
        out += struct.pack(">I", len(n)) + n + struct.pack(">I", len(v)) + v
    return bytes(out)


def zlib6(blocks):
    c = zlib.compressobj(6, zlib.DEFLATED, 15, 8, zlib.Z_DEFAULT_STRATEGY, DICT)
    return b"".join(c.compress(nv(b)) + c.flush(zlib.Z_SYNC_FLUSH) for b in blocks)


class Bits:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def get(self, n):
        v = 0
        for i in range(n):
            v |= ((self.data[self.pos >> 3] >> (self.pos & 7)) & 1) << i
            self.pos += 1
        return v


def canonical(lengths):
    count = Counter(l for l in lengths if l)
    code, first = 0, {}
    for bits in range(1, max(lengths, default=0) + 1):
        code = (code + count.get(bits - 1, 0)) << 1
        first[bits] = code
    table = {}
    for sym, bits in enumerate(lengths):
        if bits:
            table[(bits, first[bits])] = sym
            first[bits] += 1
    return table


def symbol(bits, table):
    code = length = 0
    while (length, code) not in table:
        code, length = code << 1 | bits.get(1), length + 1
        if length > 15:
            raise ValueError("bad Huffman code")
    return table[(length, code)]


LEN_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
LEN_EXTRA = [0] * 8 + [1] * 4 + [2] * 4 + [3] * 4 + [4] * 4 + [5] * 4 + [0]
DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
             4097, 6145, 8193, 12289, 16385, 24577]
DIST_EXTRA = [0, 0, 0, 0] + [i // 2 for i in range(2, 28)]
ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
FIXED = (canonical([8] * 144 + [9] * 112 + [7] * 24 + [8] * 8), canonical([5] * 30))


def decode(stream):
    """Inflates a whole sync-flushed zlib stream (after its 6-byte header with DICTID):
    (output without the dictionary, bits charged per output byte, symbol counts and bits)."""
    bits = Bits(stream[6:])
    out, cost, symbols = bytearray(DICT), [0.0] * len(DICT), Counter()
    end = (len(stream) - 6) * 8
    while bits.pos + 10 <= end:
        start = bits.pos
        bits.get(1)
        kind = bits.get(2)
        if kind == 0:
            bits.pos = (bits.pos + 7) & ~7
            if bits.pos + 32 > end:
                break
            n = bits.get(16)
            bits.get(16)
            for _ in range(n):
                out.append(bits.get(8))
                cost.append(8)
            symbols["flush bits"] += bits.pos - start
            continue
        if kind == 1:
            lit, dist = FIXED
        else:
            hlit, hdist, hclen = bits.get(5) + 257, bits.get(5) + 1, bits.get(4) + 4
            cl = [0] * 19
            for i in range(hclen):
                cl[ORDER[i]] = bits.get(3)
            ct, lens = canonical(cl), []
            while len(lens) < hlit + hdist:
                s = symbol(bits, ct)
                if s < 16:
                    lens.append(s)
                elif s == 16:
                    lens += [lens[-1]] * (3 + bits.get(2))
                elif s == 17:
                    lens += [0] * (3 + bits.get(3))
                else:
                    lens += [0] * (11 + bits.get(7))
            lit, dist = canonical(lens[:hlit]), canonical(lens[hlit:])
        symbols["block header bits"] += bits.pos - start
        while True:
            at = bits.pos
            s = symbol(bits, lit)
            if s < 256:
                out.append(s)
                cost.append(bits.pos - at)
                symbols["literals"] += 1
                symbols["literal bits"] += bits.pos - at
            elif s == 256:
                symbols["end-of-block bits"] += bits.pos - at
                break
            else:
                length = LEN_BASE[s - 257] + bits.get(LEN_EXTRA[s - 257])
                d = symbol(bits, dist)
                distance = DIST_BASE[d] + bits.get(DIST_EXTRA[d])
                share = (bits.pos - at) / length
                for _ in range(length):
                    out.append(out[-distance])
                    cost.append(share)
                symbols["copies"] += 1
                symbols["copy bits"] += bits.pos - at
    return bytes(out[len(DICT):]), cost[len(DICT):], symbols


def set_cookie_secrets(value):
    """The secret ranges of a set-cookie value: each cookie's bytes before its first ';'."""
    start = 0
    for part in value.split(b"\0"):
        end = part.find(b";")
        end = len(part) if end < 0 else end
        if end > 0:
            yield start, start + end
        start += len(part) + 1


def charge(blocks, stream, per_name, symbols, secrets):
    out, cost, syms = decode(stream)
    assert out == b"".join(nv(b) for b in blocks), "stream does not inflate to the corpus"
    symbols.update(syms)
    p = 0
    for block in blocks:
        per_name["(pair count)"] += sum(cost[p:p + 4])
        p += 4
        for n, v in block:
            size = 8 + len(n) + len(v)
            per_name[n.decode()] += sum(cost[p:p + size])
            if n == b"set-cookie":
                vstart = p + 8 + len(n)
                secrets["bytes"] += sum(e - s for s, e in set_cookie_secrets(v))
                secrets["bits"] += sum(sum(cost[vstart + s:vstart + e]) for s, e in set_cookie_secrets(v))
            p += size


def main():
    ours_dir = sys.argv[1]
    zlib_names, our_names, zlib_syms, our_syms, zlib_sec, our_sec = (Counter() for _ in range(6))
    for name, blocks in stories():
        charge(blocks, zlib6(blocks), zlib_names, zlib_syms, zlib_sec)
        with open(os.path.join(ours_dir, name + ".bin"), "rb") as f:
            charge(blocks, f.read(), our_names, our_syms, our_sec)
    total_z, total_o = sum(zlib_names.values()) / 8, sum(our_names.values()) / 8
    print(f"charged to header bytes (block headers, end-of-block codes and flushes not included): "
          f"zlib-6/15 {total_z:,.0f} B, ours {total_o:,.0f} B")
    print("| name | zlib-6/15 | ours | ours - zlib |\n|---|---:|---:|---:|")
    for n in sorted(our_names, key=lambda n: zlib_names[n] - our_names[n])[:20]:
        z, o = zlib_names[n] / 8, our_names[n] / 8
        print(f"| {n} | {z:,.0f} | {o:,.0f} | {o - z:,.0f} |")
    for label, s in (("zlib-6/15", zlib_syms), ("ours", our_syms)):
        print(f"{label}: {s['literals']:,} literals in {s['literal bits'] / 8:,.0f} B, "
              f"{s['copies']:,} copies in {s['copy bits'] / 8:,.0f} B, block headers {s['block header bits'] / 8:,.0f} B, "
              f"flushes {s['flush bits'] / 8:,.0f} B")
    print(f"set-cookie secret parts: {zlib_sec['bytes']:,} B; zlib-6 spends {zlib_sec['bits'] / 8:,.0f} B on them, "
          f"ours {our_sec['bits'] / 8:,.0f} B")


if __name__ == "__main__":
    main()
