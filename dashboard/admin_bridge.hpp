#pragma once

#include "sync/admin_rules.hpp"
#include "sync/clock.hpp"

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

namespace syncforce::dashboard {

/// The answer of one admin call as the browser gets it.
struct bridge_answer {
  int http_status = 200;
  std::string json; ///< the reply message as JSON (proto field names), or {"error": ..., "code": ...}
};

/// The dashboard's way into syncforce.v1.Admin: JSON in, the call made through
/// the node's in-process channel with the session's token, JSON out. Going
/// through the gRPC service itself (not around it) keeps validation, the audit
/// trail's "who" (the token's name) and the NOTIFY that wakes the connection's
/// node identical to the CLI's.
class admin_bridge {
public:
  /// `time` gives the calls' deadlines (the node's time source).
  admin_bridge(std::shared_ptr<grpc::Channel> channel, std::vector<admin_token> tokens,
               std::shared_ptr<const time_source> time = shared_real_time());

  /// Whether `token` is one of the node's admin tokens: its name, or nothing.
  std::optional<std::string> sign_in(const std::string& token) const;
  /// Whether the token named `name` still exists (a token removed from the file ends its sessions).
  bool knows(const std::string& token_name) const;

  /// Calls `method` (e.g. "GetState") with `request_json` as the token named `token_name`.
  bridge_answer call(const std::string& token_name, const std::string& method, const std::string& request_json) const;

  /// Whether `method` is one of the calls the dashboard may make.
  static bool has_method(const std::string& method);

private:
  std::shared_ptr<grpc::Channel> channel_;
  std::vector<admin_token> tokens_;
  std::shared_ptr<const time_source> time_;
};

/// The HTTP status the browser gets for a gRPC status code.
int http_status_for(grpc::StatusCode code);

} // namespace syncforce::dashboard
