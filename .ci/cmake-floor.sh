#!/usr/bin/env bash
# CI check of the JetPack 4.6 build floor (CMake 3.10.2, gcc 8 with C++17) on a
# machine that has neither (no CMake 3.10 package or image is available here):
#  1. .ci/cmake_floor.py: no CMake feature newer than 3.10 outside a version
#     guard with a 3.10 way beside it; no host code gcc 8 lacks (<filesystem>,
#     floating-point from_chars/to_chars, <execution>, <memory_resource>);
#  2. a build with every 3.10 code path taken (-DJETLM_CMAKE_AS_3_10=ON: the
#     CUDA_ARCHITECTURES, FindCUDAToolkit, GTest target, test discovery and
#     CONFIGURE_DEPENDS fallbacks) under cmake_minimum_required(3.10)'s
#     policies, with headers gcc 8 lacks replaced by ones that #error
#     (.ci/floor-include; nlohmann/json is told not to look for <filesystem>,
#     which it only offers, as it finds gcc 8's), and its tests run;
#  3. with nvcc on the machine, a CUDA configure on the 3.10 paths, checked for
#     the -gencode flags and the toolkit libraries found beside nvcc.
# Usage: .ci/cmake-floor.sh [-j N] [--sanitize TARGET...]
# --sanitize: the floor build is also the AddressSanitizer + UBSan build (-O1
# with line tables; gcc's maybe-uninitialized off, which under ASan reports
# libstdc++'s own std::function and regex) and builds the named targets too:
# CI runs its hostile-input tests from build-floor, one build for both checks.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
jobs=2
sanitize=()
while [ $# -gt 0 ]; do
  case "$1" in
    -j) jobs="$2"; shift ;;
    --sanitize) shift; sanitize=("$@"); [ ${#sanitize[@]} -gt 0 ] || sanitize=(jetlm); break ;;
    *) echo "usage: $0 [-j N] [--sanitize TARGET...]" >&2; exit 2 ;;
  esac
  shift
done
type_flags=(-DCMAKE_BUILD_TYPE=Release)
[ ${#sanitize[@]} -gt 0 ] && type_flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -Wno-maybe-uninitialized" -DJETLM_SANITIZE=ON)
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

echo "== CMake and host-code features against the floor"
python3 "$root/.ci/cmake_floor.py" "$root"

echo "== build on the CMake 3.10 code paths, gcc 8's headers only"
build="$root/build-floor"
cmake -S "$root" -B "$build" "${type_flags[@]}" -DJETLM_WERROR=ON -DJETLM_CMAKE_AS_3_10=ON \
  -DCMAKE_CXX_FLAGS="-I$root/.ci/floor-include -DJSON_HAS_FILESYSTEM=0 -DJSON_HAS_EXPERIMENTAL_FILESYSTEM=0" \
  "${launcher[@]}" >/dev/null
cmake --build "$build" -j "$jobs" --target jetlm test_memory_plan test_gpu_fit "${sanitize[@]}"
# Post-build discovery (no DISCOVERY_MODE before 3.18) has listed the tests by now.
(cd "$build" && ctest --output-on-failure -R 'MemoryPlan|ContextMemory|GpuFit|FilePages')

nvcc=/usr/local/cuda/bin/nvcc
if [ -x "$nvcc" ]; then
  echo "== CUDA configure on the CMake 3.10 code paths"
  cbuild="$root/build-floor-cuda"
  cmake -S "$root" -B "$cbuild" -DCMAKE_BUILD_TYPE=Release -DJETLM_CMAKE_AS_3_10=ON -DJETLM_CUDA=ON \
    -DCMAKE_CUDA_COMPILER="$nvcc" -DCMAKE_CUDA_ARCHITECTURES="75-real;90" -DJETLM_TESTS=OFF >/dev/null
  flags="$cbuild/CMakeFiles/jetlm_lib.dir/flags.make"
  grep -q -- "-gencode=arch=compute_75,code=sm_75" "$flags"
  grep -q -- "-gencode=arch=compute_90,code=\[sm_90,compute_90\]" "$flags"
  grep -q "JETLM_CUBLAS:FILEPATH=/" "$cbuild/CMakeCache.txt"
  grep -q "JETLM_CUDART_STATIC:FILEPATH=/" "$cbuild/CMakeCache.txt"
  echo "   -gencode flags and toolkit libraries found"
else
  echo "== CUDA configure skipped: no $nvcc"
fi
echo "== build floor checks passed"
