#pragma once

#include "actors/broker_directory.hpp"
#include "actors/broker_protocol.hpp"
#include "actors/broker_registry.hpp"
#include "actors/broker_transport.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace syncforce::actors {

/// How a node reaches the brokers of the cluster: given to the sync engine.
/// Without it every broker is local (a single node).
struct broker_cluster {
  std::shared_ptr<broker_directory> directory;
  std::shared_ptr<broker_transport> transport;
  /// Brokers started here are registered for the Cluster service and proxies.
  std::shared_ptr<broker_registry> registry;
  std::chrono::milliseconds grant_ttl{std::chrono::seconds(30)};
  /// Brokers run where the cluster's `integration_user` leases say (the
  /// directory is a lease_broker_directory); false: `directory` is fixed (tests).
  bool leased = false;
};

/// Settings of a node's proxy for one Salesforce user's broker.
struct remote_broker_config {
  /// The user: "<login URL>|<username>" (the lease is 'user:<user key>').
  std::string user_key;
  std::string username; ///< for logs
  /// This node's name: the holder node of its grants.
  std::string node_name;
  std::shared_ptr<broker_directory> directory;
  std::shared_ptr<broker_transport> transport;
  /// The brokers running in this node (asked in-process when the user's is one).
  std::shared_ptr<broker_registry> local;
  /// A grant's time-to-live; renewed every third of it.
  std::chrono::milliseconds grant_ttl{std::chrono::seconds(30)};
  /// How long one AcquireCursor waits in the broker's line before asking again.
  std::chrono::milliseconds max_wait{std::chrono::seconds(20)};
  /// After a failed call (owner unknown, unreachable, moving): ask again after this.
  std::chrono::milliseconds retry_delay{std::chrono::seconds(1)};
  /// API usage snapshots go to a remote owner at most this often (the latest one).
  std::chrono::milliseconds usage_interval{std::chrono::seconds(1)};
};

struct remote_broker_state {
  remote_broker_config cfg;
  /// A cursor this node holds: where it was granted ("" = the broker in this node).
  struct held_grant {
    std::string mapping_id;
    std::string target;
  };
  std::map<std::string, held_grant> grants; ///< by grant id
  struct pending_acquire {
    std::string mapping_id;
    caf::actor_addr who;
    caf::typed_response_promise<bool, std::string> promise;
    /// The asker died: a grant that still comes is given back at once.
    bool abandoned = false;
    bool counted_delay = false;
  };
  std::map<std::uint64_t, pending_acquire> pending; ///< by call number
  std::uint64_t next_call = 1;
  /// Mapping actors monitored (their cursors come back when they die).
  std::map<caf::actor_addr, std::string> watched;
  int peak = 0;
  int delayed = 0;
  bool renew_scheduled = false;
  /// Failed calls in a row (logged on the first, and when it recovers).
  int failures = 0;
  std::optional<std::pair<std::int64_t, std::int64_t>> usage;
  bool flush_scheduled = false;

  static inline const char* name = "remote_broker";
};

/// The proxy's whole behaviour: the cursor protocol the mapping actors use,
/// plus its own timers and the answers its calls bring back (in-process, or
/// from the transport's threads).
using remote_broker_impl = cursor_broker_actor::extend<
  /// (call): ask the owner again.
  caf::reacts_to<retry_atom, std::uint64_t>,
  /// (call, where it was asked, the answer) of an AcquireCursor.
  caf::reacts_to<answer_atom, std::uint64_t, std::string, broker_answer>,
  caf::reacts_to<renew_tick_atom>,
  /// (where it was asked, the grant ids asked for, the answer) of a RenewGrants.
  caf::reacts_to<renew_atom, std::string, std::vector<std::string>, broker_answer>,
  caf::reacts_to<flush_atom>>;

/// A node's stand-in for the broker of one Salesforce user (the
/// integration-user actor on the node holding the user's lease). It speaks the
/// cursor protocol the mapping actors use (cursor_broker_actor; its status
/// counts this node's holders) and turns it into grants with a time-to-live at
/// the owner: in-process when the owner is this node, over the Cluster gRPC
/// service otherwise. It renews its grants every third of their TTL at
/// whoever owns the user *now* (a new owner takes them over), re-resolves the
/// owner through the directory on every call, and asks again after
/// `retry_delay` while no owner answers. A mapping actor that dies gives its
/// cursors back.
remote_broker_impl::behavior_type remote_broker(remote_broker_impl::stateful_pointer<remote_broker_state> self,
                                                remote_broker_config cfg);

} // namespace syncforce::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(syncforce::actors::broker_answer)
