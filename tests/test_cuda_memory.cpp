// The memory plans on a real GPU (skipped without one): weights streamed
// through pinned staging with the file's pages released, and registration
// failing at run time falling back to a copy. The plan choice itself is tested
// without a GPU in test_memory_plan.cpp.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backends/gpu_factory.h"
#include "gguf/gguf.h"
#include "test_util.h"
#include "util/error.h"
#include "util/file_pages.h"
#ifdef JETLM_HAVE_CUDA
#include <cuda_runtime.h>

#include "backends/cuda/cuda_backend.h"
#endif

using namespace jetlm;
using namespace jetlm_test;

#ifdef JETLM_HAVE_CUDA
namespace {

// A float32 weight [rows][cols] in a file of its own, mapped read-only (clean pages: written back first).
struct MappedWeight {
  std::vector<float> host;
  GgufTensor t;
  void* map = nullptr;
  size_t bytes = 0;
  MappedWeight(int64_t rows, int64_t cols, const std::string& name, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd;
    host.resize(static_cast<size_t>(rows * cols));
    for (float& v : host) v = nd(rng);
    bytes = host.size() * sizeof(float);
    const std::string path = temp_dir() + "/" + name;
    std::vector<uint8_t> raw(bytes);
    std::memcpy(raw.data(), host.data(), bytes);
    write_bytes(path, raw);
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) return;
    ::fsync(fd);
    map = ::mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fd, 0);
    ::close(fd);
    t.name = name;
    t.type = TensorType::F32;
    t.n_dims = 2;
    t.ne[0] = cols;
    t.ne[1] = rows;
    t.nbytes = bytes;
    t.data = static_cast<const uint8_t*>(map);
  }
  ~MappedWeight() {
    if (map && map != MAP_FAILED) ::munmap(map, bytes);
  }
};

// y = W x on a backend for one token.
std::vector<float> product(Backend& be, const Weight& w, const std::vector<float>& x) {
  const int32_t pos = 0, id = 0;
  Batch b;
  b.pos = &pos;
  b.ids = &id;
  b.n = 1;
  be.begin(b);
  float* dx = be.alloc(static_cast<int64_t>(x.size()));
  float* dy = be.alloc(w.rows);
  be.write(dx, x.data(), static_cast<int64_t>(x.size()));
  be.matmul(w, dx, 1, dy);
  std::vector<float> y(static_cast<size_t>(w.rows));
  be.read(dy, y.data(), w.rows);
  return y;
}

std::unique_ptr<Backend> gpu_with_plan(const char* plan, bool unified) {
  if (plan) ::setenv("JETLM_CUDA_PLAN", plan, 1);
  GpuOptions o;
  o.unified = unified;
  std::unique_ptr<Backend> be = make_gpu_backend(o);
  ::unsetenv("JETLM_CUDA_PLAN");
  return be;
}

}  // namespace

TEST(CudaMemoryPlan, StreamedWeightsMatchACopyAndLeaveThePageCache) {
  if (!gpu_available()) GTEST_SKIP() << "no GPU here";
  MappedWeight mw(96, 4096, "streamed.bin", 3);         // 1.5 MiB: one staging chunk
  MappedWeight big(1100, 4096, "streamed_big.bin", 4);  // 17 MiB: five 4 MiB chunks through both buffers
  ASSERT_NE(mw.map, MAP_FAILED);
  ASSERT_NE(big.map, MAP_FAILED);
  auto streamed = gpu_with_plan("streamed", false);
  auto copied = gpu_with_plan("device", false);
  auto* cs = dynamic_cast<cuda::CudaBackend*>(streamed.get());
  ASSERT_NE(cs, nullptr);
  EXPECT_EQ(cs->weight_plan(), WeightPlan::Streamed);
  for (MappedWeight* m : {&mw, &big}) {
    volatile float sink = 0;
    for (size_t i = 0; i < m->host.size(); i += 1024) sink = sink + reinterpret_cast<const float*>(m->map)[i];
    const size_t before = resident_bytes(m->map, m->bytes);
    const Weight ws = streamed->load_weight(m->t);
    const size_t after = resident_bytes(m->map, m->bytes);
    EXPECT_EQ(cs->weight_plan(), WeightPlan::Streamed) << "no fallback expected";
    EXPECT_FALSE(streamed->weights_in_place());
    // Released: at most the partial pages at the ends stay (unless this file system keeps them).
    if (before > 2 * 4096) {
      EXPECT_LE(after, before / 2) << m->t.name;
    }
    std::vector<float> x(static_cast<size_t>(m->t.ne[0]));
    std::mt19937 rng(9);
    std::normal_distribution<float> nd;
    for (float& v : x) v = nd(rng);
    const Weight wc = copied->load_weight(m->t);
    EXPECT_EQ(product(*streamed, ws, x), product(*copied, wc, x)) << m->t.name;
  }
}

