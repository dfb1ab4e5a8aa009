#!/usr/bin/env bash
# ncu sections (speed of light, memory, warp states, occupancy) for a few
# kernels of a decode step:
#   bench/profile/gpu_ncu_detail.sh .devbin/j.xz preset:type KERNEL_REGEX SKIP COUNT
set -u
bin_xz="$1"; m="$2"; kre="$3"; skip="$4"; count="$5"
OUT="${OUT:-/tmp/out}"
mkdir -p "$OUT" /tmp/b /tmp/models
exe=/tmp/b/$(basename "$bin_xz" .xz)
[ -x "$exe" ] || { xz -dc "$bin_xz" > "$exe" && chmod +x "$exe"; }
ncu="$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)"
preset="${m%%:*}"; type="${m##*:}"
f="/tmp/models/$preset-$type.gguf"
[ -e "$f" ] || "$exe" synth --like "$preset" --type "$type" -o "$f" > /dev/null 2>&1
r="$OUT/ncud-$preset-$type.txt"
JETLM_CUDA_GRAPHS=0 "$ncu" --cache-control none --clock-control none --kernel-name "regex:$kre" --launch-skip "$skip" \
  --launch-count "$count" --section SpeedOfLight --section MemoryWorkloadAnalysis --section WarpStateStats \
  --section Occupancy --section LaunchStats --section SchedulerStats \
  "$exe" bench -m "$f" -ngl 99 -p 0 -n 8 -r 1 > "$r" 2>&1
grep -E "matvec_kernel|attention_kernel|head_prep|Duration|DRAM Throughput|Memory Throughput|L1/TEX Hit|L2 Hit|Compute \(SM\)|Achieved Occupancy|Theoretical Occupancy|Registers Per|Block Limit|Stall|Warp Cycles Per Issued|Issued Warp|No Eligible|Active Warps Per|Eligible Warps|Waves Per SM|Mem Busy|Max Bandwidth|Grid Size" "$r" | cut -c1-150
