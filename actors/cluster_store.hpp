#pragma once

#include "store/cluster_rows.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace syncforce::actors {

/// The cluster's coordination store as the cluster member uses it: the
/// control schema in production (store/cluster.hpp), an in-memory model in
/// deterministic tests. Calls block; they may throw on a lost connection.
class cluster_store {
public:
  virtual ~cluster_store() = default;
  virtual std::int64_t join(const store::node_info& node, std::chrono::milliseconds ttl) = 0;
  /// False when the node had expired meanwhile (it must rejoin).
  virtual bool heartbeat(const std::string& node, std::chrono::milliseconds ttl) = 0;
  virtual void leave(const std::string& node) = 0;
  virtual store::cluster_view read() = 0;
  virtual std::optional<std::int64_t> acquire(const std::string& kind, const std::string& key,
                                              const std::string& node) = 0;
  virtual bool release(const std::string& kind, const std::string& key, const std::string& node,
                       std::int64_t epoch) = 0;
  virtual long prune() = 0;
};

} // namespace syncforce::actors