TEST(CudaMemoryPlan, RegistrationFailingAtRunTimeFallsBackToACopy) {
  if (!gpu_available()) GTEST_SKIP() << "no GPU here";
  DeviceDesc d;
  ASSERT_TRUE(gpu_describe(0, &d));
  if (!d.host_register) GTEST_SKIP() << "this device cannot register host memory at all (the plan never tries)";
  MappedWeight mw(64, 1024, "fallback.bin", 5);
  ASSERT_NE(mw.map, MAP_FAILED);
  Mapping m;
  ASSERT_TRUE(find_mapping(mw.map, mw.bytes, &m));
  // Registered already (by someone else): the backend's own registration of this mapping fails.
  unsigned flags = cudaHostRegisterPortable;
#if defined(CUDART_VERSION) && CUDART_VERSION >= 11010
  flags |= cudaHostRegisterReadOnly;
#endif
  ASSERT_EQ(cudaHostRegister(reinterpret_cast<void*>(m.begin), m.end - m.begin, flags), cudaSuccess);
  {
    auto in_place = gpu_with_plan("in-place", true);
    auto copied = gpu_with_plan("device", false);
    auto* ci = dynamic_cast<cuda::CudaBackend*>(in_place.get());
    ASSERT_NE(ci, nullptr);
    EXPECT_EQ(ci->weight_plan(), WeightPlan::InPlace);
    testing::internal::CaptureStderr();
    const Weight wi = in_place->load_weight(mw.t);
    const std::string said = testing::internal::GetCapturedStderr();
    EXPECT_EQ(ci->weight_plan(), fallback_plan(WeightPlan::InPlace, ci->device_desc()));
    EXPECT_NE(said.find("falling back"), std::string::npos) << said;
    EXPECT_EQ(std::count(said.begin(), said.end(), '\n'), 1) << said;  // one line
    std::vector<float> x(1024, 0.5f);
    const Weight wc = copied->load_weight(mw.t);
    EXPECT_EQ(product(*in_place, wi, x), product(*copied, wc, x));
  }
  cudaHostUnregister(reinterpret_cast<void*>(m.begin));
}

TEST(CudaMemoryPlan, ReportedMemoryIsWhatAModelMayTake) {
  if (!gpu_available()) GTEST_SKIP() << "no GPU here";
  DeviceDesc d;
  ASSERT_TRUE(gpu_describe(0, &d));
  size_t free_b = 0, total_b = 0;
  ASSERT_TRUE(gpu_memory_info(&free_b, &total_b));
  EXPECT_EQ(total_b, d.total_bytes);
  EXPECT_LE(free_b, total_b);
  if (!d.emulated.empty()) {
    // The profile's cap: allocations past it are refused as out of device memory.
    auto be = gpu_with_plan(nullptr, false);
    EXPECT_LE(d.total_bytes, size_t(1024) << 30);
    EXPECT_THROW(be->alloc(static_cast<int64_t>(d.total_bytes / sizeof(float)) + 1), OutOfDeviceMemory);
    size_t f1 = 0, t1 = 0;
    float* p = be->alloc(int64_t(64) << 20);  // 256 MiB
    ASSERT_NE(p, nullptr);
    ASSERT_TRUE(gpu_memory_info(&f1, &t1));
    EXPECT_LE(f1 + (size_t(256) << 20), free_b + 4096) << "the cap counts what was allocated";
  }
}
#else
TEST(CudaMemoryPlan, NeedsACudaBuild) { GTEST_SKIP() << "built without CUDA"; }
#endif
