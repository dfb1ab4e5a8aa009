// Writes a GGUF file whose tensors are produced on the fly: float rows from a
// source (a dequantized input tensor, a random generator) are converted to
// each tensor's output type a chunk of rows at a time, by several threads,
// and streamed to disk. Memory stays at one chunk (a few MB) whatever the
// model size. Shared by `jetlm quantize` and `jetlm synth`, so both write
// with the same codecs and the same layout.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "gguf/gguf_writer.h"

namespace jetlm {

// Fills dst with rows [first_row, first_row + n_rows) of a tensor as float32
// (n_rows * ne[0] values). Called from several threads at once for disjoint
// ranges; must give the same values however the rows are split, so files do
// not depend on the thread count.
using RowSource = std::function<void(int64_t first_row, int64_t n_rows, float* dst)>;

struct StreamTensor {
  GgufTensorDesc out;                          // name, shape, output type
  TensorType in_type = TensorType::F32;        // for reports
  const uint8_t* raw = nullptr;                // set: out.nbytes() bytes written unchanged
  RowSource rows;                              // otherwise: float rows converted to out.type
  const std::vector<float>* imatrix = nullptr; // optional per-column weights (ne[0], or ne[0]*ne[2])
  std::function<void()> done;                  // optional: called once the tensor is on disk
};

struct TensorReport {
  std::string name;
  TensorType from = TensorType::F32, to = TensorType::F32;
  int64_t ne[4] = {1, 1, 1, 1};
  size_t bytes = 0;        // in the output file
  bool measured = false;   // error statistics were taken (--stats, converted tensors only)
  double err2 = 0;         // sum of squared (decoded - source) over the tensor
  double ref2 = 0;         // sum of squared source values
  int64_t n_values = 0;

  double rmse() const;          // root mean squared error
  double relative_rmse() const;  // ||decoded - source|| / ||source||
};

struct StreamOptions {
  int n_threads = 1;
  bool stats = false;     // decode every converted row again and measure its error
  bool progress = false;  // progress bar on stderr
  size_t chunk_values = size_t(1) << 22;  // float values converted per round (16 MiB)
};

// Writes the whole file (atomically: nothing is left at path on error).
// Throws Error naming the tensor and row when a source yields a non-finite
// value or a conversion is not available.
std::vector<TensorReport> write_gguf_streaming(const std::string& path, const GgufMetadata& meta,
                                               const std::vector<StreamTensor>& tensors, const StreamOptions& opt);

// One row of n floats to type t (reference codecs; F32/F16/BF16 converted
// directly). imatrix: per-value weights or null.
void convert_row(TensorType t, const float* src, void* dst, int64_t n, const float* imatrix);

}  // namespace jetlm
