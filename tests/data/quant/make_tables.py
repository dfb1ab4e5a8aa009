#!/usr/bin/env python3
"""Writes the expected tensor-type tables that tests/test_quantize.cpp and
tests/test_synth.cpp check jetlm's quantization recipe against.

Two kinds of table (format: see README.md in this directory):

1. tiny-<family>-<type>.txt: extracted from the fixtures in
   ../shared/models: the tensor list (names, shapes, input types) of
   tiny-<family>-f32.gguf and, per tensor, the type llama.cpp's llama-quantize
   chose in tiny-<family>-<type>.gguf. Pure provenance: llama.cpp's own output.

2. <preset>-<type>.txt for real model shapes (qwen2.5-0.5b, tinyllama-1.1b):
   no real quantized files are available here, so the types come from an
   independent Python transcription of llama.cpp's rules (llama_tensor_get_type
   in src/llama-quant.cpp), which this script first checks against every
   fixture table of kind 1 (it refuses to write anything if one differs).
   The tensor lists are written from the models' config.json values, not from
   jetlm's presets, so the C++ presets are checked too.

Run from anywhere: python3 tests/data/quant/make_tables.py [--shared ../shared]
"""
import argparse
import glob
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_dump import read_gguf  # noqa: E402

FTYPE_NAMES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
               11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
               17: "Q5_K_M", 18: "Q6_K", 25: "IQ4_NL", 32: "BF16"}
DEFAULT = {"F32": "f32", "F16": "f16", "BF16": "bf16", "Q8_0": "q8_0", "Q4_0": "q4_0", "Q4_1": "q4_1",
           "Q5_0": "q5_0", "Q5_1": "q5_1", "Q2_K": "q2_K", "Q3_K_S": "q3_K", "Q3_K_M": "q3_K",
           "Q3_K_L": "q3_K", "Q4_K_S": "q4_K", "Q4_K_M": "q4_K", "Q5_K_S": "q5_K", "Q5_K_M": "q5_K",
           "Q6_K": "q6_K", "IQ4_NL": "iq4_nl"}
BLOCK = {"f32": 1, "f16": 1, "bf16": 1, "q4_0": 32, "q4_1": 32, "q5_0": 32, "q5_1": 32, "q8_0": 32,
         "iq4_nl": 32, "q2_K": 256, "q3_K": 256, "q4_K": 256, "q5_K": 256, "q6_K": 256}
HERE = os.path.dirname(os.path.abspath(__file__))


# ---- an independent transcription of llama.cpp's rules --------------------

def layer(name):
    m = re.match(r"blk\.(-?\d+)", name)
    return int(m.group(1)) if m else -1


def quantizable(name, shape):
    nd = max([i + 1 for i, n in enumerate(shape) if n != 1] + [1])
    if nd < 2 or not name.endswith("weight") or "_norm.weight" in name:
        return False
    return not any(s in name for s in ("ffn_gate_inp.weight", "position_embd", "token_types"))


def more_bits(i, n):
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


def expected_types(model, tensors, ftype):
    """tensors: [(name, shape, in_type)] -> {name: type}."""
    base = DEFAULT[ftype]
    gqa = model["n_head"] // model["n_head_kv"]
    tied = not any(n == "output.weight" for n, _, _ in tensors)
    n_v = sum(1 for n, _, _ in tensors if "attn_v.weight" in n or "attn_qkv.weight" in n)
    n_layer = model["n_layer"]
    i_v = i_down = 0
    out = {}
    for name, shape, tin in sorted(tensors, key=lambda t: (layer(t[0]), t[0])):
        if not quantizable(name, shape):
            out[name] = tin
            continue
        t = base
        if ftype not in ("F32", "F16", "BF16"):
            if name == "output.weight" or (tied and name == "token_embd.weight"):
                t = "q8_0" if shape[0] % BLOCK[base] else ("q8_0" if base == "q8_0" else "q6_K")
            elif "attn_v.weight" in name or "attn_qkv.weight" in name:
                if ftype == "Q2_K":
                    t = "q4_K" if gqa >= 4 else "q3_K"
                elif ftype == "Q3_K_M":
                    t = "q5_K" if i_v < 2 else "q4_K"
                elif ftype == "Q3_K_L":
                    t = "q5_K"
                elif ftype == "IQ4_NL" and gqa >= 4:
                    t = "q5_K"
                elif ftype in ("Q4_K_M", "Q5_K_M") and more_bits(i_v, n_v):
                    t = "q6_K"
                elif ftype == "Q4_K_S" and i_v < 4:
                    t = "q5_K"
                i_v += 1
            elif "ffn_down" in name:
                i = i_down
                if ftype == "Q2_K":
                    t = "q3_K"
                elif ftype == "Q3_K_M":
                    t = "q5_K" if i < n_layer // 16 else "q4_K"
                elif ftype == "Q3_K_L":
                    t = "q5_K"
                elif ftype == "Q4_K_M":
                    t = "q6_K" if more_bits(i, n_layer) else t
                elif ftype == "IQ4_NL" and i < n_layer // 8:
                    t = "q5_K"
                elif ftype == "Q5_K_M" and more_bits(i, n_layer):
                    t = "q6_K"
                elif ftype == "Q4_K_S" and i < n_layer // 8:
                    t = "q5_K"
                i_down += 1
            elif "attn_output.weight" in name:
                t = {"Q2_K": "q3_K", "Q3_K_M": "q4_K", "Q3_K_L": "q5_K"}.get(ftype, t)
            if shape[0] % BLOCK[t]:
                t = {"q2_K": "q4_0", "q3_K": "q4_0", "q4_K": "q5_0", "q5_K": "q5_1", "q6_K": "q8_0"}[t]
                if shape[0] % BLOCK[t]:
                    t = "f16"
        out[name] = t
    return out


