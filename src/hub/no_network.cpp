// The Hub client in a build without libcurl and libcrypto (-DJETLM_HUB=OFF,
// as the static AArch64 cross build is): every transfer and digest says so;
// local models, the caches and ollama's store still work.
#include "hub/digest.h"
#include "hub/http.h"
#include "util/error.h"

namespace jetlm::hub {

namespace {
const char* kNoHub = "this jetlm was built without the Hub client (libcurl and libcrypto; configure with -DJETLM_HUB=ON)";
}

HttpResponse http_get(const HttpRequest&, const HttpSink&) { fail(kNoHub); }
HttpResponse http_get_text(const HttpRequest&, std::string&) { fail(kNoHub); }

struct Digest::Impl {};
Digest::Digest(Kind, size_t) { fail(kNoHub); }
Digest::~Digest() = default;
void Digest::reset() { fail(kNoHub); }
void Digest::update(const void*, size_t) { fail(kNoHub); }
std::string Digest::hex() { fail(kNoHub); }
std::string file_digest(const std::string&, Digest::Kind, size_t) { fail(kNoHub); }

}  // namespace jetlm::hub
