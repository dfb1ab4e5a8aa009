// Which kernel table the CPU backend runs: the best instruction set this CPU
// supports, or the one named by JETLM_CPU_ISA (scalar, avx2, neon, dotprod)
// so that tests and benchmarks can force each path in turn.
#pragma once
#include <string>
#include <vector>

#include "backends/cpu/simd/kernels.h"

namespace jetlm {

enum class CpuIsa { Scalar, Avx2, Neon, Dotprod };

const char* cpu_isa_name(CpuIsa isa);
// Parses "scalar", "avx2", "neon", "dotprod"; false for anything else.
bool parse_cpu_isa(const std::string& s, CpuIsa* out);
// The paths this binary has and this CPU runs, scalar first, best last.
std::vector<CpuIsa> supported_cpu_isas();
// JETLM_CPU_ISA if set (Error if this CPU cannot run it), else the best supported.
CpuIsa default_cpu_isa();
// The kernel table of a path (Error if unsupported here).
const cpu::CpuKernels& cpu_kernels(CpuIsa isa);

// Physical cores of this machine (hyper-threads not counted); at least 1.
int physical_cores();

}  // namespace jetlm
