// The GPU memory plan (backends/memory_plan.h) on invented devices: no GPU is
// needed. Also the memory a context needs (models/context_memory.h) on
// sliding-window layers, and the page release the Streamed plan relies on.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "backends/gpu_factory.h"
#include "backends/memory_plan.h"
#include "gguf/gguf.h"
#include "models/context_memory.h"
#include "models/gpu_fit.h"
#include "models/model.h"
#include "test_util.h"
#include "util/error.h"
#include "util/file_pages.h"
#include "util/mapped_file.h"

using namespace jetlm;
using jetlm_test::data_path;

namespace {

const size_t kGiB = size_t(1) << 30;

DeviceDesc discrete() {  // an H100
  DeviceDesc d;
  d.present = true;
  d.name = "discrete";
  d.cc = 90;
  d.sm_count = 132;
  d.host_register = true;
  d.host_pointer_registered = true;
  d.concurrent_managed = true;
  d.free_bytes = 79 * kGiB;
  d.total_bytes = 80 * kGiB;
  return d;
}

DeviceDesc orin() {  // integrated, I/O coherent, registers host memory
  DeviceDesc d = discrete();
  d.name = "orin";
  d.cc = 87;
  d.integrated = true;
  d.pageable_access = true;
  d.free_bytes = 5 * kGiB;  // cudaMemGetInfo there leaves out reclaimable page cache
  d.total_bytes = 8 * kGiB;
  d.mem_available = 7 * kGiB;
  return d;
}

DeviceDesc nano() {  // Tegra X1: integrated, no host registration
  DeviceDesc d = orin();
  d.name = "nano";
  d.cc = 53;
  d.sm_count = 1;
  d.host_register = false;
  d.host_pointer_registered = false;
  d.pageable_access = false;
  d.concurrent_managed = false;
  d.free_bytes = kGiB;
  d.total_bytes = 4 * kGiB;
  d.mem_available = 3 * kGiB;
  return d;
}

}  // namespace

TEST(MemoryPlan, DiscreteCopiesToDeviceMemory) {
  EXPECT_EQ(choose_memory_plan(discrete(), false).weights, WeightPlan::Device);
  // --unified on a discrete GPU that registers host memory: read the map in place.
  EXPECT_EQ(choose_memory_plan(discrete(), true).weights, WeightPlan::InPlace);
  DeviceDesc no_reg = discrete();
  no_reg.host_register = false;
  const MemoryPlan p = choose_memory_plan(no_reg, true);
  EXPECT_EQ(p.weights, WeightPlan::Device);
  EXPECT_NE(p.why.find("--unified"), std::string::npos) << p.why;
}

TEST(MemoryPlan, IntegratedWithRegistrationReadsInPlace) {
  EXPECT_EQ(choose_memory_plan(orin(), false).weights, WeightPlan::InPlace);
  EXPECT_EQ(choose_memory_plan(orin(), true).weights, WeightPlan::InPlace);
}

TEST(MemoryPlan, IntegratedWithoutRegistrationStreams) {
  EXPECT_EQ(choose_memory_plan(nano(), false).weights, WeightPlan::Streamed);
  // --unified cannot be honoured without registration: still one copy, not a crash.
  EXPECT_EQ(choose_memory_plan(nano(), true).weights, WeightPlan::Streamed);
}

TEST(MemoryPlan, RegistrationFailingAtRunTimeFallsBack) {
  // Registration was advertised but cudaHostRegister failed: the next plan for the device.
  EXPECT_EQ(fallback_plan(WeightPlan::InPlace, orin()), WeightPlan::Streamed);
  EXPECT_EQ(fallback_plan(WeightPlan::InPlace, discrete()), WeightPlan::Device);
  // No pinned staging: a plain copy; a plain copy is the last resort.
  EXPECT_EQ(fallback_plan(WeightPlan::Streamed, nano()), WeightPlan::Device);
  EXPECT_EQ(fallback_plan(WeightPlan::Device, nano()), WeightPlan::Device);
  // Walking the chain from any start ends at Device in at most two steps.
  for (WeightPlan start : {WeightPlan::InPlace, WeightPlan::Streamed, WeightPlan::Device}) {
    WeightPlan p = start;
    for (int i = 0; i < 2; ++i) p = fallback_plan(p, orin());
    EXPECT_EQ(p, WeightPlan::Device) << plan_name(start);
  }
}

TEST(MemoryPlan, UsableMemoryOfAnIntegratedGpuIsWhatTheSystemHasAvailable) {
  EXPECT_EQ(usable_device_bytes(discrete()), discrete().free_bytes);
  EXPECT_EQ(usable_device_bytes(nano()), 3 * kGiB - kIntegratedOsReserve);
  DeviceDesc tight = nano();
  tight.mem_available = kIntegratedOsReserve / 2;
  EXPECT_EQ(usable_device_bytes(tight), 0u);
  DeviceDesc unknown = nano();
  unknown.mem_available = 0;  // no /proc/meminfo: the runtime's figure
  EXPECT_EQ(usable_device_bytes(unknown), unknown.free_bytes);
  EXPECT_EQ(usable_device_bytes(DeviceDesc()), 0u);
}

