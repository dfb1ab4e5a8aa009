// The CUDA backend. Ops are queued, not launched, until something needs their
// results (read, sync, write, the next begin); a flush then runs the queue,
// fusing neighbours into one kernel where that saves launches or traffic
// (cuda_exec.cpp), and a one-token step is captured once as a CUDA graph and
// replayed for every later token with the same ops (positions and ids live in
// device memory, so the graph does not change as the sequence grows).
#pragma once
#include <cuda_runtime.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "backends/cuda/kernels.h"
#include "backends/gpu_factory.h"

namespace jetlm {
namespace cuda {

enum class OpKind : uint8_t { Embed, RmsNorm, Matmul, AddBias, Rope, Attention, Glu, Add, Scale, Copy };
constexpr int kOpKinds = static_cast<int>(OpKind::Copy) + 1;

// One queued backend call, with everything needed to run it later.
struct Op {
  OpKind kind = OpKind::Copy;
  const float* a = nullptr;     // main input: x, gate, q
  const float* b = nullptr;     // add: b; glu: up; attention: k
  const float* c = nullptr;     // attention: v
  float* out = nullptr;
  int64_t count = 0;            // elements; rows for rms_norm
  int64_t dim = 0;              // row length of rms_norm and add_bias
  int n = 0;                    // tokens
  float f = 0.f;                // eps, or the scale factor
  const float* vec = nullptr;   // norm weight or bias (device)
  Weight w;                     // matmul / embed
  int n_head = 0, head_dim = 0;  // rope
  RopeParams rope;              // freq_factors cleared; see ff
  const float* ff = nullptr;    // rope frequency factors (device) or null
  AttnParams attn;
  KvLayer kv;
  int splits = 1;               // attention: sequence splits
  Glu glu = Glu::SiLU;
};
bool same_op(const Op& x, const Op& y);

class CudaBackend : public Backend {
 public:
  explicit CudaBackend(const GpuOptions& opts);
  ~CudaBackend() override;
  CudaBackend(const CudaBackend&) = delete;
  CudaBackend& operator=(const CudaBackend&) = delete;

  std::string name() const override { return name_; }
  bool device_memory(size_t* free_bytes, size_t* total_bytes) const override;
  bool weights_in_place() const override { return unified_; }
  Weight load_weight(const GgufTensor& t) override;
  float* alloc(int64_t n_floats) override;
  KvLayer alloc_kv(int64_t n_seq, int64_t n_ctx, int64_t ring, int64_t k_row, int64_t v_row, TensorType type) override;
  void copy_bytes(void* dst, const void* src, size_t bytes) override;
  void write(float* dst, const float* host, int64_t n) override;
  void read(const float* src, float* host, int64_t n) override;
  float* alloc_host(int64_t n_floats) override;
  void sync() override;
  void begin(const Batch& batch) override;

  void embed(const Weight& table, float* out) override;
  void rms_norm(const float* x, const Weight* w, float eps, int64_t rows, int64_t dim, float* out) override;
  void matmul(const Weight& w, const float* x, int n, float* y) override;
  void add_bias(float* y, const Weight& b, int n, int64_t dim) override;
  void rope(float* x, int n, int n_head, int head_dim, const RopeParams& p) override;
  void attention(const float* q, const float* k, const float* v, KvLayer& kv, const AttnParams& p, int n,
                 float* out) override;
  void glu(Glu kind, const float* gate, const float* up, int64_t n, float* out) override;
  void add(const float* a, const float* b, int64_t n, float* out) override;
  void scale(float* x, int64_t n, float s) override;
  void copy(const float* src, int64_t n, float* dst) override;

  // Counters for tests and benchmarks.
  int graphs_captured() const { return graphs_captured_; }
  int graph_launches() const { return graph_launches_; }

 private:
  void enqueue(const Op& op);
  void flush();
  void launch_graph(cudaGraphExec_t exec);
  // Speculative replay (Batch::repeats): the captured step starts at the
  // step's first write or op; later ops are only compared with the recording.
  // A difference (or a flush before the end) falls back to running the
  // queued ops after it, which the caller's promise makes harmless.
  enum class Spec : uint8_t { Off, Armed, Launched };
  void spec_launch();
  void spec_fail();
  void* dev_alloc(size_t bytes, const std::string& what);
  const void* unified_view(const void* host, size_t bytes, const std::string& what);
  void stage_reserve(size_t bytes);
  void ensure_batch_capacity(int n);
  void ensure_gemm(int n, int64_t cols, int64_t rows, TensorType type);
  void ensure_attention(const Op& op);
  void drop_graph();

  // cuda_exec.cpp: running the queue.
  void run_ops();
  size_t try_matvec_group(size_t i);
  size_t try_embed_scale(size_t i);
  size_t try_attention(size_t i);
  size_t try_norm_add(size_t i);
  void run_single(const Op& op);
  void run_matmul(const Weight& w, const float* x, int n, float* y);
  void run_attention(const Op* qn, const Op* kn, const Op* qr, const Op* kr, const Op& at);
  // Tokens [t0, t0 + n) of an attention op: one launch (one sequence, or short
  // runs that the per-token kernels take together).
  void launch_attention_range(const Op& at, const HeadPrepArgs& h, int t0, int n, bool fused);
  std::vector<std::pair<int, int>> attention_launches(int n) const;  // (first token, count) of each launch

