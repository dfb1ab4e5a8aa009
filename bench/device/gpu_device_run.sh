#!/usr/bin/env bash
# What one call on the lent GPU machine runs (from the repository root there).
# The binaries are built here and travel xz-compressed in .devbin/ (the working
# tree may carry 64 MiB, the repository already holds most of it).
#   bench/device/gpu_device_run.sh test   .devbin/t.xz   unit tests, goldens, compute-sanitizer
#   bench/device/gpu_device_run.sh bench  .devbin/j.xz   jetlm synth + jetlm bench on real shapes
# Results go to $OUT (logs) and stdout (a short summary last).
set -u
stage="$1"
bin_xz="$2"
shift 2
OUT="${OUT:-/tmp/out}"
mkdir -p "$OUT" /tmp/b
# The test binary has /work/main/tests/data compiled in.
if [ "$PWD" != /work/main ] && [ ! -e /work/main ]; then mkdir -p /work && ln -s "$PWD" /work/main; fi
for d in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib; do
  [ -e "$d/libcublas.so.13" ] && export LD_LIBRARY_PATH="$d:${LD_LIBRARY_PATH:-}"
done
if ! ls /usr/local/cuda/lib64/libcublas.so.13 >/dev/null 2>&1; then
  c="$(find /usr/local /opt -name 'libcublas.so.13' 2>/dev/null | head -1)"
  [ -n "$c" ] && export LD_LIBRARY_PATH="$(dirname "$c"):${LD_LIBRARY_PATH:-}"
fi
nvidia-smi --query-gpu=name,memory.total,clocks.sm,clocks.mem --format=csv,noheader
exe=/tmp/b/$(basename "$bin_xz" .xz)
xz -dc "$bin_xz" > "$exe" && chmod +x "$exe"
ldd "$exe" | grep "not found"

case "$stage" in
  test)
    filter="${1:-*}"
    timeout "${TEST_TIMEOUT:-300}" stdbuf -oL -eL "$exe" --gtest_brief=1 --gtest_filter="$filter" > "$OUT/tests.log" 2>&1
    echo "tests: exit $?"
    grep -E "^\[  (PASSED|FAILED|SKIPPED) |FAILED  \]|Failure|rror|Expected|Which is|nmse|rel " "$OUT/tests.log" | head -60
    if [ -n "${SANITIZE:-}" ]; then
      timeout "${SANITIZE_TIMEOUT:-200}" compute-sanitizer --tool memcheck --error-exitcode 3 "$exe" --gtest_brief=1 \
        --gtest_filter="$SANITIZE" > "$OUT/memcheck.log" 2>&1
      echo "memcheck: exit $?"
      grep -E "ERROR SUMMARY|Invalid|PASSED|FAILED" "$OUT/memcheck.log" | head -12
    fi
    ;;
  bench)
    # bench/device/gpu_device_run.sh bench .devbin/j.xz "preset:type ..." [jetlm bench args]
    models="$1"
    shift
    mkdir -p /tmp/models
    for m in $models; do
      preset="${m%%:*}"; type="${m##*:}"
      f="/tmp/models/$preset-$type.gguf"
      [ -e "$f" ] || "$exe" synth --like "$preset" --type "$type" -o "$f" > "$OUT/synth-$preset-$type.log" 2>&1 || { echo "synth $m failed"; tail -3 "$OUT/synth-$preset-$type.log"; continue; }
      bpt="$("$exe" info -m "$f" 2>/dev/null | sed -n 's/^bytes per token: *\([0-9.]*\) MiB.*/\1/p')"
      echo "== $preset $type: $(du -m "$f" | cut -f1) MiB file, $bpt MiB per token"
      "$exe" bench -m "$f" "$@" 2>&1 | tee -a "$OUT/bench.log"
    done
    ;;
esac
