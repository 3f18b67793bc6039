#include "cli/live_commands.hpp"

#include "syncforce/v1/admin.grpc.pb.h"

#include <google/protobuf/util/json_util.h>

#include <iostream>

namespace syncforce::cli {

namespace {

/// The reply as JSON with proto field names and every field present (as the dashboard gets it).
void print_json(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  print.always_print_primitive_fields = true;
  print.add_whitespace = true;
  std::string out;
  (void) google::protobuf::util::MessageToJsonString(m, &out, print);
  std::cout << out;
}

} // namespace

int limits(const common_options& opts) {
  auto stub = syncforce::v1::Admin::NewStub(channel_for(opts));
  auto ctx = admin_context(opts);
  syncforce::v1::GetLimitsRequest req;
  req.set_connection(opts.connection);
  syncforce::v1::ConnectionLimits reply;
  auto status = stub->GetLimits(ctx.get(), req, &reply);
  if (!status.ok())
    return report_rpc_error(opts, status);
  if (opts.json) {
    print_json(reply);
    return reply.unavailable().empty() ? 0 : exit_not_ok;
  }
  std::cout << "=== " << reply.connection() << " (Salesforce user " << reply.username() << ")\n";
  if (!reply.unavailable().empty()) {
    std::cerr << "syncforce: the broker could not be asked: " << reply.unavailable() << "\n";
    return exit_not_ok;
  }
  std::cout << "Broker:        node " << reply.broker_node();
  if (reply.recovering_for_ms() > 0)
    std::cout << " (recovering: grants again in " << reply.recovering_for_ms() << " ms)";
  std::cout << "\nQuery cursors: " << reply.cursors_in_use() << " in use of "
            << (reply.cursor_limit() > 0 ? std::to_string(reply.cursor_limit()) : std::string{"no limit"})
            << ", " << reply.waiting() << " waiting (peak " << reply.cursors_peak() << ", waited "
            << reply.delayed() << " times)\n";
  if (reply.api_max() > 0)
    std::cout << "API requests:  " << reply.api_used() << " of " << reply.api_max() << " used today ("
              << reply.api_max() - reply.api_used() << " left), as Salesforce last reported\n";
  else
    std::cout << "API requests:  not reported yet\n";
  for (const auto& h : reply.holders())
    std::cout << "  " << (h.object_name().empty() ? h.holder() : h.connection() + "/" + h.object_name())
              << "  node " << h.node() << "  " << h.cursors() << (h.cursors() == 1 ? " cursor" : " cursors") << "\n";
  return 0;
}

int mapping_log(const common_options& opts, const std::string& object, int lines) {
  auto stub = syncforce::v1::Admin::NewStub(channel_for(opts));
  auto ctx = admin_context(opts);
  syncforce::v1::GetMappingLogRequest req;
  req.set_connection(opts.connection);
  req.set_object_name(object);
  req.set_limit(lines);
  syncforce::v1::MappingLog reply;
  auto status = stub->GetMappingLog(ctx.get(), req, &reply);
  if (!status.ok())
    return report_rpc_error(opts, status);
  if (opts.json) {
    print_json(reply);
    return 0;
  }
  for (const auto& u : reply.unavailable())
    std::cerr << "syncforce: not reachable, its lines are missing: " << u << "\n";
  for (const auto& l : reply.lines())
    std::cout << l.at() << " " << l.node() << " " << l.text() << "\n";
  return 0;
}

} // namespace syncforce::cli
