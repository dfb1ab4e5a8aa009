#!/usr/bin/env bash
# The Tegra X1 (Jetson Nano) profile on the lent GPU machine, issue #17:
#  1. builds jetlm with -DJETLM_CUDA_EMULATE=tegra-x1 (device code takes the sm_53
#     branches; the runtime reports an integrated GPU without host registration,
#     with JETLM_EMULATE_MEM_GB of memory), unless BIN_DIR already holds the
#     binaries (jetlm, test_cuda_ops);
#  2. for caps of 2 and 4 GB: the GPU test suite and check-goldens.py;
#  3. on synthesized Qwen2.5-0.5B and Gemma 3 1B Q4_K_M shaped models: the plan
#     (jetlm info -ngl 99), jetlm run with every layer on the GPU (VmRSS and the
#     device memory in use measured beside it), jetlm bench;
#  4. models that do not fit: Qwen2.5-1.5B Q4_K_M under a 1.5 GB cap (a 2 GB board's
#     available memory), Qwen2.5-3B and Gemma 3 4B Q4_K_M under the 2 GB cap: jetlm run
#     without -ngl offloads the layers that fit and says so.
# Run from the repository root:  bash bench/device/nano_profile.sh [STAGE...]
# STAGE: build, tests, models, offload (default: all four). Each stage fits one
# 10-minute device call: `... build`, then `... tests`, `... models`, `... offload`
# on the same warm machine (CAPS="2 4" chooses the caps of tests and models).
# Environment: BIN_DIR (prebuilt binaries), JOBS (build jobs, default nproc),
# GOLDEN_ROOT (default ../shared, or shared/ in the tree), OUT (logs; default /tmp/out).
# The speed figures are the profile's on an H100/H200 (one SM's launch
# configurations, sm_53 code paths), not a Nano's; docs/benchmarks.md says so.
set -u
stages="${*:-build tests models offload}"
want() { case " $stages " in *" $1 "*) return 0 ;; esac; return 1; }
root="$(pwd)"
OUT="${OUT:-/tmp/out}"
mkdir -p "$OUT" /tmp/nano-models
# Binaries built on another machine have /work/main/tests/data compiled in (as bench/gpu_device_run.sh does).
if [ "$root" != /work/main ] && [ ! -e /work/main ]; then mkdir -p /work && ln -s "$root" /work/main; fi
for d in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib; do
  [ -e "$d/libcublas.so.13" ] && export LD_LIBRARY_PATH="$d:${LD_LIBRARY_PATH:-}"
done
log() { echo "== $*" | tee -a "$OUT/summary.log"; }
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,clocks.max.mem --format=csv,noheader | tee -a "$OUT/summary.log"

# ---- 1. binaries
bin="${BIN_DIR:-$root/build-cuda-emu}"
if want build || [ ! -x "$bin/jetlm" ] || [ ! -x "$bin/tests/test_cuda_ops" ]; then
  log "building the tegra-x1 profile in $bin"
  cmake -S "$root" -B "$bin" -DCMAKE_BUILD_TYPE=Release -DJETLM_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90-real \
    -DJETLM_CUDA_EMULATE=tegra-x1 > "$OUT/configure.log" 2>&1 || { tail -20 "$OUT/configure.log"; exit 1; }
  cmake --build "$bin" -j "${JOBS:-$(nproc)}" --target jetlm test_cuda_ops test_cuda_memory test_memory_plan > "$OUT/build.log" 2>&1 ||
    { grep -E "error" "$OUT/build.log" | head -20; exit 1; }
fi
jetlm="$bin/jetlm"
[ -x "$bin/tests/test_cuda_ops" ] && tests="$bin/tests/test_cuda_ops" || tests="$bin/test_cuda_ops"
golden_root="${GOLDEN_ROOT:-}"
[ -z "$golden_root" ] && for d in "$root/../shared" "$root/shared"; do [ -d "$d/golden" ] && golden_root="$d" && break; done

# VmRSS of a running jetlm (kB) and the device memory in use (MiB), sampled
# every 0.2 s while it runs; prints "peak VmRSS MiB, peak device MiB".
measure() {
  local logf="$1"
  shift
  local base
  base="$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits | head -1)"
  "$@" > "$logf" 2>&1 &
  local pid=$! rss=0 dev=0 r d
  while kill -0 "$pid" 2>/dev/null; do
    r="$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null)"
    d="$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits | head -1)"
    [ -n "$r" ] && [ "$r" -gt "$rss" ] && rss="$r"
    [ -n "$d" ] && [ "$((d - base))" -gt "$dev" ] && dev="$((d - base))"
    sleep 0.2
  done
  wait "$pid"
  local rc=$?
  echo "exit $rc, peak VmRSS $((rss / 1024)) MiB, peak device memory in use $dev MiB (nvidia-smi, over the idle $base MiB)"
}

