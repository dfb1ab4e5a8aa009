#!/usr/bin/env bash
# One device call for the many-sequence engine (issue 18): GPU tests of the
# engine, the attention kernels and the goldens; llama-batched-bench's
# measurement through jetlm's scheduler; single-sequence tg128 of this build
# against the build before the redesign (alternating, same call).
#   bench/device/device_engine.sh .devbin   (holds jetlm.xz, jetlm_old.xz, test_*.xz)
set -u
dir="$1"
OUT="${OUT:-/tmp/out}"
mkdir -p "$OUT" /tmp/b /tmp/models
if [ "$PWD" != /work/main ] && [ ! -e /work/main ]; then mkdir -p /work && ln -s "$PWD" /work/main; fi
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
  [ -e "$d/libcublas.so.13" ] && export LD_LIBRARY_PATH="$d:${LD_LIBRARY_PATH:-}"
done
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
for f in "$dir"/*.xz; do xz -dc "$f" > "/tmp/b/$(basename "$f" .xz)" && chmod +x "/tmp/b/$(basename "$f" .xz)"; done
ldd /tmp/b/jetlm | grep "not found"
J=/tmp/b/jetlm
run_test() {  # binary filter timeout
  timeout "$3" /tmp/b/$1 --gtest_brief=1 --gtest_filter="$2" > "$OUT/$1.log" 2>&1
  echo "$1: exit $? $(grep -E '^\[  (PASSED|FAILED|SKIPPED) ' "$OUT/$1.log" | tr '\n' ' ')"
  grep -E "FAILED  \]|Failure" "$OUT/$1.log" | head -8
}
run_test test_engine "*" 200
run_test test_cuda_ops "*" 200

for m in llama-3.2-1b:Q4_K_M qwen2.5-0.5b:Q4_K_M; do
  f="/tmp/models/${m%%:*}-${m##*:}.gguf"
  $J synth --like "${m%%:*}" --type "${m##*:}" -o "$f" > /dev/null 2>&1 || echo "synth $m failed"
done
L=/tmp/models/llama-3.2-1b-Q4_K_M.gguf
Q=/tmp/models/qwen2.5-0.5b-Q4_K_M.gguf
echo "== tg128 single sequence, new vs old, alternating"
for r in 1 2; do
  for b in jetlm jetlm_old; do
    for f in $L $Q; do
      /tmp/b/$b bench -m $f -ngl 99 -p 0 -n 128 -r 3 2>/dev/null | grep -E "tg128" | sed "s|^|$b $(basename $f) |"
    done
  done
done
echo "== batched-bench (GPU memory sampled every 0.2 s)"
for f in $L $Q; do
  ( while true; do nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits; sleep 0.2; done ) > "$OUT/mem-$(basename $f).txt" &
  mp=$!
  timeout 240 $J batched-bench -m $f -ngl 99 -npp 128 -ntg 128 -npl 1,8,16,32 2>&1 | tee "$OUT/batched-$(basename $f).txt"
  kill $mp
  echo "peak GPU memory used (MiB): $(sort -n "$OUT/mem-$(basename $f).txt" | tail -1), model file $(du -m $f | cut -f1) MiB"
done
