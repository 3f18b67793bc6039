#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace syncforce::actors {

/// What the owner's broker answered (or that it could not be reached).
struct broker_answer {
  /// The call reached a broker that answered; false: `error` says why not
  /// (unreachable, refused credentials, not the owner of this user).
  bool reached = false;
  std::string error;
  // AcquireCursor
  bool granted = false;
  std::string reason;
  std::string grant_id;
  std::int64_t expires_in_ms = 0;
  bool retry = false;
  // RenewGrants
  std::vector<std::string> valid_grant_ids;
};

/// How a node's broker proxy calls the owner's Cluster service: asynchronous,
/// `done` runs on some other thread once the call is over (the proxy turns it
/// into a message to itself). The gRPC implementation is services/cluster_client.
struct broker_transport {
  virtual ~broker_transport() = default;
  virtual void acquire(const std::string& address, const std::string& user_key, const std::string& holder_node,
                       const std::string& holder, std::int64_t ttl_ms, std::int64_t max_wait_ms,
                       std::function<void(broker_answer)> done) = 0;
  virtual void renew(const std::string& address, const std::string& user_key, const std::string& holder_node,
                     const std::vector<std::string>& grant_ids, const std::vector<std::string>& holders,
                     std::int64_t ttl_ms, std::function<void(broker_answer)> done) = 0;
  /// Fire and forget: a release that is lost expires with its grant.
  virtual void release(const std::string& address, const std::string& user_key, const std::string& holder_node,
                       const std::string& grant_id) = 0;
  /// Fire and forget.
  virtual void report_limits(const std::string& address, const std::string& user_key, std::int64_t used,
                             std::int64_t max) = 0;
};

} // namespace syncforce::actors