  GpuOptions opts_;
  int device_ = 0;
  int n_sm_ = 1;
  bool unified_ = false;
  bool use_graphs_ = true;
  bool fuse_ = true;
  bool fork_ = true;  // products of one input in two types: two launches side by side (JETLM_CUDA_FORK)
  std::string name_;
  cudaStream_t stream_ = nullptr;
  cudaStream_t side_ = nullptr;  // forked launches; joined back into stream_ before the next op
  cudaEvent_t ev_fork_ = nullptr, ev_join_ = nullptr;

  std::vector<void*> allocs_;
  struct Registered { uintptr_t begin, end; char* dev; };
  std::vector<Registered> registered_;

  // Current batch: positions, ids and KV slots in device memory, uploaded by begin().
  int batch_n_ = 0;
  int batch_cap_ = 0;
  int32_t* d_pos_ = nullptr;
  int32_t* d_ids_ = nullptr;
  int32_t* d_seq_ = nullptr;
  int32_t* h_batch_ = nullptr;   // pinned [3][batch_cap_] staging
  // The batch's runs of one sequence (first token, count), in order; a step of
  // single tokens of different sequences (every run of one) is `decode_step_`.
  std::vector<std::pair<int, int>> runs_;
  bool decode_step_ = false;
  cudaEvent_t batch_uploaded_ = nullptr;

  // Page-locked host buffers of alloc_host(): read() copies into them directly.
  struct HostBuf { const float* begin; const float* end; };
  std::vector<HostBuf> host_bufs_;
  bool is_host_buf(const float* p, int64_t n) const;

  // Pinned staging for write() and read().
  float* h_stage_ = nullptr;
  size_t stage_bytes_ = 0;
  cudaEvent_t stage_free_ = nullptr;

  std::vector<Op> ops_;
  std::vector<Op> graph_ops_;
  Spec spec_ = Spec::Off;
  bool spec_failed_ = false;
  size_t spec_k_ = 0;           // ops of the step matched so far
  bool step_replayed_ = false;  // the last step was one replay of the recording
  bool speculate_ = true;       // JETLM_CUDA_SPECULATE
  cudaGraphExec_t graph_exec_ = nullptr;
  // Decode steps of 2..kMaxStepGraph sequences, captured once per batch size
  // (their ops differ only in device data: positions, ids, slots).
  static constexpr int kMaxStepGraph = 8;
  struct StepGraph {
    std::vector<Op> ops;
    cudaGraphExec_t exec = nullptr;
  };
  StepGraph step_graphs_[kMaxStepGraph + 1];
  // Captures ops_ (running them) into exec, which must be empty, and records them in ops.
  void capture(std::vector<Op>& ops, cudaGraphExec_t& exec);
  int graphs_captured_ = 0;
  int graph_launches_ = 0;

  // JETLM_CUDA_STATS=1: counts and times printed when the backend is destroyed.
  bool stats_ = false;
  int flushes_ = 0;
  double capture_ms_ = 0;      // host time capturing and instantiating graphs
  double direct_ms_ = 0;       // host time launching the ops of flushes that are not graphs
  int64_t direct_ops_ = 0;
  struct OpHostTime {
    double ms = 0;
    int64_t count = 0;
  };
  OpHostTime op_host_[kOpKinds];     // host time of each launch (captured or not) by the kind of its first op
  // Host time of a replayed step: from the end of the previous read() to the
  // graph launch (begin + queueing the ops), the launch call, read()'s wait and
  // copy, and begin() alone.
  using Clock = std::chrono::steady_clock;
  Clock::time_point read_end_{};
  double step_host_ms_[5] = {0, 0, 0, 0, 0};
  int step_host_n_[5] = {0, 0, 0, 0, 0};
  // After read()/sync()'s wait: the timed graph's device time and the host phases.
  void step_done(Clock::time_point wait_begin, Clock::time_point wait_end);
  void step_time(int k, Clock::time_point t0, Clock::time_point t1) {
    step_host_ms_[k] += std::chrono::duration<double, std::milli>(t1 - t0).count();
    ++step_host_n_[k];
  }
  double graph_gpu_ms_ = 0;    // device time of timed graph launches
  int graph_timed_ = 0;
  bool graph_timing_pending_ = false;
  cudaEvent_t ev_start_ = nullptr, ev_stop_ = nullptr;

  // Attention split workspace and combine counters.
  float* attn_work_ = nullptr;
  size_t attn_work_floats_ = 0;
  int* attn_counters_ = nullptr;
  size_t attn_counters_n_ = 0;

  // Prompt processing through cuBLAS: float16 copies of a row chunk of the weight and of x.
  BlasHandle* blas_ = nullptr;
  void* gemm_w_ = nullptr;
  size_t gemm_w_bytes_ = 0;
  void* gemm_x_ = nullptr;
  size_t gemm_x_bytes_ = 0;
  // The float32 activations gemm_x_ holds in float16 (products of one input
  // convert it once): cleared by every op other than a product, and by a
  // product that writes over them.
  const float* gemm_x_src_ = nullptr;
  int64_t gemm_x_count_ = 0;
};

std::unique_ptr<Backend> make_cuda_backend(const GpuOptions& opts);

}  // namespace cuda
}  // namespace jetlm
