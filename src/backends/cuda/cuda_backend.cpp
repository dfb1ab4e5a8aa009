// The CUDA backend: device memory, the op queue, host transfers and the
// decode-step graph. Running the queued ops is in cuda_exec.cpp.
#include "backends/cuda/cuda_backend.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "backends/cuda/arch.h"
#include "backends/cuda/cuda_check.h"
#include "backends/cuda/device_desc.h"
#include "gguf/gguf.h"
#include "util/error.h"
#include "util/file_pages.h"

namespace jetlm {
namespace cuda {

namespace {

bool env_flag(const char* name, bool fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  return !(v[0] == '0' || v[0] == 'n' || v[0] == 'N' || v[0] == 'f' || v[0] == 'F');
}

// JETLM_CUDA_MV="split=2,warps=24,scost=1,early=1,prefetch=0,int8=0,persist=0,bps=2,mvn=8,mvchunk=32": matrix-vector launch
// tuning for experiments (kernels.h); unknown keys are ignored.
MatvecTuning matvec_tuning_from_env() {
  MatvecTuning t;
  const char* v = std::getenv("JETLM_CUDA_MV");
  if (!v) return t;
  const std::string s(v);
  size_t i = 0;
  while (i < s.size()) {
    size_t e = s.find(',', i);
    if (e == std::string::npos) e = s.size();
    const std::string kv = s.substr(i, e - i);
    const size_t eq = kv.find('=');
    if (eq != std::string::npos) {
      const std::string k = kv.substr(0, eq);
      const int x = std::atoi(kv.c_str() + eq + 1);
      if (k == "split" && x >= 0) t.split = x;
      else if (k == "warps" && x >= 1) t.warps_per_sm = x;
      else if (k == "scost" && x >= 0) t.split_cost = x;
      else if (k == "early" && x >= 0 && x <= 5) t.early_trigger = x;
      else if (k == "prefetch") t.prefetch = x != 0;
      else if (k == "int8") t.int8 = x != 0;
      else if (k == "persist") t.persist = x != 0;
      else if (k == "bps" && x >= 0) t.blocks_per_sm = x;
      else if (k == "mvn" && x >= 1 && x <= 8) t.max_tokens = x;
      else if (k == "mvchunk" && x >= 0) t.chunked_tokens = x;
    }
    i = e + 1;
  }
  return t;
}

std::string mib(size_t bytes) { return str_cat(static_cast<long long>((bytes + (1u << 19)) >> 20), " MiB"); }

}  // namespace

bool same_op(const Op& x, const Op& y) {
  return x.kind == y.kind && x.a == y.a && x.b == y.b && x.c == y.c && x.out == y.out && x.count == y.count &&
         x.dim == y.dim && x.n == y.n && x.f == y.f && x.vec == y.vec && x.w.data == y.w.data && x.w.type == y.w.type &&
         x.w.cols == y.w.cols && x.w.rows == y.w.rows && x.n_head == y.n_head && x.head_dim == y.head_dim &&
         x.rope.n_rot == y.rope.n_rot && x.rope.freq_base == y.rope.freq_base && x.rope.freq_scale == y.rope.freq_scale &&
         x.rope.neox == y.rope.neox && x.ff == y.ff && x.attn.n_head == y.attn.n_head &&
         x.attn.n_head_kv == y.attn.n_head_kv && x.attn.head_dim_k == y.attn.head_dim_k &&
         x.attn.head_dim_v == y.attn.head_dim_v && x.attn.scale == y.attn.scale && x.attn.window == y.attn.window &&
         x.kv.k == y.kv.k && x.kv.v == y.kv.v && x.kv.type == y.kv.type && x.kv.n_ctx == y.kv.n_ctx &&
         x.kv.n_seq == y.kv.n_seq && x.kv.ring == y.kv.ring &&
         x.kv.k_row == y.kv.k_row && x.kv.v_row == y.kv.v_row && x.splits == y.splits && x.glu == y.glu;
}

CudaBackend::CudaBackend(const GpuOptions& opts) : opts_(opts), device_(opts.device) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    (void)cudaGetLastError();
    fail("no CUDA device found: GPU offload (-ngl) needs an NVIDIA GPU and driver (use -ngl 0 for the CPU)");
  }
  if (device_ < 0 || device_ >= count) fail("CUDA device ", device_, " does not exist (", count, " found)");
  CUDA_CHECK(cudaSetDevice(device_));
  kernels_init();
  set_matvec_tuning(matvec_tuning_from_env());
  // The memory plan from what the device can do (or what the emulated profile says it can).
  desc_ = describe_device(device_);
  if (!desc_.present) fail("CUDA device ", device_, ": cannot read its properties");
  MemoryPlan plan = choose_memory_plan(desc_, opts.unified);
  // JETLM_CUDA_PLAN=device|in-place|streamed: another plan on this device (tests, measurements).
  if (const char* forced = std::getenv("JETLM_CUDA_PLAN")) {
    const std::string f(forced);
    if (f == "device") plan.weights = WeightPlan::Device;
    else if (f == "in-place" && desc_.host_register) plan.weights = WeightPlan::InPlace;
    else if (f == "streamed") plan.weights = WeightPlan::Streamed;
    else if (!f.empty()) fail("JETLM_CUDA_PLAN=", f, ": expected device, streamed or (with host registration) in-place");
    if (!f.empty()) plan.why = "JETLM_CUDA_PLAN";
  }
  plan_ = plan.weights;
  n_sm_ = desc_.sm_count;
  use_graphs_ = env_flag("JETLM_CUDA_GRAPHS", true);
  fuse_ = env_flag("JETLM_CUDA_FUSE", true);
  fork_ = env_flag("JETLM_CUDA_FORK", true);
  speculate_ = env_flag("JETLM_CUDA_SPECULATE", true);
#if defined(CUDART_VERSION) && CUDART_VERSION >= 12030
  set_pdl(cc_has_pdl(effective_cc(desc_.cc)) && env_flag("JETLM_CUDA_PDL", true));
#else
  set_pdl(false);
#endif
  name_ = str_cat("CUDA", device_, " (", desc_.name, ", sm_", desc_.cc, ", ", plan_name(plan_), " weights)");
  // Off the default path (a discrete GPU's copy), say what the plan does and why.
  if (plan_ != WeightPlan::Device || opts.unified)
    std::fprintf(stderr, "jetlm: %s: %s (%s)\n", name_.c_str(), plan_summary(plan_), plan.why.c_str());
  CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  CUDA_CHECK(cudaStreamCreateWithFlags(&side_, cudaStreamNonBlocking));
  CUDA_CHECK(cudaEventCreateWithFlags(&ev_fork_, cudaEventDisableTiming));
  CUDA_CHECK(cudaEventCreateWithFlags(&ev_join_, cudaEventDisableTiming));
  CUDA_CHECK(cudaEventCreateWithFlags(&batch_uploaded_, cudaEventDisableTiming));
  CUDA_CHECK(cudaEventCreateWithFlags(&stage_free_, cudaEventDisableTiming));
  stats_ = env_flag("JETLM_CUDA_STATS", false);
  if (stats_) {
    CUDA_CHECK(cudaEventCreate(&ev_start_));
    CUDA_CHECK(cudaEventCreate(&ev_stop_));
  }
  ensure_batch_capacity(1);
}

