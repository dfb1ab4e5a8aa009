#include "backends/cpu/cpu_features.h"

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "util/error.h"

namespace jetlm {

namespace {

const cpu::CpuKernels* table_of(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::Scalar: return cpu::kernels_scalar();
    case CpuIsa::Avx2: return cpu::kernels_avx2();
    case CpuIsa::Avx512: return cpu::kernels_avx512();
    case CpuIsa::Avx512Vnni: return cpu::kernels_avx512vnni();
    case CpuIsa::Neon: return cpu::kernels_neon();
    case CpuIsa::Dotprod: return cpu::kernels_dotprod();
  }
  return nullptr;
}

std::string supported_list() {
  std::string s;
  for (CpuIsa isa : supported_cpu_isas()) s += std::string(s.empty() ? "" : ", ") + cpu_isa_name(isa);
  return s;
}

}  // namespace

const std::vector<CpuIsa>& all_cpu_isas() {
  static const std::vector<CpuIsa> v = {CpuIsa::Scalar, CpuIsa::Avx2, CpuIsa::Avx512,
                                        CpuIsa::Avx512Vnni, CpuIsa::Neon, CpuIsa::Dotprod};
  return v;
}

const char* cpu_isa_name(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::Scalar: return "scalar";
    case CpuIsa::Avx2: return "avx2";
    case CpuIsa::Avx512: return "avx512";
    case CpuIsa::Avx512Vnni: return "avx512vnni";
    case CpuIsa::Neon: return "neon";
    case CpuIsa::Dotprod: return "dotprod";
  }
  return "?";
}

bool parse_cpu_isa(const std::string& s, CpuIsa* out) {
  for (CpuIsa isa : all_cpu_isas()) {
    if (s == cpu_isa_name(isa)) {
      *out = isa;
      return true;
    }
  }
  return false;
}

bool cpu_isa_supported(CpuIsa isa) { return table_of(isa) != nullptr; }

std::vector<CpuIsa> supported_cpu_isas() {
  std::vector<CpuIsa> v;
  for (CpuIsa isa : all_cpu_isas())
    if (cpu_isa_supported(isa)) v.push_back(isa);
  return v;
}

CpuIsa select_cpu_isa(const std::string& name) {
  std::string want = name, source = "CPU kernel level";
  if (want.empty()) {
    const char* env = std::getenv("JETLM_CPU");
    if (!env || !*env) return supported_cpu_isas().back();
    want = env;
    source = "JETLM_CPU";
  }
  CpuIsa isa;
  std::string known;
  for (CpuIsa i : all_cpu_isas()) known += std::string(known.empty() ? "" : ", ") + cpu_isa_name(i);
  if (!parse_cpu_isa(want, &isa)) fail(source, "=", want, ": unknown level (expected one of ", known, ")");
  if (!cpu_isa_supported(isa))
    fail(source, "=", want, ": this CPU or build does not support it (supported here: ", supported_list(), ")");
  return isa;
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
