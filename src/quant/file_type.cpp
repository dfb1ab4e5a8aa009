#include "quant/file_type.h"

#include <cctype>

#include "util/error.h"

namespace jetlm {
namespace {

struct FileTypeInfo {
  FileType ftype;
  const char* name;
  TensorType default_type;
};

// In the order usage messages list them.
const FileTypeInfo kFileTypes[] = {
    {FileType::F32, "F32", TensorType::F32},
    {FileType::F16, "F16", TensorType::F16},
    {FileType::BF16, "BF16", TensorType::BF16},
    {FileType::Q8_0, "Q8_0", TensorType::Q8_0},
    {FileType::Q4_0, "Q4_0", TensorType::Q4_0},
    {FileType::Q4_1, "Q4_1", TensorType::Q4_1},
    {FileType::Q5_0, "Q5_0", TensorType::Q5_0},
    {FileType::Q5_1, "Q5_1", TensorType::Q5_1},
    {FileType::Q2_K, "Q2_K", TensorType::Q2_K},
    {FileType::Q3_K_S, "Q3_K_S", TensorType::Q3_K},
    {FileType::Q3_K_M, "Q3_K_M", TensorType::Q3_K},
    {FileType::Q3_K_L, "Q3_K_L", TensorType::Q3_K},
    {FileType::Q4_K_S, "Q4_K_S", TensorType::Q4_K},
    {FileType::Q4_K_M, "Q4_K_M", TensorType::Q4_K},
    {FileType::Q5_K_S, "Q5_K_S", TensorType::Q5_K},
    {FileType::Q5_K_M, "Q5_K_M", TensorType::Q5_K},
    {FileType::Q6_K, "Q6_K", TensorType::Q6_K},
    {FileType::IQ4_NL, "IQ4_NL", TensorType::IQ4_NL},
};

const FileTypeInfo* find_info(FileType t) {
  for (const FileTypeInfo& i : kFileTypes)
    if (i.ftype == t) return &i;
  return nullptr;
}

bool same_ignore_case(const char* a, const std::string& b) {
  size_t i = 0;
  for (; a[i]; ++i)
    if (i >= b.size() || std::toupper(static_cast<unsigned char>(b[i])) != a[i]) return false;
  return i == b.size();
}

}  // namespace

bool parse_file_type(const std::string& s, FileType* out) {
  for (const FileTypeInfo& i : kFileTypes) {
    if (same_ignore_case(i.name, s)) {
      if (out) *out = i.ftype;
      return true;
    }
  }
  return false;
}

const char* file_type_name(FileType t) {
  const FileTypeInfo* i = find_info(t);
  return i ? i->name : "?";
}

TensorType default_tensor_type(FileType t) {
  const FileTypeInfo* i = find_info(t);
  if (!i) fail("file type ", static_cast<uint32_t>(t), " is not one jetlm writes");
  return i->default_type;
}

std::string file_type_list() {
  std::string s;
  for (const FileTypeInfo& i : kFileTypes) s += std::string(s.empty() ? "" : ", ") + i.name;
  return s;
}

}  // namespace jetlm
