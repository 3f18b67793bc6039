// syncforce: the admin command line of a Syncforce cluster. Talks gRPC to any node.

#include "grpc/health/v1/health.grpc.pb.h"
#include "syncforce/v1/admin.grpc.pb.h"
#include "syncforce/v1/node.grpc.pb.h"

#include <CLI/CLI.hpp>
#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <regex>
#include <sstream>
#include <vector>

namespace {

/// Exit codes: 0 ok, 1 the server said no / not ready, 2 bad usage, 3 server
/// unreachable, 4 not authenticated, 5 not found.
constexpr int exit_not_ok = 1;
constexpr int exit_usage = 2;
constexpr int exit_unreachable = 3;
constexpr int exit_unauthenticated = 4;
constexpr int exit_not_found = 5;

struct common_options {
  std::string server = "localhost:50051";
  bool json = false;
  int timeout_seconds = 10;
  std::string token_file;
  std::string connection;
};

/// The admin token: --token-file, else SYNCFORCE_TOKEN. Empty when neither.
std::string admin_token(const common_options& opts) {
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
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED)
    return exit_unauthenticated;
  if (status.error_code() == grpc::StatusCode::NOT_FOUND)
    return exit_not_found;
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT)
    return exit_usage;
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

/// An admin call's context: deadline and the bearer token.
std::unique_ptr<grpc::ClientContext> admin_context(const common_options& opts) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(deadline(opts));
  auto token = admin_token(opts);
  if (!token.empty())
    ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

nlohmann::json mapping_json(const syncforce::v1::MappingState& m) {
  return {{"id", m.id()},
          {"object_name", m.object_name()},
          {"state", m.state()},
          {"state_description", m.state_description()},
          {"high_water_mark", m.high_water_mark()},
          {"access", m.access()},
          {"counts", {{"db", m.db_rows()}, {"pending", m.pending_writes()}, {"errors", m.failed_writes_24h()}}}};
}

