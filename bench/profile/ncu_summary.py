#!/usr/bin/env python3
"""Summarise an `ncu --csv --metrics gpu__time_duration.sum` log (bench/profile/gpu_kernels.sh):
device time per kernel and launch grid, then the first launches in order."""
import collections
import csv
import sys

rows = [r for r in csv.reader(open(sys.argv[1])) if len(r) > 10]
hdr, rows = rows[0], rows[1:]
ki, vi, ui = hdr.index("Kernel Name"), hdr.index("Metric Value"), hdr.index("Metric Unit")
gi = hdr.index("Grid Size") if "Grid Size" in hdr else None
tot, cnt, seq = collections.defaultdict(float), collections.Counter(), []
for r in rows:
    v = float(r[vi].replace(",", ""))
    v = v / 1000 if r[ui] in ("nsecond", "ns") else v
    name = r[ki].split("(")[0].replace("jetlm::cuda::", "")[:80]
    if gi is not None:
        name += " grid " + r[gi]
    tot[name] += v
    cnt[name] += 1
    if len(seq) < int(sys.argv[2]) if len(sys.argv) > 2 else 24:
        seq.append("%7.2f  %s" % (v, name))
print("total us %.1f over %d kernels" % (sum(tot.values()), sum(cnt.values())))
for k in sorted(tot, key=lambda k: -tot[k]):
    print("%8.1f us %5d x %6.2f  %s" % (tot[k], cnt[k], tot[k] / cnt[k], k))
print("in order:")
print("\n".join(seq))
