#!/usr/bin/env python3
"""Golden logits on the GPU: `jetlm eval` with GPU offload against the exact logits.

Usage: gpu_goldens.py --jetlm BIN [--root DIR] [--modes full,partial,unified] [--only SUBSTR]

ROOT has the layout of ../shared (golden/logits/*.json naming models/*.gguf and the
exact float32 logits) or of tests/data (golden/*.json + models/). Every case runs
batch and incremental in each mode:
  full     -ngl 99 (every layer and the output layer on the GPU)
  partial  -ngl 1 / -ngl 2 (the last layers on the GPU, the rest on the CPU)
  unified  -ngl 99 --unified (weights read in place from the mmap)
Bounds as check-goldens.py: relative L2 over all positions, F32 1e-3, F16 5e-3,
BF16 2e-2, quantized 5e-2. Exit status 0 only when every case passes.
"""
import argparse, json, math, os, struct, subprocess, sys, tempfile

BOUNDS = {"f32": 1e-3, "f16": 5e-3, "bf16": 2e-2}
MODES = {"full": ["-ngl", "99"], "partial": ["-ngl", "1"], "unified": ["-ngl", "99", "--unified"]}


def read_f32(path):
    data = open(path, "rb").read()
    return struct.unpack("<%df" % (len(data) // 4), data)


def rel_l2(a, b):
    num = sum((x - y) ** 2 for x, y in zip(a, b))
    den = sum(y * y for y in b)
    return math.sqrt(num / den) if den else float("inf")


def cases(root):
    for sub in ("golden/logits", "golden"):
        d = os.path.join(root, sub)
        if os.path.isdir(d) and any(f.endswith(".json") and f.startswith("tiny-") for f in os.listdir(d)):
            for f in sorted(os.listdir(d)):
                if f.endswith(".json") and f.startswith("tiny-"):
                    c = json.load(open(os.path.join(d, f)))
                    name = f[:-5]
                    model = os.path.join(root, c["model"]) if os.path.exists(os.path.join(root, c["model"])) else os.path.join(root, "models", name + ".gguf")
                    exact = c.get("logits_exact", "golden/%s.exact.f32" % name)
                    exact = os.path.join(root, exact) if os.path.exists(os.path.join(root, exact)) else os.path.join(d, name + ".exact.f32")
                    yield name, model, c["tokens"], exact
            return


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jetlm", required=True)
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data"))
    ap.add_argument("--modes", default="full,partial,unified")
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "logits.f32")
        for name, model, tokens, exact in cases(a.root):
            if a.only and a.only not in name or not os.path.exists(model):
                continue
            kind = name.rsplit("-", 1)[-1]
            bound = BOUNDS.get(kind, 5e-2)
            ref = read_f32(exact)
            for mode in a.modes.split(","):
                for inc in (False, True):
                    cmd = [a.jetlm, "eval", "-m", model, "--tokens", ",".join(map(str, tokens)), "--logits", out] + MODES[mode]
                    if inc:
                        cmd.append("--incremental")
                    if mode == "partial" and inc:
                        cmd[cmd.index("1")] = "2"
                    label = "%s %s %s" % (name, mode, "incremental" if inc else "batch")
                    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
                    if p.returncode != 0 or not os.path.exists(out):
                        results.append((label, False, "exit %d: %s" % (p.returncode, p.stderr.decode()[-200:].strip())))
                        continue
                    got = read_f32(out)
                    os.remove(out)
                    e = rel_l2(got, ref) if len(got) == len(ref) else float("inf")
                    results.append((label, e <= bound and not math.isnan(e), "rel %.2e (bound %.0e)" % (e, bound)))
    for label, ok, detail in results:
        print("%-4s %-52s %s" % ("ok" if ok else "FAIL", label, detail))
    passed = sum(ok for _, ok, _ in results)
    print("%d passed, %d failed" % (passed, len(results) - passed))
    return 0 if passed == len(results) and results else 1


if __name__ == "__main__":
    sys.exit(main())