CudaBackend::~CudaBackend() {
  // Errors cannot propagate from here; release what we can.
  cudaStreamSynchronize(stream_);
  if (stats_) {
    std::fprintf(stderr,
                 "jetlm %s: %d flushes; %d graphs captured (%.2f ms host each); %d graph launches, %.1f us of GPU each "
                 "(%d timed); %lld ops launched directly in %.1f ms of host time; PDL %s\n",
                 name_.c_str(), flushes_, graphs_captured_, graphs_captured_ ? capture_ms_ / graphs_captured_ : 0.0,
                 graph_launches_, graph_timed_ ? 1000.0 * graph_gpu_ms_ / graph_timed_ : 0.0, graph_timed_,
                 static_cast<long long>(direct_ops_), direct_ms_, pdl_enabled() ? "on" : "off");
    static const char* const kKinds[] = {"embed", "rms_norm", "matmul", "add_bias", "rope", "attention", "glu", "add", "scale", "copy"};
    static_assert(sizeof(kKinds) / sizeof(kKinds[0]) == kOpKinds, "a name per OpKind");
    std::fprintf(stderr, "jetlm %s: host us per launch:", name_.c_str());
    for (int k = 0; k < kOpKinds; ++k)
      if (op_host_[k].count) std::fprintf(stderr, " %s %.1f (%lld)", kKinds[k], 1000.0 * op_host_[k].ms / op_host_[k].count,
                                          static_cast<long long>(op_host_[k].count));
    std::fprintf(stderr, "\n");
    static const char* const kPhases[] = {"begin+queue", "launch", "wait", "copy", "begin alone"};
    std::fprintf(stderr, "jetlm %s: host us per replayed step:", name_.c_str());
    for (int k = 0; k < 5; ++k)
      if (step_host_n_[k]) std::fprintf(stderr, " %s %.1f", kPhases[k], 1000.0 * step_host_ms_[k] / step_host_n_[k]);
    std::fprintf(stderr, "\n");
    cudaEventDestroy(ev_start_);
    cudaEventDestroy(ev_stop_);
  }
  if (graph_exec_) cudaGraphExecDestroy(graph_exec_);
  for (StepGraph& g : step_graphs_)
    if (g.exec) cudaGraphExecDestroy(g.exec);
  blas_destroy(blas_);
  for (void* p : allocs_) cudaFree(p);
  note_device_alloc(-alloc_bytes_);
  for (int i = 0; i < 2; ++i) {
    if (h_load_[i]) cudaFreeHost(h_load_[i]);
    if (load_free_[i]) cudaEventDestroy(load_free_[i]);
  }
  for (const Registered& r : registered_) cudaHostUnregister(reinterpret_cast<void*>(r.begin));
  if (h_batch_) cudaFreeHost(h_batch_);
  if (h_stage_) cudaFreeHost(h_stage_);
  for (const HostBuf& b : host_bufs_) cudaFreeHost(const_cast<float*>(b.begin));
  cudaEventDestroy(batch_uploaded_);
  cudaEventDestroy(stage_free_);
  cudaEventDestroy(ev_fork_);
  cudaEventDestroy(ev_join_);
  cudaStreamDestroy(side_);
  cudaStreamDestroy(stream_);
}

