#pragma once

// Sessions (OAuth access tokens) and query cursors: the per-user state of the org,
// both timed by the org's injectable clock.

#include "emulator/org.hpp"

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace sfemu {

// ---- sessions ------------------------------------------------------------------------

/// A logged-in session.
struct session {
  std::string token;
  std::string user_id;
  std::string username;
  std::int64_t issued_ms = 0;
  std::int64_t expires_ms = 0;
};

/// Access tokens and their lifetime.
class session_store {
public:
  session open(const user_info& user, std::int64_t now_ms, std::int64_t lifetime_ms, const std::string& org_id);
  /// The session if the token is known and not expired.
  std::optional<session> find(const std::string& token, std::int64_t now_ms) const;
  bool revoke(const std::string& token);
  /// Expires every session now.
  void expire_all();
  std::size_t size() const;

private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, session> sessions_;
  std::mt19937_64 rng_{std::random_device{}()};
};

// ---- cursors ---------------------------------------------------------------------------

/// An open query cursor: the query's result ids (a snapshot) and who may page it.
struct cursor {
  std::string id;
  std::string user_id;
  query_run run;
  bool legacy = false;
  std::int64_t created_ms = 0;
  std::int64_t last_used_ms = 0;
};

/// Open cursors with Salesforce's rules: in legacy mode at most `legacy_limit` per user
/// (opening one more releases the oldest) and `idle_ms` of idleness; in modern mode no
/// count limit and `ttl_ms` of life.
class cursor_store {
public:
  struct limits {
    int legacy_limit = 10;
    std::int64_t legacy_idle_ms = 15 * 60 * 1000;
    std::int64_t modern_ttl_ms = 2LL * 24 * 3600 * 1000;
  };
  /// Opens a cursor; returns its id (e.g. "01g5g000000AbCdEAA").
  std::string open(const std::string& user_id, query_run run, bool legacy, std::int64_t now_ms, const limits& l);
  /// The cursor if it exists, belongs to `user_id` and has not expired (touches it).
  std::shared_ptr<cursor> find(const std::string& id, const std::string& user_id, std::int64_t now_ms,
                               const limits& l);
  void close(const std::string& id);
  void clear();
  /// Open (unexpired) cursors of a user.
  std::size_t open_count(const std::string& user_id, std::int64_t now_ms, const limits& l);
  std::size_t size() const;

private:
  bool expired(const cursor& c, std::int64_t now_ms, const limits& l) const;
  void purge(std::int64_t now_ms, const limits& l);
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<cursor>> cursors_;
  std::uint64_t next_ = 1;
};

/// Splits a locator "<cursorId>-<offset>"; nullopt if malformed.
std::optional<std::pair<std::string, std::size_t>> parse_locator(std::string_view locator);

} // namespace sfemu
