// Which kernel table the CPU backend runs: the best level this CPU supports,
// or the one named by JETLM_CPU (scalar, avx2, avx512, avx512vnni, neon,
// dotprod) so that tests and benchmarks can force each path in turn.
//
// The levels of one architecture are ordered: each runs on a subset of the
// CPUs of the previous one (x86: scalar < avx2 < avx512 < avx512vnni).
#pragma once
#include <string>
#include <vector>

#include "backends/cpu/simd/kernels.h"

namespace jetlm {

enum class CpuIsa { Scalar, Avx2, Avx512, Avx512Vnni, Neon, Dotprod };

// Every level jetlm knows, of every architecture, in order.
const std::vector<CpuIsa>& all_cpu_isas();
const char* cpu_isa_name(CpuIsa isa);
// Parses a name of cpu_isa_name; false for anything else.
bool parse_cpu_isa(const std::string& s, CpuIsa* out);
// Whether this binary has the level and this CPU (and OS) runs it.
bool cpu_isa_supported(CpuIsa isa);
// The levels this binary has and this CPU runs, scalar first, best last.
std::vector<CpuIsa> supported_cpu_isas();
// The level named by `name` (JETLM_CPU when empty and set; else the best
// supported). Error naming the level and the supported ones when it is unknown
// or this CPU cannot run it.
CpuIsa select_cpu_isa(const std::string& name = std::string());
// The kernel table of a level (Error if unsupported here).
const cpu::CpuKernels& cpu_kernels(CpuIsa isa);

// Physical cores of this machine (hyper-threads not counted); at least 1.
int physical_cores();

}  // namespace jetlm