/// `state` (every mapping of the connection(s)) or `mapping:state OBJECT` (one).
int state(const common_options& opts, const std::string& object) {
  auto stub = syncforce::v1::Admin::NewStub(channel_for(opts));
  auto ctx = admin_context(opts);
  syncforce::v1::GetStateRequest req;
  req.set_connection(opts.connection);
  syncforce::v1::State reply;
  auto status = stub->GetState(ctx.get(), req, &reply);
  if (!status.ok())
    return report_rpc_error(opts, status);
  if (!object.empty()) {
    for (const auto& c : reply.connections())
      for (const auto& m : c.mappings())
        if (m.object_name() == object) {
          if (opts.json)
            std::cout << mapping_json(m).dump(2) << "\n";
          else
            std::cout << m.state() << (m.state_description().empty() ? "" : " (" + m.state_description() + ")")
                      << "\n";
          return 0;
        }
    std::cerr << "syncforce: no mapping of " << object
              << (opts.connection.empty() ? "" : " in connection " + opts.connection) << "\n";
    return exit_not_found;
  }
  if (opts.json) {
    auto out = nlohmann::json::array();
    for (const auto& c : reply.connections()) {
      auto maps = nlohmann::json::array();
      for (const auto& m : c.mappings())
        maps.push_back(mapping_json(m));
      out.push_back({{"id", c.id()},
                     {"name", c.name()},
                     {"schema_name", c.schema_name()},
                     {"state", c.state()},
                     {"api_version", c.api_version()},
                     {"mappings", maps}});
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  for (const auto& c : reply.connections()) {
    std::cout << "=== " << c.name() << " (schema " << c.schema_name() << ", API " << c.api_version() << "): "
              << c.state() << "\n";
    std::cout << std::left << std::setw(28) << "Object" << std::setw(20) << "State" << std::setw(12) << "Access"
              << std::right << std::setw(10) << "Rows" << std::setw(9) << "Pending" << std::setw(8) << "Errors"
              << "\n";
    for (const auto& m : c.mappings())
      std::cout << std::left << std::setw(28) << m.object_name() << std::setw(20) << m.state() << std::setw(12)
                << m.access() << std::right << std::setw(10) << m.db_rows() << std::setw(9) << m.pending_writes()
                << std::setw(8) << m.failed_writes_24h() << "\n";
  }
  return 0;
}

/// `write-errors` / `mapping:write-errors OBJECT`: failed writes of the last 24 hours.
int write_errors(const common_options& opts, const std::string& object) {
  auto stub = syncforce::v1::Admin::NewStub(channel_for(opts));
  auto ctx = admin_context(opts);
  syncforce::v1::GetWriteErrorsRequest req;
  req.set_connection(opts.connection);
  req.set_object_name(object);
  syncforce::v1::WriteErrors reply;
  auto status = stub->GetWriteErrors(ctx.get(), req, &reply);
  if (!status.ok())
    return report_rpc_error(opts, status);
  if (opts.json) {
    auto out = nlohmann::json::array();
    for (const auto& e : reply.errors())
      out.push_back({{"id", e.id()},
                     {"connection", e.connection()},
                     {"object_name", e.object_name()},
                     {"action", e.action()},
                     {"record_id", e.record_id()},
                     {"sfid", e.sfid()},
                     {"message", e.message()},
                     {"processed_at", e.processed_at()}});
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (reply.errors().empty()) {
    std::cout << "No write errors in the last 24 hours.\n";
    return 0;
  }
  std::cout << std::left << std::setw(10) << "Id" << std::setw(22) << "Object" << std::setw(8) << "Action"
            << std::setw(10) << "Row" << std::setw(22) << "At" << "Error\n";
  for (const auto& e : reply.errors())
    std::cout << std::left << std::setw(10) << e.id() << std::setw(22) << e.object_name() << std::setw(8)
              << e.action() << std::setw(10) << e.record_id() << std::setw(22) << e.processed_at() << e.message()
              << "\n";
  return 0;
}

/// `export [FILE]`: the connection's configuration as JSON v1, to FILE or stdout.
int export_config(const common_options& opts, const std::string& file) {
  auto stub = syncforce::v1::Admin::NewStub(channel_for(opts));
  auto ctx = admin_context(opts);
  syncforce::v1::ExportConfigurationRequest req;
  req.set_connection(opts.connection);
  syncforce::v1::ExportedConfiguration reply;
  auto status = stub->ExportConfiguration(ctx.get(), req, &reply);
  if (!status.ok())
    return report_rpc_error(opts, status);
  if (file.empty()) {
    std::cout << reply.json() << "\n";
    return 0;
  }
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << reply.json() << "\n";
  if (!out) {
    std::cerr << "syncforce: cannot write " << file << "\n";
    return exit_not_ok;
  }
  std::cerr << "Exported to " << file << "\n";
  return 0;
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
  app.add_option("--token-file", opts.token_file,
                 "file holding the admin API's bearer token (else env SYNCFORCE_TOKEN)");
  app.add_option("--connection,-c", opts.connection, "the connection's name (when the cluster has several)");
  app.footer("Commands may be written `node:info` or `node info`.\nExit codes: 0 ok, 1 not ok (not ready, refused), "
             "2 usage error, 3 server unreachable, 4 not authenticated, 5 not found.");

  auto* node_cmd = app.add_subcommand("node", "the node this command talks to");
  node_cmd->require_subcommand(1);
  node_cmd->fallthrough();
  auto* info_cmd = node_cmd->add_subcommand("info", "show the node's name, version and readiness");
  std::string service = "readiness";
  auto* state_cmd = app.add_subcommand("state", "every mapping's state, rows, pending writes and write errors");
  auto* mapping_cmd = app.add_subcommand("mapping", "one mapping");
  mapping_cmd->require_subcommand(1);
  mapping_cmd->fallthrough();
  std::string object;
  auto* mapping_state_cmd = mapping_cmd->add_subcommand("state", "a mapping's state");
  mapping_state_cmd->add_option("OBJECT", object, "the mapping's object, e.g. Contact")->required();
  auto* mapping_errors_cmd =
    mapping_cmd->add_subcommand("write-errors", "a mapping's writes to Salesforce that failed in the last 24 hours");
  mapping_errors_cmd->add_option("OBJECT", object, "the mapping's object, e.g. Contact")->required();
  auto* errors_cmd = app.add_subcommand("write-errors", "writes to Salesforce that failed in the last 24 hours");
  std::string export_file;
  auto* export_cmd = app.add_subcommand("export", "the connection's configuration as import/export JSON v1 (no secrets)");
  export_cmd->add_option("FILE", export_file, "write here instead of to standard output");
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
  if (*state_cmd)
    return state(opts, "");
  if (*mapping_state_cmd)
    return state(opts, object);
  if (*export_cmd)
    return export_config(opts, export_file);
  if (*errors_cmd)
    return write_errors(opts, "");
  if (*mapping_errors_cmd)
    return write_errors(opts, object);
  return 2;
}
