#!/usr/bin/env python3
"""Instructions in the hottest loop of a kernel, from its disassembly.

For the AVX-512 kernels, which valgrind does not run and which hardware
counters in a VM may not count: the innermost loop of the largest body in
the function (the per-block loop of a matrix-vector pass), its instruction
count, and the mix of mnemonics. Divide by the rows per pass (kGemvRows) for
instructions per block-row. Usage:
  bench/profile/loop_instructions.py BINARY 'FUNCTION SUBSTRING' [--mix] [--all]
(--all: every match, with its address: a template instantiated by several
ISA translation units has one copy per table, in the order of the tables.)
"""
import re
import subprocess
import sys


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    binary, pattern = sys.argv[1], sys.argv[2]
    syms = subprocess.run(["nm", "-C", "-n", binary], capture_output=True, text=True, check=True).stdout.splitlines()
    found = [(line.split()[0], syms[i + 1].split()[0]) for i, line in enumerate(syms[:-1])
             if pattern in line and line.split()[1] in ("t", "T")]
    if not found:
        sys.exit("no function matching " + pattern)
    for start, stop in (found if "--all" in sys.argv else found[:1]):
        count(binary, start, stop)


def count(binary, start, stop):
    dis = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "--start-address=0x" + start,
                          "--stop-address=0x" + stop, binary], capture_output=True, text=True, check=True).stdout
    insns = []  # (address, mnemonic, operands)
    for l in dis.splitlines():
        m = re.match(r"\s+([0-9a-f]+):\s+(\S+)\s*(.*)", l)
        if m:
            insns.append((int(m.group(1), 16), m.group(2), m.group(3)))
    index = {a: k for k, (a, _, _) in enumerate(insns)}
    # Backward jumps are loops: [target, jump]. The hot loop: the largest one
    # that contains no other loop of more than a tenth of its size... keep it
    # simple: the largest loop without a nested backward jump.
    loops = []
    for k, (a, mn, ops) in enumerate(insns):
        if mn.startswith("j"):
            t = re.match(r"([0-9a-f]+)", ops)
            if t and int(t.group(1), 16) <= a and int(t.group(1), 16) in index:
                loops.append((index[int(t.group(1), 16)], k))
    inner = [(s, e) for (s, e) in loops if not any(s < s2 and e2 < e for (s2, e2) in loops if (s2, e2) != (s, e))]
    if not inner:
        sys.exit("no loop found")
    s, e = max(inner, key=lambda x: x[1] - x[0])
    body = insns[s:e + 1]
    print(f"0x{start}: {len(body)} instructions in the loop at {body[0][0]:#x}..{body[-1][0]:#x}")
    if "--mix" in sys.argv:
        mix = {}
        for _, mn, _ in body:
            mix[mn] = mix.get(mn, 0) + 1
        for mn, c in sorted(mix.items(), key=lambda x: -x[1]):
            print(f"{c:5d} {mn}")


if __name__ == "__main__":
    main()
