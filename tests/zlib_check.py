#!/usr/bin/env python3
"""Inflates header blocks with stock zlib (CPython's zlib module), one decompressobj per
story with the SPDY dictionary as zdict, and compares each block with the expected
name/value bytes. Used by tests/compressor_corpus.rs.

stdin, one record per line:
  story <name>
  block <compressed hex> <expected hex>
argv[1]: path of the dictionary file. Prints "ok <blocks>" or exits 1 with the first mismatch.
"""
import sys
import zlib

def main():
    zdict = open(sys.argv[1], "rb").read()
    d = None
    name = "?"
    index = 0
    blocks = 0
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "story":
            name = parts[1]
            d = zlib.decompressobj(zdict=zdict)
            index = 0
            continue
        data = bytes.fromhex(parts[1])
        expected = bytes.fromhex(parts[2]) if len(parts) > 2 else b""
        try:
            got = d.decompress(data)
        except zlib.error as e:
            print(f"{name} block {index}: zlib error {e}")
            return 1
        if got != expected or d.unconsumed_tail or d.eof:
            print(f"{name} block {index}: inflated {len(got)} bytes, expected {len(expected)}")
            return 1
        index += 1
        blocks += 1
    print(f"ok {blocks}")
    return 0

if __name__ == "__main__":
    sys.exit(main())
