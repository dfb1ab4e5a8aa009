#!/usr/bin/env python3
"""Cut the golden dequantization tensors out of their (large) source GGUF files.

For every entry of index.json this writes <type>.raw: the raw bytes of just
that tensor, exactly as stored in the GGUF file. The test suite dequantizes
the .raw file with jetlm and compares against <values> (the .f32 file, made
by gguf-py's reference dequantizer), so CI needs neither the GGUF files nor
Python.

Usage: extract.py [--models DIR] [--golden DIR] [--out DIR]
Defaults: models and golden under ../shared relative to the repository root,
output next to this script. Standard library only.
"""
import argparse
import json
import os
import shutil
import struct
import sys

# ggml type id -> (values per block, bytes per block)
BLOCK_LAYOUT = {
    0: (1, 4),      # F32
    1: (1, 2),      # F16
    2: (32, 18),    # Q4_0
    3: (32, 20),    # Q4_1
    6: (32, 22),    # Q5_0
    7: (32, 24),    # Q5_1
    8: (32, 34),    # Q8_0
    9: (32, 36),    # Q8_1
    10: (256, 84),  # Q2_K
    11: (256, 110), # Q3_K
    12: (256, 144), # Q4_K
    13: (256, 176), # Q5_K
    14: (256, 210), # Q6_K
    15: (256, 292), # Q8_K
    20: (32, 18),   # IQ4_NL
    30: (1, 2),     # BF16
}
TYPE_IDS = {"F32": 0, "F16": 1, "Q4_0": 2, "Q4_1": 3, "Q5_0": 6, "Q5_1": 7,
            "Q8_0": 8, "Q8_1": 9, "Q2_K": 10, "Q3_K": 11, "Q4_K": 12,
            "Q5_K": 13, "Q6_K": 14, "Q8_K": 15, "IQ4_NL": 20, "BF16": 30}

# GGUF metadata value type -> struct format of one scalar (8 = string, 9 = array)
SCALAR_FMT = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f",
              7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


class Reader:
    def __init__(self, f):
        self.f = f

    def take(self, fmt):
        size = struct.calcsize(fmt)
        data = self.f.read(size)
        if len(data) != size:
            raise ValueError("truncated GGUF file")
        return struct.unpack(fmt, data)[0]

    def string(self):
        n = self.take("<Q")
        return self.f.read(n).decode("utf-8", errors="replace")

    def value(self, vtype):
        if vtype == 8:
            return self.string()
        if vtype == 9:
            etype = self.take("<I")
            count = self.take("<Q")
            return [self.value(etype) for _ in range(count)]
        return self.take(SCALAR_FMT[vtype])


def tensor_bytes(path, want):
    """Return (ggml type id, dims, raw bytes) of tensor `want` in GGUF file `path`."""
    with open(path, "rb") as f:
        r = Reader(f)
        if f.read(4) != b"GGUF":
            raise ValueError(path + ": not a GGUF file")
        version = r.take("<I")
        if version not in (2, 3):
            raise ValueError("%s: unsupported GGUF version %d" % (path, version))
        n_tensors = r.take("<Q")
        n_kv = r.take("<Q")
        alignment = 32
        for _ in range(n_kv):
            key = r.string()
            val = r.value(r.take("<I"))
            if key == "general.alignment":
                alignment = val
        infos = {}
        for _ in range(n_tensors):
            name = r.string()
            n_dims = r.take("<I")
            dims = [r.take("<Q") for _ in range(n_dims)]
            ttype = r.take("<I")
            offset = r.take("<Q")
            infos[name] = (dims, ttype, offset)
        data_start = (f.tell() + alignment - 1) // alignment * alignment
        if want not in infos:
            raise KeyError("%s: no tensor %s" % (path, want))
        dims, ttype, offset = infos[want]
        n = 1
        for d in dims:
            n *= d
        block, size = BLOCK_LAYOUT[ttype]
        if n % block:
            raise ValueError("%s: %s has %d values, not whole blocks" % (path, want, n))
        f.seek(data_start + offset)
        raw = f.read(n // block * size)
        if len(raw) != n // block * size:
            raise ValueError("%s: %s runs past the end of the file" % (path, want))
        return ttype, dims, raw


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    shared = os.path.normpath(os.path.join(here, "..", "..", "..", "..", "shared"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default=os.path.join(shared, "models"))
    ap.add_argument("--golden", default=os.path.join(shared, "golden", "dequant"))
    ap.add_argument("--out", default=here)
    args = ap.parse_args()

    with open(os.path.join(args.golden, "index.json")) as f:
        index = json.load(f)
    for entry in index:
        ttype, dims, raw = tensor_bytes(os.path.join(args.models, entry["file"]), entry["tensor"])
        if ttype != TYPE_IDS[entry["type"]]:
            raise ValueError("%s: %s is type %d, index says %s" % (entry["file"], entry["tensor"], ttype, entry["type"]))
        if dims != entry["ne"]:
            raise ValueError("%s: %s has shape %s, index says %s" % (entry["file"], entry["tensor"], dims, entry["ne"]))
        name = entry["type"].lower()
        with open(os.path.join(args.out, name + ".raw"), "wb") as f:
            f.write(raw)
        if os.path.abspath(args.golden) != os.path.abspath(args.out):
            shutil.copyfile(os.path.join(args.golden, entry["values"]), os.path.join(args.out, entry["values"]))
        print("%-7s %-26s %-26s %8d bytes" % (entry["type"], entry["file"], entry["tensor"], len(raw)))
    if os.path.abspath(args.golden) != os.path.abspath(args.out):
        shutil.copyfile(os.path.join(args.golden, "index.json"), os.path.join(args.out, "index.json"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
