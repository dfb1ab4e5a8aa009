#!/usr/bin/env bash
# Where a many-sequence decode step spends its time on the GPU (issues 18/19):
# prompt speed at 1..64 tokens (the matrix products a batch of B decode tokens
# runs) and llama-batched-bench's measurement, for several choices of which
# products take the matrix-vector kernels (JETLM_CUDA_MV mvn/mvchunk); then one
# 32-sequence run with the backend's counters and, where nsys exists, a trace.
#   bench/device/batched_profile.sh .devbin   (holds jetlm.xz and lib.txz; carry .devbin)
# lib.txz: the shared libraries jetlm links that the device image lacks (cpp-httplib,
# curl, pcre2 and theirs), made here with
#   mkdir -p /tmp/dl/lib && cp -L $(ldd build-cuda/jetlm | awk '/=> \/lib/{print $3}' \
#     | grep -v 'libc.so\|libm.so\|libgcc\|libstdc\|libdl\|libpthread\|librt\|libresolv') /tmp/dl/lib \
#     && tar cJf .devbin/lib.txz -C /tmp/dl lib
# Environment: MV_VARIANTS (space-separated JETLM_CUDA_MV values, "-" = defaults),
# MODELS (preset:type list), NPL (batched-bench -npl).
set -u
dir="$1"
OUT="${OUT:-/tmp/out}"
mkdir -p "$OUT" /tmp/b /tmp/models
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
  [ -e "$d/libcublas.so.13" ] && export LD_LIBRARY_PATH="$d:${LD_LIBRARY_PATH:-}"
done
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
xz -dc "$dir/jetlm.xz" > /tmp/b/jetlm && chmod +x /tmp/b/jetlm
if [ -e "$dir/lib.txz" ]; then
  mkdir -p /tmp/dl && tar xJf "$dir/lib.txz" -C /tmp/dl && export LD_LIBRARY_PATH="/tmp/dl/lib:${LD_LIBRARY_PATH:-}"
fi
ldd /tmp/b/jetlm | grep "not found"
J=/tmp/b/jetlm
variants="${MV_VARIANTS:-- mvchunk=8 mvn=1,mvchunk=0}"
models="${MODELS:-llama-3.2-1b:Q4_K_M qwen2.5-0.5b:Q4_K_M}"
npl="${NPL:-1,8,16,32}"
for m in $models; do
  f="/tmp/models/${m%%:*}-${m##*:}.gguf"
  [ -e "$f" ] || $J synth --like "${m%%:*}" --type "${m##*:}" -o "$f" > /dev/null 2>&1 || echo "synth $m failed"
done
mv_env() { [ "$1" = - ] && echo "" || echo "$1"; }
for m in $models; do
  f="/tmp/models/${m%%:*}-${m##*:}.gguf"
  for v in $variants; do
    echo "== $m JETLM_CUDA_MV=$v: prompt tokens 1..64"
    JETLM_CUDA_MV="$(mv_env "$v")" timeout 120 $J bench -m "$f" -ngl 99 -p 1,2,4,8,16,32,64 -n 0 -r 3 2>&1 | grep -E "pp[0-9]"
  done
  for v in $variants; do
    echo "== $m JETLM_CUDA_MV=$v: batched-bench -npp 128 -ntg 64 -npl $npl"
    JETLM_CUDA_MV="$(mv_env "$v")" timeout 200 $J batched-bench -m "$f" -ngl 99 -npp 128 -ntg 64 -npl "$npl" 2>&1 | grep -E "^\|"
  done
done
f="/tmp/models/${models%%:*}"; f="/tmp/models/$(echo "${models%% *}" | sed 's/:/-/').gguf"
echo "== counters: 32 sequences, $f"
JETLM_CUDA_STATS=1 timeout 120 $J batched-bench -m "$f" -ngl 99 -npp 128 -ntg 32 -npl 32 > "$OUT/stats.txt" 2>&1
tail -40 "$OUT/stats.txt"
nsys="$(command -v nsys || ls /opt/nvidia/nsight-systems/*/bin/nsys /usr/local/cuda/bin/nsys 2>/dev/null | head -1)"
if [ -n "$nsys" ]; then
  echo "== nsys: 32 sequences"
  timeout 200 "$nsys" profile -o /tmp/nsys32 --force-overwrite true "$J" batched-bench -m "$f" -ngl 99 -npp 128 -ntg 32 -npl 32 > /dev/null 2>&1
  timeout 120 "$nsys" stats --report cuda_gpu_kern_sum,cuda_api_sum,cuda_gpu_mem_time_sum --format csv -o "$OUT/nsys32" /tmp/nsys32.nsys-rep > /dev/null 2>&1
  for r in "$OUT"/nsys32*.csv; do echo "-- $(basename "$r")"; head -25 "$r" | cut -c1-220; done
else
  echo "== no nsys on this machine"
fi
