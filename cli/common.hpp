#pragma once

// What every `syncforce` command shares: options, the token, the channel,
// deadlines and how an RPC error becomes a message and an exit code.

#include "sync/clock.hpp"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

namespace syncforce::cli {

/// Exit codes: 0 ok, 1 failed (not ready, an error state, diagnose found
/// errors), 2 bad usage, 3 server unreachable, 4 not authenticated, 5 not
/// found, 6 the server rejected the request (every problem printed), 7 not in a
/// state to do it (e.g. pause while a load runs).
constexpr int exit_not_ok = 1;
constexpr int exit_usage = 2;
constexpr int exit_unreachable = 3;
constexpr int exit_unauthenticated = 4;
constexpr int exit_not_found = 5;
constexpr int exit_rejected = 6;
constexpr int exit_wrong_state = 7;

struct common_options {
  std::string server = "localhost:50051";
  bool json = false;
  int timeout_seconds = 10;
  std::string token_file;
  std::string connection;
  /// Show progress of loads until they end (nullopt: only on a terminal).
  std::optional<bool> wait;
  int wait_timeout_seconds = 3600;
  /// Every deadline and wait of a command reads this (the real clocks in the
  /// binary; a test may pass a manual_time).
  std::shared_ptr<const time_source> time = shared_real_time();
};

/// The gRPC deadline `d` from now on the command's clock, never earlier than --timeout.
inline std::chrono::system_clock::time_point deadline_at_least(const common_options& opts, std::chrono::seconds d) {
  return opts.time->deadline_in(std::max(d, std::chrono::seconds(opts.timeout_seconds)));
}

/// The admin token: --token-file, else SYNCFORCE_TOKEN. Empty when neither.
inline std::string admin_token(const common_options& opts) {
  if (!opts.token_file.empty()) {
    std::ifstream in(opts.token_file, std::ios::binary);
    std::string token((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' '))
      token.pop_back();
    return token;
  }
  const char* env = std::getenv("SYNCFORCE_TOKEN");
  return env != nullptr ? std::string{env} : std::string{};
}

inline std::shared_ptr<grpc::Channel> channel_for(const common_options& opts) {
  grpc::ChannelArguments args;
  // A rejection lists every problem in the reply, however many (an import of
  // thousands of fields); the 4 MiB default must not turn it into an error.
  args.SetMaxReceiveMessageSize(-1);
  return grpc::CreateCustomChannel(opts.server, grpc::InsecureChannelCredentials(), args);
}

inline std::chrono::system_clock::time_point deadline(const common_options& opts) {
  return opts.time->deadline_in(std::chrono::seconds(opts.timeout_seconds));
}

inline int report_rpc_error(const common_options& opts, const grpc::Status& status) {
  bool unreachable =
    status.error_code() == grpc::StatusCode::UNAVAILABLE || status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
  std::cerr << "syncforce: " << opts.server << ": " << status.error_message() << " (gRPC code "
            << status.error_code() << ")\n";
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED)
    return exit_unauthenticated;
  if (status.error_code() == grpc::StatusCode::NOT_FOUND)
    return exit_not_found;
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT)
    return exit_rejected;
  if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
      status.error_code() == grpc::StatusCode::ALREADY_EXISTS)
    return exit_wrong_state;
  return unreachable ? exit_unreachable : exit_not_ok;
}

/// An admin call's context: deadline and the bearer token.
inline std::unique_ptr<grpc::ClientContext> admin_context(const common_options& opts) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(deadline(opts));
  auto token = admin_token(opts);
  if (!token.empty())
    ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

} // namespace syncforce::cli
