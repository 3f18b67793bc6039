#include "actors/table_guard.hpp"

#include <map>
#include <memory>

namespace syncforce::actors {

std::unique_lock<std::mutex> lock_table(const std::string& schema, const std::string& table) {
  static std::mutex registry_mutex;
  static std::map<std::string, std::unique_ptr<std::mutex>> registry;
  std::mutex* m = nullptr;
  {
    std::lock_guard<std::mutex> lock(registry_mutex);
    auto& slot = registry[schema + "." + table];
    if (!slot)
      slot = std::make_unique<std::mutex>();
    m = slot.get();
  }
  return std::unique_lock<std::mutex>(*m);
}

} // namespace syncforce::actors
