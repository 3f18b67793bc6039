// syncforce: the admin command line of a Syncforce cluster. Talks gRPC to any node.

#include "grpc/health/v1/health.grpc.pb.h"
#include "syncforce/v1/node.grpc.pb.h"

#include <CLI/CLI.hpp>
#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <iostream>
#include <regex>
#include <sstream>
#include <vector>

namespace {

/// Exit codes: 0 ok, 1 the server said no / not ready, 2 bad usage, 3 server unreachable.
constexpr int exit_not_ok = 1;
constexpr int exit_unreachable = 3;

struct common_options {
  std::string server = "localhost:50051";
  bool json = false;
  int timeout_seconds = 10;
};

std::shared_ptr<grpc::Channel> channel_for(const common_options& opts) {
  return grpc::CreateChannel(opts.server, grpc::InsecureChannelCredentials());
}

std::chrono::system_clock::time_point deadline(const common_options& opts) {
  return std::chrono::system_clock::now() + std::chrono::seconds(opts.timeout_seconds);
}

int report_rpc_error(const common_options& opts, const grpc::Status& status) {
  bool unreachable =
    status.error_code() == grpc::StatusCode::UNAVAILABLE || status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
  std::cerr << "syncforce: " << opts.server << ": " << status.error_message() << " (gRPC code "
            << status.error_code() << ")\n";
  return unreachable ? exit_unreachable : exit_not_ok;
}

int node_info(const common_options& opts) {
  auto stub = syncforce::v1::Node::NewStub(channel_for(opts));
  grpc::ClientContext ctx;
  ctx.set_deadline(deadline(opts));
  syncforce::v1::NodeInfo info;
  auto status = stub->GetNodeInfo(&ctx, syncforce::v1::GetNodeInfoRequest{}, &info);
  if (!status.ok())
    return report_rpc_error(opts, status);
  if (opts.json) {
    nlohmann::json j{{"name", info.name()},
                     {"version", info.version()},
                     {"started_at_unix_ms", info.started_at_unix_ms()},
                     {"ready", info.ready()},
                     {"not_ready_reason", info.not_ready_reason()},
                     {"control_schema_version", info.control_schema_version()}};
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "Node:                   " << info.name() << "\n"
              << "Version:                " << info.version() << "\n"
              << "Ready:                  " << (info.ready() ? "yes" : "no")
              << (info.ready() ? "" : " (" + info.not_ready_reason() + ")") << "\n"
              << "Control schema version: " << info.control_schema_version() << "\n";
  }
  return info.ready() ? 0 : exit_not_ok;
}

int health(const common_options& opts, const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(channel_for(opts));
  grpc::ClientContext ctx;
  ctx.set_deadline(deadline(opts));
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(service);
  grpc::health::v1::HealthCheckResponse resp;
  auto status = stub->Check(&ctx, req, &resp);
  if (!status.ok())
    return report_rpc_error(opts, status);
  auto name = grpc::health::v1::HealthCheckResponse::ServingStatus_Name(resp.status());
  if (opts.json)
    std::cout << nlohmann::json{{"service", service}, {"status", name}}.dump() << "\n";
  else
    std::cout << (service.empty() ? "(overall)" : service) << ": " << name << "\n";
  return resp.status() == grpc::health::v1::HealthCheckResponse::SERVING ? 0 : exit_not_ok;
}

} // namespace

int main(int argc, char** argv) {
  static const std::regex command_path("[a-z][a-z-]*(:[a-z][a-z-]*)+");
  common_options opts;
  if (const char* env = std::getenv("SYNCFORCE_SERVER"))
    opts.server = env;
  CLI::App app{"syncforce: operate a Syncforce cluster (the counterpart of `heroku connect:*`)"};
  app.name("syncforce");
  app.require_subcommand(1);
  app.fallthrough(); // global options may follow the command
  app.add_option("--server", opts.server, "HOST:PORT of any syncforced node (env SYNCFORCE_SERVER)")
    ->capture_default_str();
  app.add_flag("--json", opts.json, "print JSON for scripts instead of tables");
  app.add_option("--timeout", opts.timeout_seconds, "seconds to wait for the server")->capture_default_str();
  app.footer("Commands may be written `node:info` or `node info`.\nExit codes: 0 ok, 1 not ok (not ready, refused), 2 usage error, 3 server unreachable.");

  auto* node_cmd = app.add_subcommand("node", "the node this command talks to");
  node_cmd->require_subcommand(1);
  node_cmd->fallthrough();
  auto* info_cmd = node_cmd->add_subcommand("info", "show the node's name, version and readiness");
  std::string service = "readiness";
  auto* health_cmd = app.add_subcommand("health", "check grpc.health.v1 (exit 0 when SERVING)");
  health_cmd->add_option("--service", service, "health service: \"\" (liveness) or readiness")
    ->capture_default_str();

  // Heroku Connect spells commands `mapping:create`; CLI11 does not allow ':'
  // in a subcommand's name, so `a:b` is taken as the nested subcommands `a b`.
  std::vector<std::string> args;
  for (int i = argc - 1; i >= 1; --i) {
    std::string arg = argv[i];
    if (std::regex_match(arg, command_path)) {
      std::vector<std::string> parts;
      std::stringstream in(arg);
      for (std::string part; std::getline(in, part, ':');)
        parts.push_back(part);
      args.insert(args.end(), parts.rbegin(), parts.rend());
    } else {
      args.push_back(arg);
    }
  }
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (*info_cmd)
    return node_info(opts);
  if (*health_cmd)
    return health(opts, service);
  return 2;
}
