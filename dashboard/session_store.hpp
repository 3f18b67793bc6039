#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace syncforce::dashboard {

/// A signed-in browser as the session table holds it.
struct session {
  std::string token_name; ///< the admin token it acts under (the audit's "who")
  std::string csrf_token; ///< what its page sends in X-CSRF-Token with every change
};

/// A freshly opened session: the cookie value goes to the browser once and is
/// stored only as its SHA-256.
struct opened_session {
  std::string cookie;
  std::string csrf_token;
};

/// Dashboard sessions in syncforce.dashboard_sessions: every node behind one
/// address reads the same table, so a browser stays signed in whichever node
/// answers, and signing out ends the session everywhere at once. Each call
/// opens its own short connection (a few calls a second at most).
class session_store {
public:
  session_store(std::string database_url, std::chrono::seconds idle_timeout, std::chrono::seconds max_age,
                std::string node_name);

  opened_session open(const std::string& token_name);
  /// The session of `cookie` if it exists and has not expired; touching it
  /// moves its idle expiry (never beyond created_at + max_age).
  std::optional<session> find(const std::string& cookie);
  void close(const std::string& cookie);
  /// Deletes expired sessions; returns how many.
  long purge_expired();

  /// A random URL-safe string of `bytes` random bytes (OpenSSL's RAND_bytes).
  static std::string random_token(std::size_t bytes);
  /// SHA-256 of `text` (raw bytes).
  static std::string sha256(const std::string& text);

private:
  std::string database_url_;
  std::chrono::seconds idle_timeout_;
  std::chrono::seconds max_age_;
  std::string node_name_;
};

} // namespace syncforce::dashboard
