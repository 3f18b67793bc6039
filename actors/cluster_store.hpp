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
  /// Joins (again): returns the node's new incarnation. `previous`: the
  /// incarnation this member held (0: its first join, which supersedes any
  /// earlier start of the node). Returns 0 when the node joined again since
  /// under another incarnation: this member is stale (an engine restarted
  /// while its member was still in a call) and must stop. The calls below
  /// that act for the node carry the incarnation for the same reason: a stale
  /// member must not keep alive, end, or take leases for a newer membership.
  virtual std::int64_t join(const store::node_info& node, std::chrono::milliseconds ttl, std::int64_t previous) = 0;
  /// False when the node had expired meanwhile, or joined again since (it must rejoin).
  virtual bool heartbeat(const std::string& node, std::int64_t incarnation, std::chrono::milliseconds ttl) = 0;
  /// Leaves, when `incarnation` is still the node's current one.
  virtual void leave(const std::string& node, std::int64_t incarnation) = 0;
  virtual store::cluster_view read() = 0;
  /// Nothing when someone live holds the lease, or `incarnation` is not the node's current one.
  virtual std::optional<std::int64_t> acquire(const std::string& kind, const std::string& key,
                                              const std::string& node, std::int64_t incarnation) = 0;
  virtual bool release(const std::string& kind, const std::string& key, const std::string& node,
                       std::int64_t epoch) = 0;
  virtual long prune() = 0;
};

} // namespace syncforce::actors
