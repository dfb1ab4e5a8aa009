#include "backends/cpu/cpu_features.h"

#include <cstdio>
#include <cstdlib>
#include <set>
#include <thread>
#include <utility>

#include "util/error.h"

namespace jetlm {

namespace {

const cpu::CpuKernels* table_of(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::Scalar: return cpu::kernels_scalar();
    case CpuIsa::Avx2: return cpu::kernels_avx2();
    case CpuIsa::Neon: return cpu::kernels_neon();
    case CpuIsa::Dotprod: return cpu::kernels_dotprod();
  }
  return nullptr;
}

}  // namespace

const char* cpu_isa_name(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::Scalar: return "scalar";
    case CpuIsa::Avx2: return "avx2";
    case CpuIsa::Neon: return "neon";
    case CpuIsa::Dotprod: return "dotprod";
  }
  return "?";
}

bool parse_cpu_isa(const std::string& s, CpuIsa* out) {
  for (CpuIsa isa : {CpuIsa::Scalar, CpuIsa::Avx2, CpuIsa::Neon, CpuIsa::Dotprod}) {
    if (s == cpu_isa_name(isa)) {
      *out = isa;
      return true;
    }
  }
  return false;
}

std::vector<CpuIsa> supported_cpu_isas() {
  std::vector<CpuIsa> v;
  for (CpuIsa isa : {CpuIsa::Scalar, CpuIsa::Neon, CpuIsa::Dotprod, CpuIsa::Avx2})
    if (table_of(isa)) v.push_back(isa);
  return v;
}

CpuIsa default_cpu_isa() {
  if (const char* env = std::getenv("JETLM_CPU_ISA"); env && *env) {
    CpuIsa isa;
    if (!parse_cpu_isa(env, &isa)) fail("JETLM_CPU_ISA=", env, ": expected scalar, avx2, neon or dotprod");
    if (!table_of(isa)) fail("JETLM_CPU_ISA=", env, ": this CPU or build does not support it");
    return isa;
  }
  return supported_cpu_isas().back();
}

const cpu::CpuKernels& cpu_kernels(CpuIsa isa) {
  const cpu::CpuKernels* t = table_of(isa);
  if (!t) fail("CPU kernels '", cpu_isa_name(isa), "' are not supported on this machine");
  return *t;
}

int physical_cores() {
  // Distinct (package, core) pairs from sysfs; SMT siblings share a pair.
  std::set<std::pair<int, int>> cores;
  const unsigned n_cpu = std::thread::hardware_concurrency();
  for (unsigned c = 0; c < n_cpu; ++c) {
    char path[128];
    int core = -1, pkg = -1;
    std::snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/topology/core_id", c);
    if (FILE* f = std::fopen(path, "r")) {
      if (std::fscanf(f, "%d", &core) != 1) core = -1;
      std::fclose(f);
    }
    std::snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/topology/physical_package_id", c);
    if (FILE* f = std::fopen(path, "r")) {
      if (std::fscanf(f, "%d", &pkg) != 1) pkg = -1;
      std::fclose(f);
    }
    if (core < 0) return n_cpu > 0 ? static_cast<int>(n_cpu) : 1;  // no topology: count logical CPUs
    cores.insert({pkg, core});
  }
  return cores.empty() ? 1 : static_cast<int>(cores.size());
}

}  // namespace jetlm