TEST(MemoryPlan, PlacementCountsTheModelOnceWhenStreamed) {
  const int64_t gpu = 900, cpu = 100;
  const WeightPlacement s = place_weights(WeightPlan::Streamed, gpu, cpu);
  EXPECT_EQ(s.device, gpu);
  EXPECT_EQ(s.page_cache, cpu);  // the offloaded layers' pages are released
  const WeightPlacement i = place_weights(WeightPlan::InPlace, gpu, cpu);
  EXPECT_EQ(i.device, 0);
  EXPECT_EQ(i.page_cache, gpu + cpu);
  const WeightPlacement d = place_weights(WeightPlan::Device, gpu, cpu);
  EXPECT_EQ(d.device + d.page_cache, 2 * gpu + cpu);  // the file stays cached beside the copy
}

TEST(MemoryPlan, TegraX1ProfileIsANanoCappedByTheRealDevice) {
  const DeviceDesc e = emulated_device("tegra-x1", 2, discrete());
  EXPECT_TRUE(e.present);
  EXPECT_TRUE(e.integrated);
  EXPECT_FALSE(e.host_register);
  EXPECT_EQ(e.cc, 53);
  EXPECT_EQ(e.total_bytes, 2 * kGiB);
  EXPECT_EQ(choose_memory_plan(e, false).weights, WeightPlan::Streamed);
  EXPECT_EQ(usable_device_bytes(e), 2 * kGiB - kIntegratedOsReserve);
  DeviceDesc small = discrete();
  small.free_bytes = kGiB;
  small.total_bytes = kGiB;
  EXPECT_EQ(emulated_device("tegra-x1", 4, small).total_bytes, kGiB);  // cannot promise more than exists
  EXPECT_EQ(emulated_device("tegra-x1", 4, DeviceDesc()).total_bytes, 4 * kGiB);
  EXPECT_THROW(emulated_device("tegra-x2", 4, DeviceDesc()), Error);
  EXPECT_THROW(emulated_device("tegra-x1", 0, DeviceDesc()), Error);
}

TEST(MemoryPlan, EmulatedMemoryFromTheEnvironment) {
  ::unsetenv("JETLM_EMULATE_MEM_GB");
  EXPECT_EQ(emulated_mem_gb_from_env(), 4.0);
  ::setenv("JETLM_EMULATE_MEM_GB", "2", 1);
  EXPECT_EQ(emulated_mem_gb_from_env(), 2.0);
  ::setenv("JETLM_EMULATE_MEM_GB", "2GB", 1);
  EXPECT_THROW(emulated_mem_gb_from_env(), Error);
  ::unsetenv("JETLM_EMULATE_MEM_GB");
}

TEST(ContextMemory, LayerTableNamesEveryTensorOfALayer) {
  auto m = Model::load(data_path("models/tiny-gemma3-q4_k_m.gguf"));
  int64_t in_file = 0;
  for (const GgufTensor& t : m->file().tensors())
    if (t.name.compare(0, 6, "blk.0.") == 0) in_file += static_cast<int64_t>(t.nbytes);
  EXPECT_EQ(layer_weight_bytes(m->tensors().layers[0]), in_file);
  const ContextMemory all = context_memory(m->hparams(), m->tensors(), ContextShape());
  int64_t file_total = 0;
  for (const GgufTensor& t : m->file().tensors()) file_total += static_cast<int64_t>(t.nbytes);
  EXPECT_EQ(all.weights, file_total);
}

TEST(ContextMemory, SlidingWindowLayersKeepOnlyTheirRing) {
  HParams hp;
  hp.n_layer = 6;
  hp.n_embd = 64;
  hp.n_ff = 128;
  hp.n_head = 4;
  hp.n_head_kv = 1;
  hp.head_dim_k = hp.head_dim_v = 16;
  hp.n_vocab = 100;
  hp.sliding_window = 512;
  hp.layer_swa = {true, true, true, true, true, false};  // Gemma 3: 5 local, 1 global
  ModelTensors t;
  t.layers.resize(6);
  ContextShape s;
  s.n_ctx = 32768;
  s.n_batch = 1;
  const int64_t row = (16 + 16) * 2;  // K and V of one position, f16
  EXPECT_EQ(layer_kv_bytes(hp, 0, s), 512 * row);
  EXPECT_EQ(layer_kv_bytes(hp, 5, s), 32768 * row);
  EXPECT_EQ(context_memory(hp, t, s).kv, (5 * 512 + 32768) * row);
  // The fitter counts the layers offloaded (the last ones first), not n times the largest.
  GpuFitInputs in;
  in.n_ctx = 32768;
  in.n_batch = 1;
  const GpuFit f = estimate_gpu_fit(hp, t, in);
  EXPECT_EQ(f.bytes_for(1, 6) - f.fixed_bytes, 32768 * row);
  EXPECT_EQ(f.bytes_for(2, 6) - f.fixed_bytes, (32768 + 512) * row);
}

