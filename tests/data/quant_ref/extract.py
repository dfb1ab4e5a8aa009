#!/usr/bin/env python3
"""Cut llama-quantize reference blocks out of the shared tiny models.

For each format jetlm writes, take one tensor that llama.cpp's llama-quantize
stored in that format (no importance matrix), and write the first rows of
  <type>.src.f32   the tensor's values in the F32 model of the same family
                   (the file llama-quantize started from), float32 row-major,
  <type>.llama.raw llama-quantize's bytes for those rows,
plus index.json (type, files, tensor, row length, rows). test_formats
quantizes the .src.f32 rows with jetlm and requires the same bytes.

Usage: extract.py [--models DIR] [--out DIR]   (standard library only)
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep the data directory clean
sys.path.insert(0, os.path.join(HERE, "..", "dequant"))
import extract as gguf  # noqa: E402  (the GGUF reader of the dequant goldens)

# type -> quantized model holding tensors of that type. Families whose row
# lengths are not multiples of 256 (qwen2: 384, 864) exercise multi-block
# rows of the 32-value formats.
SOURCES = [
    ("Q4_0", "tiny-qwen2-q4_0.gguf"),
    ("Q4_1", "tiny-llama-q4_1.gguf"),
    ("Q5_0", "tiny-qwen2-q4_k_m.gguf"),
    ("Q5_1", "tiny-qwen2-q3_k_m.gguf"),
    ("Q8_0", "tiny-qwen2-q8_0.gguf"),
    ("Q2_K", "tiny-llama-q2_k.gguf"),
    ("Q3_K", "tiny-llama-q2_k.gguf"),
    ("Q4_K", "tiny-gemma3-q4_k_m.gguf"),
    ("Q5_K", "tiny-gemma3-q5_k_m.gguf"),
    ("Q6_K", "tiny-llama-q6_k.gguf"),
    ("IQ4_NL", "tiny-llama-iq4_nl.gguf"),
]
VALUES_WANTED = 4096  # about this many values per format


def tensor_list(path):
    """[(name, dims, type id)] of a GGUF file, in file order."""
    with open(path, "rb") as f:
        r = gguf.Reader(f)
        f.read(4)
        r.take("<I")
        n_tensors = r.take("<Q")
        n_kv = r.take("<Q")
        for _ in range(n_kv):
            r.string()
            r.value(r.take("<I"))
        out = []
        for _ in range(n_tensors):
            name = r.string()
            dims = [r.take("<Q") for _ in range(r.take("<I"))]
            ttype = r.take("<I")
            r.take("<Q")
            out.append((name, dims, ttype))
        return out


def main():
    shared = os.path.normpath(os.path.join(HERE, "..", "..", "..", "..", "shared"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default=os.path.join(shared, "models"))
    ap.add_argument("--out", default=HERE)
    args = ap.parse_args()

    index = []
    for type_name, qfile in SOURCES:
        tid = gguf.TYPE_IDS[type_name]
        family = qfile.split("-")[1]
        src_file = "tiny-%s-f32.gguf" % family
        # The tensor of this type with the longest rows (most blocks per row).
        candidates = [(name, dims) for name, dims, t in tensor_list(os.path.join(args.models, qfile))
                      if t == tid and len(dims) >= 2]
        name, dims = max(candidates, key=lambda c: c[1][0])
        ne0 = dims[0]
        rows = max(1, VALUES_WANTED // ne0)
        st, sdims, src = gguf.tensor_bytes(os.path.join(args.models, src_file), name)
        if st != 0 or sdims != dims:
            raise ValueError("%s: %s is not an F32 tensor of shape %s" % (src_file, name, dims))
        _, _, quant = gguf.tensor_bytes(os.path.join(args.models, qfile), name)
        block, size = gguf.BLOCK_LAYOUT[tid]
        row_bytes = ne0 // block * size
        stem = type_name.lower()
        with open(os.path.join(args.out, stem + ".src.f32"), "wb") as f:
            f.write(src[:rows * ne0 * 4])
        with open(os.path.join(args.out, stem + ".llama.raw"), "wb") as f:
            f.write(quant[:rows * row_bytes])
        index.append({"type": type_name, "quantized_file": qfile, "source_file": src_file, "tensor": name,
                      "row_length": ne0, "rows": rows, "source": stem + ".src.f32", "llama": stem + ".llama.raw"})
        print("%-7s %-24s %-24s ne0=%4d rows=%d" % (type_name, qfile, name, ne0, rows))
    with open(os.path.join(args.out, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
