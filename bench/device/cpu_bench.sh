#!/usr/bin/env bash
# The CPU acceptance measurement of issue 5, as recorded in docs/benchmarks.md:
#  1. random-weight models with the real shapes (jetlm synth), once;
#  2. jetlm bench -t 2 -p 128 -n 64 -r 3 on each, side by side with llama.cpp's
#     figures for the same machine class (../shared/anchors, when present);
#  3. peak RSS while generating with qwen2.5-0.5b Q4_K_M at 2k context, against
#     file size + KV cache + 100 MiB.
# Usage: bench/device/cpu_bench.sh [-b BUILD_DIR] [-d MODEL_DIR] [-t THREADS] [-r REPS] [--wait-idle]
# Timings on a shared machine are noisy: run it when nothing else is compiling,
# or pass --wait-idle to start each model only after 2 s with the CPUs >= 90% idle.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
build="$root/build"
models="${JETLM_MODELS:-/tmp/jetlm-models}"
threads=2
reps=3
wait_idle=0
while [ $# -gt 0 ]; do
  case "$1" in
    -b) build="$2"; shift ;;
    -d) models="$2"; shift ;;
    -t) threads="$2"; shift ;;
    -r) reps="$2"; shift ;;
    --wait-idle) wait_idle=1 ;;
    *) echo "usage: $0 [-b BUILD_DIR] [-d MODEL_DIR] [-t THREADS] [-r REPS] [--wait-idle]" >&2; exit 2 ;;
  esac
  shift
done
jetlm="$build/jetlm"
[ -x "$jetlm" ] || { echo "no jetlm binary at $jetlm (build first, or pass -b)" >&2; exit 1; }
mkdir -p "$models"

specs="qwen2.5-0.5b:Q4_K_M qwen2.5-0.5b:Q8_0 tinyllama-1.1b:Q4_K_M gemma3-1b:Q4_K_M"
files=()
for spec in $specs; do
  name="${spec%%:*}" type="${spec##*:}"
  f="$models/$name-$(echo "$type" | tr 'A-Z' 'a-z').gguf"
  if [ ! -f "$f" ]; then
    echo "== synthesizing $f"
    "$jetlm" synth --like "$name" --type "$type" -o "$f"
  fi
  files+=("$f")
done

# Percentage of idle CPU time over the next 2 seconds.
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

echo "== jetlm bench -t $threads -p 128 -n 64 -r $reps ($(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg))"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
for f in "${files[@]}"; do
  wait_for_idle
  "$jetlm" bench -m "$f" -t "$threads" -p 128 -n 64 -r "$reps" -o jsonl | tee -a "$out"
done

anchors="$root/../shared/anchors/llamacpp-cpu2-2026-11-21.json"
python3 - "$out" "$anchors" <<'PY'
import json, os, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ref = {}
if os.path.exists(sys.argv[2]):
    for r in json.load(open(sys.argv[2])):
        ref[(r["model_filename"], r["n_prompt"], r["n_gen"])] = r["avg_ts"]
print()
print("| model | test | jetlm t/s | GB/s | llama.cpp t/s | ratio | target |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
for r in rows:
    test = "pp%d" % r["n_prompt"] if r["n_prompt"] else "tg%d" % r["n_gen"]
    base = ref.get((r["model_filename"], r["n_prompt"], r["n_gen"]))
    target = 1.0 if r["n_prompt"] else 1.1
    ratio = "%.2f" % (r["avg_ts"] / base) if base else "-"
    gbs = "%.1f" % r["avg_gbs"] if r["n_gen"] and not r["n_prompt"] else ""
    print("| %s | %s | %.2f ± %.2f | %s | %s | %s | %.1fx |" % (r["model_filename"], test, r["avg_ts"], r["stddev_ts"],
          gbs, "%.1f" % base if base else "-", ratio, target))
PY

qwen="${files[0]}"
echo
echo "== peak RSS generating at 2k context: jetlm bench -m $(basename "$qwen") -pg 1984,64 -r 1"
"$jetlm" bench -m "$qwen" -t "$threads" -p 0 -n 0 -pg 1984,64 -r 1 -o jsonl > "$out"
python3 - "$out" "$qwen" <<'PY'
import json, os, sys
r = json.loads(open(sys.argv[1]).readline())
size = os.path.getsize(sys.argv[2])
# qwen2.5-0.5b: 24 layers, 2 KV heads x 64, K and V in f16, 2048 positions.
kv = 24 * 2048 * (128 + 128) * 2
bound = size + kv + 100 * 2**20
mib = lambda b: b / 2**20
print("peak RSS %.1f MiB; bound = file %.1f + KV %.1f + 100 MiB = %.1f MiB: %s" % (
    mib(r["peak_rss"]), mib(size), mib(kv), mib(bound), "ok" if r["peak_rss"] <= bound else "OVER"))
PY
