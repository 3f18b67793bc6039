#pragma once

#include "salesforce/client.hpp"

#include <memory>
#include <mutex>

namespace syncforce::salesforce {

/// One OAuth login shared by many clients on many threads (thread-safe): the
/// integration-user actor keeps one per Salesforce user and attaches every
/// worker's client to it. When several clients see the session expire at once,
/// only the first to ask logs in again; the others get that fresh session.
class shared_session {
public:
  /// `time` and `jitter` as for client (nullptr: the real ones).
  explicit shared_session(client_config config, std::unique_ptr<http_transport> transport = nullptr,
                          std::shared_ptr<const time_source> time = nullptr,
                          std::shared_ptr<jitter_source> jitter = nullptr);

  /// The current session, logging in first if there is none.
  result<session> get();
  /// A session newer than `stale`: logs in again only if `stale` is still the
  /// current one (same generation), else returns the current one.
  result<session> refresh(const session& stale);
  /// Makes `c` use this session: adopts it now (if any) and re-authenticates through it.
  void attach(client& c);
  /// Logins made so far.
  long logins() const;

private:
  mutable std::mutex mutex_;
  client login_client_;
  session current_;
  long logins_ = 0;
};

} // namespace syncforce::salesforce
