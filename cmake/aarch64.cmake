# Cross-compiling jetlm for AArch64 Linux (the Jetson Nano's Cortex-A57) with
# Debian's g++-aarch64-linux-gnu, for tests under qemu-user (.ci/arm.sh).
#
# Static linking: the binaries then run under qemu-aarch64-static without an
# AArch64 sysroot. Libraries come from Debian's multiarch arm64 packages
# (libpcre2-dev:arm64 in /usr/lib/aarch64-linux-gnu); GoogleTest is built
# from /usr/src/googletest by .ci/arm.sh and found through CMAKE_PREFIX_PATH.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# ARMv8.0 code tuned for the A57; the dotprod kernels are compiled in their
# own target region and chosen at run time (src/backends/cpu/cpu_features.h).
# No FMA contraction: GCC fuses a*b+c by default in C++ (even with -std=c++17)
# wherever the target has FMA, which AArch64 always has; the reference codecs
# and ops must round as they do on x86-64 (ggml bit-exactness). The SIMD
# kernels use explicit FMA intrinsics and are unaffected.
set(CMAKE_C_FLAGS_INIT "-mcpu=cortex-a57 -ffp-contract=off")
set(CMAKE_CXX_FLAGS_INIT "-mcpu=cortex-a57 -ffp-contract=off")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")

# Test executables (and gtest_discover_tests) run through qemu; the CPU model
# comes from QEMU_CPU (cortex-a57, or max for the dot-product path).
find_program(JETLM_QEMU_AARCH64 qemu-aarch64-static)
if(JETLM_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${JETLM_QEMU_AARCH64})
endif()

# Headers and packages may come from the host (nlohmann_json is header-only);
# libraries only from the AArch64 multiarch directories.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /usr/lib/aarch64-linux-gnu /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
# Static archives: CMake's platform files reset CMAKE_FIND_LIBRARY_SUFFIXES
# after this file, so name the one library found through pkg-config directly.
set(pkgcfg_lib_PCRE2_pcre2-8 /usr/lib/aarch64-linux-gnu/libpcre2-8.a CACHE FILEPATH "static PCRE2 for AArch64")
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
