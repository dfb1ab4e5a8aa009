#include "quant/imatrix.h"

#include "util/error.h"

namespace jetlm {

ImportanceMatrix load_imatrix(const std::string& path) {
  fail(path, ": importance matrices are not supported yet (quantize without --imatrix)");
}

}  // namespace jetlm
