#!/usr/bin/env bash
# Isolated device time of every kernel of a few decode steps (ncu, graph nodes
# profiled one by one; PDL overlap is lost, so the sum is an upper bound).
#   bench/profile/gpu_kernels.sh .devbin/j.xz "preset:type ..." [launches to skip] [count]
set -u
bin_xz="$1"; models="$2"; skip="${3:-2000}"; count="${4:-400}"
OUT="${OUT:-/tmp/out}"
mkdir -p "$OUT" /tmp/b /tmp/models
exe=/tmp/b/$(basename "$bin_xz" .xz)
[ -x "$exe" ] || { xz -dc "$bin_xz" > "$exe" && chmod +x "$exe"; }
ncu="$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)"
for m in $models; do
  preset="${m%%:*}"; type="${m##*:}"
  f="/tmp/models/$preset-$type.gguf"
  [ -e "$f" ] || "$exe" synth --like "$preset" --type "$type" -o "$f" > /dev/null 2>&1
  r="$OUT/ncu-$preset-$type.csv"
  "$ncu" --clock-control none --cache-control none --graph-profiling node --metrics gpu__time_duration.sum --launch-skip "$skip" --launch-count "$count" --csv \
    "$exe" bench -m "$f" -ngl 99 -p 0 -n 16 -r 1 > "$r" 2> "$r.err"
  echo "== $m: $(grep -c gpu__time_duration "$r") kernels"
  python3 bench/profile/ncu_summary.py "$r"
done
