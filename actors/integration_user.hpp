#pragma once

#include "actors/broker_protocol.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <deque>
#include <map>
#include <string>
#include <vector>

namespace syncforce::actors {

/// Settings of an integration user's limit broker.
struct integration_user_config {
  std::string username;
  /// Query cursors the user may hold at once; 0 = no limit (API version 56.0 and later).
  int cursor_limit = 0;
  /// Stop granting work when fewer than this many daily API calls remain.
  long api_reserve = 0;
  /// While the budget is spent, one request per interval is let through: its
  /// answer brings a fresh `Sforce-Limit-Info` (the budget is a rolling 24 hours).
  std::chrono::milliseconds probe_interval{60000};
  /// The longest time-to-live a remote holder's grant gets (its renewals keep it).
  std::chrono::milliseconds max_grant_ttl{std::chrono::seconds(60)};
  /// A broker that took over from another node (the user's lease moved) grants
  /// nothing new for this long: grants of the previous broker it does not know
  /// yet are either renewed here meanwhile (taken over) or expired. Zero for a
  /// broker that cannot have a predecessor (a single node). Set it to the
  /// holders' grant time-to-live.
  std::chrono::milliseconds recover_for{0};
  /// How long a remote waiter whose wait ran out keeps its place in line for its next ask.
  std::chrono::milliseconds keep_place{std::chrono::seconds(5)};
  /// Prefix of the grant ids this broker hands out; unique per broker start
  /// (empty: a random one), so a grant of a predecessor is told from its own.
  std::string incarnation;
};

/// The cursor limit for an API version: Salesforce's legacy 10 per user below 56.0.
int cursor_limit_for(const std::string& api_version);

struct integration_user_state {
  integration_user_config cfg;
  /// mapping id -> holder (cursors held by it), for holders in this node (monitored).
  std::map<std::string, std::pair<caf::actor_addr, int>> holders;
  /// A cursor held by a remote holder: valid while renewed.
  struct grant {
    std::string holder_node;
    std::string holder;
    caf::actor_clock::time_point expires;
  };
  /// grant id -> grant
  std::map<std::string, grant> grants;
  std::uint64_t next_grant = 1;
  long remote_grants = 0;
  std::map<std::string, long> grants_by_node;
  int held = 0;
  int peak = 0;
  int delayed = 0;
  struct waiter {
    std::string mapping_id;
    caf::actor_addr who;
    /// The answer of a local waiter (acquire_atom) or of a remote one (grant_atom).
    caf::typed_response_promise<bool, std::string> acquired;
    caf::typed_response_promise<grant_reply> granted;
    /// Remote waiters: who asks, the grant's time-to-live, how long it may wait.
    bool remote = false;
    std::string holder_node;
    std::chrono::milliseconds ttl{0};
    std::optional<caf::actor_clock::time_point> deadline;
    /// A remote waiter whose wait ran out (answered retry) keeps its place in
    /// line until then, for its holder's next ask; it is served only once back.
    std::optional<caf::actor_clock::time_point> keep_place_until;
  };
  std::deque<waiter> waiters;
  long api_used = 0;
  long api_max = 0;
  /// When a request was last let through while the budget was spent.
  std::optional<caf::actor_clock::time_point> last_probe;
  /// Until then nothing new is granted (recover_for after the start).
  caf::actor_clock::time_point recovering_until;
  /// The earliest pending expire_atom (none scheduled when empty).
  std::optional<caf::actor_clock::time_point> next_sweep;

  static inline const char* name = "integration_user";
};

/// One per Salesforce user in the cluster: the query-cursor pool and the API
/// budget shared by every mapping of every connection that logs in as this
/// user. (The OAuth session itself is the thread-safe
/// shared session in `sf_user::login`, used by the workers directly.)
/// Holders in the same node talk to it directly and their cursors come back
/// when they die (monitored); holders elsewhere (over the Cluster gRPC
/// service, or a node's broker proxy) get grants with a time-to-live that they
/// renew, and a grant that is not renewed in time expires.
/// Its protocol is integration_user_actor (actors/broker_protocol.hpp):
/// acquire_atom waits (logging `Operation delayed, no available query cursors`)
/// while every cursor is held and is refused while the daily API budget is
/// spent; grant_atom waits in the same line, at most max_wait_ms (then
/// `retry`, and the holder's next ask within keep_place takes its place in
/// line back); renew_atom takes a grant of another broker over.
integration_user_impl::behavior_type integration_user(integration_user_impl::stateful_pointer<integration_user_state> self,
                                                      integration_user_config cfg);

} // namespace syncforce::actors
