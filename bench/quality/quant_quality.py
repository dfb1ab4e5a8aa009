#!/usr/bin/env python3
"""Quantization quality of `jetlm quantize` against llama.cpp's llama-quantize.

For every llama-quantize fixture in ../shared/models (tiny-<family>-<type>.gguf):
  1. jetlm quantize tiny-<family>-f32.gguf to <type>;
  2. jetlm eval --reference on the result with the tokens of
     golden/logits/tiny-<family>-f32.json;
  3. relative L2 error of those logits against the F32 model's exact logits
     (that json's logits_exact), over all positions;
  4. the same error for llama.cpp's own file (golden/logits/tiny-<family>-<type>.exact.f32,
     the exact logits of llama.cpp's quantized weights).
A type passes when jetlm's error is at most 1.15x llama.cpp's. The table also
says whether the two files are byte-identical.

  python3 bench/quality/quant_quality.py [--jetlm build/jetlm] [--shared ../shared] [--stats TYPE]

--stats TYPE adds jetlm's per-tensor RMSE table (jetlm quantize --stats) for
that type on every family. Output is Markdown (docs/quantization.md records it).
Standard library only.
"""
import argparse
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

RATIO_LIMIT = 1.15


def read_f32(path):
    with open(path, "rb") as f:
        data = f.read()
    return struct.unpack("<%df" % (len(data) // 4), data)


def rel_l2(a, b):
    if len(a) != len(b):
        raise ValueError("length mismatch %d vs %d" % (len(a), len(b)))
    num = sum((x - y) ** 2 for x, y in zip(a, b))
    den = sum(y * y for y in b)
    return math.sqrt(num / den)


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if r.returncode != 0:
        sys.exit("failed (%d): %s\n%s" % (r.returncode, " ".join(cmd), r.stderr))
    return r.stdout


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--jetlm", default=os.path.join(here, "..", "build", "jetlm"))
    ap.add_argument("--shared", default=os.path.join(here, "..", "..", "shared"))
    ap.add_argument("--stats", metavar="TYPE", help="also print per-tensor RMSE for this type")
    args = ap.parse_args()
    models = os.path.join(args.shared, "models")
    golden = os.path.join(args.shared, "golden", "logits")

    rows, failures = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for family in ("llama", "qwen2", "gemma3"):
            ref_json = json.load(open(os.path.join(golden, "tiny-%s-f32.json" % family)))
            tokens = ",".join(str(t) for t in ref_json["tokens"])
            exact = read_f32(os.path.join(args.shared, ref_json["logits_exact"]))
            src = os.path.join(models, "tiny-%s-f32.gguf" % family)
            types = sorted(n[len("tiny-%s-" % family):-len(".gguf")] for n in os.listdir(models)
                           if n.startswith("tiny-%s-" % family) and n.endswith(".gguf") and not n.endswith("-f32.gguf"))
            for t in types:
                out = os.path.join(tmp, "%s-%s.gguf" % (family, t))
                run([args.jetlm, "quantize", src, out, t])
                logits = os.path.join(tmp, "logits.f32")
                run([args.jetlm, "eval", "-m", out, "--tokens", tokens, "--logits", logits, "--reference"])
                err_jetlm = rel_l2(read_f32(logits), exact)
                err_llama = rel_l2(read_f32(os.path.join(golden, "tiny-%s-%s.exact.f32" % (family, t))), exact)
                ratio = err_jetlm / err_llama if err_llama > 0 else float("nan")
                with open(out, "rb") as a, open(os.path.join(models, "tiny-%s-%s.gguf" % (family, t)), "rb") as b:
                    same = a.read() == b.read()
                ok = ratio <= RATIO_LIMIT
                failures += not ok
                rows.append((family, t, err_jetlm, err_llama, ratio, same, ok))
                if args.stats and t.lower() == args.stats.lower():
                    print("### per-tensor RMSE, tiny-%s %s (jetlm quantize --stats)\n" % (family, t))
                    print("```")
                    print(run([args.jetlm, "quantize", src, os.path.join(tmp, "stats.gguf"), t, "--stats"]).rstrip())
                    print("```\n")

    print("| family | type | jetlm rel L2 | llama.cpp rel L2 | ratio | same bytes | <= %.2fx |" % RATIO_LIMIT)
    print("| --- | --- | ---: | ---: | ---: | --- | --- |")
    for family, t, ej, el, ratio, same, ok in rows:
        print("| %s | %s | %.5f | %.5f | %.4f | %s | %s |" % (family, t, ej, el, ratio, "yes" if same else "no",
                                                            "pass" if ok else "FAIL"))
    print("\n%d of %d types within %.2fx of llama.cpp's error" % (len(rows) - failures, len(rows), RATIO_LIMIT))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