synth() {  # preset type -> path
  local f="/tmp/nano-models/$1-$2.gguf"
  [ -e "$f" ] || "$jetlm" synth --like "$1" --type "$2" -o "$f" > "$OUT/synth-$1-$2.log" 2>&1
  echo "$f"
}

for gb in ${CAPS:-2 4}; do
  export JETLM_EMULATE_MEM_GB=$gb
  # ---- 2. tests and goldens under the cap
  if want tests; then
  log "cap $gb GB: GPU test suite"
  for t in "$tests" "$(dirname "$tests")/test_cuda_memory" "$(dirname "$tests")/test_memory_plan"; do
    [ -x "$t" ] || { echo "$(basename "$t"): not built" | tee -a "$OUT/summary.log"; continue; }
    timeout 900 "$t" --gtest_brief=1 > "$OUT/$(basename "$t")-${gb}gb.log" 2>&1
    echo "$(basename "$t"): exit $?" | tee -a "$OUT/summary.log"
    grep -E "^\[  (PASSED|FAILED|SKIPPED) |FAILED  \]" "$OUT/$(basename "$t")-${gb}gb.log" | head -20 | tee -a "$OUT/summary.log"
  done
  if [ -n "$golden_root" ]; then
    log "cap $gb GB: check-goldens.py"
    python3 "$golden_root/tools/check-goldens.py" --jetlm "$jetlm" --root "$golden_root" > "$OUT/goldens-${gb}gb.log" 2>&1
    echo "check-goldens: exit $?" | tee -a "$OUT/summary.log"
    tail -5 "$OUT/goldens-${gb}gb.log" | tee -a "$OUT/summary.log"
  else
    log "check-goldens.py skipped: no shared/golden (set GOLDEN_ROOT)"
  fi
  fi
  want models || continue

  # ---- 3. the anchor shapes with every layer on the GPU
  for m in qwen2.5-0.5b:Q4_K_M gemma3-1b:Q4_K_M; do
    f="$(synth "${m%%:*}" "${m##*:}")"
    [ -e "$f" ] || { log "synth $m failed"; tail -3 "$OUT/synth-${m%%:*}-${m##*:}.log"; continue; }
    tag="${m%%:*}-${gb}gb"
    log "cap $gb GB, $m ($(du -m "$f" | cut -f1) MiB file): plan"
    "$jetlm" info -m "$f" -c 4096 -ngl 99 2>&1 | grep -E "^(memory|GPU|memory plan|fits)" | tee -a "$OUT/summary.log"
    log "cap $gb GB, $m: jetlm run -ngl 99 (VmRSS and device memory)"
    measure "$OUT/run-$tag.log" "$jetlm" run -m "$f" -p "Hello from the Jetson Nano profile" -n 64 -c 4096 -ngl 99 --seed 1 |
      tee -a "$OUT/summary.log"
    grep -iE "jetlm:|plan|fall|fit|t/s|tok" "$OUT/run-$tag.log" | head -8 | tee -a "$OUT/summary.log"
    log "cap $gb GB, $m: jetlm bench -ngl 99"
    "$jetlm" bench -m "$f" -p 64,512 -n 128 -r 3 -ngl 99 2>&1 | tee "$OUT/bench-$tag.log" | tee -a "$OUT/summary.log"
  done
done

# ---- 4. automatic partial offload
want offload || { log "done: logs in $OUT"; exit 0; }
for mc in qwen2.5-1.5b:Q4_K_M:1.5 qwen2.5-3b:Q4_K_M:2 gemma3-4b:Q4_K_M:2; do
  m="${mc%:*}"
  export JETLM_EMULATE_MEM_GB="${mc##*:}"
  f="$(synth "${m%%:*}" "${m##*:}")"
  [ -e "$f" ] || { log "synth $m failed"; continue; }
  tag="${m%%:*}-${JETLM_EMULATE_MEM_GB}gb-auto"
  log "cap $JETLM_EMULATE_MEM_GB GB, $m ($(du -m "$f" | cut -f1) MiB file): plan, then jetlm run without -ngl"
  "$jetlm" info -m "$f" -c 4096 -ngl 99 2>&1 | grep -E "^(memory|GPU|memory plan|fits)" | tee -a "$OUT/summary.log"
  measure "$OUT/run-$tag.log" "$jetlm" run -m "$f" -p "Hello" -n 32 -c 4096 --seed 1 | tee -a "$OUT/summary.log"
  grep -iE "jetlm:|layers|fall|t/s" "$OUT/run-$tag.log" | head -6 | tee -a "$OUT/summary.log"
done
log "done: logs in $OUT"