void* CudaBackend::dev_alloc(size_t bytes, const std::string& what) {
  void* p = nullptr;
  cudaError_t err = cudaSuccess;
  // An emulated profile's memory is all there is: refuse what would pass its cap.
  if (!desc_.emulated.empty() && device_allocated() + static_cast<int64_t>(bytes) > static_cast<int64_t>(desc_.total_bytes))
    err = cudaErrorMemoryAllocation;
  else
    err = cudaMalloc(&p, bytes ? bytes : 1);
  if (err == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();
    size_t free_b = 0, total_b = 0;
    device_memory(&free_b, &total_b);
    throw OutOfDeviceMemory(str_cat("out of GPU memory allocating ", mib(bytes), " for ", what, " (", mib(free_b),
                                    " free of ", mib(total_b), ")"));
  }
  CUDA_CHECK(err);
  allocs_.push_back(p);
  alloc_bytes_ += static_cast<int64_t>(bytes);
  note_device_alloc(static_cast<int64_t>(bytes));
  return p;
}

void CudaBackend::plan_failed(const std::string& why) {
  const WeightPlan next = fallback_plan(plan_, desc_);
  std::fprintf(stderr, "jetlm: %s weights failed (%s): falling back to %s weights\n", plan_name(plan_), why.c_str(),
               plan_name(next));
  plan_ = next;
}

bool CudaBackend::stream_copy(void* dst, const void* src, size_t bytes) {
  for (int i = 0; i < 2; ++i) {
    if (h_load_[i]) continue;
    if (cudaHostAlloc(&h_load_[i], kLoadChunk, cudaHostAllocDefault) != cudaSuccess ||
        cudaEventCreateWithFlags(&load_free_[i], cudaEventDisableTiming) != cudaSuccess) {
      (void)cudaGetLastError();
      return false;
    }
  }
  const char* s = static_cast<const char*>(src);
  char* d = static_cast<char*>(dst);
  for (size_t off = 0, k = 0; off < bytes; off += kLoadChunk, ++k) {
    const size_t n = std::min(kLoadChunk, bytes - off);
    const int b = static_cast<int>(k & 1);
    CUDA_CHECK(cudaEventSynchronize(load_free_[b]));  // its previous chunk has reached the device
    std::memcpy(h_load_[b], s + off, n);
    CUDA_CHECK(cudaMemcpyAsync(d + off, h_load_[b], n, cudaMemcpyHostToDevice, stream_));
    CUDA_CHECK(cudaEventRecord(load_free_[b], stream_));
  }
  return true;
}