# ---- real model tensor lists (from the models' config.json) ---------------

def model_tensors(arch, n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, n_vocab, tied, bias, rope_freqs=False):
    q, kv = n_head * head_dim, n_head_kv * head_dim
    t = [("token_embd.weight", [n_embd, n_vocab], "f32"), ("output_norm.weight", [n_embd], "f32")]
    if not tied:
        t.append(("output.weight", [n_embd, n_vocab], "f32"))
    if rope_freqs:
        t.append(("rope_freqs.weight", [head_dim // 2], "f32"))
    for i in range(n_layer):
        p = "blk.%d." % i
        t += [(p + "attn_norm.weight", [n_embd], "f32"), (p + "attn_q.weight", [n_embd, q], "f32"),
              (p + "attn_k.weight", [n_embd, kv], "f32"), (p + "attn_v.weight", [n_embd, kv], "f32")]
        if bias:
            t += [(p + "attn_q.bias", [q], "f32"), (p + "attn_k.bias", [kv], "f32"), (p + "attn_v.bias", [kv], "f32")]
        t += [(p + "attn_output.weight", [q, n_embd], "f32"), (p + "ffn_norm.weight", [n_embd], "f32"),
              (p + "ffn_gate.weight", [n_embd, n_ff], "f32"), (p + "ffn_up.weight", [n_embd, n_ff], "f32"),
              (p + "ffn_down.weight", [n_ff, n_embd], "f32")]
    model = {"arch": arch, "n_layer": n_layer, "n_head": n_head, "n_head_kv": n_head_kv, "n_expert": 0}
    return model, t


PRESETS = {
    # Qwen/Qwen2.5-0.5B config.json: hidden 896, 24 layers, 14/2 heads, ffn 4864, vocab 151936, tied, q/k/v bias.
    "qwen2.5-0.5b": lambda: model_tensors("qwen2", 896, 24, 14, 2, 64, 4864, 151936, True, True),
    # TinyLlama/TinyLlama-1.1B-Chat-v1.0 config.json: hidden 2048, 22 layers, 32/4 heads, ffn 5632, vocab 32000.
    "tinyllama-1.1b": lambda: model_tensors("llama", 2048, 22, 32, 4, 64, 5632, 32000, False, False),
}


# ---- table files -----------------------------------------------------------

def write_table(path, header_lines, model, ftype, tensors, types):
    with open(path, "w") as f:
        for line in header_lines:
            f.write("# " + line + "\n")
        f.write("model arch=%s n_layer=%d n_head=%d n_head_kv=%d n_expert=%d\n" % (
            model["arch"], model["n_layer"], model["n_head"], model["n_head_kv"], model["n_expert"]))
        f.write("ftype %s\n" % ftype)
        for name, shape, tin in tensors:
            f.write("%s %s %s %s\n" % (name, "x".join(str(n) for n in shape), tin, types[name]))


def fixture_tables(shared):
    out = []
    for path in sorted(glob.glob(os.path.join(shared, "models", "tiny-*-*.gguf"))):
        fam, typ = re.match(r"tiny-(\w+)-(\w+)\.gguf", os.path.basename(path)).groups()
        if typ == "f32":
            continue
        meta_q, tens_q = read_gguf(path)
        meta_f, tens_f = read_gguf(os.path.join(shared, "models", "tiny-%s-f32.gguf" % fam))
        arch = meta_f["general.architecture"]
        n_head = meta_f[arch + ".attention.head_count"]
        model = {"arch": arch, "n_layer": meta_f[arch + ".block_count"], "n_head": n_head,
                 "n_head_kv": meta_f.get(arch + ".attention.head_count_kv", n_head),
                 "n_expert": meta_f.get(arch + ".expert_count", 0)}
        ftype = FTYPE_NAMES[meta_q["general.file_type"]]
        tensors = [(n, s, t) for n, s, t, _ in tens_f]
        types = {n: t for n, _, t, _ in tens_q}
        out.append((fam, typ, model, ftype, tensors, types))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(HERE, "..", "..", "..", "..", "shared"))
    args = ap.parse_args()
    fixtures = fixture_tables(args.shared)
    if not fixtures:
        sys.exit("no fixtures under " + args.shared)
    # The transcription must reproduce llama.cpp's choices before it may speak for it.
    for fam, typ, model, ftype, tensors, types in fixtures:
        mine = expected_types(model, tensors, ftype)
        bad = [n for n in types if mine[n] != types[n]]
        if bad:
            sys.exit("rule transcription disagrees with llama.cpp on tiny-%s-%s: %s" % (fam, typ, bad[:5]))
    for fam, typ, model, ftype, tensors, types in fixtures:
        write_table(os.path.join(HERE, "tiny-%s-%s.txt" % (fam, typ)),
                    ["tiny-%s-f32.gguf quantized to %s by llama.cpp's llama-quantize: shared/models/tiny-%s-%s.gguf"
                     % (fam, ftype, fam, typ), "extracted by tests/data/quant/make_tables.py"],
                    model, ftype, tensors, types)
    for preset, build in PRESETS.items():
        model, tensors = build()
        ftype = "Q4_K_M"
        write_table(os.path.join(HERE, "%s-q4_k_m.txt" % preset),
                    ["%s (shapes from its config.json) as llama-quantize %s lays it out:" % (preset, ftype),
                     "types from make_tables.py's transcription of llama.cpp's llama_tensor_get_type,",
                     "checked against all %d llama-quantize fixture tables before writing" % len(fixtures)],
                    model, ftype, tensors, expected_types(model, tensors, ftype))
    print("wrote %d fixture tables and %d preset tables" % (len(fixtures), len(PRESETS)))


if __name__ == "__main__":
    main()
