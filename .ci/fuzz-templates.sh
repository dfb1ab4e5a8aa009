#!/usr/bin/env bash
# CI: a bounded libFuzzer run of the chat-template engine (fuzz/template_fuzzer.cpp).
# Builds only the fuzzer with clang into build-fuzz, seeds it with the real
# templates (fuzz/corpus/templates) and runs for FUZZ_SECONDS (default 60).
# Fails on any crash, sanitizer report, leak, timeout or out-of-memory; the
# input that caused it is left in build-fuzz/artifacts/ (add it to
# tests/data/hostile/templates/ as a regression test once fixed).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-60}"
build=build-fuzz
cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DJETLM_FUZZ=ON \
  -DJETLM_TESTS=OFF ${CMAKE_CXX_COMPILER_LAUNCHER:+-DCMAKE_CXX_COMPILER_LAUNCHER=$CMAKE_CXX_COMPILER_LAUNCHER} >/dev/null
cmake --build "$build" -j"$(nproc)" --target template_fuzzer
# The seeds are read only; new inputs go to a scratch corpus that is not kept.
work="$build/corpus"
mkdir -p "$work" "$build/artifacts"
# -timeout: one input may not run longer than this (the template's own
# budget is 1 s in the fuzzer; the slack is for a loaded machine); -rss_limit_mb: the memory caps must hold.
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  "$build/fuzz/template_fuzzer" "$work" fuzz/corpus/templates -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 \
  -max_len=65536 -artifact_prefix="$build/artifacts/" -print_final_stats=1
