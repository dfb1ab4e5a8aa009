#!/usr/bin/env bash
# The golden logits (tests/test_goldens, the fast paths; the reference path
# does not depend on the level) with JETLM_CPU forced to each kernel level in
# turn. A level this CPU or build lacks is skipped: jetlm refuses it with
# "does not support", which the probe below tells apart from any other failure.
# About 10 s per level. Usage: .ci/cpu-levels.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
status=0
for level in scalar avx2 avx512 avx512vnni neon dotprod; do
  if ! err=$(JETLM_CPU=$level "$build/jetlm" bench -m models/stories260K.gguf -p 0 -n 1 -r 1 -o csv 2>&1 >/dev/null); then
    case "$err" in
      *"does not support"*) echo "== $level: not supported here, skipped"; continue ;;
      *) echo "$err" >&2; exit 1 ;;
    esac
  fi
  echo "== JETLM_CPU=$level"
  JETLM_CPU=$level timeout 300 "$build/tests/test_goldens" --gtest_filter='-*reference*' --gtest_brief=1 || status=1
done
exit $status
