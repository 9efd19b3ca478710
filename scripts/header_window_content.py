#!/usr/bin/env python3
"""How much distinct header text a deflate window holds, over the header corpus.

zlib-6/15 can copy from anything in the last 32 KiB of a story's stream; an encoder that
keeps each distinct name and value once needs only as many bytes as those 32 KiB hold
distinct. After every block of every story this counts, for the trailing 8, 16 and
32 KiB of the uncompressed stream (SPDY/3 blocks as in tests/support_corpus/mod.rs), the
distinct (name, value) pairs, and the bytes of their distinct names plus distinct values.
It bounds what memory an encoder of the fast kind needs to reach everything zlib's
window reaches whole (it says nothing about partial matches, where zlib finds runs inside
values).

Usage: python3 scripts/header_window_content.py
"""
import statistics

from header_attribution import stories

WINDOWS = (8192, 16384, 32768)


def summary(values):
    v = sorted(values)
    return f"mean {statistics.mean(v):,.0f}, median {v[len(v) // 2]:,}, p90 {v[len(v) * 9 // 10]:,}, max {v[-1]:,}"


def main():
    pairs = {w: [] for w in WINDOWS}
    text = {w: [] for w in WINDOWS}
    for _, blocks in stories():
        history = []  # (stream offset just past the pair, name, value)
        offset = 0
        for block in blocks:
            offset += 4
            for name, value in block:
                offset += 8 + len(name) + len(value)
                history.append((offset, name, value))
            for w in WINDOWS:
                seen, names, values = set(), set(), set()
                for end, name, value in reversed(history):
                    if offset - end > w:
                        break
                    seen.add((name, value))
                    names.add(name)
                    values.add(value)
                pairs[w].append(len(seen))
                text[w].append(sum(map(len, names)) + sum(map(len, values)))
    print(f"after each of {len(pairs[WINDOWS[0]]):,} blocks, in the trailing window:")
    print("| window | distinct pairs | bytes of distinct names + values |")
    print("|---:|---|---|")
    for w in WINDOWS:
        print(f"| {w // 1024} KiB | {summary(pairs[w])} | {summary(text[w])} |")


if __name__ == "__main__":
    main()
