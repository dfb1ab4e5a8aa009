// jetlm models: the GGUF models in the Hugging Face cache; jetlm models rm
// REPO[:QUANT] deletes one (a blob only when no other snapshot links it).
#include <cstdio>
#include <ctime>

#include "hub/config.h"
#include "hub/listing.h"
#include "hub/progress.h"
#include "hub/quant.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "util/error.h"

namespace jetlm {

int cmd_models(int argc, char** argv) {
  Args args("models", "jetlm models [rm REPO[:QUANT]]");
  args.allow_positional("rm REPO[:QUANT]", 0, 2);
  if (!args.parse(argc, argv)) return 0;
  const hub::HubConfig cfg = hub::hub_config_from_env();
  const auto& pos = args.positional();
  if (!pos.empty()) {
    if (pos[0] != "rm" || pos.size() != 2) throw UsageError("jetlm models: expected 'rm REPO[:QUANT]' (usage: jetlm models [rm REPO[:QUANT]])");
    const hub::HubRef ref = hub::parse_hub_ref(pos[1]);
    const int64_t freed = hub::remove_cached_model(cfg.cache_dir, ref.repo, ref.tag);
    std::printf("removed %s (%s freed)\n", pos[1].c_str(), hub::format_bytes(static_cast<double>(freed)).c_str());
    return 0;
  }
  const std::vector<hub::CachedModel> models = hub::list_cached_models(cfg.cache_dir);
  if (models.empty()) {
    std::printf("no models in %s (jetlm pull ORG/NAME[:QUANT] adds one)\n", cfg.cache_dir.c_str());
    return 0;
  }
  std::printf("%-40s %-48s %-8s %10s  %s\n", "REPO", "FILE", "QUANT", "SIZE", "LAST USED");
  for (const hub::CachedModel& m : models) {
    char when[32] = "-";
    if (m.last_used) {
      std::tm tm;
      localtime_r(&m.last_used, &tm);
      std::strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
    }
    const std::string file = m.parts > 1 ? str_cat(m.file, " (+", m.parts - 1, " parts)") : m.file;
    std::printf("%-40s %-48s %-8s %10s  %s\n", m.repo.c_str(), file.c_str(), m.quant.empty() ? "-" : m.quant.c_str(),
                hub::format_bytes(static_cast<double>(m.size)).c_str(), when);
  }
  return 0;
}

}  // namespace jetlm