// Device address of host memory inside the file mapping, registering the
// whole mapping (found in /proc/self/maps) the first time one of its tensors
// is loaded: weights are then read in place, counted once in memory.
const void* CudaBackend::unified_view(const void* host, size_t bytes, const std::string& what) {
  const uintptr_t p = reinterpret_cast<uintptr_t>(host);
  for (const Registered& r : registered_)
    if (p >= r.begin && p + bytes <= r.end) return r.dev + (p - r.begin);
  Mapping m;
  if (!find_mapping(host, bytes, &m)) fail("unified memory: cannot find the mapping that holds ", what, " in /proc/self/maps");
  unsigned flags = cudaHostRegisterMapped | cudaHostRegisterPortable;
#if defined(CUDART_VERSION) && CUDART_VERSION >= 11010
  flags |= cudaHostRegisterReadOnly;  // the model is mapped read-only
#endif
  const cudaError_t err = cudaHostRegister(reinterpret_cast<void*>(m.begin), m.end - m.begin, flags);
  void* dev = nullptr;
  if (err == cudaSuccess && cudaHostGetDevicePointer(&dev, reinterpret_cast<void*>(m.begin), 0) == cudaSuccess) {
    registered_.push_back(Registered{m.begin, m.end, static_cast<char*>(dev)});
    return static_cast<char*>(dev) + (p - m.begin);
  }
  if (err == cudaSuccess) cudaHostUnregister(reinterpret_cast<void*>(m.begin));
  (void)cudaGetLastError();
  plan_failed(str_cat("cannot register the model mapping (", mib(m.end - m.begin), ") with the GPU: ", cudaGetErrorString(err)));
  return nullptr;
}

Weight CudaBackend::load_weight(const GgufTensor& t) {
  if (!wtype_supported(static_cast<uint32_t>(t.type)))
    fail("tensor ", t.name, ": type ", type_name(t.type), " is not supported by the CUDA backend");
  Weight w;
  w.src = &t;
  w.type = t.type;
  w.cols = t.ne[0];
  w.rows = t.n_rows();
  const size_t bytes = row_bytes(t.type, w.cols) * static_cast<size_t>(w.rows);
  if (bytes > t.nbytes) fail("tensor ", t.name, ": ", t.nbytes, " bytes, expected ", bytes);
  const int align = wtype_row_alignment(static_cast<WType>(t.type));
  // In place, unless the file's alignment is below what the kernels load with.
  if (plan_ == WeightPlan::InPlace && reinterpret_cast<uintptr_t>(t.data) % static_cast<uintptr_t>(align) == 0) {
    w.data = unified_view(t.data, bytes, "tensor " + t.name);
    if (w.data) return w;
  }
  void* d = dev_alloc(bytes, "tensor " + t.name);
  w.data = d;
  if (plan_ == WeightPlan::Streamed) {
    if (stream_copy(d, t.data, bytes)) {
      // The GPU's copy is the only one the GPU reads; the CPU reads this range again only
      // for a tensor it shares (a tied table), which then faults back in from the file.
      released_bytes_ += release_file_pages(t.data, bytes);
      return w;
    }
    plan_failed("no pinned staging memory");
  }
  CUDA_CHECK(cudaMemcpy(d, t.data, bytes, cudaMemcpyHostToDevice));
  return w;
}

bool CudaBackend::device_memory(size_t* free_bytes, size_t* total_bytes) const {
  const DeviceDesc d = describe_device(device_);
  if (!d.present) return false;
  *free_bytes = usable_device_bytes(d);
  *total_bytes = d.total_bytes;
  return true;
}

float* CudaBackend::alloc(int64_t n_floats) {
  if (n_floats < 0) fail("alloc: negative size ", n_floats);
  return static_cast<float*>(dev_alloc(static_cast<size_t>(n_floats) * sizeof(float), "activations"));
}

KvLayer CudaBackend::alloc_kv(int64_t n_seq, int64_t n_ctx, int64_t ring, int64_t k_row, int64_t v_row, TensorType type) {
  if (type != TensorType::F32 && type != TensorType::F16) fail("KV cache type must be f32 or f16");
  KvLayer kv;
  kv.type = type;
  kv.n_seq = n_seq;
  kv.n_ctx = n_ctx;
  kv.ring = ring;
  kv.k_row = k_row;
  kv.v_row = v_row;
  const size_t rows = static_cast<size_t>(n_seq * ring);
  char* p = static_cast<char*>(dev_alloc(rows * static_cast<size_t>(k_row + v_row) * kv.elem_size(), "the KV cache"));
  kv.k = p;
  kv.v = p + rows * static_cast<size_t>(k_row) * kv.elem_size();
  return kv;
}

