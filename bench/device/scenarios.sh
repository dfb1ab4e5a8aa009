#!/usr/bin/env bash
# The measurements of issue 20 for docs/benchmarks.md (run on an idle machine):
#  1. jetlm bench --bandwidth (host read; GPU copies and reads in a CUDA build);
#  2. tg128 with the roofline % for the anchor models (random weights, real shapes: jetlm synth);
#  3. all nine scenarios for Qwen2.5-0.5B Q4_K_M on the CPU, -r 1, with --json and --plots,
#     and the bookkeeping overhead (the JSON's "timing": command vs timed requests, monitor CPU).
# Usage: bench/device/scenarios.sh [-b BUILD_DIR] [-d MODEL_DIR] [-t THREADS] [-ngl LIST] [-o OUT_DIR]
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
build="$root/build"
models="${JETLM_MODELS:-/tmp/jetlm-models}"
out="$root/bench-results"
threads=""
ngl=0
while [ $# -gt 0 ]; do
  case "$1" in
    -b) build="$2"; shift ;;
    -d) models="$2"; shift ;;
    -t) threads="-t $2"; shift ;;
    -ngl) ngl="$2"; shift ;;
    -o) out="$2"; shift ;;
    *) echo "usage: $0 [-b BUILD_DIR] [-d MODEL_DIR] [-t THREADS] [-ngl LIST] [-o OUT_DIR]" >&2; exit 2 ;;
  esac
  shift
done
jetlm="$build/jetlm"
[ -x "$jetlm" ] || { echo "no jetlm binary at $jetlm (build first, or pass -b)" >&2; exit 1; }
mkdir -p "$models" "$out"

specs="qwen2.5-0.5b:Q4_K_M qwen2.5-0.5b:Q8_0 tinyllama-1.1b:Q4_K_M gemma3-1b:Q4_K_M"
files=()
for spec in $specs; do
  name="${spec%%:*}" type="${spec##*:}"
  f="$models/$name-$(echo "$type" | tr 'A-Z' 'a-z').gguf"
  [ -f "$f" ] || "$jetlm" synth --like "$name" --type "$type" -o "$f"
  files+=("$f")
done

echo "== $(date -u +%FT%TZ) $(uname -n), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== jetlm bench --bandwidth"
"$jetlm" bench --bandwidth --json "$out/bandwidth.json"

echo "== tg128 with the roofline, anchor models"
"$jetlm" bench -m "$(IFS=,; echo "${files[*]}")" -p 0 -n 128 -r 3 -ngl "$ngl" $threads

echo "== all nine scenarios, Qwen2.5-0.5B Q4_K_M, -r 1"
# shellcheck disable=SC2086
"$jetlm" bench --scenarios all -m "${files[0]}" -ngl "$ngl" -r 1 $threads --json "$out/scenarios.json" --plots "$out/plots"
python3 - "$out/scenarios.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["timing"]
print("command %.1f s, timed requests %.1f s, warm-up requests %.1f s, the rest %.2f%%, monitor thread %.2f%% of one core"
      % (t["command_ms"] / 1e3, t["timed_requests_ms"] / 1e3, t["warmup_requests_ms"] / 1e3, t["overhead_pct"],
         t.get("monitor_cpu_pct", 0)))
PY
