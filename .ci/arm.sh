#!/usr/bin/env bash
# CI proof of the AArch64 path: cross-compile jetlm and its whole test suite
# for the Jetson Nano's Cortex-A57 (Debian's g++-aarch64-linux-gnu, static,
# cmake/aarch64.cmake), then run the suite under qemu-user twice:
#   QEMU_CPU=cortex-a57  JETLM_CPU=neon     ARMv8.0 NEON kernels
#   QEMU_CPU=max         JETLM_CPU=dotprod  ARMv8.2 dot-product kernels
# (test_cpu_kernels also runs every kernel table the emulated CPU offers
# against the portable one, whatever JETLM_CPU says).
#
# Usage: .ci/arm.sh [--no-install] [-j N] [--build DIR]
# Needs root for the packages (arm64 multiarch) and for registering qemu with
# binfmt_misc, through which tests that start the jetlm binary run it.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build-arm"
install=1
jobs="$(nproc 2>/dev/null || echo 2)"
while [ $# -gt 0 ]; do
  case "$1" in
    --no-install) install=0 ;;
    -j) jobs="$2"; shift ;;
    --build) build="$2"; shift ;;
    *) echo "usage: $0 [--no-install] [-j N] [--build DIR]" >&2; exit 2 ;;
  esac
  shift
done
start=$(date +%s)
step() { echo "== $* ($(( $(date +%s) - start ))s)"; }

if [ "$install" = 1 ]; then
  step "installing the cross compiler, qemu-user and arm64 PCRE2"
  export DEBIAN_FRONTEND=noninteractive
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then dpkg --add-architecture arm64; fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends g++-aarch64-linux-gnu qemu-user-static libpcre2-dev:arm64 \
    nlohmann-json3-dev googletest cmake pkg-config >/dev/null
fi

step "registering qemu-aarch64 with binfmt_misc (tests run the jetlm binary)"
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || true
fi
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  if [ -w /proc/sys/fs/binfmt_misc/register ] && [ -f /usr/lib/binfmt.d/qemu-aarch64.conf ]; then
    cat /usr/lib/binfmt.d/qemu-aarch64.conf > /proc/sys/fs/binfmt_misc/register
  else
    echo "warning: cannot register qemu-aarch64 with binfmt_misc; tests that run the jetlm binary will fail" >&2
  fi
fi

toolchain="$root/cmake/aarch64.cmake"
if [ ! -f "$build/deps/lib/libgtest.a" ]; then
  step "GoogleTest for AArch64 from /usr/src/googletest"
  cmake -S /usr/src/googletest -B "$build/googletest" -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
    -DCMAKE_BUILD_TYPE=Release -DBUILD_GMOCK=OFF -DCMAKE_INSTALL_PREFIX="$build/deps" -DCMAKE_INSTALL_LIBDIR=lib >/dev/null
  cmake --build "$build/googletest" -j"$jobs" >/dev/null
  cmake --install "$build/googletest" >/dev/null
fi

step "cross-compiling jetlm and the tests (-mcpu=cortex-a57, static)"
cmake -S "$root" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DCMAKE_PREFIX_PATH="$build/deps" \
  -DCMAKE_BUILD_TYPE=Release -DJETLM_WERROR=ON -DJETLM_HUB=OFF >/dev/null
cmake --build "$build" -j"$jobs"

status=0
step "test suite under qemu -cpu cortex-a57 (NEON, no dot product)"
QEMU_CPU=cortex-a57 JETLM_CPU=neon ctest --test-dir "$build" --output-on-failure -j"$jobs" || status=1

# The dot-product level changes only the kernels: their tests against the
# scalar reference and the goldens through them run again on it (the reference
# goldens, the engine's scheduling and the rest ran on the pass above; under
# qemu -cpu max the engine's batch checks alone took over 8 minutes of test time).
step "kernel and golden tests under qemu -cpu max (dot-product kernels forced)"
QEMU_CPU=max JETLM_CPU=dotprod ctest --test-dir "$build" --output-on-failure -j"$jobs" \
  -R 'Goldens|CpuLevel|MatmulTest|AttentionTest|Dequant|ThreadPool|Formats' -E '_reference' || status=1

step "done"
exit "$status"