void CudaBackend::copy_bytes(void* dst, const void* src, size_t bytes) {
  flush();  // ordered after the queued ops that write the source
  CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream_));
}

void CudaBackend::stage_reserve(size_t bytes) {
  CUDA_CHECK(cudaEventSynchronize(stage_free_));  // the last transfer through the stage is done
  if (bytes <= stage_bytes_) return;
  if (h_stage_) CUDA_CHECK(cudaFreeHost(h_stage_));
  h_stage_ = nullptr;
  stage_bytes_ = 0;
  void* p = nullptr;
  CUDA_CHECK(cudaHostAlloc(&p, bytes, cudaHostAllocDefault));
  h_stage_ = static_cast<float*>(p);
  stage_bytes_ = bytes;
}

void CudaBackend::write(float* dst, const float* host, int64_t n) {
  // A write before the step's first op (the input of a step whose first
  // layers ran on the CPU) precedes the recording; after it, the step starts.
  const bool start = spec_ == Spec::Armed;
  if (start) spec_ = Spec::Off;
  flush();
  const size_t bytes = static_cast<size_t>(n) * sizeof(float);
  stage_reserve(bytes);
  std::memcpy(h_stage_, host, bytes);
  CUDA_CHECK(cudaMemcpyAsync(dst, h_stage_, bytes, cudaMemcpyHostToDevice, stream_));
  CUDA_CHECK(cudaEventRecord(stage_free_, stream_));
  if (start) spec_launch();
}

float* CudaBackend::alloc_host(int64_t n_floats) {
  void* p = nullptr;
  CUDA_CHECK(cudaHostAlloc(&p, static_cast<size_t>(std::max<int64_t>(n_floats, 1)) * sizeof(float), cudaHostAllocDefault));
  float* f = static_cast<float*>(p);
  host_bufs_.push_back(HostBuf{f, f + n_floats});
  return f;
}

bool CudaBackend::is_host_buf(const float* p, int64_t n) const {
  for (const HostBuf& b : host_bufs_)
    if (p >= b.begin && p + n <= b.end) return true;
  return false;
}

void CudaBackend::read(const float* src, float* host, int64_t n) {
  flush();
  const size_t bytes = static_cast<size_t>(n) * sizeof(float);
  const Clock::time_point t0 = stats_ ? Clock::now() : Clock::time_point{};
  // Page-locked memory of alloc_host() and large reads (all logits of a long
  // batch) are copied directly; the rest through the page-locked stage.
  const bool direct = is_host_buf(host, n) || bytes > (size_t(64) << 20);
  if (!direct) stage_reserve(bytes);
  CUDA_CHECK(cudaMemcpyAsync(direct ? static_cast<void*>(host) : h_stage_, src, bytes, cudaMemcpyDeviceToHost, stream_));
  if (!direct) CUDA_CHECK(cudaEventRecord(stage_free_, stream_));
  CUDA_CHECK(cudaStreamSynchronize(stream_));
  const Clock::time_point t1 = stats_ ? Clock::now() : Clock::time_point{};
  if (!direct) std::memcpy(host, h_stage_, bytes);
  step_done(t0, t1);
}

void CudaBackend::sync() {
  flush();
  const Clock::time_point t0 = stats_ ? Clock::now() : Clock::time_point{};
  CUDA_CHECK(cudaStreamSynchronize(stream_));
  step_done(t0, t0);
}

void CudaBackend::step_done(Clock::time_point wait_begin, Clock::time_point wait_end) {
  if (!graph_timing_pending_) return;
  float ms = 0.f;
  CUDA_CHECK(cudaEventElapsedTime(&ms, ev_start_, ev_stop_));
  graph_gpu_ms_ += ms;
  ++graph_timed_;
  graph_timing_pending_ = false;
  read_end_ = Clock::now();
  step_time(2, wait_begin, wait_end);
  step_time(3, wait_end, read_end_);
}

void CudaBackend::drop_graph() {
  spec_fail();  // (the launched recording is complete: callers synchronize first)
  if (spec_ == Spec::Armed) spec_ = Spec::Off;
  if (graph_exec_) CUDA_CHECK(cudaGraphExecDestroy(graph_exec_));
  graph_exec_ = nullptr;
  graph_ops_.clear();
  for (StepGraph& g : step_graphs_) {
    if (g.exec) CUDA_CHECK(cudaGraphExecDestroy(g.exec));
    g.exec = nullptr;
    g.ops.clear();
  }
}

