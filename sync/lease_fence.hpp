#pragma once

// Fencing of the work a node does under a unit's lease (docs/cluster.md).
//
// A lease is valid in PostgreSQL while the owner's node row has not expired and
// the unit's epoch is the one the owner took it with. A node cannot see
// PostgreSQL's clock, so it keeps a local deadline that is always earlier than
// the expiry it last wrote (the heartbeat's send time plus the time to live,
// minus a margin): once its own clock passes the deadline, it assumes the lease
// is gone, whatever PostgreSQL says, and does nothing more under it. A frozen
// process (SIGSTOP, a stuck VM) wakes up past its deadline and is stopped by
// its own clock before its first write.

#include "sync/clock.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

namespace syncforce {

/// Thrown when work under a lease finds the lease gone (locally expired, or
/// refused by PostgreSQL at commit). Never a crash: the unit stops on this node.
class fenced_out : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// The node's local view of its lease: a deadline on the steady clock and a
/// generation that ends every fence taken before a lapse.
class lease_validity {
public:
  using clock = std::chrono::steady_clock;

  /// `time`: the node's time source, whose monotonic clock the deadline is on
  /// (the member that renews and every fence that checks read this one).
  explicit lease_validity(std::shared_ptr<const time_source> time = shared_real_time())
    : time_(time ? std::move(time) : shared_real_time()) {}
  const time_source& time() const { return *time_; }

  /// The current generation (fences remember it).
  std::uint64_t generation() const;
  /// A heartbeat sent at `sent` succeeded: valid until sent + ttl - margin.
  /// When `now` is already past the previous deadline the lease lapsed
  /// meanwhile: the generation ends (returns true) and fences taken before are
  /// never valid again, even though the deadline moves on.
  bool renew(clock::time_point sent, std::chrono::milliseconds ttl, std::chrono::milliseconds margin,
             clock::time_point now);
  /// Ends the generation at once (the node rejoins, or shuts down).
  void lapse();
  bool valid(std::uint64_t generation, clock::time_point now) const;
  clock::time_point deadline() const;

private:
  std::shared_ptr<const time_source> time_;
  mutable std::mutex mutex_;
  std::uint64_t generation_ = 1;
  clock::time_point deadline_{};
};

/// One unit's lease as taken by this node: what commits check.
struct lease_fence {
  std::string kind; ///< mapping, writer or integration_user
  std::string key;  ///< mapping id, connection id or user key
  std::string node;
  std::int64_t epoch = 0;
  std::string connection_id; ///< the unit's connection (empty for integration users): its log lines' addon_id
  std::uint64_t generation = 0;
  std::shared_ptr<const lease_validity> validity;

  /// Whether the node's own clock (the validity's time source) still allows work under this lease.
  bool valid_now() const { return validity && validity->valid(generation, validity->time().steady_now()); }
  /// Throws fenced_out unless valid_now().
  void require_valid(const char* what) const;
  std::string unit() const { return kind + ":" + key; }
};

} // namespace syncforce
