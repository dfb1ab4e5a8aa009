#include "models/model.h"

namespace jetlm {

std::unique_ptr<Model> Model::load(const std::string& path) {
  std::unique_ptr<Model> m(new Model());
  m->file_ = GgufFile::open(path);
  m->hp_ = read_hparams(*m->file_);
  m->tensors_ = bind_tensors(*m->file_, m->hp_);
  return m;
}

size_t Model::weights_bytes() const {
  size_t n = 0;
  for (const auto& t : file_->tensors()) n += t.nbytes;
  return n;
}

size_t Model::bytes_per_token() const {
  const GgufTensor& e = *tensors_.tok_embd;
  size_t n = weights_bytes() - e.nbytes + e.nbytes / static_cast<size_t>(e.ne[1]);
  if (tensors_.output == tensors_.tok_embd) n += e.nbytes;  // tied: the output matmul reads the whole table
  return n;
}

int64_t Model::n_params() const {
  int64_t n = 0;
  for (const auto& t : file_->tensors()) n += t.n_elements();
  return n;
}

}  // namespace jetlm