void CudaBackend::ensure_batch_capacity(int n) {
  if (n <= batch_cap_) return;
  CUDA_CHECK(cudaStreamSynchronize(stream_));
  drop_graph();  // it reads the old position buffer
  const int cap = std::max(n, 2 * batch_cap_);
  d_pos_ = static_cast<int32_t*>(dev_alloc(sizeof(int32_t) * 3 * cap, "batch positions"));
  d_ids_ = d_pos_ + cap;
  d_seq_ = d_pos_ + 2 * cap;
  if (h_batch_) CUDA_CHECK(cudaFreeHost(h_batch_));
  void* p = nullptr;
  CUDA_CHECK(cudaHostAlloc(&p, sizeof(int32_t) * 3 * cap, cudaHostAllocDefault));
  h_batch_ = static_cast<int32_t*>(p);
  batch_cap_ = cap;
}

void CudaBackend::begin(const Batch& batch) {
  const Clock::time_point t0 = stats_ ? Clock::now() : Clock::time_point{};
  flush();  // queued ops of the previous batch read the old positions
  if (batch.n <= 0) fail("begin: empty batch");
  ensure_batch_capacity(batch.n);
  CUDA_CHECK(cudaEventSynchronize(batch_uploaded_));
  batch_n_ = batch.n;
  runs_.clear();
  for (int i = 0; i < batch.n; ++i) {
    h_batch_[i] = batch.pos ? batch.pos[i] : 0;
    h_batch_[batch_cap_ + i] = batch.ids ? batch.ids[i] : 0;
    h_batch_[2 * batch_cap_ + i] = batch.seq_of(i);
    if (i > 0 && batch.seq_of(i) == batch.seq_of(i - 1)) ++runs_.back().second;
    else runs_.emplace_back(i, 1);
  }
  decode_step_ = batch.n > 1 && static_cast<int>(runs_.size()) == batch.n;
  // One copy of positions, ids and slots (d_pos_/h_batch_ are [3][batch_cap_]).
  CUDA_CHECK(cudaMemcpyAsync(d_pos_, h_batch_, sizeof(int32_t) * (2 * batch_cap_ + batch.n), cudaMemcpyHostToDevice, stream_));
  CUDA_CHECK(cudaEventRecord(batch_uploaded_, stream_));
  spec_ = Spec::Off;
  if (speculate_ && use_graphs_ && batch.repeats && batch.n == 1 && graph_exec_ && step_replayed_) spec_ = Spec::Armed;
  step_replayed_ = false;
  if (stats_ && batch.n == 1) step_time(4, t0, Clock::now());
}

void CudaBackend::spec_launch() {
  spec_ = Spec::Launched;
  spec_failed_ = false;
  spec_k_ = 0;
  launch_graph(graph_exec_);
}

void CudaBackend::spec_fail() {
  if (spec_ != Spec::Launched || spec_failed_) return;
  // The ops so far become a queue again; the rest are queued as usual.
  spec_failed_ = true;
  ops_.assign(graph_ops_.begin(), graph_ops_.begin() + static_cast<std::ptrdiff_t>(spec_k_));
}

void CudaBackend::enqueue(const Op& op) {
  if (spec_ == Spec::Armed) spec_launch();
  if (spec_ == Spec::Launched && !spec_failed_) {
    if (spec_k_ < graph_ops_.size() && same_op(op, graph_ops_[spec_k_])) {
      ++spec_k_;
      return;
    }
    spec_fail();
  }
  ops_.push_back(op);
}

void CudaBackend::launch_graph(cudaGraphExec_t exec) {
  const Clock::time_point t0 = stats_ ? Clock::now() : Clock::time_point{};
  if (stats_ && !graph_timing_pending_) CUDA_CHECK(cudaEventRecord(ev_start_, stream_));
  CUDA_CHECK(cudaGraphLaunch(exec, stream_));
  if (stats_ && !graph_timing_pending_) {
    CUDA_CHECK(cudaEventRecord(ev_stop_, stream_));
    graph_timing_pending_ = true;
    if (read_end_ != Clock::time_point{}) step_time(0, read_end_, t0);
    step_time(1, t0, Clock::now());
  }
  ++graph_launches_;
}

