#pragma once

#include <caf/all.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <deque>
#include <map>
#include <string>

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
};

/// The cursor limit for an API version: Salesforce's legacy 10 per user below 56.0.
int cursor_limit_for(const std::string& api_version);

struct integration_user_state {
  integration_user_config cfg;
  /// mapping id -> holder (cursors held by it)
  std::map<std::string, std::pair<caf::actor_addr, int>> holders;
  int held = 0;
  int peak = 0;
  int delayed = 0;
  struct waiter {
    std::string mapping_id;
    caf::actor_addr who;
    caf::response_promise promise;
  };
  std::deque<waiter> waiters;
  long api_used = 0;
  long api_max = 0;
  /// When a request was last let through while the budget was spent.
  std::optional<caf::actor_clock::time_point> last_probe;

  static inline const char* name = "integration_user";
};

/// One per Salesforce user: the query-cursor pool and the API budget shared by
/// every mapping of every connection that logs in as this user. (The OAuth
/// session itself is the thread-safe `salesforce::shared_session` in `sf_user`,
/// used by the workers directly.)
/// Messages:
///   (acquire_atom, mapping_id) -> (granted: bool, reason: string); waits (logging
///       `Operation delayed, no available query cursors`) while every cursor is held;
///       false when the daily API budget is spent
///   (release_atom, mapping_id)             gives one cursor back
///   (usage_atom, used: int64, max: int64)  a Sforce-Limit-Info snapshot
///   (status_atom) -> (held, peak, delayed, waiting) as int32s
/// Cursors of a mapping actor that dies are given back.
caf::behavior integration_user(caf::stateful_actor<integration_user_state>* self, integration_user_config cfg);

} // namespace syncforce::actors
