#!/usr/bin/env bash
# The CPU acceptance measurement of issue 21: jetlm against llama.cpp on the
# anchor models, at every thread count, medians of REPS runs.
#  1. random-weight models with the real shapes (jetlm synth), once, in MODEL_DIR;
#  2. the host's read bandwidth at each thread count (bench_cpu_kernels);
#  3. per model and thread count: jetlm bench -p 128 -n 64 -r REPS, then, when
#     llama.cpp is given (--llama-src, built here with GGML_NATIVE=ON, or
#     --llama-bench), llama-bench with the same arguments right after it (the
#     two alternate, so a change in machine load hits both); without it the
#     reference is ../shared/anchors (measured on a machine class without
#     AVX-512, -t 2 only, four of the models);
#  4. one table: medians, the ratio to the reference (target 1.2x), and tg's
#     weight bandwidth as a share of the host's.
# Usage: bench/device/cpu_vs_llamacpp.sh [-b BUILD_DIR] [-d MODEL_DIR] [-t 1,2] [-r 3]
#          [--llama-src DIR | --llama-bench PATH] [--anchors FILE] [--models 'name:TYPE ...'] [--wait-idle]
# Timings on a shared machine are noise: run it when nothing else runs, or
# pass --wait-idle (each model waits for 2 s with the CPUs >= 90% idle).
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
build="$root/build"
models="${JETLM_MODELS:-/tmp/jetlm-models}"
threads="1,2"
reps=3
llama_src=""
llama_bench=""
anchors="$root/../shared/anchors/llamacpp-cpu2-2026-11-21.json"
wait_idle=0
specs="tinyllama-1.1b:Q4_K_M qwen2.5-0.5b:Q4_K_M qwen2.5-1.5b:Q4_K_M gemma3-1b:Q4_K_M llama-3.2-1b:Q4_K_M"
specs="$specs qwen2.5-0.5b:Q8_0 tinyllama-1.1b:Q8_0 gemma3-1b:Q4_0 llama-3.2-1b:Q4_0"
usage() {
  echo "usage: $0 [-b BUILD_DIR] [-d MODEL_DIR] [-t LIST] [-r REPS] [--llama-src DIR | --llama-bench PATH]" \
       "[--anchors FILE] [--models 'name:TYPE ...'] [--wait-idle]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    -b) build="$2"; shift ;;
    -d) models="$2"; shift ;;
    -t) threads="$2"; shift ;;
    -r) reps="$2"; shift ;;
    --llama-src) llama_src="$2"; shift ;;
    --llama-bench) llama_bench="$2"; shift ;;
    --anchors) anchors="$2"; shift ;;
    --models) specs="$2"; shift ;;
    --wait-idle) wait_idle=1 ;;
    *) usage ;;
  esac
  shift
done
jetlm="$build/jetlm"
kbench="$build/bench/bench_cpu_kernels"
[ -x "$jetlm" ] || { echo "no jetlm binary at $jetlm (build first, or pass -b)" >&2; exit 1; }
mkdir -p "$models"

if [ -n "$llama_src" ]; then
  echo "== building llama.cpp from $llama_src (GGML_NATIVE=ON, CPU only)"
  cmake -S "$llama_src" -B "$models/llama.cpp-build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
    -DGGML_CUDA=OFF -DLLAMA_CURL=OFF >/dev/null
  cmake --build "$models/llama.cpp-build" -j"$(nproc)" --target llama-bench >/dev/null
  llama_bench="$models/llama.cpp-build/bin/llama-bench"
fi

files=()
for spec in $specs; do
  name="${spec%%:*}" type="${spec##*:}"
  f="$models/$name-$(echo "$type" | tr 'A-Z' 'a-z').gguf"
  if [ ! -f "$f" ]; then
    echo "== synthesizing $f"
    "$jetlm" synth --like "$name" --type "$type" -o "$f" >/dev/null
  fi
  files+=("$f")
done