void CudaBackend::capture(std::vector<Op>& ops, cudaGraphExec_t& exec) {
  const auto t0 = std::chrono::steady_clock::now();
  for (int attempt = 0; attempt < 2 && !exec; ++attempt) {
    cudaGraph_t g = nullptr;
    CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
    try {
      run_ops();
    } catch (...) {
      cudaStreamEndCapture(stream_, &g);
      if (g) cudaGraphDestroy(g);
      (void)cudaGetLastError();
      ops_.clear();
      throw;
    }
    cudaError_t err = cudaStreamEndCapture(stream_, &g);
    cudaGraphExec_t e = nullptr;
    if (err == cudaSuccess) {
#if defined(CUDART_VERSION) && CUDART_VERSION >= 12000
      err = cudaGraphInstantiate(&e, g, 0);
#else
      err = cudaGraphInstantiate(&e, g, nullptr, nullptr, 0);
#endif
    }
    if (g) cudaGraphDestroy(g);
    if (err != cudaSuccess) {
      (void)cudaGetLastError();
      // A driver that cannot capture programmatic launches: capture plain ones.
      if (attempt == 0 && pdl_enabled()) {
        set_pdl(false);
        continue;
      }
      ops_.clear();
      CUDA_CHECK(err);
    }
    exec = e;
  }
  ops = ops_;
  ++graphs_captured_;
  capture_ms_ += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

void CudaBackend::flush() {
  if (spec_ == Spec::Launched) {
    if (!spec_failed_ && spec_k_ == graph_ops_.size()) {  // the whole recording, as launched
      spec_ = Spec::Off;
      step_replayed_ = true;
      ++flushes_;
      return;
    }
    spec_fail();  // a flush before the end of the recording
  }
  spec_ = Spec::Off;  // (armed: a flush before the step's first op)
  if (ops_.empty()) return;
  ++flushes_;
  // One-token steps, and decode steps of a few sequences, are captured once
  // (per batch size) and replayed: a whole forward pass costs one graph launch.
  if (use_graphs_ && batch_n_ == 1) {
    bool same = false;
    if (graph_exec_ && ops_.size() == graph_ops_.size()) {
      same = true;
      for (size_t i = 0; same && i < ops_.size(); ++i) same = same_op(ops_[i], graph_ops_[i]);
    }
    if (!same) {
      drop_graph();
      capture(graph_ops_, graph_exec_);
    }
    launch_graph(graph_exec_);
    step_replayed_ = same;
  } else if (use_graphs_ && decode_step_ && batch_n_ <= kMaxStepGraph) {
    StepGraph& g = step_graphs_[batch_n_];
    bool same = g.exec && ops_.size() == g.ops.size();
    for (size_t i = 0; same && i < ops_.size(); ++i) same = same_op(ops_[i], g.ops[i]);
    if (!same) {
      if (g.exec) CUDA_CHECK(cudaGraphExecDestroy(g.exec));
      g.exec = nullptr;
      capture(g.ops, g.exec);
    }
    launch_graph(g.exec);
  } else {
    const auto t0 = std::chrono::steady_clock::now();
    try {
      run_ops();
    } catch (...) {
      ops_.clear();
      throw;
    }
    direct_ms_ += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    direct_ops_ += static_cast<int64_t>(ops_.size());
  }
  ops_.clear();
}

// ---- op entry points: validate, prepare buffers (never inside a capture), queue ----

void CudaBackend::embed(const Weight& table, float* out) {
  Op op;
  op.kind = OpKind::Embed;
  op.w = table;
  op.n = batch_n_;
  op.out = out;
  enqueue(op);
}

void CudaBackend::rms_norm(const float* x, const Weight* w, float eps, int64_t rows, int64_t dim, float* out) {
  if (w && *w && w->type != TensorType::F32) fail("rms_norm: weight ", w->src ? w->src->name : "", " must be f32");
  Op op;
  op.kind = OpKind::RmsNorm;
  op.a = x;
  op.vec = (w && *w) ? static_cast<const float*>(w->data) : nullptr;
  op.f = eps;
  op.count = rows;
  op.dim = dim;
  op.out = out;
  enqueue(op);
}

void CudaBackend::matmul(const Weight& w, const float* x, int n, float* y) {
  if (!w) fail("matmul: missing weight");
  if (n <= 0) fail("matmul: ", n, " tokens");
  if (w.cols > INT32_MAX || w.rows > INT32_MAX) fail("matmul: weight ", w.src ? w.src->name : "", " too large");
  ensure_gemm(n, w.cols, w.rows, w.type);
  Op op;
  op.kind = OpKind::Matmul;
  op.w = w;
  op.a = x;
  op.n = n;
  op.out = y;
  enqueue(op);
}

void CudaBackend::add_bias(float* y, const Weight& b, int n, int64_t dim) {
  if (!b || b.type != TensorType::F32) fail("add_bias: bias must be f32");
  Op op;
  op.kind = OpKind::AddBias;
  op.out = y;
  op.vec = static_cast<const float*>(b.data);
  op.n = n;
  op.dim = dim;
  enqueue(op);
}

void CudaBackend::rope(float* x, int n, int n_head, int head_dim, const RopeParams& p) {
  Op op;
  op.kind = OpKind::Rope;
  op.out = x;
  op.n = n;
  op.n_head = n_head;
  op.head_dim = head_dim;
  op.rope = p;
  op.rope.freq_factors = nullptr;
  op.ff = (p.freq_factors && *p.freq_factors) ? static_cast<const float*>(p.freq_factors->data) : nullptr;
  enqueue(op);
}

void CudaBackend::attention(const float* q, const float* k, const float* v, KvLayer& kv, const AttnParams& p, int n,
                            float* out) {
  Op op;
  op.kind = OpKind::Attention;
  op.a = q;
  op.b = k;
  op.c = v;
  op.kv = kv;
  op.attn = p;
  op.n = n;
  op.out = out;
  ensure_attention(op);
  op.splits = attn_splits(n, p.n_head / attn_heads_per_block(n, p.n_head, p.n_head_kv), kv.n_ctx, p.window, n_sm_,
                          p.head_dim_k, p.head_dim_v);
  enqueue(op);
}

void CudaBackend::glu(Glu kind, const float* gate, const float* up, int64_t n, float* out) {
  Op op;
  op.kind = OpKind::Glu;
  op.glu = kind;
  op.a = gate;
  op.b = up;
  op.count = n;
  op.out = out;
  enqueue(op);
}

void CudaBackend::add(const float* a, const float* b, int64_t n, float* out) {
  Op op;
  op.kind = OpKind::Add;
  op.a = a;
  op.b = b;
  op.count = n;
  op.out = out;
  enqueue(op);
}

void CudaBackend::scale(float* x, int64_t n, float s) {
  Op op;
  op.kind = OpKind::Scale;
  op.out = x;
  op.count = n;
  op.f = s;
  enqueue(op);
}

void CudaBackend::copy(const float* src, int64_t n, float* dst) {
  Op op;
  op.kind = OpKind::Copy;
  op.a = src;
  op.count = n;
  op.out = dst;
  enqueue(op);
}

// Buffers an op will need, allocated when it is queued: a capture must not allocate.
void CudaBackend::ensure_attention(const Op& op) {
  const AttnParams& p = op.attn;
  if (p.n_head <= 0 || p.n_head_kv <= 0 || p.n_head % p.n_head_kv != 0)
    fail("attention: ", p.n_head, " heads over ", p.n_head_kv, " kv heads");
  // The largest workspace and counter set of the op's launches (one per sequence run, see run_attention).
  size_t work = 0, counters = 0;
  for (const auto& r : attention_launches(op.n)) {
    const int blocks = p.n_head / attn_heads_per_block(r.second, p.n_head, p.n_head_kv);
    const int splits = attn_splits(r.second, blocks, op.kv.n_ctx, p.window, n_sm_, p.head_dim_k, p.head_dim_v);
    work = std::max(work, attn_work_floats(r.second, p.n_head, p.head_dim_v, splits));
    counters = std::max(counters, static_cast<size_t>(r.second) * blocks);
  }
  if (work > attn_work_floats_ || counters > attn_counters_n_) {
    CUDA_CHECK(cudaStreamSynchronize(stream_));
    drop_graph();
    if (work > attn_work_floats_) {
      attn_work_floats_ = std::max(work, 2 * attn_work_floats_);
      attn_work_ = static_cast<float*>(dev_alloc(attn_work_floats_ * sizeof(float), "the attention workspace"));
    }
    if (counters > attn_counters_n_) {
      attn_counters_n_ = std::max(counters, 2 * attn_counters_n_);
      attn_counters_ = static_cast<int*>(dev_alloc(attn_counters_n_ * sizeof(int), "attention counters"));
      CUDA_CHECK(cudaMemset(attn_counters_, 0, attn_counters_n_ * sizeof(int)));
    }
  }
}

}  // namespace cuda
}  // namespace jetlm
