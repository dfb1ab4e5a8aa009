#!/usr/bin/env python3
"""Per-kernel critical path of a jetlm CUDA timeline (a build with -DJETLM_CUDA_TRACE=ON,
run with JETLM_CUDA_TRACE_OUT=FILE).

For each traced launch (one %gridid): its blocks' first start, the first and last moment a
block's pdl_wait() returned, and the last block's end. Untraced kernels (elementwise ops,
embedding) show up as gaps. Prints the last token's launches in order and, per kind of
launch, the mean time from the previous traced launch's end to this one's end (what the
launch adds to a token), split into the wait for the previous one to finish and the work
after it.

usage: trace_summary.py FILE [--token-kernels N] [--tokens K]
"""
import argparse
import collections
import struct
import sys

KINDS = {1: "matvec", 2: "attention", 3: "norm", 4: "head_prep"}
TYPES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 10: "Q2_K", 11: "Q3_K",
         12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 20: "IQ4_NL", 30: "BF16"}


def name_of(tag):
    kind = tag >> 24
    if kind == 1:
        return "matvec %s rows~%d" % (TYPES.get((tag >> 16) & 0xFF, "?"), (tag & 0xFFFF) * 16)
    if kind == 2:
        return "attention" + (" +prep" if tag & 1 else "")
    if kind == 3:
        return "norm" + (" +add" if tag & 1 else "")
    return KINDS.get(kind, "kind%d" % kind)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--tokens", type=int, default=16, help="last K tokens to average over")
    ap.add_argument("--show", type=int, default=40, help="launches of the last token to list")
    args = ap.parse_args()
    data = open(args.file, "rb").read()
    W = 48
    n = len(data) // W
    # %gridid names a launch site (a graph node keeps its id across replays):
    # records of one id are cut into launches where their starts jump by > 200 us.
    by_grid = collections.defaultdict(list)
    for i in range(n):
        g, tag, blk, nblk, t0lo, t0hi, d1, d2, m0, m1, m2, m3 = struct.unpack_from("<12I", data, W * i)
        t0 = t0lo | (t0hi << 32)
        by_grid[g].append((t0, t0 + d1, t0 + d2, tag, nblk, (m0, m1, m2, m3)))
    launches = []
    for recs in by_grid.values():
        recs.sort()
        cur = None
        for t0, t1, t2, tag, nblk, marks in recs:
            if cur is None or t0 - cur["last_start"] > 200000:
                cur = {"tag": tag, "blocks": 0, "nblk": nblk, "start": t0, "rel_first": t1, "rel_last": t1, "end": t2,
                       "marks": [0, 0, 0, 0], "phases": []}
                launches.append(cur)
            if all(marks):
                pts = [t1 - t0] + list(marks) + [t2 - t0]
                cur["phases"].append([pts[q + 1] - pts[q] for q in range(5)])
            for k in range(4):
                if marks[k]:
                    cur["marks"][k] = max(cur["marks"][k], t0 + marks[k])
            cur["last_start"] = t0
            cur["blocks"] += 1
            cur["rel_first"] = min(cur["rel_first"], t1)
            cur["rel_last"] = max(cur["rel_last"], t1)
            cur["end"] = max(cur["end"], t2)
    print("%d records, %d launch sites, %d launches" % (n, len(by_grid), len(launches)))
    launches = sorted((e for e in launches if e["blocks"] == e["nblk"]), key=lambda e: e["start"])
    if len(launches) < 3:
        sys.exit("too few complete launches in %s" % args.file)
    # Only the time every file's ring still covers (the matrix-vector rings wrap first).
    mv = [e["start"] for e in launches if e["tag"] >> 24 == 1]
    if mv:
        launches = [e for e in launches if e["start"] >= mv[0]]
    # Tokens: a decode step starts after a gap of > 20 us with nothing traced running.
    steps = [[launches[0]]]
    for a, b in zip(launches, launches[1:]):
        if b["start"] - a["end"] > 20000:
            steps.append([])
        steps[-1].append(b)
    sizes = collections.Counter(len(s) for s in steps)
    common = sizes.most_common(1)[0][0]
    toks = [s for s in steps if len(s) == common][-args.tokens:]
    print("%d launches, %d steps; %d steps of %d traced launches (the decode steps), last %d used" %
          (len(launches), len(steps), sizes[common], common, len(toks)))
    span = [s[-1]["end"] - s[0]["start"] for s in toks]
    print("traced span of a step: %.1f us (first start to last end)" % (sum(span) / len(span) / 1e3))
    acc = collections.OrderedDict()
    for s in toks:
        prev_end = s[0]["start"]
        for e in s:
            k = name_of(e["tag"])
            a = acc.setdefault(k, [0, 0.0, 0.0, 0.0, 0.0, [0.0] * 5, 0, [0.0] * 5])
            a[0] += 1
            m = e["marks"]
            if all(m):
                pts = [e["rel_first"]] + m + [e["end"]]
                for q in range(5):
                    a[5][q] += pts[q + 1] - pts[q]
                    a[7][q] += sorted(ph[q] for ph in e["phases"])[len(e["phases"]) // 2]
                a[6] += 1
            a[1] += e["end"] - prev_end
            a[2] += max(0, e["rel_first"] - prev_end)
            a[3] += e["end"] - e["rel_first"]
            a[4] += e["rel_last"] - e["rel_first"]
            prev_end = e["end"]
    nt = len(toks)
    print("\n%-28s %6s %10s %10s %10s %10s %10s" % ("launch", "/step", "adds us", "wait us", "work us",
                                                   "rel.spread", "sum us"))
    tot = 0.0
    for k, a in acc.items():
        c = a[0]
        tot += a[1] / nt
        print("%-28s %6.1f %10.2f %10.2f %10.2f %10.2f %10.1f" % (k, c / nt, a[1] / c / 1e3, a[2] / c / 1e3,
                                                                a[3] / c / 1e3, a[4] / c / 1e3, a[1] / nt / 1e3))
    print("%-28s %6s %10s %10s %10s %10s %10.1f" % ("total", "", "", "", "", "", tot / 1e3))
    print("\nphases (kernels with 4 marks): released->m0->m1->m2->m3->end, us: the latest block at each point | "
          "the median block's own")
    for k, a in acc.items():
        if a[6]:
            print("%-28s %s  | %s" % (k, "  ".join("%6.2f" % (x / a[6] / 1e3) for x in a[5]),
                                      "  ".join("%6.2f" % (x / a[6] / 1e3) for x in a[7])))
    last = toks[-1]
    print("\nlast step, first %d launches: start/released/end relative to the previous end (us), blocks" % args.show)
    prev_end = last[0]["start"]
    for e in last[:args.show]:
        marks = "".join("  m%d %+7.2f" % (k, (t - prev_end) / 1e3) for k, t in enumerate(e["marks"]) if t)
        print("%-28s start %+7.2f  released %+7.2f..%+7.2f  end %+7.2f  %5d blocks%s" % (
            name_of(e["tag"]), (e["start"] - prev_end) / 1e3, (e["rel_first"] - prev_end) / 1e3,
            (e["rel_last"] - prev_end) / 1e3, (e["end"] - prev_end) / 1e3, e["blocks"], marks))
        prev_end = e["end"]


if __name__ == "__main__":
    main()
