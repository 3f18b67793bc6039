#pragma once

// The protocols of the limit brokers: what a mapping asks of its Salesforce
// user's broker (cursor_broker_actor), which the broker itself
// (integration_user) and a node's proxy for a broker elsewhere
// (remote_broker) both speak, and what only the broker answers: remote grants
// with a time-to-live, the budget and its pool (integration_user_actor, asked
// by the proxies in-process and by the Cluster gRPC service).
//
// Replies of more than two values are named structs. They stay in the node:
// between nodes they travel as the Cluster service's protobuf messages, never
// as CAF messages, so the small value structs have `inspect` (for to_string in
// logs and tests) and broker_state, which holds chrono and nested types, is
// marked local-only.

#include "actors/atoms.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace syncforce::actors {

/// A broker's counters for the holders it serves, as (status_atom) answers them.
struct broker_status {
  std::int32_t held = 0;    ///< cursors held now
  std::int32_t peak = 0;    ///< the most held at once
  std::int32_t delayed = 0; ///< asks that had to wait
  std::int32_t waiting = 0; ///< asks waiting now
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, broker_status& x) {
  return f(caf::meta::type_name("broker_status"), x.held, x.peak, x.delayed, x.waiting);
}

/// The answer to a remote holder's grant request (grant_atom).
struct grant_reply {
  bool granted = false;
  std::string reason;         ///< why not (budget spent, still waiting)
  std::string grant_id;       ///< when granted: renew and release it by this id
  std::int64_t expires_in_ms = 0;
  bool retry = false;         ///< the wait ran out while in line: ask again (the place is kept)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, grant_reply& x) {
  return f(caf::meta::type_name("grant_reply"), x.granted, x.reason, x.grant_id, x.expires_in_ms, x.retry);
}

/// Whether the daily API budget allows work (budget_atom).
struct budget_reply {
  bool available = false;
  std::int64_t used = 0;
  std::int64_t max = 0;
  std::string reason; ///< when not available
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, budget_reply& x) {
  return f(caf::meta::type_name("budget_reply"), x.available, x.used, x.max, x.reason);
}

/// A broker's pool, as GetBrokerState shows it.
struct broker_state {
  struct holder_grants {
    std::string holder_node; ///< empty for holders of the broker's own node
    std::string holder;
    int cursors = 0;
  };
  std::string username;
  int cursor_limit = 0;
  int held = 0;
  int peak = 0;
  int waiting = 0;
  int delayed = 0;
  std::chrono::milliseconds recovering_for{0};
  long api_used = 0;
  long api_max = 0;
  std::vector<holder_grants> holders;
  /// Grants with a TTL handed out since the start (taken-over ones not counted), in all and by holder node.
  long remote_grants = 0;
  std::map<std::string, long> grants_by_node;
};


/// What a mapping actor asks of its user's broker (sent by mapping actors;
/// usage_atom also by the workers' Sforce-Limit-Info callback).
using cursor_broker_actor = caf::typed_actor<
  /// (mapping_id) -> (granted, reason): waits while every cursor is held; refused while the budget is spent.
  caf::replies_to<acquire_atom, std::string>::with<bool, std::string>,
  /// (mapping_id): gives one cursor back.
  caf::reacts_to<release_atom, std::string>,
  /// (used, max): a Sforce-Limit-Info snapshot.
  caf::reacts_to<usage_atom, std::int64_t, std::int64_t>,
  caf::replies_to<status_atom>::with<broker_status>>;

/// The broker itself: the cursor protocol, plus what remote holders (through
/// a node's proxy or the Cluster gRPC service) and the admin API ask.
using integration_user_actor = cursor_broker_actor::extend<
  /// (holder_node, holder, ttl_ms, max_wait_ms): a cursor with a time-to-live.
  caf::replies_to<grant_atom, std::string, std::string, std::int64_t, std::int64_t>::with<grant_reply>,
  /// (holder_node, grant ids, their holders, ttl_ms) -> the grant ids still valid (a predecessor's are taken over).
  caf::replies_to<renew_atom, std::string, std::vector<std::string>, std::vector<std::string>,
                  std::int64_t>::with<std::vector<std::string>>,
  /// (holder_node, grant_id): a remote holder's cursor back.
  caf::reacts_to<release_atom, std::string, std::string>,
  caf::replies_to<budget_atom>::with<budget_reply>,
  caf::replies_to<broker_state_atom>::with<broker_state>>;

/// The broker's whole behaviour: its protocol plus its own sweep timer.
using integration_user_impl = integration_user_actor::extend<caf::reacts_to<expire_atom>>;

} // namespace syncforce::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(syncforce::actors::broker_state)