TEST(FilePages, ReleasedPagesLeaveMemoryAndReadBackFromTheFile) {
  const std::string path = jetlm_test::temp_dir() + "/pages.bin";
  const size_t n = size_t(8) << 20;
  {
    std::ofstream f(path, std::ios::binary);
    for (size_t i = 0; i < n; ++i) f.put(static_cast<char>(i * 131 + 7));
  }
  {  // Dirty pages stay cached until written back: the model file is clean, so make this one clean too.
    const int fd = ::open(path.c_str(), O_RDONLY);
    ASSERT_GE(fd, 0);
    ::fsync(fd);
    ::close(fd);
  }
  MappedFile map(path);
  const uint8_t* p = map.data();
  ASSERT_EQ(map.size(), n);
  uint64_t sum = 0;
  for (size_t i = 0; i < n; ++i) sum += p[i];
  Mapping m;
  ASSERT_TRUE(find_mapping(p, n, &m));
  EXPECT_EQ(m.path.find("pages.bin") != std::string::npos, true) << m.path;
  EXPECT_EQ(m.offset, 0u);
  const size_t before = resident_bytes(p, n);
  // From one byte in: only the whole pages inside are released.
  const size_t released = release_file_pages(p + 1, n - 1);
  EXPECT_GT(released, 0u);
  EXPECT_LT(released, n);
  const size_t after = resident_bytes(p, n);
  // Anonymous memory is not a file: nothing to release.
  std::vector<uint8_t> anon(n);
  EXPECT_EQ(release_file_pages(anon.data(), anon.size()), 0u);
  // tmpfs keeps its pages (they are the file); a disk file system drops them.
  if (before == n && after == before) {
    uint64_t again = 0;
    for (size_t i = 0; i < n; ++i) again += p[i];
    EXPECT_EQ(again, sum);
    GTEST_SKIP() << "this file system keeps released pages cached";
  }
  EXPECT_LE(after, n / 4);  // (the page outside the range, and a neighbour the kernel may keep)
  uint64_t again = 0;
  for (size_t i = 0; i < n; ++i) again += p[i];
  EXPECT_EQ(again, sum);  // the map still reads the file
}

TEST(MemoryPlan, InfoPrintsThePlanForATegraX1Profile) {
  ::setenv("JETLM_DEVICE_PROFILE", "tegra-x1", 1);
  ::setenv("JETLM_EMULATE_MEM_GB", "2", 1);
  const jetlm_test::RunResult r =
      jetlm_test::run_jetlm({"info", "-m", data_path("models/tiny-gemma3-q4_k_m.gguf"), "-c", "32768", "-ngl", "99"});
  ::unsetenv("JETLM_DEVICE_PROFILE");
  ::unsetenv("JETLM_EMULATE_MEM_GB");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  if (gpu_available()) GTEST_SKIP() << "a real GPU is planned for here";
  EXPECT_NE(r.out.find("memory plan:     streamed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("in 1792.00 MiB usable of 2048.00 MiB"), std::string::npos) << r.out;  // 2 GiB less the OS reserve
  // The tiny model fits whole: every layer and the output.
  auto m = Model::load(data_path("models/tiny-gemma3-q4_k_m.gguf"));
  const int L = m->hparams().n_layer;
  EXPECT_NE(r.out.find(str_cat("fits:            -ngl ", L + 1, " (", L, " of ", L, " layers and the output)")),
            std::string::npos)
      << r.out;
  // The KV line counts the sliding-window layers' rings.
  ContextShape s;
  s.n_ctx = 32768;
  const int64_t kv = context_memory(m->hparams(), m->tensors(), s).kv;
  char want[64];
  std::snprintf(want, sizeof want, "KV cache %.2f MiB", static_cast<double>(kv) / (1024.0 * 1024.0));
  EXPECT_NE(r.out.find(want), std::string::npos) << r.out;
}

TEST(MemoryPlan, InfoWithoutAGpuSaysSo) {
  if (gpu_available()) GTEST_SKIP() << "there is a GPU here";
  const jetlm_test::RunResult r =
      jetlm_test::run_jetlm({"info", "-m", data_path("models/tiny-llama-q4_k_m.gguf"), "-ngl", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("GPU:             none"), std::string::npos) << r.out;
}