idle_pct() {
  local a b
  read -r _ u n s i w x y z _ < /proc/stat; a=$((u + n + s + i + w + x + y + z)); b=$i
  sleep 2
  read -r _ u n s i w x y z _ < /proc/stat
  echo $(( 100 * (i - b) / (u + n + s + i + w + x + y + z - a) ))
}
wait_for_idle() {
  [ "$wait_idle" = 1 ] || return 0
  for _ in $(seq 300); do [ "$(idle_pct)" -ge 90 ] && return 0; done
  echo "(never idle for 10 minutes; measuring anyway)" >&2
}

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
echo "== $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg), kernels: ${JETLM_CPU:-best}"
for t in ${threads//,/ }; do
  if [ -x "$kbench" ]; then
    "$kbench" -t "$t" --types q4_K --mib 512 --tokens 16 | sed -n 's/.*read bandwidth \([0-9.]*\) GB.*/\1/p' > "$out/bw-$t"
  fi
  for f in "${files[@]}"; do
    wait_for_idle
    "$jetlm" bench -m "$f" -t "$t" -p 128 -n 64 -r "$reps" -o jsonl >> "$out/jetlm.jsonl"
    if [ -n "$llama_bench" ]; then
      "$llama_bench" -m "$f" -t "$t" -p 128 -n 64 -r "$reps" -o jsonl >> "$out/llama.jsonl" 2>/dev/null
    fi
  done
done

python3 - "$out" "$anchors" <<'PY'
import json, os, statistics, sys
out, anchors = sys.argv[1], sys.argv[2]
def rows(path):
    return [json.loads(l) for l in open(path) if l.strip()] if os.path.exists(path) else []
def key(r):
    return (os.path.basename(r["model_filename"]), r["n_prompt"], r["n_gen"], r["n_threads"])
def median(r):
    return statistics.median(r["samples_ts"]) if r.get("samples_ts") else r["avg_ts"]
ref, src = {}, {}
for r in (json.load(open(anchors)) if os.path.exists(anchors) else []):
    ref[key(r)], src[key(r)] = median(r), "anchors"
for r in rows(os.path.join(out, "llama.jsonl")):  # measured here: wins over the anchors
    ref[key(r)], src[key(r)] = median(r), "here"
bw = {}
for t in os.listdir(out):
    if t.startswith("bw-"):
        v = open(os.path.join(out, t)).read().strip()
        if v:
            bw[int(t[3:])] = float(v)
print()
print("| model | test | -t | jetlm t/s (median) | llama.cpp t/s | source | ratio | >= 1.2x | tg GB/s | % of read bw |")
print("| --- | --- | ---: | ---: | ---: | --- | ---: | --- | ---: | ---: |")
worst = None
for r in rows(os.path.join(out, "jetlm.jsonl")):
    k = key(r)
    test = "pp%d" % r["n_prompt"] if r["n_prompt"] else "tg%d" % r["n_gen"]
    m = median(r)
    base = ref.get(k)
    ratio = m / base if base else None
    if ratio is not None:
        worst = ratio if worst is None else min(worst, ratio)
    gbs = pct = ""
    if r["n_gen"] and not r["n_prompt"]:
        g = r["model_size"] * m / 1e9
        gbs = "%.1f" % g
        if bw.get(r["n_threads"]):
            pct = "%.0f%%" % (100 * g / bw[r["n_threads"]])
    print("| %s | %s | %d | %.2f | %s | %s | %s | %s | %s | %s |" % (
        k[0], test, r["n_threads"], m, "%.2f" % base if base else "-", src.get(k, "-"),
        "%.2f" % ratio if ratio else "-", ("yes" if ratio >= 1.2 else "NO") if ratio else "-", gbs, pct))
for t, v in sorted(bw.items()):
    print("\nhost read bandwidth, %d thread(s): %.1f GB/s" % (t, v), end="")
print("\nworst ratio: %s" % ("%.2f" % worst if worst else "-"))
PY
