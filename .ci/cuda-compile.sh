#!/usr/bin/env bash
# CI check of the CUDA backend's portability promise, on a machine without a GPU:
#  1. every CUDA source compiles for the Jetson Nano (sm_53) with Debian's
#     CUDA 11.8 (non-free), g++-11 as host compiler and -std=c++14 (compile only);
#  0. no raw __CUDA_ARCH__ outside src/backends/cuda/arch.h;
#  2. the whole project builds and links with the machine's CUDA 13
#     (/usr/local/cuda) for sm_90 (machine code) and sm_75 (PTX: the dp4a path without PDL).
# Usage: .ci/cuda-compile.sh [--no-install] [--skip-118] [--skip-13] [-j N]
# (--no-install: CUDA 11.8 and g++-11 are already installed.)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
install=1 do118=1 do13=1 jobs=2
while [ $# -gt 0 ]; do
  case "$1" in
    --no-install) install=0 ;;
    --skip-118) do118=0 ;;
    --skip-13) do13=0 ;;
    -j) jobs="$2"; shift ;;
    *) echo "usage: $0 [--no-install] [--skip-118] [--skip-13] [-j N]" >&2; exit 2 ;;
  esac
  shift
done

nvcc118=/usr/lib/nvidia-cuda-toolkit/bin/nvcc

# One source of truth for the branch choice (src/backends/cuda/arch.h): device code
# compares JETLM_CUDA_ARCH, so the Tegra X1 profile takes exactly the sm_53 branches.
if grep -rn "__CUDA_ARCH__" "$root/src/backends/cuda" | grep -v "/arch.h:"; then
  echo "error: raw __CUDA_ARCH__ outside src/backends/cuda/arch.h (compare JETLM_CUDA_ARCH)" >&2
  exit 1
fi

if [ "$do118" = 1 ]; then
  if [ "$install" = 1 ] && [ ! -x "$nvcc118" ]; then
    echo "== installing Debian's nvidia-cuda-toolkit (CUDA 11.8) and g++-11 from non-free"
    # Same mirror and keyring as the machine's debian.sources, plus contrib/non-free.
    src=/etc/apt/sources.list.d/debian.sources
    if ! grep -q "non-free" "$src" 2>/dev/null; then
      uris="$(awk '/^URIs:/ {print $2; exit}' "$src" 2>/dev/null || true)"
      keyring="$(awk '/^Signed-By:/ {print $2; exit}' "$src" 2>/dev/null || true)"
      {
        echo "Types: deb"
        echo "URIs: ${uris:-http://deb.debian.org/debian}"
        echo "Suites: bookworm"
        echo "Components: contrib non-free"
        [ -n "$keyring" ] && echo "Signed-By: $keyring"
      } > /etc/apt/sources.list.d/jetlm-nonfree.sources
    fi
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nvidia-cuda-toolkit g++-11
  fi
  echo "== CUDA 11.8, sm_53, -std=c++14, compile only"
  # Its own ptxas must come first: CUDA 13's does not know sm_53.
  export PATH="/usr/lib/nvidia-cuda-toolkit/bin:/usr/bin:$PATH"
  "$nvcc118" --version | tail -1
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
  export nvcc118 root out
  ls "$root"/src/backends/cuda/*.cu | xargs -P "$jobs" -I{} sh -c \
    'echo "   $(basename {})"; "$nvcc118" -std=c++14 -ccbin g++-11 -O2 -I"$root/src" \
       -gencode arch=compute_53,code=sm_53 -c {} -o "$out/$(basename {}).o"'
fi

if [ "$do13" = 1 ] && [ ! -x /usr/local/cuda/bin/nvcc ]; then
  echo "== CUDA 13 build skipped: /usr/local/cuda/bin/nvcc is not on this machine"
  do13=0
fi
if [ "$do13" = 1 ]; then
  echo "== CUDA 13 (/usr/local/cuda), sm_90, sm_75 as PTX, build and link"
  build="$root/build-ci-cuda"
  cmake -S "$root" -B "$build" -DJETLM_CUDA=ON -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc \
    -DCMAKE_CUDA_ARCHITECTURES="75-virtual;90-real" -DCMAKE_BUILD_TYPE=Release
  cmake --build "$build" -j "$jobs" --target jetlm test_cuda_ops
  # Without a GPU the CUDA tests must skip cleanly, not fail.
  "$build/tests/test_cuda_ops" --gtest_brief=1
fi
echo "== CUDA compile checks passed"
